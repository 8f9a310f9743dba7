import { parseArgs } from 'node:util';
import type { AdministracionMensajesMuertos } from '@aeropartners/aplicacion';
import { PostgresAdministracionMuertos } from '../broker-embebido/administracion-muertos.js';
import { PostgresPagosAtascados } from '../postgres/postgres-pagos-atascados.js';
import { PulsarAdministracionMuertos } from '../pulsar/administracion-muertos-pulsar.js';
import { cargarModuloLectorPulsar } from '../pulsar/lector-pulsar.js';
import { codigoDeSalida, conPoolDeOperacion } from './con-pool.js';
import { ErrorOperacion, umbralesDe, type EntornoOperacion } from './entorno-operacion.js';
import { estadosDe, operacionAtascados } from './operacion-atascados.js';
import { operacionMuertos, type AccionMuertos } from './operacion-muertos.js';

export const AYUDA_OPERACION = `Uso: pnpm operacion <comando> [opciones]

  atascados [--estado PENDIENTE|PROCESANDO] [--mas-de 90s] [--limite N] [--reimpulsar] [--json]
      Pagos en PENDIENTE o PROCESANDO más que el umbral (por defecto, el del barrendero) y sin turno de
      cobro vigente, del más antiguo al más reciente. Con --reimpulsar los re-impulsa ya: vuelve a encolar
      su PagoPendiente en el outbox (el relay lo publica y el consumidor lo maneja como una reentrega).
  muertos listar [--suscripcion S] [--limite N] [--json]
  muertos reenviar <id> [--suscripcion S]
  muertos reenviar --todos [--suscripcion S]
      Mensajes muertos del broker (el embebido o, con PULSAR_URL, Pulsar): listarlos y devolverlos a su
      suscripción. Reenviar dos veces no duplica.

  --json      una línea JSON por pago o mensaje (el resumen va a stderr); por defecto, una tabla.
  --limite N  como mucho N filas (por defecto 1000).

Base de datos: DATABASE_URL o, si no está, la del \`pnpm start\` en marcha (.data/procesos.json).
Variables: PULSAR_URL, BROKER_TOPICO (pagos), CONSUMIDOR_SUSCRIPCION (consumidor-pagos), PASARELA
(simulada|stripe: umbrales por defecto), BARRENDERO_UMBRAL_PENDIENTE_MS, BARRENDERO_UMBRAL_PROCESANDO_MS.`;

const OPCIONES = {
  estado: { type: 'string' },
  'mas-de': { type: 'string' },
  limite: { type: 'string' },
  reimpulsar: { type: 'boolean' },
  json: { type: 'boolean' },
  suscripcion: { type: 'string' },
  topico: { type: 'string' },
  todos: { type: 'boolean' },
  ayuda: { type: 'boolean', short: 'h' },
} as const;

type Opciones = ReturnType<typeof leerArgumentos>['values'];

function leerArgumentos(argumentos: readonly string[]) {
  try {
    return parseArgs({ args: [...argumentos], options: OPCIONES, allowPositionals: true, strict: true });
  } catch (error) {
    const mensaje = error instanceof Error ? error.message.replace(/^Unknown option '(.+?)'.*$/s, 'opción desconocida: $1') : String(error);
    throw new ErrorOperacion(`Argumentos inválidos: ${mensaje.split('\n')[0]} (pnpm operacion --ayuda)`, 2);
  }
}

/**
 * `pnpm operacion …`: el CLI de operación (pagos atascados y mensajes muertos). Devuelve el código de
 * salida: 0 bien, 1 fallo (una línea en español en stderr, sin trazas ni contraseñas), 2 uso incorrecto.
 */
export function comandoOperacion(entorno: EntornoOperacion): Promise<number> {
  return codigoDeSalida(entorno, async () => {
    const { values: o, positionals } = leerArgumentos(entorno.argumentos);
    const [comando, sub, ...resto] = positionals;
    if (o.ayuda || comando === undefined || comando === 'ayuda') {
      entorno.escribir(AYUDA_OPERACION);
      return comando === undefined && !o.ayuda ? 2 : 0;
    }
    const limite = entero('--limite', o.limite ?? '1000');
    const formato = o.json ? 'json' : 'tabla';
    if (comando === 'atascados') {
      if (sub !== undefined) throw new ErrorOperacion(`atascados no lleva subcomando («${sub}»)`, 2);
      soloCon(o, ['suscripcion', 'topico', 'todos'], 'muertos');
      const estados = estadosDe(o.estado);
      const umbrales = umbralesDe(entorno.env, o['mas-de']);
      return await conPoolDeOperacion(entorno, 'aeropartners-operacion', (pool) =>
        operacionAtascados({
          atascados: new PostgresPagosAtascados(pool),
          estados,
          umbrales,
          limite,
          reimpulsar: o.reimpulsar ?? false,
          formato,
          escribir: entorno.escribir,
          escribirError: entorno.escribirError,
        }),
      );
    }
    if (comando === 'muertos') {
      soloCon(o, ['estado', 'mas-de', 'reimpulsar'], 'atascados');
      const accion = accionMuertos(sub, resto, o, limite);
      const suscripcion = o.suscripcion ?? entorno.env.CONSUMIDOR_SUSCRIPCION ?? 'consumidor-pagos';
      const topico = o.topico ?? entorno.env.BROKER_TOPICO ?? 'pagos';
      if (suscripcion.trim() === '' || topico.trim() === '')
        throw new ErrorOperacion('La suscripción y el tópico no pueden estar vacíos', 2);
      return await conAdministracion(entorno, topico, (administracion) =>
        operacionMuertos({
          administracion,
          suscripcion,
          accion,
          formato,
          escribir: entorno.escribir,
          escribirError: entorno.escribirError,
        }),
      );
    }
    throw new ErrorOperacion(`Comando desconocido: «${comando}» (atascados o muertos; pnpm operacion --ayuda)`, 2);
  });
}

function accionMuertos(sub: string | undefined, resto: readonly string[], o: Opciones, limite: number): AccionMuertos {
  if (sub === 'listar') {
    if (resto.length > 0 || o.todos) throw new ErrorOperacion('muertos listar no lleva ids ni --todos', 2);
    return { tipo: 'listar', limite };
  }
  if (sub === 'reenviar') {
    if (o.todos && resto.length === 0) return { tipo: 'reenviarTodos' };
    if (!o.todos && resto.length === 1 && resto[0] !== '') return { tipo: 'reenviar', id: resto[0]! };
    throw new ErrorOperacion('Uso: pnpm operacion muertos reenviar <id> | muertos reenviar --todos', 2);
  }
  throw new ErrorOperacion(`muertos necesita listar o reenviar (recibido: ${sub === undefined ? 'nada' : `«${sub}»`})`, 2);
}

function soloCon(o: Opciones, nombres: readonly (keyof Opciones)[], comando: string): void {
  for (const nombre of nombres) if (o[nombre] !== undefined) throw new ErrorOperacion(`--${String(nombre)} es de «${comando}»`, 2);
}

function entero(nombre: string, texto: string): number {
  if (!/^[1-9][0-9]{0,6}$/.test(texto)) throw new ErrorOperacion(`${nombre} inválido: «${texto}» (entero de 1 a 9999999)`, 2);
  return Number(texto);
}

/** Pulsar si hay `PULSAR_URL`; si no, el broker embebido sobre la base. */
async function conAdministracion<T>(
  entorno: EntornoOperacion,
  topico: string,
  trabajo: (administracion: AdministracionMensajesMuertos) => Promise<T>,
): Promise<T> {
  const urlPulsar = entorno.env.PULSAR_URL;
  if (urlPulsar === undefined || urlPulsar === '') {
    return conPoolDeOperacion(entorno, 'aeropartners-operacion', (pool) => trabajo(new PostgresAdministracionMuertos({ pool, topico })));
  }
  if (!/^pulsar(\+ssl)?:\/\/[^\s]+$/.test(urlPulsar))
    throw new ErrorOperacion(`PULSAR_URL inválida: «${urlPulsar}» (pulsar://anfitrión:puerto)`);
  const modulo = await cargarModuloLectorPulsar(entorno.importarPulsar ?? (() => import('pulsar-client')));
  const administracion = new PulsarAdministracionMuertos({
    cliente: modulo.crearCliente({ serviceUrl: urlPulsar, operationTimeoutSeconds: 10 }),
    ids: modulo.ids,
    topico,
    cerrarCliente: true,
  });
  try {
    return await trabajo(administracion);
  } finally {
    await administracion.cerrar();
  }
}
