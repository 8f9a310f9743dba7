import { randomUUID } from 'node:crypto';
import { crearManejadorEventos } from '@aeropartners/aplicacion';
import { PasarelaEnMemoria } from '@aeropartners/aplicacion/testing';
import { Dinero, crearPago, type CambioPago, type EventoPago, type Trazabilidad } from '@aeropartners/dominio';
import { afterAll, describe, expect, it } from 'vitest';
import { migrarBroker } from '../broker-embebido/migraciones-broker.js';
import { uuidv7 } from '../ids/uuidv7.js';
import { crearBaseDePrueba } from '../testing/index.js';
import { crearPersistenciaPostgres } from './persistencia-postgres.js';
import type { PoolPostgres } from './pool-postgres.js';
import { PostgresAlmacenOutbox } from './postgres-almacen-outbox.js';
import { PostgresInboxPagos } from './postgres-inbox-pagos.js';
import { PostgresTurnosCobro } from './postgres-turnos-cobro.js';
import { purgarRetencion, uuidv7Minimo, type OpcionesPurga } from './purga-retencion.js';
import { filaAEvento, type FilaEventoOutboxLeida } from './serializacion-eventos.js';

// La purga por retención contra PostgreSQL real: qué borra y qué no, escritores que no esperan por ella,
// dos purgadores (uno trabaja) y una reentrega después de purgar su fila del inbox.

const DIA_MS = 86_400_000;
const RETENCION_MS = 30 * DIA_MS;
const SUSCRIPCION = 'consumidor-pagos';

const cierres: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cerrar of cierres.reverse()) await cerrar().catch(() => undefined);
});

async function preparar(nombreAplicacion = 'purga-prueba') {
  const base = await crearBaseDePrueba();
  const persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 4, nombreAplicacion });
  await migrarBroker(persistencia.pool);
  const otras: { cerrar(): Promise<void> }[] = [];
  cierres.push(async () => {
    for (const o of otras) await o.cerrar().catch(() => undefined);
    await persistencia.cerrar();
    await base.cerrar();
  });
  /** Otra persistencia sobre la misma base: otro pool, como otro proceso. */
  const otra = (nombre: string) => {
    const p = crearPersistenciaPostgres({ url: base.url, tamanoPool: 4, nombreAplicacion: nombre });
    otras.push(p);
    return p;
  };
  return { ...persistencia, otra };
}

const purga = (pool: PoolPostgres, extra: Partial<OpcionesPurga> = {}): OpcionesPurga => ({
  pool,
  retencionMs: RETENCION_MS,
  lote: 100,
  ...extra,
});

/** Filas del outbox sembradas con SQL: `dias` de antigüedad; publicadas o no; de los pagos dados o de otros. */
async function sembrarOutbox(pool: PoolPostgres, n: number, dias: number, publicadas: boolean, pagos: readonly string[] = []) {
  await pool.query(
    `INSERT INTO outbox (id_evento, id_agregado, version_agregado, tipo, payload, fecha_creacion, fecha_publicacion)
     SELECT gen_random_uuid(), coalesce(($4::uuid[])[i], gen_random_uuid()), 1, 'PagoPendiente', '{}'::jsonb,
            now() - make_interval(days => $2), CASE WHEN $3 THEN now() - make_interval(days => $2) END
     FROM generate_series(1, $1) AS i`,
    [n, dias, publicadas, pagos],
  );
}

/**
 * Pagos (en `estado`) con una fila del inbox cada uno, de `dias` de antigüedad; el id del evento es un
 * UUIDv7 de esa fecha, como los que genera el servicio.
 */
async function sembrarInbox(pool: PoolPostgres, n: number, dias: number, estado: 'EXITOSO' | 'PROCESANDO') {
  const { rows } = await pool.query<{ id: string }>(
    `WITH nuevos AS (
       SELECT gen_random_uuid() AS id, i FROM generate_series(1, $1) AS i
     ), pagos_nuevos AS (
       INSERT INTO pagos (id, id_socio, clave_idempotencia, id_afiliado, monto_unidades, moneda, referencia_pago,
                          estado, version, fecha_creacion, fecha_actualizacion)
       SELECT id, 's', id::text, 'a', 100, 'USD', id::text, $3, 3, now() - make_interval(days => $2), now() - make_interval(days => $2)
       FROM nuevos RETURNING id
     )
     INSERT INTO inbox (suscripcion, id_evento, id_pago, tipo_evento, version, procesado_en)
     SELECT $4, (lpad(to_hex((extract(epoch FROM now() - make_interval(days => $2)) * 1000)::bigint + i), 12, '0')
                 || '7' || substr(md5(id::text), 1, 3) || '8' || substr(md5(id::text), 4, 15))::uuid,
            id, 'PagoPendiente', 1, now() - make_interval(days => $2)
     FROM nuevos JOIN pagos_nuevos USING (id)
     RETURNING id_pago::text AS id`,
    [n, dias, estado, SUSCRIPCION],
  );
  return rows.map((f) => f.id);
}

async function sembrarMuertos(pool: PoolPostgres, n: number, dias: number) {
  await pool.query(`INSERT INTO broker.suscripciones (topico, nombre) VALUES ('pagos', $1) ON CONFLICT DO NOTHING`, [SUSCRIPCION]);
  await pool.query(
    `INSERT INTO broker.muertos (id, id_suscripcion, clave, productor, secuencia, cuerpo, propiedades, entregas, publicado_en, motivo, muerto_en)
     SELECT coalesce((SELECT max(id) FROM broker.muertos), 0) + i, s.id, 'k', 'p', i, '{}', '{}'::jsonb, 1,
            now() - make_interval(days => $2), 'prueba', now() - make_interval(days => $2)
     FROM generate_series(1, $1) AS i, broker.suscripciones s WHERE s.nombre = $3`,
    [n, dias, SUSCRIPCION],
  );
}

async function contar(pool: PoolPostgres, sql: string, valores: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) t`, valores);
  return rows[0]?.n ?? Number.NaN;
}

const viejas = {
  outboxPublicadas: `SELECT 1 FROM outbox WHERE fecha_publicacion < now() - interval '30 days'`,
  outboxSinPublicar: `SELECT 1 FROM outbox WHERE fecha_publicacion IS NULL AND fecha_creacion < now() - interval '30 days'`,
  inbox: `SELECT 1 FROM inbox WHERE procesado_en < now() - interval '30 days'`,
  muertos: `SELECT 1 FROM broker.muertos WHERE muerto_en < now() - interval '30 days'`,
};

function nuevoPago(): CambioPago {
  const monto = Dinero.deUnidadesMenores(1000, 'USD');
  if (!monto.ok) throw new Error('monto');
  const r = crearPago(
    { id: uuidv7(), idSocio: 's', idAfiliado: 'a', monto: monto.valor, referenciaPago: `r-${randomUUID()}` },
    { ahora: new Date(), nuevoId: uuidv7 },
  );
  if (!r.ok) throw new Error('pago');
  return r.valor;
}

describe('purgarRetencion', () => {
  it('borra solo lo viejo: publicadas del outbox, inbox de pagos terminados y muertos; deja lo reciente, lo sin publicar y lo de pagos en curso', async () => {
    const p = await preparar();
    await sembrarOutbox(p.pool, 450, 40, true);
    await sembrarOutbox(p.pool, 7, 40, false);
    await sembrarOutbox(p.pool, 120, 29, true);
    await sembrarInbox(p.pool, 330, 40, 'EXITOSO');
    const enCurso = await sembrarInbox(p.pool, 9, 40, 'PROCESANDO');
    await sembrarInbox(p.pool, 80, 29, 'EXITOSO');
    // El PagoPendiente publicado de un pago aún en PROCESANDO: el barrendero lo necesita para re-impulsarlo.
    await sembrarOutbox(p.pool, enCurso.length, 40, true, enCurso);
    await sembrarMuertos(p.pool, 250, 40);
    await sembrarMuertos(p.pool, 6, 29);
    // Detrás de las viejas, filas recientes: la pasada se detiene al llegar a ellas.
    await sembrarOutbox(p.pool, 60, 0, true);
    await sembrarOutbox(p.pool, 5, 0, false);

    const r = await purgarRetencion(purga(p.pool));

    expect(r).toMatchObject({ tipo: 'hecha', filas: { outbox: 450, inbox: 330, broker_muertos: 250 }, interrumpida: false });
    expect(await contar(p.pool, viejas.outboxPublicadas)).toBe(9);
    expect(await contar(p.pool, 'SELECT 1 FROM outbox WHERE id_agregado = ANY($1::uuid[])', [enCurso])).toBe(9);
    expect(await contar(p.pool, viejas.outboxSinPublicar)).toBe(7);
    expect(await contar(p.pool, 'SELECT 1 FROM outbox')).toBe(9 + 7 + 120 + 60 + 5);
    expect(await contar(p.pool, 'SELECT 1 FROM inbox')).toBe(9 + 80);
    expect(await contar(p.pool, 'SELECT 1 FROM inbox WHERE id_pago = ANY($1::uuid[])', [enCurso])).toBe(9);
    expect(await contar(p.pool, 'SELECT 1 FROM broker.muertos')).toBe(6);
    // Otra pasada no encuentra nada más.
    expect(await purgarRetencion(purga(p.pool))).toMatchObject({ tipo: 'hecha', filas: { outbox: 0, inbox: 0, broker_muertos: 0 } });
  });

  it('el registro de eventos por socio: borra los eventos viejos y los duplicados y avisos viejos ya numerados; la secuencia no vuelve atrás', async () => {
    const p = await preparar();
    await p.pool.query(
      `INSERT INTO eventos_socio (id_socio, modo, secuencia, tipo, sujeto, ocurrido_en, registrado_en, fuente, id_fuente)
       SELECT 's', 'live', i, 'pago.exitoso', 'p-' || i, now() - make_interval(days => CASE WHEN i <= 250 THEN 40 ELSE 1 END),
              now() - make_interval(days => CASE WHEN i <= 250 THEN 40 ELSE 1 END), 'pagos', i
       FROM generate_series(1, 300) AS i`,
    );
    await p.pool.query(`INSERT INTO eventos_contadores (id_socio, modo, ultima) VALUES ('s', 'live', 300)`);
    // 150 duplicados viejos, de los que el asignador numeró los 120 primeros; 20 recientes detrás.
    await p.pool.query(
      `INSERT INTO duplicados_absorbidos (id_socio, etapa, clave, sujeto, ocurrido_en)
       SELECT 's', 'entrada', 'k-' || i, 'p-' || i, now() - make_interval(days => CASE WHEN i <= 150 THEN 40 ELSE 0 END)
       FROM generate_series(1, 170) AS i`,
    );
    await p.pool.query(
      `UPDATE eventos_cursores SET ultimo_id = (SELECT id FROM duplicados_absorbidos ORDER BY id OFFSET 119 LIMIT 1) WHERE fuente = 'duplicados'`,
    );

    // Avisos al socio: 40 viejos, de los que el asignador numeró 25; 5 recientes detrás.
    await p.pool.query(
      `INSERT INTO avisos_socio (id_socio, modo, tipo, sujeto, ocurrido_en)
       SELECT 's', 'live', 'webhook.desactivado', 'wh_' || i, now() - make_interval(days => CASE WHEN i <= 40 THEN 40 ELSE 0 END)
       FROM generate_series(1, 45) AS i`,
    );
    await p.pool.query(
      `UPDATE eventos_cursores SET ultimo_id = (SELECT id FROM avisos_socio ORDER BY id OFFSET 24 LIMIT 1) WHERE fuente = 'avisos'`,
    );

    const r = await purgarRetencion(purga(p.pool));

    expect(r).toMatchObject({ tipo: 'hecha', filas: { eventos_socio: 250, duplicados_absorbidos: 120, avisos_socio: 25 } });
    expect(await contar(p.pool, 'SELECT 1 FROM avisos_socio')).toBe(15 + 5);
    expect(await contar(p.pool, `SELECT 1 FROM eventos_socio WHERE secuencia > 250`)).toBe(50);
    expect(await contar(p.pool, 'SELECT 1 FROM eventos_socio')).toBe(50);
    expect(await contar(p.pool, 'SELECT 1 FROM duplicados_absorbidos')).toBe(30 + 20);
    const { rows } = await p.pool.query<{ ultima: string }>(`SELECT ultima FROM eventos_contadores WHERE id_socio = 's'`);
    expect(Number(rows[0]?.ultima)).toBe(300);
  });

  it('webhooks: borra las entregas terminadas viejas y los intentos viejos; las pendientes, aunque viejas, se quedan', async () => {
    const p = await preparar();
    await p.pool.query(
      `INSERT INTO webhooks (id, id_socio, modo, url, tipos, secreto, cursor)
       VALUES ('wh_a', 's', 'live', 'https://a.example/w', '{pago.exitoso}', 'whsec_x', 0),
              ('wh_b', 's', 'live', 'https://b.example/w', '{pago.exitoso}', 'whsec_y', 0)`,
    );
    // Por webhook: 1–200 de hace 40 días (las múltiplos de 10, aún pendientes), 201–230 de ayer.
    await p.pool.query(
      `INSERT INTO webhook_entregas (id_webhook, secuencia, estado, creada_en)
       SELECT w, i, CASE WHEN i % 10 = 0 AND i <= 200 THEN 'pendiente' WHEN i % 3 = 0 THEN 'agotada' ELSE 'entregada' END,
              now() - make_interval(days => CASE WHEN i <= 200 THEN 40 ELSE 1 END)
       FROM generate_series(1, 230) AS i, (VALUES ('wh_a'), ('wh_b')) AS v(w)`,
    );
    await p.pool.query(
      `INSERT INTO webhook_intentos (id_webhook, secuencia, numero, ocurrido_en, duracion_ms, resultado)
       SELECT 'wh_a', i, 1, now() - make_interval(days => CASE WHEN i <= 300 THEN 40 ELSE 1 END), 5, 'exitoso'
       FROM generate_series(1, 340) AS i`,
    );

    const r = await purgarRetencion(purga(p.pool));

    expect(r).toMatchObject({ tipo: 'hecha', filas: { webhook_entregas: 2 * 180, webhook_intentos: 300 } });
    expect(await contar(p.pool, `SELECT 1 FROM webhook_entregas WHERE estado = 'pendiente'`)).toBe(2 * 20);
    expect(await contar(p.pool, `SELECT 1 FROM webhook_entregas WHERE secuencia > 200`)).toBe(2 * 30);
    expect(await contar(p.pool, 'SELECT 1 FROM webhook_intentos')).toBe(40);
  });

  it('la cota del inbox es el menor UUIDv7 de la fecha límite', () => {
    const ms = Date.UTC(2026, 10, 5, 1, 2, 3, 4);
    const cota = uuidv7Minimo(ms);
    expect(cota).toBe(
      `${ms.toString(16).padStart(12, '0').slice(0, 8)}-${ms.toString(16).padStart(12, '0').slice(8)}-7000-8000-000000000000`,
    );
    const anterior = uuidv7Minimo(ms - 1);
    expect(anterior < cota).toBe(true);
  });

  it('escritores concurrentes (pagos nuevos, inbox, relay que reclama y marca) no esperan ningún cerrojo ni pierden nada mientras purga', async () => {
    const p = await preparar();
    await sembrarOutbox(p.pool, 20_000, 40, true);
    await sembrarInbox(p.pool, 8_000, 40, 'EXITOSO');
    await sembrarMuertos(p.pool, 4_000, 40);
    const escritor = p.otra('escritor-prueba');
    const observador = p.otra('observador-prueba');
    const purgador = p.otra('purgador-prueba');
    const almacen = new PostgresAlmacenOutbox(escritor.pool);
    const inbox = new PostgresInboxPagos(escritor.pool);

    let parar = false;
    const escritos = { pagos: [] as string[], inbox: [] as string[], marcadas: 0 };
    const escribirPagos = (async () => {
      while (!parar) {
        const lote = Array.from({ length: 5 }, nuevoPago);
        await Promise.all(
          lote.map((c) => escritor.repositorio.crear(c, { idSocio: 's', clave: c.pago.referenciaPago }, { idCorrelacion: 'w' })),
        );
        escritos.pagos.push(...lote.map((c) => c.pago.id));
      }
    })();
    const anotar = (async () => {
      while (!parar) {
        const idPago = escritos.pagos.at(-1);
        if (!idPago) {
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        const idEvento = uuidv7();
        await inbox.anotar({ suscripcion: SUSCRIPCION, idEvento, idPago, tipoEvento: 'PagoExitoso', version: 3 });
        escritos.inbox.push(idEvento);
      }
    })();
    const relay = (async () => {
      while (!parar) {
        const filas = await almacen.reclamar('relay-prueba', 50);
        if (filas.length > 0) await almacen.marcarPublicadas(filas.map((f) => f.id));
        escritos.marcadas += filas.length;
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    // Muestreo de esperas: ninguna conexión de los escritores debe esperar por un cerrojo que tenga la purga.
    const esperas: string[] = [];
    let muestras = 0;
    const muestrear = (async () => {
      while (!parar) {
        const { rows } = await observador.pool.query<{ evento: string; consulta: string }>(
          `SELECT w.wait_event AS evento, left(w.query, 80) AS consulta FROM pg_stat_activity w
           WHERE w.application_name = 'escritor-prueba' AND w.wait_event_type = 'Lock'
             AND EXISTS (SELECT 1 FROM pg_stat_activity b
                         WHERE b.pid = ANY (pg_blocking_pids(w.pid)) AND b.application_name = 'purgador-prueba')`,
        );
        muestras += 1;
        esperas.push(...rows.map((f) => `${f.evento}: ${f.consulta}`));
      }
    })();

    // Cada 10 lotes, la purga espera a que los escritores avancen: las escrituras se intercalan con ella.
    let lotes = 0;
    let bloqueados = false;
    const escritosDurante = new Set<number>();
    const r = await purgarRetencion(
      purga(purgador.pool, {
        lote: 200,
        trasLote: async () => {
          lotes += 1;
          if (lotes % 10 !== 0 || bloqueados) return;
          // Con un tope: si la purga bloqueara a los escritores, el test falla por las esperas que vio.
          const antes = escritos.pagos.length + escritos.inbox.length;
          const tope = Date.now() + 10_000;
          while (escritos.pagos.length + escritos.inbox.length === antes && Date.now() < tope) {
            await new Promise((res) => setTimeout(res, 1));
          }
          if (escritos.pagos.length + escritos.inbox.length === antes) bloqueados = true;
          escritosDurante.add(escritos.pagos.length + escritos.inbox.length);
        },
      }),
    );
    parar = true;
    await Promise.all([escribirPagos, anotar, relay, muestrear]);

    expect(r).toMatchObject({ tipo: 'hecha', filas: { outbox: 20_000, inbox: 8_000, broker_muertos: 4_000 } });
    expect(escritosDurante.size).toBeGreaterThan(10);
    expect(muestras).toBeGreaterThan(0);
    expect(esperas).toEqual([]);
    // Nada de lo escrito se perdió: cada pago con su fila del outbox, cada anotación en el inbox.
    expect(escritos.pagos.length).toBeGreaterThan(0);
    expect(await contar(p.pool, 'SELECT 1 FROM pagos WHERE id = ANY($1::uuid[])', [escritos.pagos])).toBe(escritos.pagos.length);
    expect(await contar(p.pool, 'SELECT 1 FROM outbox WHERE id_agregado = ANY($1::uuid[])', [escritos.pagos])).toBe(escritos.pagos.length);
    expect(await contar(p.pool, 'SELECT 1 FROM inbox WHERE id_evento = ANY($1::uuid[])', [escritos.inbox])).toBe(escritos.inbox.length);
    expect(escritos.marcadas).toBeGreaterThan(0);
    expect(await contar(p.pool, viejas.outboxPublicadas)).toBe(0);
    expect(await contar(p.pool, viejas.inbox)).toBe(0);
    expect(await contar(p.pool, viejas.muertos)).toBe(0);
  });

  it('dos purgadores (dos pools) a la vez: mientras uno tiene el cerrojo el otro no hace nada; todo se borra una vez', async () => {
    const p = await preparar();
    await sembrarOutbox(p.pool, 1_000, 40, true);
    await sembrarInbox(p.pool, 500, 40, 'EXITOSO');
    const a = p.otra('purgador-a');
    const b = p.otra('purgador-b');

    let soltar: () => void = () => undefined;
    const suelto = new Promise<void>((res) => (soltar = res));
    let enMarcha: () => void = () => undefined;
    const aEnMarcha = new Promise<void>((res) => (enMarcha = res));
    let primero = true;
    const ejecucionA = purgarRetencion(
      purga(a.pool, {
        trasLote: async () => {
          if (!primero) return;
          primero = false;
          enMarcha();
          await suelto;
        },
      }),
    );
    await aEnMarcha;
    // A purga (tiene el cerrojo de sesión entre lotes): B, desde otro pool, no hace nada, una y otra vez.
    const intentosB = await Promise.all(Array.from({ length: 5 }, () => purgarRetencion(purga(b.pool))));
    expect(intentosB).toEqual(Array.from({ length: 5 }, () => ({ tipo: 'sinLiderazgo' })));
    soltar();
    expect(await ejecucionA).toMatchObject({ tipo: 'hecha', filas: { outbox: 1_000, inbox: 500, broker_muertos: 0 } });
    // Soltado el cerrojo, B sí trabaja (y ya no queda nada).
    expect(await purgarRetencion(purga(b.pool))).toMatchObject({ tipo: 'hecha', filas: { outbox: 0, inbox: 0 } });
    expect(await contar(p.pool, 'SELECT 1 FROM outbox')).toBe(0);
    expect(await contar(p.pool, 'SELECT 1 FROM inbox')).toBe(0);
  });

  it('una reentrega del broker después de purgar su fila del inbox no cobra ni cambia nada: el pago final la absorbe', async () => {
    const p = await preparar();
    const pasarela = new PasarelaEnMemoria();
    const manejar = crearManejadorEventos({
      suscripcion: SUSCRIPCION,
      repositorio: p.repositorio,
      inbox: new PostgresInboxPagos(p.pool),
      pasarela,
      turnos: new PostgresTurnosCobro(p.pool, p.repositorio),
      titular: randomUUID(),
      duracionTurnoMs: 10_000,
      reloj: { ahora: () => new Date() },
      nuevoId: uuidv7,
      intentosPasarela: 3,
      backoffPasarelaMs: 1,
    });
    const cambio = nuevoPago();
    await p.repositorio.crear(cambio, { idSocio: 's', clave: cambio.pago.referenciaPago }, { idCorrelacion: 'c' });
    const { evento, traza } = await leerPagoPendiente(p.pool, cambio.pago.id);

    expect(await manejar(evento, traza)).toMatchObject({ tipo: 'procesado', pago: { estado: 'EXITOSO' } });
    const antes = await p.repositorio.obtener(cambio.pago.id);
    const filasOutboxAntes = await contar(p.pool, 'SELECT 1 FROM outbox WHERE id_agregado = $1', [cambio.pago.id]);
    // La purga de dentro de 40 días: la fila del inbox ya pasó la retención (y su pago está terminado).
    const ahora = new Date(Date.now() + 40 * DIA_MS);
    const r = await purgarRetencion(purga(p.pool), ahora);
    expect(r).toMatchObject({ tipo: 'hecha', filas: { inbox: 1 } });
    expect(await contar(p.pool, 'SELECT 1 FROM inbox WHERE id_evento = $1', [evento.idEvento])).toBe(0);

    // La réplica: el mismo mensaje otra vez.
    expect(await manejar(evento, traza)).toMatchObject({ tipo: 'obsoleto', estadoActual: 'EXITOSO', versionActual: antes?.version });
    expect(pasarela.cargos.filter((c) => c.idPago === cambio.pago.id)).toHaveLength(1);
    expect(await p.repositorio.obtener(cambio.pago.id)).toEqual(antes);
    expect(await contar(p.pool, 'SELECT 1 FROM outbox WHERE id_agregado = $1', [cambio.pago.id])).toBe(filasOutboxAntes);
    // Y la anota de nuevo: una tercera copia ya es un duplicado del inbox.
    expect(await manejar(evento, traza)).toEqual({ tipo: 'duplicado' });
    expect(pasarela.cargos.filter((c) => c.idPago === cambio.pago.id)).toHaveLength(1);
  });
});

async function leerPagoPendiente(pool: PoolPostgres, idPago: string): Promise<{ evento: EventoPago; traza: Trazabilidad }> {
  const { rows } = await pool.query<FilaEventoOutboxLeida>(
    `SELECT id_evento::text, id_agregado::text, version_agregado, tipo, payload, metadatos
     FROM outbox WHERE id_agregado = $1 AND version_agregado = 1`,
    [idPago],
  );
  const leido = filaAEvento(rows[0]!);
  if (!leido.ok) throw new Error(leido.error.motivo);
  return leido.valor;
}
