import { hostname } from 'node:os';
import { setTimeout as esperar } from 'node:timers/promises';
import type { CercaLiderazgo } from '@aeropartners/aplicacion';
import pg from 'pg';
import { enteroSeguro } from './esquema.js';

export interface OpcionesLiderRelay {
  readonly url: string;
  /** Clave del cerrojo consultivo: una por partición del outbox. */
  readonly claveCerrojo: number;
  /** Canal de LISTEN que despierta al relay (lo emite un disparador del outbox). */
  readonly canal: string;
  /** Cada cuánto reintenta un relay en espera hacerse con el cerrojo. */
  readonly intervaloEsperaMs: number;
  /**
   * Cada cuánto el líder comprueba su conexión y su época (latido). Por defecto 1 000 ms. Sin respuesta
   * en `2 × intervaloLatidoMs` (mínimo 2 s), da el liderazgo por perdido.
   */
  readonly intervaloLatidoMs?: number;
  /** Quién es el titular (se guarda con la época, para operación). Por defecto `<host>:<pid>`. */
  readonly titular?: string;
  /** Se llama si se pierde la conexión, no responde o la época ya no es la suya: el relay debe dejar de publicar. */
  readonly alPerder: (error: Error) => void;
}

/** Incrementa la época del cerrojo (o la crea en 1) y devuelve la nueva. $1 cerrojo, $2 titular. */
const SQL_GANAR_EPOCA = `
INSERT INTO outbox_liderazgo AS l (cerrojo, epoca, titular) VALUES ($1, 1, $2)
ON CONFLICT (cerrojo) DO UPDATE SET epoca = l.epoca + 1, titular = EXCLUDED.titular, desde = now()
RETURNING epoca::text AS epoca`;

const SQL_EPOCA = `SELECT epoca::text AS epoca FROM outbox_liderazgo WHERE cerrojo = $1`;

/**
 * Liderazgo del relay: una conexión dedicada que tiene el cerrojo consultivo de sesión
 * (`pg_try_advisory_lock`) y escucha los avisos del outbox. Solo un relay activo por partición: los
 * demás esperan. Al ganar el cerrojo incrementa la época del cerrojo (`outbox_liderazgo`): su
 * {@link LiderRelay.cerca} es lo que cada reclamo y cada marcado del relay comprueban en la misma
 * sentencia, así que un líder que perdió el cerrojo sin enterarse no reclama ni marca nada más.
 *
 * Para enterarse pronto: `keepAlive` de TCP en la conexión y un latido que lee la época guardada; si la
 * conexión se cierra, falla, no responde a tiempo o la época ya es otra, `alPerder` avisa para que el
 * relay pare (el supervisor lo relanza y vuelve a esperar el liderazgo).
 */
export class LiderRelay {
  readonly #opciones: OpcionesLiderRelay;
  readonly #cliente: pg.Client;
  #despertar: (() => void) | null = null;
  #avisoPendiente = false;
  #cerrado = false;
  #cerca: CercaLiderazgo | null = null;
  #latido: ReturnType<typeof setInterval> | undefined;
  #latiendoDesde: number | null = null;

  private constructor(opciones: OpcionesLiderRelay, cliente: pg.Client) {
    this.#opciones = opciones;
    this.#cliente = cliente;
  }

  /** Conecta y espera hasta ser líder (o hasta que `senal` aborte: entonces devuelve `null`). */
  static async esperar(opciones: OpcionesLiderRelay, senal: AbortSignal, alEsperar?: () => void): Promise<LiderRelay | null> {
    const cliente = new pg.Client({
      connectionString: opciones.url,
      application_name: 'aeropartners-relay-lider',
      // Sin tráfico, una conexión medio abierta (red caída, host muerto) no da error nunca: TCP lo detecta.
      keepAlive: true,
      keepAliveInitialDelayMillis: 5_000,
    });
    const lider = new LiderRelay(opciones, cliente);
    cliente.on('error', (error) => lider.#perder(error));
    cliente.on('end', () => lider.#perder(new Error('La conexión del líder del relay se cerró')));
    cliente.on('notification', () => lider.#avisar());
    await cliente.connect();
    let avisado = false;
    while (!senal.aborted) {
      const { rows } = await cliente.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [opciones.claveCerrojo]);
      if (rows[0]?.ok) {
        await lider.#ganarEpoca();
        await cliente.query(`LISTEN ${pg.escapeIdentifier(opciones.canal)}`);
        lider.#empezarLatido();
        return lider;
      }
      if (!avisado) {
        alEsperar?.();
        avisado = true;
      }
      // `timers/promises` retira su oyente de 'abort' al vencer el plazo: un relay en reserva espera así
      // indefinidamente sin acumular oyentes. El aborto corta la espera y el bucle sale.
      await esperar(opciones.intervaloEsperaMs, undefined, { signal: senal }).catch((error: unknown) => {
        if (!(error instanceof Error && error.name === 'AbortError')) throw error;
      });
    }
    await lider.cerrar();
    return null;
  }

  /** La época ganada: la prueba de liderazgo que el relay pasa al almacén del outbox. */
  get cerca(): CercaLiderazgo {
    if (!this.#cerca) throw new Error('El relay aún no es líder');
    return this.#cerca;
  }

  async #ganarEpoca(): Promise<void> {
    const titular = this.#opciones.titular ?? `${hostname()}:${process.pid}`;
    let rows: { epoca: string }[];
    try {
      ({ rows } = await this.#cliente.query<{ epoca: string }>(SQL_GANAR_EPOCA, [this.#opciones.claveCerrojo, titular]));
    } catch (error) {
      await this.cerrar();
      throw new Error('No se pudo registrar la época de liderazgo del relay (¿base sin migrar hasta la 0006?)', { cause: error });
    }
    this.#cerca = { cerrojo: this.#opciones.claveCerrojo, epoca: enteroSeguro(rows[0]?.epoca, 'outbox_liderazgo.epoca') };
  }

  #empezarLatido(): void {
    const intervalo = this.#opciones.intervaloLatidoMs ?? 1_000;
    const limite = Math.max(2_000, 2 * intervalo);
    this.#latido = setInterval(() => {
      if (this.#cerrado) return;
      if (this.#latiendoDesde !== null) {
        if (Date.now() - this.#latiendoDesde > limite) {
          this.#perder(new Error(`El latido del líder del relay no respondió en ${limite} ms`));
          // Una conexión medio abierta puede no terminar nunca un `end()` ordenado.
          void this.#cliente.end().catch(() => undefined);
        }
        return;
      }
      this.#latiendoDesde = Date.now();
      this.#cliente.query<{ epoca: string }>(SQL_EPOCA, [this.#opciones.claveCerrojo]).then(
        ({ rows }) => {
          this.#latiendoDesde = null;
          const epoca = rows[0]?.epoca;
          if (epoca !== String(this.#cerca?.epoca)) {
            this.#perder(
              new Error(
                `Otro relay tiene la época del cerrojo ${this.#opciones.claveCerrojo} (${epoca ?? 'ninguna'}; la nuestra, ${this.#cerca?.epoca})`,
              ),
            );
          }
        },
        (error: unknown) => {
          this.#latiendoDesde = null;
          this.#perder(new Error('El latido del líder del relay falló', { cause: error }));
        },
      );
    }, intervalo);
    this.#latido.unref();
  }

  #avisar(): void {
    this.#avisoPendiente = true;
    this.#despertar?.();
  }

  #perder(error: Error): void {
    if (this.#cerrado) return;
    this.#cerrado = true;
    clearInterval(this.#latido);
    this.#despertar?.();
    this.#opciones.alPerder(error);
  }

  /** Espera un aviso de filas nuevas o, como mucho, `ms`. Un aviso llegado antes no se pierde. */
  esperarAviso(ms: number): Promise<void> {
    if (this.#avisoPendiente || this.#cerrado) {
      this.#avisoPendiente = false;
      return Promise.resolve();
    }
    return new Promise((resolver) => {
      const t = setTimeout(() => {
        this.#despertar = null;
        resolver();
      }, ms);
      this.#despertar = () => {
        clearTimeout(t);
        this.#despertar = null;
        this.#avisoPendiente = false;
        resolver();
      };
    });
  }

  /** Suelta el cerrojo y cierra la conexión. */
  async cerrar(): Promise<void> {
    const yaCerrado = this.#cerrado;
    this.#cerrado = true;
    clearInterval(this.#latido);
    this.#despertar?.();
    // Tras una pérdida la conexión puede seguir abierta (p. ej. la época la robó otro): se cierra igual.
    if (!yaCerrado) await conTope(this.#cliente.query('SELECT pg_advisory_unlock_all()'));
    await conTope(this.#cliente.end());
  }
}

/** Una conexión medio abierta no responde nunca: cerrar no espera más de un segundo por ella. */
async function conTope(promesa: Promise<unknown>): Promise<void> {
  let t: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promesa.catch(() => undefined), new Promise<void>((r) => (t = setTimeout(r, 1_000)))]);
  clearTimeout(t);
}
