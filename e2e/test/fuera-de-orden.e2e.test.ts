import { randomUUID } from 'node:crypto';
import { crearBrokerEmbebido } from '@aeropartners/adaptadores';
import { sobreDeFila } from '@aeropartners/adaptadores';
import type { FilaOutbox } from '@aeropartners/aplicacion';
import { afterEach, describe, expect, it } from 'vitest';
import { historialPorPago, inbox, libroPorPago, mensajesEnCola, outboxPorPago } from '../src/consultas.js';
import { Topologia } from '../src/topologia.js';
import { comprobarUnaVez } from './invariantes.js';

interface FilaPendiente {
  id: string;
  id_evento: string;
  id_agregado: string;
  version_agregado: number;
  tipo: string;
  payload: unknown;
  metadatos: { id_correlacion: string; traceparent?: string };
}

describe('eventos fuera de orden: un PagoPendiente que llega cuando el pago ya es final', () => {
  let topologia: Topologia | undefined;
  afterEach(async () => {
    await topologia?.cerrar();
    topologia = undefined;
  });

  it('se juzga por versión: ni cargo nuevo ni cambio de estado, y el consumidor lo cuenta', async () => {
    const t = (topologia = await Topologia.iniciar());
    const pagos = await t.crearPagos(6, { prefijo: 'tardio' });
    const ids = pagos.map((p) => p.id);
    await t.esperarFinales(ids, 60_000);
    await comprobarUnaVez(t, pagos);
    // Todo consumido (también los desenlaces) antes de inyectar los tardíos.
    await t.esperarQue(
      async () => {
        const { rows } = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE fecha_publicacion IS NULL');
        return rows[0]?.n === 0 && (await mensajesEnCola(t.pool)) === 0;
      },
      20_000,
      'pipeline en reposo',
    );

    const foto = async () => ({
      pagos: await t.pagos(ids),
      libro: await libroPorPago(t.pool),
      outbox: await outboxPorPago(t.pool),
      historial: await historialPorPago(t.pool),
    });
    const antes = await foto();
    const inboxAntes = await inbox(t.pool);
    const contadoresAntes = await t.contadores('consumer');

    // Para cada pago, su PagoPendiente (versión 1) otra vez, publicado por un productor nuevo:
    // (a) el mismo evento (mismo id): una reentrega tardía; (b) el mismo contenido con un id de evento
    // nuevo, que el inbox no conoce: solo la versión del pago (ya final, v3) lo delata.
    const { rows } = await t.pool.query<FilaPendiente>(
      `SELECT id::text AS id, id_evento::text AS id_evento, id_agregado::text AS id_agregado, version_agregado, tipo, payload, metadatos
       FROM outbox WHERE tipo = 'PagoPendiente' AND id_agregado = ANY($1::uuid[]) ORDER BY id`,
      [ids],
    );
    expect(rows.length).toBe(pagos.length);
    const idsNuevos = new Map<string, string>();
    let secuencia = 0;
    const mensajes = rows.flatMap((f) => {
      const base: FilaOutbox = {
        id: f.id,
        idEvento: f.id_evento,
        idAgregado: f.id_agregado,
        versionAgregado: f.version_agregado,
        tipo: f.tipo,
        payload: f.payload,
        metadatos: { id_correlacion: f.metadatos.id_correlacion, traceparent: f.metadatos.traceparent },
        secuencia: 0,
        intentos: 0,
        yaNumerada: false,
      };
      const nuevo = randomUUID();
      idsNuevos.set(f.id_agregado, nuevo);
      return [sobreDeFila({ ...base, secuencia: ++secuencia }), sobreDeFila({ ...base, idEvento: nuevo, secuencia: ++secuencia })];
    });
    const broker = await crearBrokerEmbebido({ url: t.url, topico: 'pagos', tamanoPool: 2 });
    try {
      const publicador = await broker.crearPublicador('e2e-reordenado');
      await publicador.publicar(mensajes);
    } finally {
      await broker.cerrar();
    }

    await t.esperarQue(
      async () => {
        const c = await t.contadores('consumer');
        return (c['recibidos'] ?? 0) >= (contadoresAntes['recibidos'] ?? 0) + mensajes.length && (await mensajesEnCola(t.pool)) === 0;
      },
      20_000,
      'el consumidor recibe y confirma los tardíos',
    );
    const contadores = await t.contadores('consumer');
    const delta = (nombre: string) => (contadores[nombre] ?? 0) - (contadoresAntes[nombre] ?? 0);
    expect(delta('recibidos')).toBe(mensajes.length);
    expect(delta('duplicados')).toBe(pagos.length); // (a): el inbox ya tenía ese id de evento
    expect(delta('obsoletos')).toBe(pagos.length); // (b): el pago ya era final, con versión mayor
    expect(delta('procesados')).toBe(0);
    expect(delta('muertos')).toBe(0);

    // Nada cambió: ni estado, ni versión, ni fecha; ni cargos, ni eventos, ni historial.
    const despues = await foto();
    expect(despues).toEqual(antes);
    for (const pago of despues.pagos.values()) expect(pago.version).toBe(3);

    // El inbox anotó solo los eventos nuevos (b), uno por pago, con su versión 1.
    const nuevasAnotaciones = (await inbox(t.pool)).filter((a) => !inboxAntes.some((b) => b.id_evento === a.id_evento));
    expect(nuevasAnotaciones.map((a) => [a.id_pago, a.id_evento, a.version]).sort()).toEqual(
      ids.map((id) => [id, idsNuevos.get(id), 1]).sort(),
    );
    // Y el consumidor registró por qué: el estado y la versión actuales del pago.
    const obsoletos = await t.esperarLineas((l) => l.servicio === 'consumer' && l.campos['desenlace'] === 'obsoleto', pagos.length);
    expect(obsoletos.map((l) => [l.campos['id_pago'], l.campos['version_pago']]).sort()).toEqual(ids.map((id) => [id, 3]).sort());
  }, 120_000);
});
