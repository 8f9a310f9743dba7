import { uuidv7 } from '@aeropartners/adaptadores';

/**
 * El id de cada petición (`Request-Id`, como el `request` de un evento de Stripe): lo genera el servidor,
 * sale en toda respuesta y en cada línea de registro de la petición, y se guarda con las filas de
 * historial y los eventos que causó. A diferencia de `X-Correlation-Id`, que elige el cliente y puede
 * repetirse, este es único. Ver `docs/decisiones/0134-request-id.md`.
 */

export const CABECERA_ID_SOLICITUD = 'Request-Id';
export const PREFIJO_ID_SOLICITUD = 'req_';

export const nuevoIdSolicitud = (): string => PREFIJO_ID_SOLICITUD + uuidv7();
