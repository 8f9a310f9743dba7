/**
 * Límite de ritmo por clave (el socio) con una cubeta de fichas en memoria: cada clave tiene una cubeta
 * de `rafaga` fichas que se rellena a `porSegundo` fichas por segundo; una petición gasta `coste` fichas
 * (1 por defecto) o se rechaza sin gastar nada. El límite llega en cada llamada porque vive en la fila de
 * cada socio y puede cambiar en caliente. Todo es O(1) por llamada y sin temporizadores: la recarga se
 * calcula con el tiempo transcurrido desde la última visita, y la memoria se acota expulsando las cubetas
 * que ya se han llenado (equivalen a no tener cubeta) y, si aun así se llega a `maximoClaves`, la que
 * lleva más tiempo sin usarse. Ver `docs/decisiones/0131-limite-de-ritmo-por-socio-con-varias-instancias.md`.
 */

export interface LimiteDeRitmo {
  /** Capacidad de la cubeta: cuántas peticiones seguidas se admiten con la cubeta llena. Entero ≥ 1. */
  readonly rafaga: number;
  /** Fichas que se recuperan por segundo: el ritmo sostenido. Finito y > 0 (puede ser fraccionario). */
  readonly porSegundo: number;
}

/** Lo decidido para una petición, con lo necesario para las cabeceras `RateLimit*` y `Retry-After`. */
export interface DecisionDeLimite {
  readonly permitido: boolean;
  /** El límite aplicado (el de la llamada). */
  readonly limite: LimiteDeRitmo;
  /** Fichas enteras que quedan tras esta petición. */
  readonly restantes: number;
  /** Segundos (fraccionarios) hasta que la cubeta vuelva a estar llena si no llega nada más. */
  readonly segundosHastaLlenarse: number;
  /** Segundos (fraccionarios) hasta que una petición del mismo coste se admitiría; 0 si ya se admitiría. */
  readonly segundosHastaSiguiente: number;
}

export interface OpcionesLimitadorDeRitmo {
  /** Milisegundos de un reloj monótono (por defecto `performance.now()`; los tests pasan uno falso). */
  readonly reloj?: () => number;
  /** Cuántas claves se recuerdan como mucho (por defecto 100 000). */
  readonly maximoClaves?: number;
}

export interface LimitadorDeRitmo {
  /** Gasta `coste` fichas de la cubeta de `clave` si las hay, con el límite dado (el vigente del socio). */
  consumir(clave: string, limite: LimiteDeRitmo, coste?: number): DecisionDeLimite;
  /** Cuántas cubetas se guardan ahora (las llenas no cuentan: se expulsan al pasar). */
  readonly claves: number;
}

export const MAXIMO_CLAVES_POR_DEFECTO = 100_000;

/** Crea un limitador de ritmo en memoria (uno por proceso; con varias instancias, ver la decisión 0131). */
export function crearLimitadorDeRitmo(opciones: OpcionesLimitadorDeRitmo = {}): LimitadorDeRitmo {
  const reloj = opciones.reloj ?? (() => performance.now());
  const maximoClaves = opciones.maximoClaves ?? MAXIMO_CLAVES_POR_DEFECTO;
  if (!Number.isSafeInteger(maximoClaves) || maximoClaves < 1) throw new RangeError(`maximoClaves debe ser un entero ≥ 1: ${maximoClaves}`);
  // El orden de inserción de un Map es el de último uso (cada visita borra y vuelve a insertar): la
  // primera entrada es siempre la que lleva más tiempo sin usarse.
  const cubetas = new Map<string, Cubeta>();

  return {
    consumir(clave, limite, coste = 1) {
      validarLimite(limite);
      if (!Number.isFinite(coste) || coste <= 0) throw new RangeError(`El coste debe ser un número positivo: ${coste}`);
      const ahora = reloj();

      let cubeta = cubetas.get(clave);
      if (cubeta) {
        // Lo transcurrido se recarga al ritmo que regía hasta ahora; el límite nuevo rige desde aquí.
        cubeta.fichas = fichasEn(cubeta, ahora);
        cubetas.delete(clave);
      } else {
        cubeta = { fichas: limite.rafaga, rafaga: limite.rafaga, porSegundo: limite.porSegundo, ultimaVisitaMs: ahora };
      }
      cubeta.fichas = Math.min(cubeta.fichas, limite.rafaga);
      cubeta.rafaga = limite.rafaga;
      cubeta.porSegundo = limite.porSegundo;
      cubeta.ultimaVisitaMs = Math.max(cubeta.ultimaVisitaMs, ahora);

      const permitido = cubeta.fichas + EPSILON >= coste;
      if (permitido) cubeta.fichas = Math.max(0, cubeta.fichas - coste);

      if (cubeta.fichas + EPSILON < cubeta.rafaga) {
        cubetas.set(clave, cubeta);
        expulsar(cubetas, ahora, maximoClaves);
      }
      return {
        permitido,
        limite,
        restantes: Math.floor(cubeta.fichas + EPSILON),
        segundosHastaLlenarse: Math.max(0, (cubeta.rafaga - cubeta.fichas) / cubeta.porSegundo),
        segundosHastaSiguiente: cubeta.fichas + EPSILON >= coste ? 0 : (coste - cubeta.fichas) / cubeta.porSegundo,
      };
    },
    get claves() {
      return cubetas.size;
    },
  };
}

interface Cubeta {
  fichas: number;
  rafaga: number;
  porSegundo: number;
  ultimaVisitaMs: number;
}

// Las fichas son fraccionarias: sin este margen, 0,1 + 0,2 fichas no llegarían a 0,3.
const EPSILON = 1e-9;
// Cuántas de las cubetas más antiguas se miran en cada llamada para expulsar las ya llenas: con dos, la
// limpieza avanza más deprisa de lo que entran claves nuevas (una por llamada como mucho).
const REVISADAS_POR_LLAMADA = 2;

function fichasEn(cubeta: Cubeta, ahoraMs: number): number {
  // Un reloj que retrocede no quita fichas ni las regala.
  const segundos = Math.max(0, ahoraMs - cubeta.ultimaVisitaMs) / 1000;
  return Math.min(cubeta.rafaga, cubeta.fichas + segundos * cubeta.porSegundo);
}

function expulsar(cubetas: Map<string, Cubeta>, ahoraMs: number, maximoClaves: number): void {
  let revisadas = 0;
  for (const [clave, cubeta] of cubetas) {
    if (revisadas === REVISADAS_POR_LLAMADA && cubetas.size <= maximoClaves) return;
    revisadas += 1;
    // Llena equivale a ausente (una clave nueva empieza llena): expulsarla no cambia ninguna decisión.
    // Por encima del máximo se expulsa la más antigua aunque no lo esté: regala fichas a quien lleva más
    // tiempo sin venir, a cambio de acotar la memoria.
    if (fichasEn(cubeta, ahoraMs) + EPSILON >= cubeta.rafaga || cubetas.size > maximoClaves) cubetas.delete(clave);
    else if (cubetas.size <= maximoClaves) return;
  }
}

function validarLimite(limite: LimiteDeRitmo): void {
  if (!Number.isSafeInteger(limite.rafaga) || limite.rafaga < 1) throw new RangeError(`La ráfaga debe ser un entero ≥ 1: ${limite.rafaga}`);
  if (!Number.isFinite(limite.porSegundo) || limite.porSegundo <= 0) {
    throw new RangeError(`El ritmo por segundo debe ser un número positivo: ${limite.porSegundo}`);
  }
}
