import { crearAplicadorDeHechos, crearManejadorRegistrarHecho, ejecutarLiquidaciones, type SolicitudHecho } from '@aeropartners/aplicacion';
import { Dinero, LibroMayor, ReglaComision, type Ambito, type Apunte, type Liquidacion, type Moneda } from '@aeropartners/dominio';
import { setTimeout } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../ids/uuidv7.js';
import { crearBaseDePrueba } from '../../testing/index.js';
import { sobreDeFila } from '../../mensajeria/sobre-evento.js';
import { crearPoolPostgres } from '../pool-postgres.js';
import { PostgresAlmacenOutbox } from '../postgres-almacen-outbox.js';
import { PostgresAsignadorEventos } from '../eventos/asignador-eventos.js';
import { PostgresAdministracionSocios } from '../socios/postgres-administracion-socios.js';
import { crearAtencionConversiones } from './atencion-conversiones.js';
import { liquidacionDeFilas, type FilaLiquidacion, type FilaPartida } from './filas.js';
import { PostgresAlmacenComisiones } from './postgres-almacen-comisiones.js';

// Conversiones y liquidaciones contra PostgreSQL real: duplicados de verdad, carreras entre conexiones
// distintas y la restricción de la base «una partida en como mucho una liquidación no anulada».

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

const traza = { idCorrelacion: 'corr-conversiones' };
const HACE_UN_DIA = new Date(Date.now() - 24 * 3600 * 1000);

async function preparar(opciones: { porcentajePb?: number; minimo?: number } = {}) {
  const base = await crearBaseDePrueba();
  const pool = crearPoolPostgres({ url: base.url, tamano: 24, nombreAplicacion: 'test-conversiones' });
  cierres.push(async () => {
    await pool.end();
    await base.cerrar();
  });
  const almacen = new PostgresAlmacenComisiones(pool);
  const ambito: Ambito = { idSocio: `socio-${uuidv7().slice(-6)}`, modo: 'live' };
  await almacen.guardarRegla(ambito.idSocio, (version) => {
    const minimo = opciones.minimo === undefined ? null : Dinero.deUnidadesMenores(opciones.minimo, 'USD');
    const r = ReglaComision.crear({
      idSocio: ambito.idSocio,
      version,
      vigenteDesde: new Date(HACE_UN_DIA.getTime() - 3600_000),
      calculo: { tipo: 'porcentaje', puntosBasicos: opciones.porcentajePb ?? 1000 },
      diasBloqueo: 0,
      minimoLiquidacion: minimo?.ok ? minimo.valor : null,
    });
    return r.ok ? r.valor : new Error(JSON.stringify(r.error));
  });
  const registrar = crearManejadorRegistrarHecho({ almacen, nuevoId: uuidv7 });
  const aplicar = crearAplicadorDeHechos({ almacen });
  let ejecuciones = 0;
  const deps = { almacen, nuevoId: uuidv7, ahora: () => new Date() };
  return {
    pool,
    almacen,
    ambito,
    registrar: (s: SolicitudHecho) => registrar(ambito, s, traza),
    aplicar: (idEvento: string) => aplicar(ambito, idEvento),
    /** Registra y aplica (lo que hacen la API y el consumidor). */
    async entregar(s: SolicitudHecho) {
      const r = await registrar(ambito, s, traza);
      if (!r.ok) throw new Error(JSON.stringify(r.error));
      return aplicar(ambito, s.idEvento);
    },
    ejecutar: (idEjecucion = `corte-${++ejecuciones}`) => ejecutarLiquidaciones(deps, { modo: 'live', idEjecucion, traza }),
    async terminarPago(idPago: string, estado: 'EXITOSO' | 'FALLIDO') {
      await pool.query('UPDATE pagos SET estado = $2 WHERE id = $1', [idPago, estado]);
    },
    async comision(idConversion: string) {
      const { rows } = await pool.query<{ unidades: string; estado: string }>(
        'SELECT unidades::text AS unidades, estado FROM comisiones WHERE id_conversion = $1',
        [idConversion],
      );
      return rows[0] ? { unidades: Number(rows[0].unidades), estado: rows[0].estado } : null;
    },
    async libro() {
      const apuntes = (
        await pool.query<{
          id: string;
          id_asiento: string;
          id_socio: string;
          id_afiliado: string;
          moneda: Moneda;
          cuenta: Apunte['cuenta'];
          lado: Apunte['lado'];
          unidades: string;
        }>('SELECT id, id_asiento, id_socio, id_afiliado, moneda, cuenta, lado, unidades::text AS unidades FROM apuntes_libro')
      ).rows.map(
        (a): Apunte => ({
          id: a.id,
          idAsiento: a.id_asiento,
          idSocio: a.id_socio,
          idAfiliado: a.id_afiliado,
          moneda: a.moneda,
          cuenta: a.cuenta,
          lado: a.lado,
          unidadesMenores: Number(a.unidades),
        }),
      );
      const filas = (
        await pool.query<FilaLiquidacion>(
          'SELECT id, id_socio, id_afiliado, moneda, id_ejecucion, creada_en, estado, neto_unidades::text AS neto_unidades FROM liquidaciones',
        )
      ).rows;
      const partidas = (
        await pool.query<FilaPartida & { id_liquidacion: string }>(
          'SELECT id_liquidacion, id_partida, tipo, id_comision, id_conversion, unidades::text AS unidades FROM partidas_liquidacion',
        )
      ).rows;
      const liquidaciones: Liquidacion[] = filas.map((l) =>
        liquidacionDeFilas(
          l,
          partidas.filter((p) => p.id_liquidacion === l.id),
        ),
      );
      return {
        apuntes,
        liquidaciones,
        saldos: LibroMayor.saldosPorLibro(apuntes),
        violaciones: LibroMayor.verificar(apuntes, liquidaciones),
      };
    },
  };
}

type Mundo = Awaited<ReturnType<typeof preparar>>;

const creada = (idConversion: string, monto = 10_000, idAfiliado = 'afiliado-1'): SolicitudHecho => ({
  idEvento: `${idConversion}:creada`,
  tipo: 'creada',
  idConversion,
  idAfiliado,
  monto: { unidadesMenores: monto, moneda: 'USD' },
  ocurridoEn: HACE_UN_DIA,
});
const hecho = (idConversion: string, tipo: 'aprobada' | 'revertida', minutos = 1): SolicitudHecho => ({
  idEvento: `${idConversion}:${tipo}`,
  tipo,
  idConversion,
  ocurridoEn: new Date(HACE_UN_DIA.getTime() + minutos * 60_000),
});

async function aprobada(m: Mundo, idConversion: string, monto = 10_000): Promise<void> {
  await m.entregar(creada(idConversion, monto));
  await m.entregar(hecho(idConversion, 'aprobada'));
}

describe('hechos de conversión en PostgreSQL', () => {
  it('el mismo evento 20 veces a la vez: un hecho, un evento de outbox, un historial; las demás son réplicas', async () => {
    const m = await preparar();
    const s = creada('conv-20');
    const respuestas = await Promise.all(Array.from({ length: 20 }, () => m.registrar(s)));
    expect(respuestas.every((r) => r.ok)).toBe(true);
    const repetidos = respuestas.map((r) => (r.ok ? r.valor.repetido : null));
    expect(repetidos.filter((x) => x === false)).toHaveLength(1);
    expect(repetidos.filter((x) => x === true)).toHaveLength(19);
    const cuenta = async (sql: string) => Number((await m.pool.query<{ n: string }>(sql)).rows[0]?.n);
    expect(await cuenta("SELECT count(*) AS n FROM hechos_conversion WHERE id_conversion = 'conv-20'")).toBe(1);
    expect(await cuenta("SELECT count(*) AS n FROM outbox WHERE tipo = 'HechoConversionRecibido'")).toBe(1);
    expect(await cuenta("SELECT count(*) AS n FROM historial_conversiones WHERE tipo = 'HechoRecibido'")).toBe(1);
    // Aplicado 20 veces a la vez (reentregas del mensaje): una comisión, un asiento.
    const aplicados = await Promise.all(Array.from({ length: 20 }, () => m.aplicar(s.idEvento)));
    expect(aplicados.filter((a) => a.tipo === 'aplicar')).toHaveLength(1);
    expect(aplicados.filter((a) => a.tipo === 'duplicado')).toHaveLength(19);
    expect(await m.comision('conv-20')).toEqual({ unidades: 1000, estado: 'PENDIENTE' });
    expect((await m.libro()).violaciones).toEqual([]);
  });

  it('el mismo id_evento con otro cuerpo es EventoReutilizado y no escribe nada; una entrada mala no escribe nada', async () => {
    const m = await preparar();
    expect((await m.registrar(creada('conv-r', 100))).ok).toBe(true);
    const otra = await m.registrar(creada('conv-r', 200));
    expect(otra).toEqual({ ok: false, error: { tipo: 'EventoReutilizado', idEvento: 'conv-r:creada' } });
    const mala = await m.registrar({ ...hecho('conv-r', 'aprobada'), monto: { unidadesMenores: 5, moneda: 'USD' } });
    expect(mala.ok).toBe(false);
    const { rows } = await m.pool.query<{ n: string }>('SELECT count(*) AS n FROM hechos_conversion');
    expect(Number(rows[0]?.n)).toBe(1);
  });

  it('la reversión antes de la creación espera (ESPERANDO_CONVERSION) y cuenta cuando llega la creación', async () => {
    const m = await preparar();
    await m.entregar(hecho('conv-w', 'revertida'));
    await m.entregar(hecho('conv-w', 'aprobada'));
    const esperando = await m.pool.query<{ estado: string }>("SELECT estado FROM conversiones WHERE id_conversion = 'conv-w'");
    expect(esperando.rows[0]?.estado).toBe('ESPERANDO_CONVERSION');
    expect(await m.comision('conv-w')).toBeNull();
    await m.entregar(creada('conv-w'));
    const final = await m.pool.query<{ estado: string }>("SELECT estado FROM conversiones WHERE id_conversion = 'conv-w'");
    expect(final.rows[0]?.estado).toBe('REVERTIDA');
    expect(await m.comision('conv-w')).toEqual({ unidades: 1000, estado: 'REVERTIDA' });
    expect((await m.libro()).violaciones).toEqual([]);
  });

  it('la espera se marca como huérfana pasado el plazo', async () => {
    const m = await preparar();
    await m.entregar(hecho('conv-h', 'aprobada'));
    expect(await m.almacen.marcarHuerfanas(60_000)).toBe(0);
    await m.pool.query("UPDATE conversiones SET esperando_desde = now() - interval '2 minutes' WHERE id_conversion = 'conv-h'");
    expect(await m.almacen.marcarHuerfanas(60_000)).toBe(1);
    expect(await m.almacen.marcarHuerfanas(60_000)).toBe(0);
  });

  it('aprobación y reversión de una conversión compitiendo (10 rondas): siempre REVERTIDA, un asiento por hecho, el libro cuadra', async () => {
    const m = await preparar();
    for (let i = 0; i < 10; i += 1) {
      const id = `conv-carrera-${i}`;
      await m.entregar(creada(id));
      await Promise.all([m.registrar(hecho(id, 'aprobada')), m.registrar(hecho(id, 'revertida'))]);
      await Promise.all([m.aplicar(`${id}:aprobada`), m.aplicar(`${id}:revertida`), m.aplicar(`${id}:aprobada`)]);
      expect(await m.comision(id)).toEqual({ unidades: 1000, estado: 'REVERTIDA' });
    }
    const libro = await m.libro();
    expect(libro.violaciones).toEqual([]);
    const saldos = libro.saldos[0]?.saldos;
    expect(saldos).toMatchObject({ pendiente: 0, aprobado: 0, en_liquidacion: 0, pagado: 0 });
  });
});

describe('liquidaciones en PostgreSQL', () => {
  it('una ejecución compitiendo con una segunda ejecución y con una reversión: ninguna comisión en dos liquidaciones', async () => {
    const m = await preparar();
    for (let i = 0; i < 8; i += 1) await aprobada(m, `c-${i}`);
    await m.registrar(hecho('c-0', 'revertida'));
    const [a, b] = await Promise.all([m.ejecutar('corte-a'), m.ejecutar('corte-b'), m.aplicar('c-0:revertida')]);
    const creadas = [...(a?.creadas ?? []), ...(b?.creadas ?? [])];
    expect(creadas.length).toBeLessThanOrEqual(2);
    const { rows } = await m.pool.query<{ id_partida: string; n: string }>(
      'SELECT id_partida, count(*) AS n FROM partidas_liquidacion WHERE NOT anulada GROUP BY id_partida HAVING count(*) > 1',
    );
    expect(rows).toEqual([]);
    // La reversión ganó o perdió, pero nunca a medias: o c-0 está en una liquidación (y se recuperará) o no está en ninguna.
    const c0 = await m.comision('c-0');
    expect(['REVERTIDA', 'EN_LIQUIDACION']).toContain(c0?.estado);
    // Pagar todo lo creado y liquidar lo que quede: cada comisión aprobada pagada exactamente una vez.
    for (let ronda = 0; ronda < 3; ronda += 1) {
      const pendientes = await m.pool.query<{ id_pago: string }>(
        "SELECT id_pago::text AS id_pago FROM liquidaciones WHERE estado = 'EN_CURSO'",
      );
      for (const p of pendientes.rows) await m.terminarPago(p.id_pago, 'EXITOSO');
      await m.ejecutar();
    }
    const libro = await m.libro();
    expect(libro.violaciones).toEqual([]);
    const pagadas = await m.pool.query<{ n: string }>("SELECT count(*) AS n FROM comisiones WHERE estado = 'PAGADA'");
    expect(Number(pagadas.rows[0]?.n)).toBe(7);
    const saldos = libro.saldos[0]?.saldos;
    // Lo debido son 7 comisiones de 1000; si c-0 llegó a pagarse, su recuperación está pendiente o ya recuperada.
    expect((saldos?.pagado ?? 0) - (saldos?.recuperado ?? 0) - (saldos?.por_recuperar ?? 0)).toBe(7000);
  });

  it('la base rechaza una partida en dos liquidaciones no anuladas (índice único parcial), y la admite si la otra está anulada', async () => {
    const m = await preparar();
    const insertar = (idLiquidacion: string, anulada: boolean) =>
      m.pool.query(
        `INSERT INTO partidas_liquidacion (id_liquidacion, id_partida, tipo, id_comision, id_conversion, unidades, anulada)
         VALUES ($1, 'comision:s:c', 'comision', 'comision:s:c', 'c', 100, $2)`,
        [idLiquidacion, anulada],
      );
    await insertar('liq-1', false);
    await expect(insertar('liq-2', false)).rejects.toMatchObject({ code: '23505' });
    await m.pool.query("UPDATE partidas_liquidacion SET anulada = true WHERE id_liquidacion = 'liq-1'");
    await insertar('liq-2', false);
    await m.pool.query(
      `INSERT INTO apuntes_libro (id, id_asiento, id_socio, id_afiliado, moneda, cuenta, lado, unidades)
       VALUES ('apunte:x', 'asiento:x', 's', 'a', 'USD', 'gasto', 'debe', 1)`,
    );
    await expect(m.pool.query('DELETE FROM apuntes_libro')).rejects.toMatchObject({ code: '23001' });
    await expect(m.pool.query('UPDATE apuntes_libro SET unidades = 2')).rejects.toMatchObject({ code: '23001' });
  });

  it('la misma ejecución repetida no crea nada nuevo', async () => {
    const m = await preparar();
    await aprobada(m, 'r-1');
    const primera = await m.ejecutar('corte-x');
    expect(primera.creadas).toHaveLength(1);
    const otra = await m.ejecutar('corte-x');
    expect(otra.creadas).toHaveLength(0);
    const pagos = await m.pool.query<{ n: string }>('SELECT count(*) AS n FROM pagos');
    expect(Number(pagos.rows[0]?.n)).toBe(1);
  });

  it('una liquidación cuyo Pago falla libera sus comisiones y la siguiente ejecución las paga una vez', async () => {
    const m = await preparar();
    await aprobada(m, 'f-1', 5_000);
    await aprobada(m, 'f-2', 7_000);
    const primera = await m.ejecutar();
    expect(primera.creadas).toHaveLength(1);
    expect(primera.creadas[0]?.netoUnidadesMenores).toBe(1200);
    expect((await m.comision('f-1'))?.estado).toBe('EN_LIQUIDACION');
    await m.terminarPago(primera.creadas[0]!.idPago, 'FALLIDO');
    const segunda = await m.ejecutar();
    expect(segunda.cerradas).toBe(1);
    expect(segunda.creadas).toHaveLength(1);
    expect(segunda.creadas[0]?.netoUnidadesMenores).toBe(1200);
    await m.terminarPago(segunda.creadas[0]!.idPago, 'EXITOSO');
    const tercera = await m.ejecutar();
    expect(tercera.cerradas).toBe(1);
    expect(tercera.creadas).toHaveLength(0);
    expect(await m.comision('f-1')).toEqual({ unidades: 500, estado: 'PAGADA' });
    expect(await m.comision('f-2')).toEqual({ unidades: 700, estado: 'PAGADA' });
    const liqs = await m.pool.query<{ estado: string }>('SELECT estado FROM liquidaciones ORDER BY creada_en, id');
    expect(liqs.rows.map((r) => r.estado)).toEqual(['ANULADA', 'PAGADA']);
    expect((await m.libro()).violaciones).toEqual([]);
  });

  it('reversión de una comisión pagada: una recuperación neteada en la siguiente; el saldo negativo se arrastra', async () => {
    const m = await preparar();
    await aprobada(m, 'p-1', 10_000);
    const primera = await m.ejecutar();
    await m.terminarPago(primera.creadas[0]!.idPago, 'EXITOSO');
    await m.ejecutar();
    // Revertida tras el pago: 1000 por recuperar; una comisión nueva de 300 no alcanza: nada se liquida.
    await m.entregar(hecho('p-1', 'revertida', 5));
    await m.entregar(hecho('p-1', 'revertida', 5)).catch(() => undefined);
    await aprobada(m, 'p-2', 3_000);
    const segunda = await m.ejecutar();
    expect(segunda.creadas).toHaveLength(0);
    expect(segunda.sinLiquidar[0]?.motivo).toBe('NetoNoPositivo');
    // Con otra de 900: 300 + 900 − 1000 = 200.
    await aprobada(m, 'p-3', 9_000);
    const tercera = await m.ejecutar();
    expect(tercera.creadas.map((c) => c.netoUnidadesMenores)).toEqual([200]);
    await m.terminarPago(tercera.creadas[0]!.idPago, 'EXITOSO');
    await m.ejecutar();
    const ajustes = await m.pool.query<{ n: string }>("SELECT count(*) AS n FROM ajustes_comision WHERE tipo = 'recuperacion'");
    expect(Number(ajustes.rows[0]?.n)).toBe(1);
    const libro = await m.libro();
    expect(libro.violaciones).toEqual([]);
    // Invariante: pagado en liquidaciones (1000 + 200) = comisiones pagadas (1000 + 300 + 900) − recuperado (1000).
    const pagadas = libro.liquidaciones.filter((l) => l.estado === 'PAGADA').reduce((s, l) => s + l.netoUnidadesMenores, 0);
    expect(pagadas).toBe(1200);
    expect(libro.saldos[0]?.saldos.pagado).toBe(2200);
    expect(libro.saldos[0]?.saldos.recuperado).toBe(1000);
  });
});

describe('hechos de conversión por el mismo outbox y broker que los pagos', () => {
  it('el relay publica el hecho con la clave de su conversión y el consumidor lo aplica una vez; una reentrega es un duplicado', async () => {
    const m = await preparar();
    await m.registrar(creada('conv-msg'));
    await m.registrar(hecho('conv-msg', 'aprobada'));
    const filas = await new PostgresAlmacenOutbox(m.pool).reclamar('relay-prueba', 10);
    expect(filas.map((f) => f.tipo)).toEqual(['HechoConversionRecibido', 'HechoConversionRecibido']);
    expect(new Set(filas.map((f) => f.idAgregado)).size).toBe(1);
    const mensajes = filas.map((f, i) => {
      const s = sobreDeFila(f);
      return {
        idMensaje: `m-${i}`,
        clave: s.clave,
        cuerpo: s.cuerpo,
        propiedades: s.propiedades as Record<string, string>,
        entregas: 1,
        productor: 'relay-prueba',
        secuencia: s.secuencia,
      };
    });
    const atender = crearAtencionConversiones({ almacen: m.almacen });
    const primeros = await Promise.all(mensajes.map((msg) => atender(msg)));
    expect(primeros.map((h) => h?.tipo === 'conversion' && h.desenlace)).toEqual(['aplicado', 'aplicado']);
    const otra = await atender({ ...mensajes[1]!, entregas: 2 });
    expect(otra).toMatchObject({ tipo: 'conversion', desenlace: 'duplicado', idConversion: 'conv-msg' });
    expect(await m.comision('conv-msg')).toEqual({ unidades: 1000, estado: 'APROBADA' });
    // Un mensaje de pago no es suyo; un sobre roto va a mensajes muertos con su motivo.
    expect(atender({ ...mensajes[0]!, propiedades: { ...mensajes[0]!.propiedades, tipo: 'PagoPendiente' } })).toBeNull();
    const roto = await atender({ ...mensajes[0]!, clave: '00000000-0000-4000-8000-000000000000' });
    expect(roto).toMatchObject({ tipo: 'sobreInvalido' });
  });

  it('sin regla de comisión vigente el hecho no se aplica (a mensajes muertos con el motivo) y nada se escribe; con una regla desde antes, la reentrega lo aplica', async () => {
    const m = await preparar();
    const otro: Ambito = { idSocio: 'socio-sin-regla', modo: 'live' };
    const registrar = crearManejadorRegistrarHecho({ almacen: m.almacen, nuevoId: uuidv7 });
    await registrar(otro, creada('conv-sin'), traza);
    const d = await crearAplicadorDeHechos({ almacen: m.almacen })(otro, 'conv-sin:creada');
    expect(d).toMatchObject({ tipo: 'rechazado' });
    expect(d.tipo === 'rechazado' && d.motivo).toMatch(/no tiene regla de comisión vigente/);
    const { rows } = await m.pool.query<{ aplicado: boolean }>(
      "SELECT aplicado_en IS NOT NULL AS aplicado FROM hechos_conversion WHERE id_evento = 'conv-sin:creada'",
    );
    expect(rows[0]?.aplicado).toBe(false);
    // El remedio: una regla vigente desde antes de la creación y el mensaje reenviado (otra entrega).
    await m.almacen.guardarRegla(otro.idSocio, (version) => {
      const r = ReglaComision.crear({
        idSocio: otro.idSocio,
        version,
        vigenteDesde: new Date(HACE_UN_DIA.getTime() - 60_000),
        calculo: { tipo: 'porcentaje', puntosBasicos: 200 },
      });
      return r.ok ? r.valor : new Error('regla');
    });
    expect(await crearAplicadorDeHechos({ almacen: m.almacen })(otro, 'conv-sin:creada')).toMatchObject({
      tipo: 'aplicar',
      comision: { unidadesMenores: 200, estado: 'PENDIENTE' },
    });
  });
});

describe('la credencial se comprueba en la misma sentencia que guarda el hecho', () => {
  it('socio activo y clave vigente: se guarda; clave revocada o socio suspendido: denegado y nada escrito', async () => {
    const m = await preparar();
    const administracion = new PostgresAdministracionSocios(m.pool);
    const creado = await administracion.crear(
      { nombre: 'Socio con clave', firmaObligatoria: false, limiteRps: null, modo: 'live' },
      new Date(),
    );
    if (!creado.ok) throw new Error(JSON.stringify(creado.error));
    const { socio, clave } = creado.valor;
    const ambito: Ambito = { idSocio: socio.id, modo: 'live' };
    const registrar = crearManejadorRegistrarHecho({ almacen: m.almacen, nuevoId: uuidv7 });
    const credencial = { idClave: clave.clave.id };
    expect(await registrar(ambito, creada('cred-1'), traza, credencial)).toMatchObject({ ok: true });
    // La misma clave en otro modo no vale.
    expect(await registrar({ ...ambito, modo: 'test' }, creada('cred-2'), traza, credencial)).toEqual({
      ok: false,
      error: { tipo: 'CredencialDenegada', motivo: 'clave-revocada' },
    });
    const revocada = await administracion.revocarClave(socio.id, clave.clave.prefijo, new Date());
    expect(revocada.ok).toBe(true);
    expect(await registrar(ambito, creada('cred-3'), traza, credencial)).toEqual({
      ok: false,
      error: { tipo: 'CredencialDenegada', motivo: 'clave-revocada' },
    });
    // Ni siquiera una réplica de un hecho ya guardado se responde con una credencial que ya no vale.
    expect(await registrar(ambito, creada('cred-1'), traza, credencial)).toMatchObject({ ok: false });
    expect(await administracion.suspender(socio.id)).toMatchObject({ ok: true });
    expect(await registrar(ambito, creada('cred-4'), traza, { idClave: null })).toEqual({
      ok: false,
      error: { tipo: 'CredencialDenegada', motivo: 'socio-suspendido' },
    });
    const { rows } = await m.pool.query<{ id_evento: string }>('SELECT id_evento FROM hechos_conversion WHERE id_socio = $1', [socio.id]);
    expect(rows.map((r) => r.id_evento)).toEqual(['cred-1:creada']);
    const outbox = await m.pool.query("SELECT 1 FROM outbox WHERE tipo = 'HechoConversionRecibido'");
    expect(outbox.rowCount).toBe(1);
  });

  it('los eventos del registro de una conversión llevan el id de solicitud y la traza de la petición que envió cada hecho', async () => {
    const m = await preparar();
    const registrar = crearManejadorRegistrarHecho({ almacen: m.almacen, nuevoId: uuidv7 });
    const aplicar = crearAplicadorDeHechos({ almacen: m.almacen });
    const idTraza = '4bf92f3577b34da6a3ce929d0e0e4736';
    const conTraza = (n: number) => ({
      idCorrelacion: `corr-${n}`,
      idSolicitud: `req_solicitud-${n}`,
      traceparent: `00-${idTraza.slice(0, 31)}${n}-00f067aa0ba902b7-01`,
    });
    for (const [n, s] of [creada('conv-trazada'), hecho('conv-trazada', 'aprobada')].entries()) {
      expect(await registrar(m.ambito, s, conTraza(n))).toMatchObject({ ok: true });
      await aplicar(m.ambito, s.idEvento);
    }
    const asignador = new PostgresAsignadorEventos({ pool: m.pool });
    for (let r = await asignador.ronda(); r.tipo !== 'numerados' || r.quedan; r = await asignador.ronda()) await setTimeout(20);
    const { rows } = await m.pool.query<{
      tipo: string;
      id_solicitud: string | null;
      id_traza: string | null;
      id_correlacion: string | null;
    }>(
      `SELECT tipo, id_solicitud, id_traza, id_correlacion FROM eventos_socio WHERE id_socio = $1 AND sujeto = 'conv-trazada' ORDER BY secuencia`,
      [m.ambito.idSocio],
    );
    expect(rows).toEqual([
      { tipo: 'conversion.recibida', id_solicitud: 'req_solicitud-0', id_traza: `${idTraza.slice(0, 31)}0`, id_correlacion: 'corr-0' },
      { tipo: 'conversion.pendiente', id_solicitud: 'req_solicitud-0', id_traza: `${idTraza.slice(0, 31)}0`, id_correlacion: 'corr-0' },
      { tipo: 'conversion.recibida', id_solicitud: 'req_solicitud-1', id_traza: `${idTraza.slice(0, 31)}1`, id_correlacion: 'corr-1' },
      { tipo: 'conversion.aprobada', id_solicitud: 'req_solicitud-1', id_traza: `${idTraza.slice(0, 31)}1`, id_correlacion: 'corr-1' },
    ]);
  });
});
