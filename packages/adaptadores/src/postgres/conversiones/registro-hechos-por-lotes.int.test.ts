import { crearManejadorRegistrarHecho, type SolicitudHecho } from '@aeropartners/aplicacion';
import type { Ambito, CredencialEscritura } from '@aeropartners/dominio';
import { afterAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../ids/uuidv7.js';
import { crearBaseDePrueba } from '../../testing/index.js';
import { crearPoolPostgres } from '../pool-postgres.js';
import { PostgresAdministracionSocios } from '../socios/postgres-administracion-socios.js';
import { PostgresAlmacenComisiones } from './postgres-almacen-comisiones.js';

// El registro agrupado de hechos contra PostgreSQL real: lotes mixtos de verdad (el agrupador con un solo
// hueco junta en una sentencia lo que llega mientras otra corre), duplicados dentro del lote y entre
// procesos (dos pools, como dos instancias de la API), y filas contadas al final.

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

const traza = { idCorrelacion: 'corr-lotes' };
const AYER = new Date(Date.now() - 24 * 3600 * 1000);

async function preparar() {
  const base = await crearBaseDePrueba();
  const pools = [1, 2].map((n) => crearPoolPostgres({ url: base.url, tamano: 12, nombreAplicacion: `test-lotes-${n}` }));
  cierres.push(async () => {
    for (const p of pools) await p.end();
    await base.cerrar();
  });
  const [pool, otroPool] = pools as [(typeof pools)[0], (typeof pools)[0]];
  const administracion = new PostgresAdministracionSocios(pool);
  async function socioConClave(nombre: string) {
    const creado = await administracion.crear({ nombre, firmaObligatoria: false, limiteRps: null, modo: 'live' }, new Date());
    if (!creado.ok) throw new Error(JSON.stringify(creado.error));
    const ambito: Ambito = { idSocio: creado.valor.socio.id, modo: 'live' };
    const credencial: CredencialEscritura = { idClave: creado.valor.clave.clave.id };
    return { ambito, credencial, prefijo: creado.valor.clave.clave.prefijo };
  }
  const cuenta = async (sql: string, valores: unknown[] = []) => Number((await pool.query<{ n: string }>(sql, valores)).rows[0]?.n);
  /** Hechos, outbox e historial de recepción: las tres cuentas (deben ser iguales). */
  const filas = async () => ({
    hechos: await cuenta('SELECT count(*) AS n FROM hechos_conversion'),
    outbox: await cuenta("SELECT count(*) AS n FROM outbox WHERE tipo = 'HechoConversionRecibido'"),
    historial: await cuenta("SELECT count(*) AS n FROM historial_conversiones WHERE tipo = 'HechoRecibido'"),
  });
  return { pool, otroPool, administracion, socioConClave, cuenta, filas };
}

const creada = (idConversion: string, monto = 10_000, idEvento = `${idConversion}:creada`): SolicitudHecho => ({
  idEvento,
  tipo: 'creada',
  idConversion,
  idAfiliado: 'afiliado-1',
  monto: { unidadesMenores: monto, moneda: 'USD' },
  ocurridoEn: AYER,
});

describe('registro de hechos por lotes (una sentencia por lote)', () => {
  it('un lote mixto: nuevos, réplicas, conflictos 422, duplicados dentro del lote, credencial revocada y socio suspendido; cada uno con su respuesta y nada a medias', async () => {
    const m = await preparar();
    const activo = await m.socioConClave('Activo');
    const revocado = await m.socioConClave('Revocado');
    const suspendido = await m.socioConClave('Suspendido');
    const almacen = new PostgresAlmacenComisiones(m.pool, { enVueloMaximo: 1 });
    const registrar = crearManejadorRegistrarHecho({ almacen, nuevoId: uuidv7 });
    const enActivo = (s: SolicitudHecho) => registrar(activo.ambito, s, traza, activo.credencial);

    // Antes del lote: dos hechos ya guardados (uno se repetirá igual, el otro con otro cuerpo).
    expect(await enActivo(creada('previa-igual'))).toMatchObject({ ok: true, valor: { repetido: false } });
    expect(await enActivo(creada('previa-distinta'))).toMatchObject({ ok: true, valor: { repetido: false } });
    expect((await m.administracion.revocarClave(revocado.ambito.idSocio, revocado.prefijo, new Date())).ok).toBe(true);
    expect(await m.administracion.suspender(suspendido.ambito.idSocio)).toMatchObject({ ok: true });
    const { lotes: lotesAntes, sentencias: sentenciasAntes } = almacen.registro.metricas();

    // El primero sale solo y ocupa el único hueco; los demás llegan mientras corre y salen juntos en UN lote.
    const tapon = enActivo(creada('tapon'));
    const [nuevo1, nuevo2, replica, conflicto, dupA, dupB, distintoA, distintoB, conClaveRevocada, deSuspendido, nuevo3] =
      await Promise.all([
        enActivo(creada('nueva-1')),
        enActivo(creada('nueva-2')),
        enActivo(creada('previa-igual')),
        enActivo(creada('previa-distinta', 99_999)),
        enActivo(creada('dup-igual')),
        enActivo(creada('dup-igual')),
        enActivo(creada('dup-distinto', 100)),
        enActivo(creada('dup-distinto', 200)),
        registrar(revocado.ambito, creada('de-revocado'), traza, revocado.credencial),
        registrar(suspendido.ambito, creada('de-suspendido'), traza, { idClave: null }),
        enActivo(creada('nueva-3')),
      ]);
    expect(await tapon).toMatchObject({ ok: true, valor: { repetido: false } });
    const m1 = almacen.registro.metricas();
    // El tapón y un lote con las otras 11, en una sentencia.
    expect(m1.lotes - lotesAntes).toBe(2);
    expect(m1.mayorLote).toBe(11);
    expect(m1.sentencias - sentenciasAntes).toBe(2);

    for (const r of [nuevo1, nuevo2, nuevo3]) expect(r).toMatchObject({ ok: true, valor: { repetido: false } });
    expect(replica).toEqual({ ok: true, valor: { idEvento: 'previa-igual:creada', idConversion: 'previa-igual', repetido: true } });
    expect(conflicto).toEqual({ ok: false, error: { tipo: 'EventoReutilizado', idEvento: 'previa-distinta:creada' } });
    // El mismo id_evento dos veces en el lote: uno ACEPTADO y el otro réplica; con otro cuerpo, 422 solo para el segundo.
    expect([dupA, dupB].map((r) => r.ok && r.valor.repetido).sort()).toEqual([false, true]);
    expect(distintoA).toMatchObject({ ok: true, valor: { repetido: false } });
    expect(distintoB).toEqual({ ok: false, error: { tipo: 'EventoReutilizado', idEvento: 'dup-distinto:creada' } });
    expect(conClaveRevocada).toEqual({ ok: false, error: { tipo: 'CredencialDenegada', motivo: 'clave-revocada' } });
    expect(deSuspendido).toEqual({ ok: false, error: { tipo: 'CredencialDenegada', motivo: 'socio-suspendido' } });

    const idsGuardados = (await m.pool.query<{ id_evento: string }>('SELECT id_evento FROM hechos_conversion ORDER BY id_evento')).rows.map(
      (r) => r.id_evento,
    );
    expect(idsGuardados).toEqual(
      ['dup-distinto', 'dup-igual', 'nueva-1', 'nueva-2', 'nueva-3', 'previa-distinta', 'previa-igual', 'tapon'].map((x) => `${x}:creada`),
    );
    // El primero del lote con la clave es el que quedó (su importe).
    expect(await m.cuenta("SELECT monto_unidades AS n FROM hechos_conversion WHERE id_evento = 'dup-distinto:creada'")).toBe(100);
    expect(await m.filas()).toEqual({ hechos: 8, outbox: 8, historial: 8 });
  }, 60_000);

  it('un lote es un commit y un aviso al relay: 10 hechos en una sentencia dan un solo NOTIFY outbox_nuevo', async () => {
    const m = await preparar();
    const activo = await m.socioConClave('Activo');
    const oyente = await m.otroPool.connect();
    const avisos: string[] = [];
    oyente.on('notification', (aviso) => avisos.push(aviso.channel));
    await oyente.query('LISTEN outbox_nuevo');
    try {
      const almacen = new PostgresAlmacenComisiones(m.pool, { enVueloMaximo: 1 });
      const registrar = crearManejadorRegistrarHecho({ almacen, nuevoId: uuidv7 });
      const tapon = registrar(activo.ambito, creada('tapon'), traza, activo.credencial);
      const lote = await Promise.all(
        Array.from({ length: 10 }, (_, i) => registrar(activo.ambito, creada(`aviso-${i}`), traza, activo.credencial)),
      );
      await tapon;
      expect(lote.every((r) => r.ok && !r.valor.repetido)).toBe(true);
      expect(almacen.registro.metricas()).toMatchObject({ lotes: 2, mayorLote: 10, sentencias: 2 });
      // Los avisos de lo ya confirmado llegan al oyente como mucho al terminar su siguiente transacción.
      await oyente.query('SELECT 1');
      expect(avisos).toEqual(['outbox_nuevo', 'outbox_nuevo']);
      expect(await m.filas()).toEqual({ hechos: 11, outbox: 11, historial: 11 });
    } finally {
      oyente.release();
    }
  }, 60_000);

  it('una revocación en plena carga: lo enviado después de confirmarse la revocación se deniega, y hay un hecho por cada 202', async () => {
    const m = await preparar();
    const activo = await m.socioConClave('Activo');
    const almacen = new PostgresAlmacenComisiones(m.pool);
    const registrar = crearManejadorRegistrarHecho({ almacen, nuevoId: uuidv7 });
    let revocada = false;
    let siguiente = 0;
    const aceptados: string[] = [];
    const denegadosTrasRevocar: string[] = [];
    const otros: string[] = [];
    const cliente = async () => {
      while (!revocada || denegadosTrasRevocar.length < 40) {
        const enviadaTrasRevocar = revocada;
        const s = creada(`rev-${siguiente++}`);
        const r = await registrar(activo.ambito, s, traza, activo.credencial);
        if (r.ok) {
          if (enviadaTrasRevocar) otros.push(`${s.idEvento} aceptado tras revocar`);
          aceptados.push(s.idEvento);
        } else if (r.error.tipo === 'CredencialDenegada' && r.error.motivo === 'clave-revocada') {
          if (enviadaTrasRevocar) denegadosTrasRevocar.push(s.idEvento);
        } else {
          otros.push(JSON.stringify(r.error));
        }
      }
    };
    const clientes = Array.from({ length: 20 }, cliente);
    while (aceptados.length < 200) await new Promise((r) => setImmediate(r));
    expect((await m.administracion.revocarClave(activo.ambito.idSocio, activo.prefijo, new Date())).ok).toBe(true);
    revocada = true;
    await Promise.all(clientes);
    expect(otros).toEqual([]);
    expect(denegadosTrasRevocar.length).toBeGreaterThanOrEqual(40);
    expect(await m.filas()).toEqual({ hechos: aceptados.length, outbox: aceptados.length, historial: aceptados.length });
    expect(almacen.registro.metricas().mayorLote).toBeGreaterThan(1);
  }, 60_000);

  it('rechaza solo la entrada con un dato que PostgreSQL no admite; las demás del lote se guardan enteras', async () => {
    const m = await preparar();
    const activo = await m.socioConClave('Activo');
    const almacen = new PostgresAlmacenComisiones(m.pool, { enVueloMaximo: 1 });
    const registrar = crearManejadorRegistrarHecho({ almacen, nuevoId: uuidv7 });
    const enActivo = (s: SolicitudHecho) => registrar(activo.ambito, s, traza, activo.credencial);
    const tapon = enActivo(creada('tapon'));
    const resultados = await Promise.allSettled([
      enActivo(creada('buena-1')),
      // Una fecha válida en JavaScript pero fuera del rango de timestamptz (año 271821 a. C.): la base la rechaza.
      enActivo({ ...creada('mala'), ocurridoEn: new Date(-8.64e15) }),
      enActivo(creada('buena-2')),
    ]);
    await tapon;
    expect(resultados.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const rechazo = resultados[1];
    expect(rechazo?.status === 'rejected' && String(rechazo.reason)).toContain('mala:creada');
    expect(almacen.registro.metricas().mayorLote).toBe(3);
    expect(await m.filas()).toEqual({ hechos: 3, outbox: 3, historial: 3 });
  }, 60_000);

  it('cada evento 6× a la vez repartido entre dos instancias (dos pools): uno ACEPTADO por evento, el resto réplicas, y las tres cuentas iguales', async () => {
    const m = await preparar();
    const activo = await m.socioConClave('Activo');
    const almacenes = [new PostgresAlmacenComisiones(m.pool), new PostgresAlmacenComisiones(m.otroPool)];
    const [uno, dos] = almacenes.map((almacen) => crearManejadorRegistrarHecho({ almacen, nuevoId: uuidv7 }));
    if (!uno || !dos) throw new Error('faltan manejadores');
    const eventos = Array.from({ length: 40 }, (_, i) => creada(`carrera-${i}`, 1_000 + i));
    const envios = eventos.flatMap((s, i) => Array.from({ length: 6 }, (_, copia) => ({ s, instancia: (i + copia) % 2 })));
    // Orden de envío barajado (fijo): las copias de un evento caen en lotes distintos de las dos instancias.
    let semilla = 12345;
    for (let i = envios.length - 1; i > 0; i -= 1) {
      semilla = (semilla * 1103515245 + 12345) % 2147483648;
      const j = semilla % (i + 1);
      [envios[i], envios[j]] = [envios[j] as (typeof envios)[0], envios[i] as (typeof envios)[0]];
    }
    const respuestas = await Promise.all(
      envios.map(({ s, instancia }) => (instancia === 0 ? uno : dos)(activo.ambito, s, traza, activo.credencial)),
    );
    const porEvento = new Map<string, boolean[]>();
    for (const r of respuestas) {
      if (!r.ok) throw new Error(`respuesta inesperada: ${JSON.stringify(r.error)}`);
      porEvento.set(r.valor.idEvento, [...(porEvento.get(r.valor.idEvento) ?? []), r.valor.repetido]);
    }
    expect(porEvento.size).toBe(40);
    for (const repetidos of porEvento.values()) expect(repetidos.filter((x) => !x)).toHaveLength(1);
    expect(await m.filas()).toEqual({ hechos: 40, outbox: 40, historial: 40 });
    // Se agrupó de verdad: menos sentencias que peticiones.
    const sentencias = almacenes.reduce((n, a) => n + a.registro.metricas().sentencias, 0);
    expect(sentencias).toBeLessThan(envios.length);
  }, 60_000);
});
