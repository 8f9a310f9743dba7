import { describe, expect, it } from 'vitest';
import type { MensajeEntrante, MensajeSaliente } from '@aeropartners/aplicacion';
import type { EventoPago, Trazabilidad } from '@aeropartners/dominio';
import { eventoAFila } from '../postgres/serializacion-eventos.js';
import { camposDeMensaje, leerSobre, sobreDeFila } from './sobre-evento.js';

/** El mensaje que el relay publicaría para este evento: la fila del outbox (`eventoAFila`) en su sobre. */
function mensajeDe(evento: EventoPago, t: Trazabilidad, secuencia: number): MensajeSaliente {
  const fila = eventoAFila(evento, t);
  return sobreDeFila({
    id: String(secuencia),
    idEvento: fila.id_evento,
    idAgregado: fila.id_agregado,
    versionAgregado: fila.version_agregado,
    tipo: fila.tipo,
    payload: fila.payload,
    metadatos: {
      id_correlacion: fila.metadatos.id_correlacion,
      traceparent: fila.metadatos.traceparent ?? undefined,
      id_solicitud: fila.metadatos.id_solicitud ?? undefined,
    },
    secuencia,
    intentos: 0,
    yaNumerada: false,
  });
}

function entrante(m: MensajeSaliente, idMensaje: string, entregas = 1): MensajeEntrante {
  const propiedades: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.propiedades)) if (v !== undefined) propiedades[k] = v;
  return { idMensaje, clave: m.clave, cuerpo: m.cuerpo, propiedades, entregas, productor: 'relay-prueba', secuencia: m.secuencia };
}

const uuid = (grupo: number, n: number) => `${grupo.toString(16).padStart(8, '0')}-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

const pendiente: EventoPago = {
  tipo: 'PagoPendiente',
  idEvento: uuid(1, 1),
  idPago: uuid(1, 2),
  version: 1,
  ocurridoEn: new Date('2026-03-01T10:00:00.000Z'),
  datos: { idSocio: 'socio', modo: 'live', idAfiliado: 'afiliado', unidadesMenores: 12_345, moneda: 'COP', referenciaPago: 'ref-1' },
};
const traza = { idCorrelacion: 'corr-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
const bueno = mensajeDe(pendiente, traza, 1);

const motivo = (r: ReturnType<typeof leerSobre>) => (r.ok ? 'ok' : r.error);

describe('leerSobre', () => {
  it('dado el mensaje que publica el relay, entonces reconstruye el evento y su trazabilidad', () => {
    const r = leerSobre(entrante(bueno, '1'));
    expect(r).toEqual({ ok: true, valor: { evento: pendiente, traza } });
  });

  it('con el id de la petición, viaja en la propiedad id_solicitud y vuelve en la traza; si discrepa del cuerpo, no vale', () => {
    const conSolicitud = { ...traza, idSolicitud: 'req_1' };
    const m = mensajeDe(pendiente, conSolicitud, 1);
    expect(m.propiedades['id_solicitud']).toBe('req_1');
    expect(leerSobre(entrante(m, '1'))).toEqual({ ok: true, valor: { evento: pendiente, traza: conSolicitud } });
    const cambiada = leerSobre(entrante({ ...m, propiedades: { ...m.propiedades, id_solicitud: 'req_2' } }, '1'));
    expect(motivo(cambiada)).toMatch(/la propiedad id_solicitud «req_2» ≠ «req_1» del cuerpo/);
  });

  it('sin traceparent, entonces la traza solo lleva la correlación', () => {
    const r = leerSobre(entrante(mensajeDe(pendiente, { idCorrelacion: 'c' }, 1), '1'));
    expect(r.ok && r.valor.traza).toEqual({ idCorrelacion: 'c' });
  });

  it.each([
    ['un cuerpo que no es JSON', { cuerpo: '{"id_evento"' }, /^el cuerpo no es JSON válido: /],
    ['un cuerpo que no es un objeto', { cuerpo: '[1,2]' }, /^el cuerpo no es un objeto JSON$/],
    ['un cuerpo sin sobre', { cuerpo: '{}' }, /^sobre inválido: tipo: /],
    ['un tipo desconocido', { cuerpo: bueno.cuerpo.replace('"PagoPendiente"', '"PagoReembolsado"') }, /^sobre inválido: tipo: /],
    ['un importe con decimales', { cuerpo: bueno.cuerpo.replace('12345', '123.45') }, /^sobre inválido: payload\.monto_unidades_menores: /],
    ['una clave distinta del pago', { clave: uuid(9, 9) }, /^el mensaje no coincide con su cuerpo: la clave «00000009-/],
  ])('dado %s, entonces inválido con su motivo', (_, cambio, esperado) => {
    expect(motivo(leerSobre(entrante({ ...bueno, ...cambio }, '1')))).toMatch(esperado);
  });

  it.each([
    ['id_evento', { id_evento: uuid(3, 3) }],
    ['tipo', { tipo: 'PagoExitoso' }],
    ['version', { version: '2' }],
    ['id_correlacion', { id_correlacion: 'otra' }],
    ['traceparent', { traceparent: '00-00000000000000000000000000000001-0000000000000001-01' }],
  ])('dada la propiedad %s distinta del cuerpo, entonces inválido', (nombre, cambio) => {
    const r = leerSobre(entrante({ ...bueno, propiedades: { ...bueno.propiedades, ...cambio } }, '1'));
    expect(motivo(r)).toMatch(new RegExp(`^el mensaje no coincide con su cuerpo: la propiedad ${nombre} «`));
  });

  it('dada una propiedad obligatoria ausente, entonces inválido nombrándola', () => {
    const { tipo: _tipo, ...sinTipo } = bueno.propiedades;
    expect(motivo(leerSobre(entrante({ ...bueno, propiedades: sinTipo as typeof bueno.propiedades }, '1')))).toBe(
      'falta la propiedad tipo del mensaje',
    );
  });

  it('recorta motivos enormes', () => {
    const r = leerSobre(entrante({ ...bueno, cuerpo: bueno.cuerpo.replace('"ref-1"', `"${'x'.repeat(5000)}"`) }, '1'));
    expect(motivo(r).length).toBeLessThanOrEqual(1000);
  });

  it('camposDeMensaje da los campos de trazabilidad aunque el sobre no valga', () => {
    expect(camposDeMensaje(entrante({ ...bueno, cuerpo: 'x' }, 'm-7', 3))).toEqual({
      id_correlacion: 'corr-1',
      id_solicitud: null,
      id_pago: uuid(1, 2),
      id_evento: uuid(1, 1),
      tipo: 'PagoPendiente',
      id_mensaje: 'm-7',
      entregas: 3,
    });
  });
});
