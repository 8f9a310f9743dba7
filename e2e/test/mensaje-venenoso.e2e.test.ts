import { randomUUID } from 'node:crypto';
import { crearBrokerEmbebido } from '@aeropartners/adaptadores';
import type { MensajeSaliente, PropiedadesMensaje } from '@aeropartners/aplicacion';
import { afterEach, describe, expect, it } from 'vitest';
import { mensajesMuertos } from '../src/consultas.js';
import { Topologia } from '../src/topologia.js';
import { comprobarUnaVez } from './invariantes.js';

const SUSCRIPCION = 'consumidor-pagos';

describe('mensajes malformados publicados directamente en el broker', () => {
  let topologia: Topologia | undefined;
  afterEach(async () => {
    await topologia?.cerrar();
    topologia = undefined;
  });

  it('van a mensajes muertos con su motivo y los mensajes que esperan detrás (de su mismo pago y de otros) siguen', async () => {
    const t = (topologia = await Topologia.iniciar({ arrancar: ['api'] }));
    const antes = await t.crearPagos(10, { prefijo: 'antes-del-veneno' });
    const [primero, segundo] = antes as [(typeof antes)[number], (typeof antes)[number]];

    // Los venenos entran en la cola ANTES que los PagoPendiente: dos con la clave de un pago real (así su
    // PagoPendiente queda en cola detrás de ellos) y uno con una clave cualquiera.
    const broker = await crearBrokerEmbebido({ url: t.url, topico: 'pagos', suscripciones: [SUSCRIPCION], tamanoPool: 2 });
    const propiedades = (correlacion: string): PropiedadesMensaje => ({
      id_evento: randomUUID(),
      tipo: 'PagoPendiente',
      version: '1',
      id_correlacion: correlacion,
    });
    const venenos: MensajeSaliente[] = [
      { clave: primero.id, secuencia: 1, cuerpo: '{esto no es JSON', propiedades: propiedades('veneno-no-json') },
      { clave: segundo.id, secuencia: 2, cuerpo: JSON.stringify({ hola: 'mundo' }), propiedades: propiedades('veneno-forma') },
      // Sin las propiedades obligatorias del sobre.
      { clave: randomUUID(), secuencia: 3, cuerpo: '{}', propiedades: { tipo: 'PagoPendiente' } as unknown as PropiedadesMensaje },
    ];
    try {
      const publicador = await broker.crearPublicador('e2e-veneno');
      await publicador.publicar(venenos);
    } finally {
      await broker.cerrar();
    }

    await t.arrancar('outbox');
    await t.esperarQue(
      async () => {
        const { rows } = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE fecha_publicacion IS NULL');
        return rows[0]?.n === 0;
      },
      20_000,
      'PagoPendiente publicados',
    );
    // En la cola, el PagoPendiente de cada uno de esos dos pagos está detrás de su veneno.
    const { rows: cola } = await t.pool.query<{ clave: string; productor: string }>(
      'SELECT clave, productor FROM broker.mensajes WHERE clave = ANY($1::text[]) ORDER BY id',
      [[primero.id, segundo.id]],
    );
    for (const pago of [primero, segundo]) {
      expect(cola.filter((m) => m.clave === pago.id).map((m) => m.productor)).toEqual(['e2e-veneno', 'relay-outbox-0']);
    }

    await t.arrancar('consumer');
    const despues = await t.crearPagos(10, { prefijo: 'despues-del-veneno' });
    const pagos = [...antes, ...despues];
    await t.esperarFinales(
      pagos.map((p) => p.id),
      60_000,
    );
    const resumen = await comprobarUnaVez(t, pagos);
    expect(resumen.comprobados).toBe(20);

    // Los tres, y solo ellos, en mensajes muertos: en su primera entrega, con un motivo que dice qué falla.
    const muertos = await mensajesMuertos(t.pool);
    expect(muertos.map((m) => [m.clave, m.productor, m.secuencia, m.entregas])).toEqual(
      venenos.map((v) => [v.clave, 'e2e-veneno', String(v.secuencia), 1]),
    );
    expect(muertos[0]?.motivo).toMatch(/JSON/);
    expect(muertos[1]?.motivo).toMatch(/sobre inválido|no coincide/);
    expect(muertos[2]?.motivo).toMatch(/falta la propiedad id_evento/);
    for (const m of muertos) expect(m.motivo).toMatch(/^Mensaje inválido: /);

    const consumidor = await t.contadores('consumer');
    expect(consumidor['muertos']).toBe(3);
    expect(consumidor['procesados']).toBe(20);
    expect(t.vivo('consumer')).toBe(true);
    expect((await t.esperarLineas((l) => l.servicio === 'consumer' && l.campos['desenlace'] === 'invalido', 3)).length).toBe(3);
  }, 120_000);
});
