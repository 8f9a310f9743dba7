import {
  Dinero,
  crearPago,
  iniciarProcesamiento,
  registrarExito,
  registrarFallo,
  type Contexto,
  type EventoPago,
} from '@aeropartners/dominio';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../ids/uuidv7.js';
import { eventoAFila, filaAEvento } from './serializacion-eventos.js';

function valor<T>(r: { ok: true; valor: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.valor;
}

const ctx: Contexto = { ahora: new Date('2026-03-01T10:00:00.123Z'), nuevoId: uuidv7 };
const creado = valor(
  crearPago(
    {
      id: uuidv7(),
      idSocio: 'socio-1',
      idAfiliado: 'afiliado-7',
      monto: valor(Dinero.de('150.75', 'COP')),
      referenciaPago: 'ref-1',
    },
    ctx,
  ),
);
const procesando = valor(iniciarProcesamiento(creado.pago, ctx));
const exitoso = valor(registrarExito(procesando.pago, 'tr_123', ctx));
const fallido = valor(registrarFallo(procesando.pago, 'Fondos insuficientes', ctx));
const eventos: EventoPago[] = [...creado.eventos, ...procesando.eventos, ...exitoso.eventos, ...fallido.eventos];
const traza = { idCorrelacion: 'corr-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };

describe('serialización de eventos del outbox', () => {
  it('PagoPendiente: snake_case, importe en unidades menores con su moneda, fecha ISO', () => {
    const fila = eventoAFila(creado.eventos[0]!, traza);
    expect(fila).toEqual({
      id_evento: creado.eventos[0]!.idEvento,
      id_agregado: creado.pago.id,
      version_agregado: 1,
      tipo: 'PagoPendiente',
      payload: {
        id_pago: creado.pago.id,
        ocurrido_en: '2026-03-01T10:00:00.123Z',
        id_socio: 'socio-1',
        modo: 'live',
        id_afiliado: 'afiliado-7',
        monto_unidades_menores: 15075,
        moneda: 'COP',
        referencia_pago: 'ref-1',
      },
      metadatos: { id_correlacion: 'corr-1', traceparent: traza.traceparent, id_solicitud: null },
    });
  });

  it('con el id de la petición (Request-Id): va en metadatos.id_solicitud y vuelve en la traza', () => {
    const conSolicitud = { ...traza, idSolicitud: 'req_0190f5a2' };
    const fila = eventoAFila(creado.eventos[0]!, conSolicitud);
    expect(fila.metadatos).toEqual({ id_correlacion: 'corr-1', traceparent: traza.traceparent, id_solicitud: 'req_0190f5a2' });
    expect(filaAEvento(JSON.parse(JSON.stringify(fila)))).toEqual({ ok: true, valor: { evento: creado.eventos[0], traza: conSolicitud } });
  });

  it('un PagoPendiente de antes del modo de prueba (sin modo) se lee como real; un modo desconocido no vale', () => {
    const fila = eventoAFila(creado.eventos[0]!, traza);
    const { modo: _modo, ...sinModo } = fila.payload as { modo: string };
    const leida = filaAEvento({ ...fila, payload: sinModo });
    expect(leida.ok && leida.valor.evento.tipo === 'PagoPendiente' && leida.valor.evento.datos.modo).toBe('live');
    const rara = filaAEvento({ ...fila, payload: { ...fila.payload, modo: 'sandbox' } });
    expect(rara).toMatchObject({ ok: false, error: { motivo: expect.stringMatching(/^payload\.modo: /) } });
  });

  it.each(eventos.map((e) => [e.tipo, e] as const))('%s: ida y vuelta por JSON sin pérdida', (_tipo, evento) => {
    const fila = JSON.parse(JSON.stringify(eventoAFila(evento, traza))) as unknown as Parameters<typeof filaAEvento>[0];
    expect(filaAEvento(fila)).toEqual({ ok: true, valor: { evento, traza } });
  });

  it('sin traceparent: metadatos.traceparent es null y vuelve como ausente', () => {
    const fila = eventoAFila(creado.eventos[0]!, { idCorrelacion: 'c' });
    expect(fila.metadatos).toEqual({ id_correlacion: 'c', traceparent: null, id_solicitud: null });
    const leida = filaAEvento(fila);
    expect(leida.ok && leida.valor.traza).toEqual({ idCorrelacion: 'c' });
  });

  it.each([
    ['tipo desconocido', { tipo: 'PagoReembolsado' }, 'tipo'],
    ['id de evento que no es UUID', { id_evento: 'x' }, 'id_evento'],
    ['versión no entera', { version_agregado: 1.5 }, 'version_agregado'],
    ['versión como texto', { version_agregado: '1' }, 'version_agregado'],
    ['payload que no es objeto', { payload: 'hola' }, 'payload'],
    ['sin metadatos de correlación', { metadatos: {} }, 'metadatos.id_correlacion'],
  ])('rechaza %s como valor de error', (_caso, cambio, ruta) => {
    const fila = { ...eventoAFila(creado.eventos[0]!, traza), ...cambio };
    const r = filaAEvento(fila);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.tipo).toBe('EventoInvalido');
    expect(!r.ok && r.error.motivo).toContain(ruta);
  });

  it.each([
    ['importe decimal', { monto_unidades_menores: 150.5 }],
    ['importe cero', { monto_unidades_menores: 0 }],
    ['moneda desconocida', { moneda: 'GBP' }],
    ['fecha inválida', { ocurrido_en: 'ayer' }],
    ['id_pago distinto del agregado', { id_pago: uuidv7() }],
    ['campo obligatorio vacío', { id_afiliado: '' }],
  ])('rechaza un payload con %s', (_caso, cambio) => {
    const fila = eventoAFila(creado.eventos[0]!, traza);
    const r = filaAEvento({ ...fila, payload: { ...fila.payload, ...cambio } });
    expect(r.ok).toBe(false);
  });
});
