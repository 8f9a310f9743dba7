import { Dinero, crearPago, type CambioPago } from '@aeropartners/dominio';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../ids/uuidv7.js';
import type { FilaPago } from './fila-pago.js';
import { PostgresRepositorioPagos } from './postgres-repositorio-pagos.js';
import type { ConsultaPostgres, PoolPostgres, ResultadoPostgres } from './pool-postgres.js';

/**
 * Casos raros del «group commit» que un PostgreSQL real no produce a voluntad: un pool falso
 * responde a cada sentencia con lo que dicte el test.
 */
type Respuesta = (consulta: ConsultaPostgres) => Promise<ResultadoPostgres<unknown>>;

function poolFalso(respuestas: Respuesta[]) {
  const vistas: ConsultaPostgres[] = [];
  const pool: PoolPostgres = {
    async query<F>(consulta: ConsultaPostgres | string): Promise<ResultadoPostgres<F>> {
      if (typeof consulta === 'string') throw new Error('no esperado');
      vistas.push(consulta);
      const siguiente = respuestas.shift();
      if (!siguiente) throw new Error(`consulta no esperada: ${consulta.name}`);
      return (await siguiente(consulta)) as ResultadoPostgres<F>;
    },
    connect: () => Promise.reject(new Error('no esperado')),
    end: () => Promise.resolve(),
  };
  return { pool, vistas };
}

function nuevoCambio(): CambioPago {
  const monto = Dinero.deUnidadesMenores(500, 'EUR');
  if (!monto.ok) throw new Error('monto');
  const r = crearPago(
    { id: uuidv7(), idSocio: 's', idAfiliado: 'a', monto: monto.valor, referenciaPago: 'r' },
    { ahora: new Date('2026-01-01T00:00:00Z'), nuevoId: uuidv7 },
  );
  if (!r.ok) throw new Error('cambio');
  return r.valor;
}

function fila(cambio: CambioPago, nuevo: boolean | 'denegado', clave = 'k'): FilaPago & { resultado: string } {
  const p = cambio.pago;
  return {
    resultado: nuevo === 'denegado' ? 'denegado' : nuevo ? 'nuevo' : 'previo',
    id: p.id,
    id_socio: p.idSocio,
    modo: p.modo,
    clave_idempotencia: clave,
    id_afiliado: p.idAfiliado,
    monto_unidades: String(p.monto.unidadesMenores),
    moneda: p.monto.moneda,
    referencia_pago: p.referenciaPago,
    estado: p.estado,
    version: p.version,
    fecha_creacion: p.fechaCreacion,
    fecha_actualizacion: p.fechaActualizacion,
    fecha_procesamiento: null,
    referencia_transaccion: null,
    mensaje_error: null,
  };
}

const filas = (rows: unknown[]) => async () => ({ rows, rowCount: rows.length });
const traza = { idCorrelacion: 'c' };

describe('PostgresRepositorioPagos (pool falso)', () => {
  it('la clave la ganó otro pero su pago aún no se ve: reintenta la solicitud entera una vez', async () => {
    const cambio = nuevoCambio();
    const { pool, vistas } = poolFalso([
      filas([]), // lote: no insertó (conflicto) y no había previo
      filas([]), // seguimiento: el ganador no aparece (se borró o abortó)
      filas([fila(cambio, true)]), // reintento: ahora sí se inserta
    ]);
    const repo = new PostgresRepositorioPagos(pool);
    await expect(repo.crear(cambio, { idSocio: 's', clave: 'k' }, traza)).resolves.toEqual({ tipo: 'creado', pago: cambio.pago });
    expect(vistas.map((v) => v.name)).toEqual([
      'aeropartners_crear_pagos_v1',
      'aeropartners_pagos_por_clave_v1',
      'aeropartners_crear_pagos_v1',
    ]);
    expect(repo.metricas()).toMatchObject({ solicitudes: 1, sentencias: 2, reintentos: 1, consultasSeguimiento: 1, pagosCreados: 1 });
  });

  it('si tampoco aparece tras el reintento, rechaza con un Error claro (sin bucles)', async () => {
    const { pool } = poolFalso([filas([]), filas([]), filas([]), filas([])]);
    const repo = new PostgresRepositorioPagos(pool);
    await expect(repo.crear(nuevoCambio(), { idSocio: 's', clave: 'k' }, traza)).rejects.toThrow(
      /No se pudo crear ni leer el pago con la clave de idempotencia «k»/,
    );
  });

  it('el seguimiento encuentra al ganador de otra transacción: existente con ese pago', async () => {
    const ganador = nuevoCambio();
    const { pool } = poolFalso([filas([]), filas([fila(ganador, false)])]);
    const repo = new PostgresRepositorioPagos(pool);
    await expect(repo.crear(nuevoCambio(), { idSocio: 's', clave: 'k' }, traza)).resolves.toEqual({
      tipo: 'existente',
      pago: ganador.pago,
    });
  });

  it('un interbloqueo (40P01) repite la sentencia: no escribió nada', async () => {
    const cambio = nuevoCambio();
    const interbloqueo = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    const { pool } = poolFalso([() => Promise.reject(interbloqueo), filas([fila(cambio, true)])]);
    const repo = new PostgresRepositorioPagos(pool);
    await expect(repo.crear(cambio, { idSocio: 's', clave: 'k' }, traza)).resolves.toMatchObject({ tipo: 'creado' });
    expect(repo.metricas().sentencias).toBe(2);
  });

  it('un fallo de infraestructura rechaza a todo el lote con la causa', async () => {
    const caida = Object.assign(new Error('Connection terminated unexpectedly'), { code: undefined });
    const solo = nuevoCambio();
    const { pool } = poolFalso([filas([fila(solo, true, 'x')]), () => Promise.reject(caida)]);
    const repo = new PostgresRepositorioPagos(pool, { enVueloMaximo: 1 });
    // La primera sale sola; las otras tres esperan juntas y su sentencia falla.
    const primero = repo.crear(solo, { idSocio: 's', clave: 'x' }, traza);
    const lote = [1, 2, 3].map((i) => repo.crear(nuevoCambio(), { idSocio: 's', clave: `k${i}` }, traza).catch((e: unknown) => e));
    await expect(primero).resolves.toMatchObject({ tipo: 'creado' });
    for (const error of await Promise.all(lote)) {
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/falló la sentencia del lote \(3 solicitud\(es\)\)/);
      expect((error as Error).cause).toBe(caida);
    }
  });

  it('sin sentencias preparadas no manda nombre (para PgBouncer antiguos)', async () => {
    const cambio = nuevoCambio();
    const { pool, vistas } = poolFalso([filas([fila(cambio, true)])]);
    const repo = new PostgresRepositorioPagos(pool, { sentenciasPreparadas: false });
    await repo.crear(cambio, { idSocio: 's', clave: 'k' }, traza);
    expect(vistas[0]?.name).toBeUndefined();
  });

  it('credencial denegada por la sentencia: se lee por qué y se responde denegado; si ya vuelve a valer, se reenvía una vez', async () => {
    const cambio = nuevoCambio();
    const idClave = uuidv7();
    const estado = (f: Record<string, unknown>) =>
      filas([{ estado: 'activo', socio_clave: 's', modo_clave: 'live', expira_en: null, revocada_en: null, ...f }]);
    const revocada = poolFalso([filas([fila(cambio, 'denegado')]), estado({ revocada_en: new Date() })]);
    const repo = new PostgresRepositorioPagos(revocada.pool);
    await expect(repo.crear(cambio, { idSocio: 's', clave: 'k' }, traza, { idClave })).resolves.toEqual({
      tipo: 'denegado',
      motivo: 'clave-revocada',
    });
    expect(revocada.vistas.map((v) => v.name)).toEqual(['aeropartners_crear_pagos_v1', 'aeropartners_estado_credencial_v1']);
    expect(repo.metricas().denegadas).toBe(1);

    const suspendido = poolFalso([filas([fila(cambio, 'denegado')]), estado({ estado: 'suspendido' })]);
    await expect(
      new PostgresRepositorioPagos(suspendido.pool).crear(cambio, { idSocio: 's', clave: 'k' }, traza, { idClave: null }),
    ).resolves.toEqual({
      tipo: 'denegado',
      motivo: 'socio-suspendido',
    });
    const deOtro = poolFalso([filas([fila(cambio, 'denegado')]), estado({ socio_clave: 'otro' })]);
    await expect(
      new PostgresRepositorioPagos(deOtro.pool).crear(cambio, { idSocio: 's', clave: 'k' }, traza, { idClave }),
    ).resolves.toEqual({
      tipo: 'denegado',
      motivo: 'clave-revocada',
    });
    // Reactivado entre la sentencia y la lectura del motivo: se reenvía entera y esta vez se crea.
    const reactivado = poolFalso([filas([fila(cambio, 'denegado')]), estado({}), filas([fila(cambio, true)])]);
    await expect(
      new PostgresRepositorioPagos(reactivado.pool).crear(cambio, { idSocio: 's', clave: 'k' }, traza, { idClave }),
    ).resolves.toEqual({
      tipo: 'creado',
      pago: cambio.pago,
    });
  });

  it('la credencial va en la sentencia: id de la clave (o null) y si hay que comprobarla (sin credencial, escritura interna: no)', async () => {
    const [a, b, c] = [nuevoCambio(), nuevoCambio(), nuevoCambio()];
    const idClave = uuidv7();
    // La primera sale sola; las otras dos van juntas en la segunda sentencia.
    const { pool, vistas } = poolFalso([filas([fila(a, true, 'ka')]), filas([fila(b, true, 'kb'), fila(c, true, 'kc')])]);
    const repo = new PostgresRepositorioPagos(pool, { enVueloMaximo: 1 });
    await Promise.all([
      repo.crear(a, { idSocio: 's', clave: 'ka' }, traza, { idClave }),
      repo.crear(b, { idSocio: 's', clave: 'kb' }, traza, { idClave: null }),
      repo.crear(c, { idSocio: 's', clave: 'kc' }, traza),
    ]);
    expect(vistas.map((v) => [v.values?.[21], v.values?.[22]])).toEqual([
      [[idClave], [true]],
      [
        [null, null],
        [true, false],
      ],
    ]);
  });
});
