import type { AutenticadorDeClaves, CredencialAutenticada, ResultadoAutenticacion } from '@aeropartners/aplicacion';
import { Modo, autorizar, validarIdSocio, type ClaveApi, type Socio } from '@aeropartners/dominio';
import pg from 'pg';
import type { PoolPostgres } from '../pool-postgres.js';
import { hashDeClave, mismoHash, prefijoDe } from './claves.js';
import { COLUMNAS_CLAVE, COLUMNAS_SOCIO, filaAClave, filaASocio, type FilaClave, type FilaSocio } from './filas-socios.js';

/** Canal de `NOTIFY` por el que la base avisa de un cambio de un socio o de sus claves (migración 0007). */
export const CANAL_SOCIOS = 'aeropartners_socios';

/** Plazo por defecto de la caché de credenciales (`pnpm socios revocar` espera al menos esto antes de volver). */
export const PLAZO_CACHE_CLAVES_MS = 5_000;

export interface OpcionesAutenticadorDeClaves {
  readonly pool: PoolPostgres;
  /** URL de la base: la conexión dedicada a `LISTEN` (fuera del pool). */
  readonly url: string;
  /** Cuánto vale una credencial leída de la base sin volver a leerla. Por defecto {@link PLAZO_CACHE_CLAVES_MS}; 0: sin caché. */
  readonly plazoCacheMs?: number;
  /** Cada cuánto se escribe el último uso de las claves usadas (un UPDATE por lote). Por defecto 5 000 ms. */
  readonly intervaloUltimoUsoMs?: number;
  /** Fallos de la conexión de avisos o de la escritura del último uso (no detienen la autenticación). */
  readonly alError?: (error: Error) => void;
  /** Reloj de la caché, en ms (por defecto `Date.now`). */
  readonly ahoraMs?: () => number;
}

/** Lo que se guarda en caché de una clave: su hash (nunca la clave), la clave y su socio. */
interface Credencial {
  readonly hash: Buffer;
  readonly clave: ClaveApi;
  readonly socio: Socio;
  readonly secretosFirma: readonly string[];
}

interface EntradaCache<T> {
  readonly hasta: number;
  readonly valor: T;
}

type FilaCredencial = FilaSocio &
  Omit<FilaClave, 'id' | 'id_socio'> & { id_clave: string; hash_secreto: Buffer; secretos: string[] | null };

const SECRETOS_VIGENTES = `COALESCE((SELECT array_agg(f.secreto ORDER BY f.creado_en DESC) FROM secretos_firma f
   WHERE f.id_socio = s.id AND f.revocado_en IS NULL AND (f.expira_en IS NULL OR f.expira_en > now())), '{}') AS secretos`;

const SQL_CREDENCIAL = `
SELECT ${COLUMNAS_SOCIO}, ${COLUMNAS_CLAVE.replace('c.id::text AS id, c.id_socio, ', 'c.id::text AS id_clave, ')}, c.hash_secreto,
       ${SECRETOS_VIGENTES}
FROM claves_api c JOIN socios s ON s.id = c.id_socio
WHERE c.prefijo = $1`;

const SQL_SOCIO = `SELECT ${COLUMNAS_SOCIO}, ${SECRETOS_VIGENTES} FROM socios s WHERE s.id = $1`;
const SQL_CREAR_SOCIO = 'INSERT INTO socios (id, nombre) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING';

// Último uso por lotes: nunca hacia atrás (dos instancias pueden escribir en cualquier orden).
const SQL_ULTIMO_USO = `
UPDATE claves_api c SET ultimo_uso_en = u.en
FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, en)
WHERE c.id = u.id AND (c.ultimo_uso_en IS NULL OR c.ultimo_uso_en < u.en)`;

// Con un prefijo que no existe se compara igual contra un hash cualquiera: el coste no depende de si está.
const HASH_DE_NADIE = hashDeClave('ap_live_');

/**
 * `AutenticadorDeClaves` sobre PostgreSQL (decisiones 0120 y 0121).
 *
 * Busca la clave por su prefijo público y compara el SHA-256 de lo recibido con el guardado con
 * `timingSafeEqual`. Lo leído se guarda en memoria un plazo corto (la clave no: su hash); un `NOTIFY` de
 * la base (en la misma transacción que revocar, suspender o reactivar) borra lo de ese socio en cuanto se
 * confirma. Si la conexión de avisos se cae, no se usa la caché hasta que vuelva. Aun así la caché es un
 * atajo, no la garantía: la sentencia que crea un pago comprueba otra vez la credencial (ver
 * `CredencialEscritura`). El último uso de cada clave se anota en memoria y se escribe por lotes.
 */
export class PostgresAutenticadorDeClaves implements AutenticadorDeClaves {
  readonly #opciones: OpcionesAutenticadorDeClaves;
  readonly #plazoMs: number;
  readonly #ahoraMs: () => number;
  readonly #porPrefijo = new Map<string, EntradaCache<Credencial | null>>();
  readonly #anonimos = new Map<string, EntradaCache<CredencialAutenticada>>();
  readonly #usos = new Map<string, Date>();
  /** Crece con cada aviso: una lectura que empezó antes no se guarda en caché (podría ser de antes del cambio). */
  #generacion = 0;
  #oyente: pg.Client | null = null;
  #escuchando = false;
  #cerrado = false;
  #temporizadorUso: ReturnType<typeof setInterval> | undefined;
  #reconexion: ReturnType<typeof setTimeout> | undefined;
  #escrituraUso: Promise<void> = Promise.resolve();

  constructor(opciones: OpcionesAutenticadorDeClaves) {
    this.#opciones = opciones;
    this.#plazoMs = opciones.plazoCacheMs ?? PLAZO_CACHE_CLAVES_MS;
    this.#ahoraMs = opciones.ahoraMs ?? Date.now;
  }

  /** Conecta la escucha de avisos y el temporizador del último uso. */
  async iniciar(): Promise<void> {
    await this.#escuchar();
    this.#temporizadorUso = setInterval(() => void this.escribirUltimosUsos(), this.#opciones.intervaloUltimoUsoMs ?? 5_000);
    this.#temporizadorUso.unref();
  }

  /** Si la caché se está usando (la conexión de avisos está viva y el plazo es mayor que 0). */
  get cacheActiva(): boolean {
    return this.#escuchando && this.#plazoMs > 0;
  }

  async autenticar(claveEnClaro: string, ahora: Date): Promise<ResultadoAutenticacion> {
    const hash = hashDeClave(claveEnClaro);
    const prefijo = prefijoDe(claveEnClaro);
    const credencial = prefijo === null ? null : await this.#credencial(prefijo);
    if (!mismoHash(hash, credencial?.hash ?? HASH_DE_NADIE) || credencial === null) return { tipo: 'desconocida' };
    const permiso = autorizar(credencial.socio, credencial.clave, ahora);
    if (!permiso.ok) return { tipo: 'rechazada', motivo: permiso.error, idSocio: credencial.socio.id };
    this.#usos.set(credencial.clave.id, ahora);
    return {
      tipo: 'autenticada',
      credencial: {
        socio: credencial.socio,
        idClave: credencial.clave.id,
        prefijoClave: credencial.clave.prefijo,
        modo: credencial.clave.modo,
        secretosFirma: credencial.socio.firmaObligatoria ? credencial.secretosFirma : [],
      },
    };
  }

  async socioAnonimo(idSocio: string): Promise<CredencialAutenticada> {
    const id = validarIdSocio(idSocio);
    if (!id.ok)
      throw new Error(`Id de socio anónimo inválido «${idSocio}»: ${id.error.tipo === 'DatoInvalido' ? id.error.motivo : id.error.tipo}`);
    const guardada = this.#vigente(this.#anonimos.get(idSocio));
    if (guardada !== undefined) return guardada;
    const generacion = this.#generacion;
    let filas: (FilaSocio & { secretos: string[] | null })[];
    try {
      await this.#opciones.pool.query(SQL_CREAR_SOCIO, [idSocio]);
      ({ rows: filas } = await this.#opciones.pool.query<FilaSocio & { secretos: string[] | null }>(SQL_SOCIO, [idSocio]));
    } catch (causa) {
      throw new Error(`No se pudo leer ni crear el socio anónimo ${idSocio} en PostgreSQL`, { cause: causa });
    }
    const fila = filas[0];
    if (fila === undefined) throw new Error(`El socio anónimo ${idSocio} no aparece tras crearlo`);
    const socio = filaASocio(fila);
    const credencial: CredencialAutenticada = {
      socio,
      idClave: null,
      prefijoClave: null,
      modo: Modo.REAL,
      secretosFirma: socio.firmaObligatoria ? (fila.secretos ?? []) : [],
    };
    if (this.#puedeGuardar(generacion)) this.#anonimos.set(idSocio, { hasta: this.#ahoraMs() + this.#plazoMs, valor: credencial });
    return credencial;
  }

  /** Escribe de una vez el último uso de las claves usadas desde la escritura anterior. */
  escribirUltimosUsos(): Promise<void> {
    this.#escrituraUso = this.#escrituraUso.then(async () => {
      if (this.#usos.size === 0) return;
      const usos = [...this.#usos];
      this.#usos.clear();
      try {
        await this.#opciones.pool.query(SQL_ULTIMO_USO, [usos.map(([id]) => id), usos.map(([, en]) => en)]);
      } catch (causa) {
        // Se reintenta en la próxima vuelta (sin pisar un uso más reciente anotado mientras tanto).
        for (const [id, en] of usos) if (!this.#usos.has(id)) this.#usos.set(id, en);
        this.#opciones.alError?.(new Error('No se pudo escribir el último uso de las claves de API', { cause: causa }));
      }
    });
    return this.#escrituraUso;
  }

  /** Escribe lo pendiente del último uso y cierra la escucha de avisos. */
  async cerrar(): Promise<void> {
    this.#cerrado = true;
    clearInterval(this.#temporizadorUso);
    clearTimeout(this.#reconexion);
    await this.escribirUltimosUsos();
    const oyente = this.#oyente;
    this.#oyente = null;
    this.#escuchando = false;
    await oyente?.end().catch(() => undefined);
  }

  async #credencial(prefijo: string): Promise<Credencial | null> {
    const guardada = this.#vigente(this.#porPrefijo.get(prefijo));
    if (guardada !== undefined) return guardada;
    const generacion = this.#generacion;
    let filas: FilaCredencial[];
    try {
      ({ rows: filas } = await this.#opciones.pool.query<FilaCredencial>({
        name: 'aeropartners_credencial_v1',
        text: SQL_CREDENCIAL,
        values: [prefijo],
      }));
    } catch (causa) {
      throw new Error('No se pudo leer la clave de API en PostgreSQL', { cause: causa });
    }
    const fila = filas[0];
    const credencial: Credencial | null =
      fila === undefined
        ? null
        : {
            hash: fila.hash_secreto,
            clave: filaAClave({ ...fila, id: fila.id_clave, id_socio: fila.id }),
            socio: filaASocio(fila),
            secretosFirma: fila.secretos ?? [],
          };
    if (this.#puedeGuardar(generacion)) this.#porPrefijo.set(prefijo, { hasta: this.#ahoraMs() + this.#plazoMs, valor: credencial });
    return credencial;
  }

  #vigente<T>(entrada: EntradaCache<T> | undefined): T | undefined {
    if (entrada === undefined || !this.cacheActiva) return undefined;
    return entrada.hasta > this.#ahoraMs() ? entrada.valor : undefined;
  }

  #puedeGuardar(generacion: number): boolean {
    return this.cacheActiva && generacion === this.#generacion;
  }

  /** Olvida lo guardado de un socio (o todo, sin socio). */
  #olvidar(idSocio?: string): void {
    this.#generacion += 1;
    if (idSocio === undefined) {
      this.#porPrefijo.clear();
      this.#anonimos.clear();
      return;
    }
    this.#anonimos.delete(idSocio);
    for (const [prefijo, entrada] of this.#porPrefijo) if (entrada.valor?.socio.id === idSocio) this.#porPrefijo.delete(prefijo);
  }

  async #escuchar(): Promise<void> {
    const oyente = new pg.Client({
      connectionString: this.#opciones.url,
      application_name: 'aeropartners-avisos-socios',
      keepAlive: true,
      keepAliveInitialDelayMillis: 5_000,
    });
    const perdida = (error: Error) => {
      if (this.#oyente !== oyente) return;
      this.#oyente = null;
      this.#escuchando = false;
      this.#olvidar();
      oyente.end().catch(() => undefined);
      if (this.#cerrado) return;
      this.#opciones.alError?.(
        new Error('Se perdió la escucha de avisos de socios: sin caché de credenciales hasta reconectar', { cause: error }),
      );
      this.#reconexion = setTimeout(() => {
        this.#escuchar().catch((e: unknown) => perdida(e instanceof Error ? e : new Error(String(e))));
      }, 1_000);
      this.#reconexion.unref();
    };
    this.#oyente = oyente;
    oyente.on('error', perdida);
    oyente.on('end', () => perdida(new Error('La conexión de avisos de socios se cerró')));
    oyente.on('notification', (aviso) => {
      if (aviso.channel === CANAL_SOCIOS) this.#olvidar(aviso.payload || undefined);
    });
    try {
      await oyente.connect();
      await oyente.query(`LISTEN ${pg.escapeIdentifier(CANAL_SOCIOS)}`);
    } catch (causa) {
      perdida(causa instanceof Error ? causa : new Error(String(causa)));
      return;
    }
    if (this.#oyente !== oyente) return;
    // Lo leído antes de escuchar pudo perderse un aviso: se empieza de cero.
    this.#olvidar();
    this.#escuchando = true;
  }
}
