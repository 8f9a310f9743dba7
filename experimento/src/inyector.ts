import type pg from 'pg';
import type { FalloPlaneado } from './fallos.js';
import type { MarcaFallo } from './informe.js';
import type { TopologiaLocal } from './topologia-local.js';

/**
 * Ejecuta un fallo planeado sobre la topología local y devuelve su marca para el informe: qué se hizo,
 * a qué proceso, y cuánto tardó todo en volver a estar listo. Un fallo que no se pudo inyectar es una
 * marca con `error` (el informe lo cuenta), nunca una excepción que pare el experimento.
 */
export async function inyectarFallo(f: FalloPlaneado, t: TopologiaLocal, pool: pg.Pool, segundo: number): Promise<MarcaFallo> {
  try {
    switch (f.tipo) {
      case 'matar-consumidor': {
        const numero = f.instancia ?? 1;
        const r = await t.matarInstancia('consumer', numero);
        return {
          segundo,
          tipo: f.tipo,
          detalle: `SIGKILL a consumer#${numero} (pid ${r.pid}); el supervisor lo relanzó`,
          recuperacionMs: r.recuperacionMs,
        };
      }
      case 'matar-relay-lider': {
        const r = await t.matarLiderRelay(pool);
        return {
          segundo,
          tipo: f.tipo,
          detalle: `SIGKILL al relay líder outbox#${r.instancia} (pid ${r.pid}, con el cerrojo); outbox#${r.relevo}, en reserva, tomó el cerrojo en ${(r.relevoMs / 1000).toFixed(1)} s; el supervisor relanzó el muerto`,
          recuperacionMs: r.recuperacionMs,
          relevoMs: r.relevoMs,
        };
      }
      case 'reiniciar-postgres': {
        const r = await t.reiniciarPostgres();
        return {
          segundo,
          tipo: f.tipo,
          detalle: 'SIGUSR2 al supervisor: parada rápida y arranque de PostgreSQL sobre los mismos datos',
          recuperacionMs: r.recuperacionMs,
        };
      }
      case 'matar-postgres': {
        const r = await t.matarPostgres();
        return {
          segundo,
          tipo: f.tipo,
          detalle: `SIGKILL al postmaster (pid ${r.pid}): el supervisor detectó la caída y lo arrancó con recuperación tras caída`,
          recuperacionMs: r.recuperacionMs,
        };
      }
    }
  } catch (error) {
    return { segundo, tipo: f.tipo, detalle: 'fallo inyectado', error: error instanceof Error ? error.message : String(error) };
  }
}
