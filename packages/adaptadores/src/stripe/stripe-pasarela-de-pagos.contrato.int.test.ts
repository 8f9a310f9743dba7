import { probarContratoPasarela, type DesenlaceForzado } from '@aeropartners/contratos';
import { StripePasarelaDePagos } from './index.js';
import { iniciarServidorStripeFalso, type ServidorStripeFalso } from '@aeropartners/contratos/stripe';

const CUENTA = 'acct_1AfiliadoContrato';

/**
 * `configurar` encola en el servidor falso la respuesta de la próxima petición que llegue a ejecutarse
 * (la suite lo llama justo antes del primer intento del pago, sin otros cobros en curso):
 * - `rechazado`: 402 `card_error` guardado con la clave, como un rechazo real de Stripe;
 * - `incierto`: 500 `api_error` antes de transferir y sin guardar, una vez por intento del SDK (el
 *   original y sus reintentos);
 * - `exitosoSinRespuesta`: transfiere y responde 500, que Stripe guarda con la clave (los reintentos del
 *   SDK reciben el mismo 500): solo `GET /v1/transfers?transfer_group=…` revela la transferencia;
 * - `exitoso`: nada, es lo que hace el servidor por defecto.
 * Los cargos se cuentan en las transferencias que el servidor creó de verdad, por `metadata[id_pago]`.
 */
function fabricaStripe(maxNetworkRetries: number) {
  return async () => {
    const servidor: ServidorStripeFalso = await iniciarServidorStripeFalso({ cuentasConectadas: [CUENTA] });
    const pasarela = new StripePasarelaDePagos({
      apiKey: servidor.apiKey,
      cuentasAfiliados: () => CUENTA,
      host: servidor.host,
      port: servidor.port,
      protocol: servidor.protocol,
      maxNetworkRetries,
      timeout: 10_000,
    });
    return {
      pasarela,
      contarCargos: async (idPago: string) => servidor.transferencias.filter((t) => t.metadata['id_pago'] === idPago).length,
      configurar: (_idPago: string, desenlace: DesenlaceForzado) => {
        switch (desenlace) {
          case 'exitoso':
            return;
          case 'rechazado':
            servidor.programar({
              tipo: 'error',
              estado: 402,
              guardarConLaClave: true,
              error: {
                type: 'card_error',
                code: 'card_declined',
                decline_code: 'insufficient_funds',
                message: 'Your card has insufficient funds.',
              },
            });
            return;
          case 'incierto':
            for (let i = 0; i <= maxNetworkRetries; i += 1) {
              servidor.programar({ tipo: 'error', estado: 500, error: { type: 'api_error', message: 'An unknown error occurred' } });
            }
            return;
          case 'exitosoSinRespuesta':
            servidor.programar({
              tipo: 'errorTrasTransferir',
              estado: 500,
              error: { type: 'api_error', message: 'An unknown error occurred' },
            });
            return;
        }
      },
      cerrar: () => servidor.cerrar(),
    };
  };
}

probarContratoPasarela('Stripe contra su servidor falso', fabricaStripe(0));
probarContratoPasarela('Stripe contra su servidor falso, con reintentos del SDK', fabricaStripe(2));
