/**
 * JSON ambiguo: la misma clave dos veces en un objeto. RFC 8259 §4 deja el resultado a cada lector
 * (`JSON.parse` se queda con la última; otros, con la primera), así que un proxy o un WAF delante de
 * la API podría leer otro `monto` que nosotros. Se rechaza a cualquier profundidad.
 *
 * Se recorre el texto una vez, después de que `JSON.parse` lo aceptó (así el recorrido no valida
 * nada: solo sigue cadenas, objetos y arrays), sin construir nada salvo un conjunto de claves por
 * objeto abierto.
 */

const COMILLA = 0x22;
const BARRA_INVERSA = 0x5c;
const ABRE_OBJETO = 0x7b;
const CIERRA_OBJETO = 0x7d;
const ABRE_ARRAY = 0x5b;
const CIERRA_ARRAY = 0x5d;
const COMA = 0x2c;

interface Marco {
  /** Claves vistas en este objeto; `undefined` si el marco es un array. */
  readonly claves: Set<string> | undefined;
  /** La última clave leída (objeto) o el índice del elemento en curso (array). */
  actual: string | number;
  esperaClave: boolean;
}

/**
 * La ruta (`meta.k.0.a`) de la primera clave repetida dentro de un mismo objeto, o `undefined` si no
 * hay ninguna. `textoJson` debe ser JSON válido (ya aceptado por `JSON.parse`). Dos claves son la
 * misma si lo son tras decodificar sus escapes (`"monto"` y `"\u006donto"`).
 */
export function primeraClaveRepetida(textoJson: string): string | undefined {
  const abiertos: Marco[] = [];
  let marco: Marco | undefined;
  const largo = textoJson.length;
  for (let i = 0; i < largo; i += 1) {
    const c = textoJson.charCodeAt(i);
    if (c === COMILLA) {
      const inicio = i + 1;
      let conEscapes = false;
      i = inicio;
      for (;;) {
        const d = textoJson.charCodeAt(i);
        if (d === COMILLA) break;
        if (d === BARRA_INVERSA) {
          conEscapes = true;
          i += 2;
        } else {
          i += 1;
        }
      }
      if (marco?.claves && marco.esperaClave) {
        const cruda = textoJson.slice(inicio, i);
        const clave = conEscapes ? (JSON.parse(`"${cruda}"`) as string) : cruda;
        marco.actual = clave;
        if (marco.claves.has(clave)) return ruta(abiertos, marco);
        marco.claves.add(clave);
        marco.esperaClave = false;
      }
    } else if (c === ABRE_OBJETO) {
      if (marco) abiertos.push(marco);
      marco = { claves: new Set(), actual: '', esperaClave: true };
    } else if (c === ABRE_ARRAY) {
      if (marco) abiertos.push(marco);
      marco = { claves: undefined, actual: 0, esperaClave: false };
    } else if (c === CIERRA_OBJETO || c === CIERRA_ARRAY) {
      marco = abiertos.pop();
    } else if (c === COMA && marco) {
      if (marco.claves) marco.esperaClave = true;
      else marco.actual = (marco.actual as number) + 1;
    }
  }
  return undefined;
}

function ruta(abiertos: readonly Marco[], ultimo: Marco): string {
  return [...abiertos, ultimo].map((m) => (m.actual === '' ? '""' : String(m.actual))).join('.');
}
