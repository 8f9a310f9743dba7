import { probarContratoMensajesMuertos } from '@aeropartners/contratos';
import type { Client, MessageId, Reader } from 'pulsar-client';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { PulsarAdministracionMuertos } from './administracion-muertos-pulsar.js';
import {
  cargarModuloLectorPulsar,
  leerTopicoEntero,
  type ClientePulsarConLector,
  type IdsMensajePulsar,
  type LectorPulsar,
} from './lector-pulsar.js';
import { MENSAJE_SIN_BINARIO_PULSAR } from './cliente-pulsar.js';
import { crearBrokerPulsar, suscripcionDeMuertos } from './pulsar-broker.js';
import { IDS_MENSAJE_FALSOS, PulsarFalso, fabricaConLector, nombreCompletoTopico } from '@aeropartners/contratos/pulsar';

const URL = 'pulsar://falso:6650';
let topicos = 0;

function montar() {
  const falso = new PulsarFalso({ semilla: 9 });
  const topico = `pagos-muertos-${++topicos}`;
  const conLector = fabricaConLector(falso);
  const administracion = (cerrarCliente = true) =>
    new PulsarAdministracionMuertos({
      cliente: conLector({ serviceUrl: URL }),
      ids: IDS_MENSAJE_FALSOS,
      topico,
      cerrarCliente,
      pausaCerrojoMs: 5,
    });
  return { falso, topico, conLector, administracion };
}

probarContratoMensajesMuertos('Pulsar (cliente falso)', async () => {
  const { falso, topico, administracion } = montar();
  const broker = await crearBrokerPulsar({ url: URL, topico, crearCliente: falso.crearCliente });
  return { broker, administracion: administracion(), otraAdministracion: async () => administracion() };
});

describe('PulsarAdministracionMuertos', () => {
  it('listar lee la DLQ con un Reader: no crea consumidores en ella ni toca su cola retenida', async () => {
    const { falso, topico, administracion } = montar();
    const broker = await crearBrokerPulsar({ url: URL, topico, crearCliente: falso.crearCliente });
    const s = await broker.suscribir({ suscripcion: 'c', maximoEntregas: 3, retrasoReentregaMs: 10 });
    const p = await broker.crearPublicador('relay');
    await p.publicar([
      { clave: 'k', secuencia: 1, cuerpo: '{}', propiedades: { id_evento: 'e', tipo: 't', version: '1', id_correlacion: 'c' } },
    ]);
    const m = await s.recibir();
    await s.aMensajesMuertos(m!, 'veneno');
    const dlq = `${topico}-c-DLQ`;
    const retenidos = falso.atrasados(dlq, suscripcionDeMuertos('c'));
    const consumidoresAntes = falso.registro.filter((e) => e.tipo === 'consumidor-creado' && e.topico === nombreCompletoTopico(dlq)).length;
    const a = administracion();
    expect(await a.listar('c')).toHaveLength(1);
    expect(await a.listar('c')).toHaveLength(1);
    expect(falso.atrasados(dlq, suscripcionDeMuertos('c'))).toBe(retenidos);
    expect(falso.registro.filter((e) => e.tipo === 'consumidor-creado' && e.topico === nombreCompletoTopico(dlq))).toHaveLength(
      consumidoresAntes,
    );
    // Reenviarlo lo anota en el registro, retenido por su propia suscripción (que nadie confirma).
    await a.reenviar('c', (await a.listar('c'))[0]!.id);
    expect(falso.mensajes(`${dlq}-reenviados`)).toHaveLength(1);
    expect(falso.atrasados(`${dlq}-reenviados`, 'registro-reenvios')).toBe(1);
    await a.cerrar();
    await broker.cerrar();
  });

  it('si otro proceso tiene el cerrojo de reenvío más de lo que se espera, error claro sin reenviar nada', async () => {
    const { falso, topico, conLector } = montar();
    const otro = conLector({ serviceUrl: URL });
    const cerrojo = await otro.createProducer({
      topic: `${topico}-c-DLQ-reenviados`,
      producerName: 'aeropartners-operacion-reenvio-muertos',
    });
    const a = new PulsarAdministracionMuertos({
      cliente: conLector({ serviceUrl: URL }),
      ids: IDS_MENSAJE_FALSOS,
      topico,
      intentosCerrojo: 3,
      pausaCerrojoMs: 1,
    });
    await expect(a.reenviarTodos('c')).rejects.toThrow(/Otro proceso está reenviando mensajes muertos .* reinténtelo/);
    await cerrojo.close();
    expect(await a.reenviarTodos('c')).toEqual([]);
    await a.cerrar();
    expect(falso.mensajes(topico)).toEqual([]);
  });
});

describe('Reader del cliente falso', () => {
  it('la interfaz mínima del lector la cumple el cliente real de pulsar-client', () => {
    expectTypeOf<Client>().toExtend<ClientePulsarConLector>();
    expectTypeOf<Reader>().toExtend<LectorPulsar>();
    expectTypeOf<typeof MessageId>().toExtend<IdsMensajePulsar>();
  });

  it('earliest lee todo desde el principio; latest, solo lo nuevo; un id, lo posterior (exclusivo)', async () => {
    const falso = new PulsarFalso();
    const cliente = fabricaConLector(falso)({ serviceUrl: URL });
    const productor = await cliente.createProducer({ topic: 't', batchingEnabled: false });
    const ids = [];
    for (const texto of ['a', 'b', 'c']) ids.push(await productor.send({ data: Buffer.from(texto), partitionKey: texto }));
    const textos = async (lector: LectorPulsar) => {
      const leidos: string[] = [];
      while (lector.hasNext()) leidos.push((await lector.readNext(1000)).getData().toString());
      return leidos;
    };
    const desdeElPrincipio = await cliente.createReader({ topic: 't', startMessageId: IDS_MENSAJE_FALSOS.earliest() });
    expect(await textos(desdeElPrincipio)).toEqual(['a', 'b', 'c']);
    const trasElPrimero = await cliente.createReader({ topic: 't', startMessageId: ids[0]! });
    expect(await textos(trasElPrimero)).toEqual(['b', 'c']);
    const soloNuevos = await cliente.createReader({ topic: 't', startMessageId: IDS_MENSAJE_FALSOS.latest() });
    expect(soloNuevos.hasNext()).toBe(false);
    await expect(soloNuevos.readNext(20)).rejects.toThrow('Failed to receive message: TimeOut');
    const espera = soloNuevos.readNext(5000);
    await productor.send({ data: Buffer.from('d'), partitionKey: 'd' });
    expect((await espera).getData().toString()).toBe('d');
    // Leer no consume: el principio sigue ahí.
    expect(await leerTopicoEntero(cliente, IDS_MENSAJE_FALSOS, 't', 1000).then((ms) => ms.map((m) => m.getData().toString()))).toEqual([
      'a',
      'b',
      'c',
      'd',
    ]);
    await cliente.close();
    await expect(desdeElPrincipio.readNext(10)).rejects.toThrow('Failed to receive message: AlreadyClosed');
    await expect(cliente.createReader({ topic: 't', startMessageId: IDS_MENSAJE_FALSOS.earliest() })).rejects.toThrow(
      'Failed to create reader: AlreadyClosed',
    );
  });

  it('sin tópico o sin startMessageId, los errores del cliente real; un tópico que no existe se crea vacío', async () => {
    const cliente = fabricaConLector(new PulsarFalso())({ serviceUrl: URL });
    await expect(cliente.createReader({ topic: '', startMessageId: IDS_MENSAJE_FALSOS.earliest() })).rejects.toThrow(
      'Topic is required and must be specified as a string when creating reader',
    );
    await expect(cliente.createReader({ topic: 't' } as never)).rejects.toThrow(
      'StartMessageId is required and must be specified as a MessageId object when creating reader',
    );
    expect(await leerTopicoEntero(cliente, IDS_MENSAJE_FALSOS, 'nadie-publico-aqui', 100)).toEqual([]);
  });

  it('cargarModuloLectorPulsar: sin binario nativo, el mensaje claro con la causa; con un módulo, sus piezas', async () => {
    const causa = new Error("Cannot find module 'pulsar.node'");
    const error = await cargarModuloLectorPulsar(() => Promise.reject(causa)).catch((e: unknown) => e);
    expect((error as Error).message).toBe(MENSAJE_SIN_BINARIO_PULSAR);
    expect((error as Error).cause).toBe(causa);
    await expect(cargarModuloLectorPulsar(async () => ({ default: { Client: class {} } }))).rejects.toThrow(
      /no exporta Client y MessageId/,
    );
    class ClienteDePrueba {
      constructor(readonly config: unknown) {}
    }
    const modulo = await cargarModuloLectorPulsar(async () => ({ default: { Client: ClienteDePrueba, MessageId: IDS_MENSAJE_FALSOS } }));
    expect(modulo.ids).toBe(IDS_MENSAJE_FALSOS);
    expect((modulo.crearCliente({ serviceUrl: URL }) as unknown as ClienteDePrueba).config).toEqual({ serviceUrl: URL });
  });
});
