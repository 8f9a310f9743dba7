import type { Ambito } from '@aeropartners/dominio';
import pg from 'pg';
import { CANAL_EVENTOS } from './asignador-eventos.js';

export interface OpcionesEscuchaEventos {
  /** URL de la base: UNA conexión dedicada a `LISTEN` por instancia, fuera del pool. */
  readonly url: string;
  /** La conexión se perdió (se reintenta cada segundo; los suscriptores se despiertan al volver). */
  readonly alError?: (error: Error) => void;
}

const claveDe = (ambito: Ambito) => `${ambito.idSocio} ${ambito.modo}`;

/**
 * La difusión de «hay eventos nuevos» a los streams de esta instancia (decisión 0162). Una conexión
 * `LISTEN aeropartners_eventos` por instancia, no por cliente; el aviso solo lleva el ámbito, y cada
 * suscriptor lee de la base desde su última secuencia. Un aviso perdido (la conexión cayó) no pierde
 * eventos: al reconectar se despierta a todos los suscriptores, que releen.
 */
export class EscuchaEventos {
  readonly #opciones: OpcionesEscuchaEventos;
  readonly #suscriptores = new Map<string, Set<() => void>>();
  #oyente: pg.Client | null = null;
  #reconexion: NodeJS.Timeout | undefined;
  #cerrado = false;

  constructor(opciones: OpcionesEscuchaEventos) {
    this.#opciones = opciones;
  }

  /**
   * Conecta y escucha. Nunca rechaza: sin base (la API arranca aunque PostgreSQL no esté), avisa por `alError`
   * y reintenta cada segundo; al conseguirlo, despierta a todos los suscriptores.
   */
  async iniciar(): Promise<void> {
    await this.#escuchar();
  }

  /** `alAvisar` se llama cada vez que el ámbito tiene eventos nuevos. Devuelve la baja. */
  suscribir(ambito: Ambito, alAvisar: () => void): () => void {
    const clave = claveDe(ambito);
    let conjunto = this.#suscriptores.get(clave);
    if (!conjunto) {
      conjunto = new Set();
      this.#suscriptores.set(clave, conjunto);
    }
    conjunto.add(alAvisar);
    return () => {
      conjunto.delete(alAvisar);
      if (conjunto.size === 0 && this.#suscriptores.get(clave) === conjunto) this.#suscriptores.delete(clave);
    };
  }

  /** Suscriptores en esta instancia (métricas y tests). */
  get suscritos(): number {
    let n = 0;
    for (const s of this.#suscriptores.values()) n += s.size;
    return n;
  }

  async cerrar(): Promise<void> {
    this.#cerrado = true;
    clearTimeout(this.#reconexion);
    const oyente = this.#oyente;
    this.#oyente = null;
    await oyente?.end().catch(() => undefined);
  }

  #avisar(clave: string | undefined): void {
    const grupos = clave === undefined ? [...this.#suscriptores.values()] : [this.#suscriptores.get(clave)].filter((g) => g !== undefined);
    for (const grupo of grupos) for (const alAvisar of [...grupo]) alAvisar();
  }

  async #escuchar(): Promise<void> {
    const oyente = new pg.Client({
      connectionString: this.#opciones.url,
      application_name: 'aeropartners-avisos-eventos',
      keepAlive: true,
      keepAliveInitialDelayMillis: 5_000,
    });
    const perdida = (error: Error) => {
      if (this.#oyente !== oyente) return;
      this.#oyente = null;
      oyente.end().catch(() => undefined);
      if (this.#cerrado) return;
      this.#opciones.alError?.(new Error('Se perdió la escucha de avisos de eventos: los streams esperan a reconectar', { cause: error }));
      this.#reconexion = setTimeout(() => {
        this.#escuchar().catch(() => undefined);
      }, 1_000);
      this.#reconexion.unref();
    };
    this.#oyente = oyente;
    oyente.on('error', perdida);
    oyente.on('end', () => perdida(new Error('La conexión de avisos de eventos se cerró')));
    oyente.on('notification', (aviso) => {
      if (aviso.channel === CANAL_EVENTOS) this.#avisar(aviso.payload || undefined);
    });
    try {
      await oyente.connect();
      await oyente.query(`LISTEN ${pg.escapeIdentifier(CANAL_EVENTOS)}`);
    } catch (causa) {
      perdida(causa instanceof Error ? causa : new Error(String(causa)));
      return;
    }
    // Mientras no se escuchaba pudo perderse un aviso: todos releen.
    if (this.#oyente === oyente) this.#avisar(undefined);
  }
}
