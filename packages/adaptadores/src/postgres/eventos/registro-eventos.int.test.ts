import { randomUUID } from 'node:crypto';
import { setTimeout as esperar } from 'node:timers/promises';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { crearBaseDePrueba } from '../../testing/index.js';
import { crearPoolPostgres } from '../pool-postgres.js';
import { PostgresAsignadorEventos, iniciarAsignadorEventos } from './asignador-eventos.js';
import { EscuchaEventos } from './escucha-eventos.js';
import { RegistradorDuplicados } from './registrador-duplicados.js';
import { PostgresRegistroEventos } from './registro-eventos.js';

// El registro de eventos por socio contra PostgreSQL real: escritores concurrentes de varios socios que
// confirman fuera del orden de sus ids, dos asignadores compitiendo, y un lector que sigue el feed
// mientras tanto y nunca debe ver un hueco.

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

async function preparar() {
  const base = await crearBaseDePrueba();
  const pool = crearPoolPostgres({ url: base.url, tamano: 16, nombreAplicacion: 'eventos-prueba' });
  cierres.push(async () => {
    await pool.end();
    await base.cerrar();
  });
  return { base, pool };
}

/**
 * Un pago y sus transiciones, cada una en su propia transacción con el historial, como el repositorio; una
 * pausa aleatoria ANTES de confirmar hace que ids menores se confirmen después que ids mayores.
 */
async function escribirPago(pool: pg.Pool, idSocio: string, modo: 'live' | 'test', pausaMaxMs: number): Promise<string> {
  const id = randomUUID();
  const estados = ['PENDIENTE', 'PROCESANDO', Math.random() < 0.5 ? 'EXITOSO' : 'FALLIDO'];
  for (const [i, estado] of estados.entries()) {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      if (i === 0) {
        await c.query(
          `INSERT INTO pagos (id, id_socio, modo, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago, estado, version,
                              fecha_creacion, fecha_actualizacion)
           VALUES ($1, $2, $3, $4, 'afiliado-1', 1000, 'USD', $4, 'PENDIENTE', 1, now(), now())`,
          [id, idSocio, modo, id],
        );
      } else {
        await c.query('UPDATE pagos SET estado = $2, version = $3 WHERE id = $1', [id, estado, i + 1]);
      }
      await c.query(
        `INSERT INTO historial_pagos (id_pago, version, estado, tipo_evento, id_evento, ocurrido_en, id_correlacion, id_solicitud)
         VALUES ($1, $2, $3, $4, gen_random_uuid(), now(), $5, $6)`,
        [id, i + 1, estado, `Pago${estado}`, `corr-${id}`, `req_${id}`],
      );
      await esperar(Math.random() * pausaMaxMs);
      await c.query('COMMIT');
    } catch (error) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      c.release();
    }
  }
  return id;
}

describe('registro de eventos por socio', () => {
  it('secuencia por ámbito sin huecos y en orden con escritores concurrentes de varios socios y dos asignadores', async () => {
    const { pool } = await preparar();
    const registro = new PostgresRegistroEventos({ pool });
    const socios = ['socio-a', 'socio-b', 'socio-c'];
    const ambitos = socios.flatMap((s) => [
      { idSocio: s, modo: 'live' as const },
      { idSocio: s, modo: 'test' as const },
    ]);
    // Dos asignadores (dos instancias) numerando a la vez que se escribe.
    const asignadores = [
      iniciarAsignadorEventos({ pool, intervaloMs: 5, lote: 7 }),
      iniciarAsignadorEventos({ pool, intervaloMs: 5, lote: 7 }),
    ];
    // Un lector por ámbito que sigue el feed mientras se escribe: cada página empieza justo tras la anterior.
    let escribiendo = true;
    const vistos = new Map<string, number[]>();
    const lectores = ambitos.map(async (ambito) => {
      const propios: number[] = [];
      vistos.set(`${ambito.idSocio} ${ambito.modo}`, propios);
      let ultima = 0;
      for (let vuelta = 0; escribiendo || vuelta < 3; vuelta += escribiendo ? 0 : 1) {
        const pagina = await registro.leer(ambito, { despuesDe: ultima, limite: 50 });
        for (const e of pagina.eventos) propios.push(e.secuencia);
        ultima = pagina.siguiente;
        if (!pagina.hayMas) await esperar(10);
      }
    });
    const escrituras = Array.from({ length: 60 }, (_, i) => {
      const ambito = ambitos[i % ambitos.length] ?? { idSocio: 'socio-a', modo: 'live' as const };
      return escribirPago(pool, ambito.idSocio, ambito.modo, 30).then((id) => ({ id, ambito }));
    });
    const pagos = await Promise.all(escrituras);
    // Hasta que el asignador alcanza todo lo escrito.
    for (;;) {
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM eventos_socio');
      if (Number(rows[0]?.n) === pagos.length * 3) break;
      await esperar(20);
    }
    escribiendo = false;
    await Promise.all(lectores);
    for (const a of asignadores) await a.detener();

    for (const ambito of ambitos) {
      const clave = `${ambito.idSocio} ${ambito.modo}`;
      const esperados = pagos.filter((p) => p.ambito === ambito).length * 3;
      // El lector concurrente vio exactamente 1..N, en orden, sin huecos ni repeticiones.
      expect(vistos.get(clave), clave).toEqual(Array.from({ length: esperados }, (_, i) => i + 1));
      // Y por pago, sus tres estados en orden de versión.
      const { eventos } = await registro.leer(ambito, { despuesDe: 0, limite: 1000 });
      const porPago = new Map<string, string[]>();
      for (const e of eventos) porPago.set(e.sujeto, [...(porPago.get(e.sujeto) ?? []), e.tipo]);
      for (const tipos of porPago.values()) {
        expect(tipos.slice(0, 2)).toEqual(['pago.pendiente', 'pago.procesando']);
        expect(['pago.exitoso', 'pago.fallido']).toContain(tipos[2]);
      }
      expect(await registro.ultima(ambito)).toBe(esperados);
    }
    // Cada fila de historial, numerada una sola vez.
    const { rows } = await pool.query<{ n: string; distintos: string }>(
      "SELECT count(*) AS n, count(DISTINCT id_fuente) AS distintos FROM eventos_socio WHERE fuente = 'pagos'",
    );
    expect(rows[0]).toEqual({ n: String(pagos.length * 3), distintos: String(pagos.length * 3) });
  });

  it('una transacción abierta con un id menor retiene la numeración hasta confirmar; luego sale antes que nada posterior', async () => {
    const { pool } = await preparar();
    const asignador = new PostgresAsignadorEventos({ pool, esperaEscritoresMs: 100 });
    const registro = new PostgresRegistroEventos({ pool });
    const ambito = { idSocio: 'socio-lento', modo: 'live' as const };
    const lento = await pool.connect();
    const idLento = randomUUID();
    await lento.query('BEGIN');
    await lento.query(
      `INSERT INTO pagos (id, id_socio, modo, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago, estado, version,
                          fecha_creacion, fecha_actualizacion)
       VALUES ($1, 'socio-lento', 'live', 'k-lento', 'a', 1, 'USD', 'r', 'PENDIENTE', 1, now(), now())`,
      [idLento],
    );
    await lento.query(
      `INSERT INTO historial_pagos (id_pago, version, estado, tipo_evento, id_evento, ocurrido_en, id_correlacion)
       VALUES ($1, 1, 'PENDIENTE', 'PagoCreado', gen_random_uuid(), now(), 'c')`,
      [idLento],
    );
    // Otro pago del mismo socio, con id de historial MAYOR, confirmado antes.
    const idRapido = await escribirPago(pool, 'socio-lento', 'live', 0);
    expect(await asignador.ronda()).toEqual({ tipo: 'escritores-lentos' });
    expect((await registro.leer(ambito, { despuesDe: 0, limite: 10 })).eventos).toEqual([]);
    await lento.query('COMMIT');
    lento.release();
    const r = await asignador.ronda();
    expect(r.tipo).toBe('numerados');
    const { eventos } = await registro.leer(ambito, { despuesDe: 0, limite: 10 });
    expect(eventos.map((e) => [e.secuencia, e.sujeto])).toEqual([
      [1, idLento],
      [2, idRapido],
      [3, idRapido],
      [4, idRapido],
    ]);
  });

  it('feed con ámbito: otro socio (u otro modo) no ve nada; filtros por tipo, familia y sujeto; páginas', async () => {
    const { pool } = await preparar();
    const asignador = new PostgresAsignadorEventos({ pool });
    const registro = new PostgresRegistroEventos({ pool });
    const deA = await escribirPago(pool, 'socio-a', 'live', 0);
    await escribirPago(pool, 'socio-a', 'live', 0);
    await asignador.ronda();
    expect((await registro.leer({ idSocio: 'socio-b', modo: 'live' }, { despuesDe: 0, limite: 100 })).eventos).toEqual([]);
    expect((await registro.leer({ idSocio: 'socio-a', modo: 'test' }, { despuesDe: 0, limite: 100 })).eventos).toEqual([]);
    const a = { idSocio: 'socio-a', modo: 'live' as const };
    const pendientes = await registro.leer(a, { despuesDe: 0, tipo: 'pago.pendiente', limite: 100 });
    expect(pendientes.eventos.map((e) => e.tipo)).toEqual(['pago.pendiente', 'pago.pendiente']);
    expect((await registro.leer(a, { despuesDe: 0, tipo: 'pago.*', limite: 100 })).eventos).toHaveLength(6);
    const delPago = await registro.leer(a, { despuesDe: 0, sujeto: deA, limite: 100 });
    expect(delPago.eventos.map((e) => e.secuencia)).toEqual([1, 2, 3]);
    expect(delPago.eventos[0]).toMatchObject({ idSolicitud: `req_${deA}`, idCorrelacion: `corr-${deA}` });
    const primera = await registro.leer(a, { despuesDe: 0, limite: 4 });
    expect(primera).toMatchObject({ siguiente: 4, hayMas: true });
    const segunda = await registro.leer(a, { despuesDe: primera.siguiente, limite: 4 });
    expect(segunda.eventos.map((e) => e.secuencia)).toEqual([5, 6]);
    expect(segunda).toMatchObject({ siguiente: 6, hayMas: false });
  });

  it('la escucha que pierde su conexión (pg_terminate_backend) reconecta y despierta a los suscriptores', async () => {
    const { base, pool } = await preparar();
    const errores: Error[] = [];
    const escucha = new EscuchaEventos({ url: base.url, alError: (e) => errores.push(e) });
    await escucha.iniciar();
    cierres.push(() => escucha.cerrar());
    let avisos = 0;
    escucha.suscribir({ idSocio: 'socio-f', modo: 'live' }, () => {
      avisos += 1;
    });
    const { rows } = await pool.query<{ n: number }>(
      "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'aeropartners-avisos-eventos' AND datname = current_database()",
    );
    expect(rows[0]?.n).toBe(1);
    // Al volver, despierta a todos (pudo perderse un aviso mientras tanto).
    for (let i = 0; i < 300 && avisos === 0; i += 1) await esperar(10);
    expect(avisos).toBe(1);
    expect(errores.length).toBeGreaterThan(0);
    // Y sigue recibiendo avisos de verdad.
    await escribirPago(pool, 'socio-f', 'live', 0);
    await new PostgresAsignadorEventos({ pool }).ronda();
    for (let i = 0; i < 300 && avisos === 1; i += 1) await esperar(10);
    expect(avisos).toBe(2);
  });

  it('duplicados absorbidos por lotes asíncronos y avisos LISTEN/NOTIFY del ámbito numerado', async () => {
    const { base, pool } = await preparar();
    const escucha = new EscuchaEventos({ url: base.url });
    await escucha.iniciar();
    cierres.push(() => escucha.cerrar());
    const avisos: string[] = [];
    escucha.suscribir({ idSocio: 'socio-d', modo: 'live' }, () => avisos.push('d'));
    escucha.suscribir({ idSocio: 'socio-e', modo: 'live' }, () => avisos.push('e'));
    const duplicados = new RegistradorDuplicados({ pool, intervaloMs: 1_000_000 });
    for (let i = 0; i < 5; i += 1)
      duplicados.anotar({ idSocio: 'socio-d', modo: 'live', etapa: 'entrada', clave: 'k-1', sujeto: 'pago-1' });
    duplicados.anotar({ idSocio: 'socio-d', modo: 'live', etapa: 'inbox', clave: 'evt-9', sujeto: 'pago-1' });
    await duplicados.cerrar();
    const asignador = new PostgresAsignadorEventos({ pool });
    expect(await asignador.ronda()).toMatchObject({ tipo: 'numerados', numerados: 2, ambitos: ['socio-d live'] });
    const { eventos } = await new PostgresRegistroEventos({ pool }).leer(
      { idSocio: 'socio-d', modo: 'live' },
      { despuesDe: 0, limite: 10 },
    );
    expect(eventos.map((e) => [e.tipo, e.datos])).toEqual([
      ['duplicado.absorbido', { etapa: 'entrada', clave: 'k-1', veces: 5 }],
      ['duplicado.absorbido', { etapa: 'inbox', clave: 'evt-9', veces: 1 }],
    ]);
    for (let i = 0; i < 100 && avisos.length === 0; i += 1) await esperar(10);
    expect(avisos).toEqual(['d']);
  });
});
