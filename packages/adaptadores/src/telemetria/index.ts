export { leerConfiguracionTelemetria, type ConfiguracionTelemetria } from './configuracion-telemetria.js';
export { iniciarTelemetria, iniciarTelemetriaOSalir, type OpcionesTelemetria, type Telemetria } from './iniciar-telemetria.js';
export {
  anotarSpanHttp,
  atencionTrazada,
  contextoDeTraceparent,
  destinoMensajeria,
  publicadorTrazado,
  traceparentActivo,
  type DestinoMensajeria,
} from './mensajeria.js';
