import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { MensajeEntrante, MensajeSaliente, Suscripcion } from '@aeropartners/aplicacion';
import { probarContratoBroker } from '@aeropartners/contratos';
import { crearBaseDePrueba } from '@aeropartners/adaptadores/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  crearBrokerEmbebido,
  type OpcionesBrokerEmbebido,
  type PostgresBroker,
  type PostgresSuscripcion,
} from './index-broker-embebido.js';
import { SQL_CONFIRMAR, SQL_RECLAMAR, parametrosReclamar } from './sql-broker.js';

let base: { url: string; cerrar(): Promise<void> };
let pool: pg.Pool;
let topicos = 0;

beforeAll(async () => {
  base = await crearBaseDePrueba();
  pool = new pg.Pool({ connectionString: base.url, max: 30 });
});

afterAll(async () => {
  await pool?.end();
  await base?.cerrar();
});

const nuevoTopico = () => `pagos-${process.pid}-${++topicos}`;

const brokerDePrueba = (extra: Partial<OpcionesBrokerEmbebido> = {}) =>
  crearBrokerEmbebido({ pool, topico: nuevoTopico(), leaseMs: 2_000, intervaloSondeoMs: 200, ...extra } as OpcionesBrokerEmbebido);

/**
 * El lease de lo que tiene `s` vence ya (como si su proceso se hubiera quedado parado) hasta que otro
 * consumidor lo reclama; el aviso despierta a los que esperan.
 */
async function vencerLeases(broker: PostgresBroker, s: Suscripcion): Promise<void> {
  const { consumidor } = s as PostgresSuscripcion;
  for (let intento = 0; intento < 300; intento++) {
    const { rows } = await pool.query('UPDATE broker.mensajes SET visible_desde = now() WHERE consumidor = $1 RETURNING id', [consumidor]);
    if (rows.length === 0) return;
    await pool.query(`SELECT pg_notify('broker_avisos', $1)`, [broker.topico]);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('Ningún otro consumidor reclamó lo que tenía el consumidor lento');
}

probarContratoBroker(
  'embebido (PostgreSQL)',
  async () => {
    const broker = await brokerDePrueba();
    return { broker, vencerLeases: (s) => vencerLeases(broker, s) };
  },
  { leases: true },
);

function mensaje(clave: string, secuencia: number): MensajeSaliente {
  return {
    clave,
    secuencia,
    cuerpo: JSON.stringify({ clave, secuencia }),
    propiedades: { id_evento: `e-${secuencia}`, tipo: 'PagoPendiente', version: '1', id_correlacion: `c-${secuencia}` },
  };
}

async function recibirAntesDe(s: Suscripcion, ms: number): Promise<MensajeEntrante> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const limite = new Promise<never>((_, rechazar) => {
    t = setTimeout(() => rechazar(new Error(`Tiempo agotado (${ms} ms) esperando un mensaje`)), ms);
  });
  try {
    const m = await Promise.race([s.recibir(), limite]);
    if (m === null) throw new Error('Suscripción cerrada');
    return m;
  } finally {
    clearTimeout(t);
  }
}

async function idSuscripcion(topico: string, nombre: string): Promise<number> {
  const { rows } = await pool.query<{ id: number }>('SELECT id FROM broker.suscripciones WHERE topico = $1 AND nombre = $2', [
    topico,
    nombre,
  ]);
  return rows[0]!.id;
}

/**
 * Un consumidor en OTRO proceso: reclama un lote con el mismo SQL que el adaptador, avisa de lo que
 * tiene y se queda esperando a que lo maten.
 */
function consumidorHijo(url: string, parametros: unknown[]) {
  const codigo = `
    import pg from 'pg';
    const pool = new pg.Pool({ connectionString: process.env.URL_BROKER, max: 1 });
    const { rows } = await pool.query(process.env.SQL_BROKER, JSON.parse(process.env.PARAMETROS_BROKER));
    process.stdout.write(JSON.stringify(rows.map((f) => ({ id: String(f.id), muerto: f.muerto }))) + '\\n');
    setInterval(() => {}, 60_000);
  `;
  const hijo = spawn(process.execPath, ['--input-type=module', '-e', codigo], {
    // Para que `import 'pg'` se resuelva desde node_modules del paquete.
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, URL_BROKER: url, SQL_BROKER: SQL_RECLAMAR, PARAMETROS_BROKER: JSON.stringify(parametros) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  hijo.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const reclamados = new Promise<{ id: string; muerto: boolean }[]>((resolver, rechazar) => {
    let salida = '';
    hijo.stdout.on('data', (d: Buffer) => {
      salida += d.toString();
      const fin = salida.indexOf('\n');
      if (fin >= 0) resolver(JSON.parse(salida.slice(0, fin)));
    });
    hijo.on('exit', (codigoSalida) => rechazar(new Error(`El hijo terminó (${codigoSalida}) sin reclamar: ${stderr}`)));
  });
  const terminado = new Promise<NodeJS.Signals | null>((resolver) => hijo.on('exit', (_, senal) => resolver(senal)));
  return { hijo, reclamados, terminado };
}

describe('PostgresBroker', () => {
  it('un consumidor matado con SIGKILL devuelve sus mensajes en segundos (lease), en orden por clave', async () => {
    const broker = await brokerDePrueba({ suscripciones: ['consumidor'] });
    const p = await broker.crearPublicador('relay');
    const claves = ['p1', 'p2', 'p3', 'p4', 'p5'];
    await p.publicar([...claves.map((c, i) => mensaje(c, i + 1)), ...claves.map((c, i) => mensaje(c, i + 11))]);

    const { hijo, reclamados, terminado } = consumidorHijo(
      base.url,
      parametrosReclamar({
        idSuscripcion: await idSuscripcion(broker.topico, 'consumidor'),
        lote: 100,
        consumidor: randomUUID(),
        leaseMs: 1_500,
        maximoEntregas: 5,
      }),
    );
    try {
      // Solo las cabezas de clave son reclamables: 5 de 10.
      const delHijo = await reclamados;
      expect(delHijo).toHaveLength(5);
      expect(delHijo.every((f) => f.muerto === false)).toBe(true);
    } finally {
      hijo.kill('SIGKILL');
    }
    expect(await terminado).toBe('SIGKILL');

    const s = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 5, retrasoReentregaMs: 100 });
    const porClave = new Map<string, { secuencia: number; entregas: number }[]>();
    for (let i = 0; i < 10; i++) {
      const m = await recibirAntesDe(s, 15_000);
      porClave.set(m.clave, [...(porClave.get(m.clave) ?? []), { secuencia: m.secuencia, entregas: m.entregas }]);
      await s.confirmar(m);
    }
    for (const [i, c] of claves.entries()) {
      // La cabeza ya se había entregado al hijo muerto: esta es su segunda entrega.
      expect(porClave.get(c)).toEqual([
        { secuencia: i + 1, entregas: 2 },
        { secuencia: i + 11, entregas: 1 },
      ]);
    }
    expect(await broker.pendientes('consumidor')).toBe(0);
    await broker.cerrar();
  });

  it('un mensaje cuyo consumidor cae en cada entrega acaba en muertos y su clave sigue', async () => {
    const broker = await brokerDePrueba({ suscripciones: ['consumidor'] });
    const p = await broker.crearPublicador('relay');
    await p.publicar([mensaje('p1', 1), mensaje('p1', 2)]);
    const id = await idSuscripcion(broker.topico, 'consumidor');
    // Tres consumidores "caen" con el mensaje en la mano (lease corto, nunca confirman).
    for (let i = 0; i < 3; i++) {
      let filas: Record<string, unknown>[] = [];
      for (let intento = 0; filas.length === 0 && intento < 100; intento++) {
        if (intento > 0) await new Promise((r) => setTimeout(r, 50));
        filas = (
          await pool.query(
            SQL_RECLAMAR,
            parametrosReclamar({ idSuscripcion: id, lote: 10, consumidor: randomUUID(), leaseMs: 100, maximoEntregas: 3 }),
          )
        ).rows;
      }
      expect(filas.map((f) => Number(f['secuencia']))).toEqual([1]);
    }
    await new Promise((r) => setTimeout(r, 150));

    const s = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 3, retrasoReentregaMs: 100 });
    const siguiente = await recibirAntesDe(s, 15_000);
    expect(siguiente.secuencia).toBe(2);
    await s.confirmar(siguiente);
    const muertos = await broker.mensajesMuertos('consumidor');
    expect(muertos).toHaveLength(1);
    expect(muertos[0]!.mensaje).toMatchObject({ secuencia: 1, entregas: 3, clave: 'p1' });
    expect(muertos[0]!.motivo).toMatch(/sin confirmar tras 3 entregas/);
    await broker.cerrar();
  });

  it('el latido mantiene el lease de lo que un consumidor vivo procesa más allá del lease', async () => {
    const broker = await brokerDePrueba({ suscripciones: ['consumidor'], leaseMs: 300, intervaloSondeoMs: 50 });
    const a = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 5, retrasoReentregaMs: 100 });
    const b = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 5, retrasoReentregaMs: 100 });
    const p = await broker.crearPublicador('relay');
    await p.publicar([mensaje('p1', 1)]);

    const deA = a.recibir();
    const deB = b.recibir();
    const primero = await Promise.race([deA.then((m) => ({ m, quien: a, otro: deB })), deB.then((m) => ({ m, quien: b, otro: deA }))]);
    // Cinco leases después, el otro consumidor sigue sin recibirlo.
    const nada = await Promise.race([primero.otro, new Promise<'nada'>((r) => setTimeout(() => r('nada'), 1_500))]);
    expect(nada).toBe('nada');
    await primero.quien.confirmar(primero.m!);
    expect(await broker.pendientes('consumidor')).toBe(0);
    await broker.cerrar();
    expect(await primero.otro).toBeNull();
  });

  it('la confirmación de un consumidor que perdió el lease no borra lo que ya tiene otro', async () => {
    const broker = await brokerDePrueba({ suscripciones: ['consumidor'] });
    const p = await broker.crearPublicador('relay');
    await p.publicar([mensaje('p1', 1)]);
    const id = await idSuscripcion(broker.topico, 'consumidor');
    const lento = randomUUID();
    const filas = (
      await pool.query(
        SQL_RECLAMAR,
        parametrosReclamar({ idSuscripcion: id, lote: 10, consumidor: lento, leaseMs: 100, maximoEntregas: 5 }),
      )
    ).rows;
    expect(filas).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 200));

    const s = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 5, retrasoReentregaMs: 100 });
    const m = await recibirAntesDe(s, 15_000);
    expect(m.entregas).toBe(2);
    await pool.query(SQL_CONFIRMAR, [[m.idMensaje], lento]);
    expect(await broker.pendientes('consumidor')).toBe(1);
    await s.confirmar(m);
    expect(await broker.pendientes('consumidor')).toBe(0);
    await broker.cerrar();
  });

  it('un consumidor vivo que pierde el lease aborta la señal, lo saca del búfer y cuenta lo que ya no puede confirmar', async () => {
    const broker = await brokerDePrueba({ suscripciones: ['consumidor'], leaseMs: 600, intervaloSondeoMs: 50 });
    const lento = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 5, retrasoReentregaMs: 100 });
    const p = await broker.crearPublicador('relay');
    await p.publicar([mensaje('p1', 1), mensaje('p2', 2)]);
    const entregado = await recibirAntesDe(lento, 15_000);
    // El otro mensaje sigue en el búfer de prefetch del lento, con su lease.
    const id = await idSuscripcion(broker.topico, 'consumidor');
    await new Promise((r) => setTimeout(r, 50));
    // Otro proceso reclama los dos cuando sus leases vencen (aquí, forzados a vencer ya).
    await pool.query(`UPDATE broker.mensajes SET visible_desde = now() WHERE consumidor = $1`, [(lento as PostgresSuscripcion).consumidor]);
    const otro = randomUUID();
    const { rows } = await pool.query(
      SQL_RECLAMAR,
      parametrosReclamar({ idSuscripcion: id, lote: 10, consumidor: otro, leaseMs: 60_000, maximoEntregas: 5 }),
    );
    expect(rows).toHaveLength(2);
    const hasta = Date.now() + 15_000;
    while (!entregado.senal?.aborted && Date.now() < hasta) await new Promise((r) => setTimeout(r, 20));
    expect(entregado.senal?.aborted).toBe(true);
    expect(broker.contadores.leasesPerdidos).toBe(2);
    await lento.confirmar(entregado);
    await lento.aMensajesMuertos(entregado, 'no debería');
    expect(broker.contadores.operacionesSinLease).toBe(2);
    expect(await broker.pendientes('consumidor')).toBe(2);
    expect(await broker.mensajesMuertos('consumidor')).toEqual([]);
    // El del búfer ya no se entrega a la aplicación: no es suyo.
    const nada = await Promise.race([lento.recibir(), new Promise<'nada'>((r) => setTimeout(() => r('nada'), 500))]);
    expect(nada).toBe('nada');
    await broker.cerrar();
  });

  it('duplicarEntregas encola cada mensaje aceptado dos veces como mensajes distintos, y lo cuenta', async () => {
    const broker = await brokerDePrueba({ suscripciones: ['consumidor'], duplicarEntregas: true });
    const p = await broker.crearPublicador('relay');
    await p.publicar([mensaje('p1', 1), mensaje('p2', 2)]);
    await p.publicar([mensaje('p1', 1)]);
    expect(broker.contadores).toMatchObject({ publicados: 2, descartadosPorDuplicado: 1, duplicadosInyectados: 2 });

    const s = await broker.suscribir({ suscripcion: 'consumidor', maximoEntregas: 5, retrasoReentregaMs: 100 });
    const recibidos: MensajeEntrante[] = [];
    for (let i = 0; i < 4; i++) {
      const m = await recibirAntesDe(s, 15_000);
      recibidos.push(m);
      await s.confirmar(m);
    }
    expect(recibidos.map((m) => m.secuencia).sort()).toEqual([1, 1, 2, 2]);
    expect(new Set(recibidos.map((m) => m.idMensaje)).size).toBe(4);
    await broker.cerrar();
  });

  it('dos publicadores con el mismo nombre a la vez no duplican (la fila del productor los serializa)', async () => {
    const broker = await brokerDePrueba({ suscripciones: ['consumidor'] });
    const a = await broker.crearPublicador('relay');
    const b = await broker.crearPublicador('relay');
    const lote = (desde: number) => Array.from({ length: 50 }, (_, i) => mensaje(`p${(desde + i) % 7}`, desde + i));
    await Promise.all([a.publicar(lote(1)), b.publicar(lote(1)), a.publicar(lote(26)), b.publicar(lote(26))]);
    expect(await a.ultimaSecuenciaAceptada()).toBe(75);
    const { rows } = await pool.query(
      `SELECT count(*)::int AS filas, count(DISTINCT secuencia)::int AS distintas FROM broker.mensajes m
       JOIN broker.suscripciones s ON s.id = m.id_suscripcion WHERE s.topico = $1`,
      [broker.topico],
    );
    expect(rows[0]).toEqual({ filas: 75, distintas: 75 });
    expect(broker.contadores.publicados).toBe(75);
    await broker.cerrar();
  });

  it('las suscripciones pedidas al crear el broker reciben lo publicado antes de que alguien se suscriba', async () => {
    const topico = nuevoTopico();
    const relay = await crearBrokerEmbebido({ pool, topico, suscripciones: ['consumidor'] });
    await (await relay.crearPublicador('relay')).publicar([mensaje('p1', 1)]);
    // Sin suscripciones, lo publicado se descarta (semántica de Pulsar), pero la marca sube.
    const otro = await crearBrokerEmbebido({ pool, topico: nuevoTopico() });
    const sinNadie = await otro.crearPublicador('relay');
    await sinNadie.publicar([mensaje('p1', 1)]);
    expect(await sinNadie.ultimaSecuenciaAceptada()).toBe(1);

    const consumidor = await crearBrokerEmbebido({ pool, topico });
    const s = await consumidor.suscribir({ suscripcion: 'consumidor', maximoEntregas: 5, retrasoReentregaMs: 100 });
    const m = await recibirAntesDe(s, 15_000);
    expect(m.secuencia).toBe(1);
    await s.confirmar(m);
    await Promise.all([relay.cerrar(), otro.cerrar(), consumidor.cerrar()]);
  });

  it('crearBrokerEmbebido con url crea su pool y lo cierra; migrar dos veces a la vez no falla', async () => {
    const [uno, dos] = await Promise.all([
      crearBrokerEmbebido({ url: base.url, topico: nuevoTopico(), tamanoPool: 2 }),
      crearBrokerEmbebido({ url: base.url, topico: nuevoTopico(), tamanoPool: 2 }),
    ]);
    const s = await uno.suscribir({ suscripcion: 'x', maximoEntregas: 1, retrasoReentregaMs: 0 });
    await (await uno.crearPublicador('relay')).publicar([mensaje('p1', 1)]);
    expect((await recibirAntesDe(s, 15_000)).secuencia).toBe(1);
    await Promise.all([uno.cerrar(), dos.cerrar()]);
  });

  it('mensajes y muertos no tienen claves foráneas (cada una costaría un FOR KEY SHARE por mensaje)', async () => {
    await (await brokerDePrueba()).cerrar(); // migra
    const { rows } = await pool.query<{ tabla: string; restriccion: string }>(
      `SELECT conrelid::regclass::text AS tabla, conname AS restriccion FROM pg_constraint
       WHERE contype = 'f' AND connamespace = 'broker'::regnamespace`,
    );
    expect(rows).toEqual([]);
  });
});
