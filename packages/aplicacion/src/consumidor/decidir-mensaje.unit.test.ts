import { describe, expect, it } from 'vitest';
import type { EventoPago, Pago } from '@aeropartners/dominio';
import { decidirMensaje, type DecisionMensaje, type HechoMensaje } from './decidir-mensaje.js';
import type { DesenlaceEvento } from './manejar-evento.js';

const evento: EventoPago = {
  tipo: 'PagoPendiente',
  idEvento: 'evento-1',
  idPago: 'pago-1',
  version: 1,
  ocurridoEn: new Date('2026-01-01T00:00:00Z'),
  datos: { idSocio: 's', modo: 'live', idAfiliado: 'a', unidadesMenores: 100, moneda: 'EUR', referenciaPago: 'r' },
};
const traza = { idCorrelacion: 'c' };
const manejado = (desenlace: DesenlaceEvento): HechoMensaje => ({ tipo: 'manejado', evento, traza, desenlace });

describe('decidirMensaje: la política de ack / nack / mensajes muertos', () => {
  const casos: [string, HechoMensaje, DecisionMensaje][] = [
    ['procesado → confirmar', manejado({ tipo: 'procesado', pago: {} as Pago, intentosPasarela: 1 }), { accion: 'confirmar' }],
    ['registrado → confirmar', manejado({ tipo: 'registrado' }), { accion: 'confirmar' }],
    ['duplicado → confirmar (el inbox lo absorbió)', manejado({ tipo: 'duplicado' }), { accion: 'confirmar' }],
    [
      'obsoleto → confirmar (juzgado por versión)',
      manejado({ tipo: 'obsoleto', estadoActual: 'EXITOSO', versionActual: 3 }),
      { accion: 'confirmar' },
    ],
    [
      'pago inexistente → mensajes muertos con el motivo',
      manejado({ tipo: 'pagoInexistente' }),
      { accion: 'aMuertos', motivo: 'El pago pago-1 no existe: el evento evento-1 no se puede aplicar.' },
    ],
    [
      'incierto → rechazar (el pago sigue en PROCESANDO; se reintenta más tarde)',
      manejado({ tipo: 'incierto', mensaje: 'timeout', intentosPasarela: 4 }),
      { accion: 'rechazar' },
    ],
    [
      'ocupado → rechazar con el retraso que le queda al turno',
      manejado({ tipo: 'ocupado', reintentarEnMs: 1234 }),
      { accion: 'rechazar', retrasoMs: 1234 },
    ],
    ['abandonado → soltar (ya no es nuestro)', manejado({ tipo: 'abandonado', motivo: 'lease perdido' }), { accion: 'soltar' }],
    [
      'sobre inválido → mensajes muertos',
      { tipo: 'sobreInvalido', motivo: 'el cuerpo no es JSON válido' },
      { accion: 'aMuertos', motivo: 'Mensaje inválido: el cuerpo no es JSON válido' },
    ],
    ['fallo de infraestructura → rechazar', { tipo: 'fallo', evento, traza, error: new Error('ECONNREFUSED') }, { accion: 'rechazar' }],
    ['detrás de uno rechazado → rechazar (no se adelanta)', { tipo: 'detras' }, { accion: 'rechazar' }],
  ];
  it.each(casos)('%s', (_nombre, hecho, decision) => {
    expect(decidirMensaje(hecho)).toEqual(decision);
  });
});
