import { setTimeout as esperar } from 'node:timers/promises';
import pg from 'pg';

export interface OpcionesLiderRelay {
  readonly url: string;
  /** Clave del cerrojo consultivo: una por partición del outbox. */
  readonly claveCerrojo: number;
  /** Canal de LISTEN que despierta al relay (lo emite un disparador del outbox). */
  readonly canal: string;
  /** Cada cuánto reintenta un relay en espera hacerse con el cerrojo. */
  readonly intervaloEsperaMs: number;
  /** Se llama si se pierde la conexión (y con ella el cerrojo): el relay debe dejar de publicar. */
  readonly alPerder: (error: Error) => void;
}

/**
 * Liderazgo del relay: una conexión dedicada que tiene el cerrojo consultivo de sesión
 * (`pg_try_advisory_lock`) y escucha los avisos del outbox. Solo un relay activo por partición: los
 * demás esperan. Si el proceso muere, PostgreSQL cierra la sesión y suelta el cerrojo; si se pierde la
 * conexión, `alPerder` avisa para que el relay pare (otro tomará el relevo).
 */
export class LiderRelay {
  readonly #opciones: OpcionesLiderRelay;
  readonly #cliente: pg.Client;
  #despertar: (() => void) | null = null;
  #avisoPendiente = false;
  #cerrado = false;

  private constructor(opciones: OpcionesLiderRelay, cliente: pg.Client) {
    this.#opciones = opciones;
    this.#cliente = cliente;
  }

  /** Conecta y espera hasta ser líder (o hasta que `senal` aborte: entonces devuelve `null`). */
  static async esperar(opciones: OpcionesLiderRelay, senal: AbortSignal, alEsperar?: () => void): Promise<LiderRelay | null> {
    const cliente = new pg.Client({ connectionString: opciones.url, application_name: 'aeropartners-relay-lider' });
    const lider = new LiderRelay(opciones, cliente);
    cliente.on('error', (error) => lider.#perder(error));
    cliente.on('end', () => lider.#perder(new Error('La conexión del líder del relay se cerró')));
    cliente.on('notification', () => lider.#avisar());
    await cliente.connect();
    let avisado = false;
    while (!senal.aborted) {
      const { rows } = await cliente.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [opciones.claveCerrojo]);
      if (rows[0]?.ok) {
        await cliente.query(`LISTEN ${pg.escapeIdentifier(opciones.canal)}`);
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

  #avisar(): void {
    this.#avisoPendiente = true;
    this.#despertar?.();
  }

  #perder(error: Error): void {
    if (this.#cerrado) return;
    this.#cerrado = true;
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
    this.#despertar?.();
    if (yaCerrado) return;
    await this.#cliente.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await this.#cliente.end().catch(() => undefined);
  }
}
