import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * El esquema Standard Webhooks (HMAC-SHA256, versión `v1`) en las dos direcciones: verificar las
 * peticiones firmadas que envían los socios y firmar los webhooks que les enviamos. Se firma
 * `"{id}.{marca de tiempo}.{cuerpo}"` sobre los bytes crudos del cuerpo, tal cual llegan o salen; la clave
 * HMAC son los bytes que codifica en base64 el secreto tras `whsec_`. Ver
 * `docs/decisiones/0130-firma-de-peticiones-entrantes.md`.
 */

export const PREFIJO_SECRETO_FIRMA = 'whsec_';
/** Tolerancia por defecto entre `webhook-timestamp` y el reloj del servidor, en los dos sentidos. */
export const TOLERANCIA_FIRMA_SEGUNDOS = 300;
/** Los nombres de las cabeceras del esquema (en minúsculas, como las entrega HTTP/2 y `Headers`). */
export const CABECERAS_STANDARD_WEBHOOKS = {
  id: 'webhook-id',
  marcaTiempo: 'webhook-timestamp',
  firma: 'webhook-signature',
} as const;

/** Un cuerpo como bytes crudos o como texto (que se firma codificado en UTF-8). */
export type CuerpoFirmado = Uint8Array | string;

/** Un secreto nuevo: `whsec_` + base64 de 32 bytes aleatorios. */
export function generarSecretoFirma(): string {
  return PREFIJO_SECRETO_FIRMA + randomBytes(BYTES_SECRETO_GENERADO).toString('base64');
}

export interface DatosFirma {
  readonly secreto: string;
  /** `webhook-id`: el id del mensaje, estable entre reintentos. */
  readonly id: string;
  /** `webhook-timestamp`: segundos Unix enteros del intento. */
  readonly marcaTiempoSegundos: number;
  readonly cuerpo: CuerpoFirmado;
}

/**
 * El valor de `webhook-signature` para un mensaje: `v1,<base64 del HMAC-SHA256>`. Un secreto mal formado,
 * un id que no sirve o una marca de tiempo que no es un entero no negativo son errores de programación o de
 * datos propios (no entrada de un socio): lanzan `TypeError`/`RangeError`.
 */
export function firmarStandardWebhooks(datos: DatosFirma): string {
  const clave = claveDeSecreto(datos.secreto);
  if (typeof clave === 'string') throw new TypeError(`Secreto de firma mal formado: ${clave}`);
  const problemaId = problemaDeId(datos.id);
  if (problemaId) throw new TypeError(`webhook-id inválido: ${problemaId}`);
  if (!Number.isSafeInteger(datos.marcaTiempoSegundos) || datos.marcaTiempoSegundos < 0) {
    throw new RangeError(`La marca de tiempo debe ser un entero de segundos no negativo: ${datos.marcaTiempoSegundos}`);
  }
  return `${VERSION_FIRMA},${hmacBase64(clave, datos.id, datos.marcaTiempoSegundos, datos.cuerpo)}`;
}

/** Por qué no se acepta una petición firmada. `detalle` es una frase en español para el socio o el operador. */
export type MotivoFirmaRechazada =
  /** Falta `webhook-id`, `webhook-timestamp` o `webhook-signature` (el detalle dice cuál), o llega vacía. */
  | 'falta_cabecera'
  /** `webhook-id` con caracteres no imprimibles, con `.` o demasiado largo. */
  | 'id_invalido'
  /** `webhook-timestamp` no es un número entero de segundos. */
  | 'marca_de_tiempo_no_numerica'
  /** La marca de tiempo es anterior a ahora − tolerancia. */
  | 'marca_de_tiempo_antigua'
  /** La marca de tiempo es posterior a ahora + tolerancia. */
  | 'marca_de_tiempo_futura'
  /** `webhook-signature` no trae ninguna firma `v1,<base64>`. */
  | 'sin_firma_v1'
  /** Ninguna firma `v1` coincide con ningún secreto vigente (cuerpo alterado, secreto equivocado…). */
  | 'firma_no_coincide'
  /** Lo es uno de los secretos guardados (fallo del servidor, no del socio). */
  | 'secreto_mal_formado'
  /** No hay ningún secreto vigente con el que verificar (fallo del servidor, no del socio). */
  | 'sin_secreto';

export type VerificacionFirma =
  /** `indiceSecreto`: cuál de `secretos` verificó la firma (para saber si el socio ya usa el nuevo al rotar). */
  | { readonly ok: true; readonly indiceSecreto: number }
  | { readonly ok: false; readonly motivo: MotivoFirmaRechazada; readonly detalle: string };

export interface DatosVerificacion {
  /** Los secretos vigentes del socio (dos durante una rotación). */
  readonly secretos: readonly string[];
  /** Los valores de las tres cabeceras tal cual llegaron (`undefined`/`null` si faltan). */
  readonly cabeceras: {
    readonly id: string | null | undefined;
    readonly marcaTiempo: string | null | undefined;
    readonly firma: string | null | undefined;
  };
  /** El cuerpo crudo, byte a byte como llegó (texto: se toma su codificación UTF-8). */
  readonly cuerpo: CuerpoFirmado;
  /** Segundos Unix del servidor (se trunca a entero, como hacen las bibliotecas oficiales). */
  readonly ahoraSegundos: number;
  readonly toleranciaSegundos?: number;
}

/**
 * Verifica una petición firmada con Standard Webhooks. Acepta varias firmas separadas por espacios en
 * `webhook-signature` (rotación del lado del socio) y varios secretos vigentes (rotación del nuestro);
 * solo cuenta las firmas `v1` (las demás versiones se ignoran) y compara en tiempo constante. La marca de
 * tiempo vale si dista de ahora como mucho `toleranciaSegundos` (incluido el límite), en los dos sentidos.
 */
export function verificarStandardWebhooks(datos: DatosVerificacion): VerificacionFirma {
  const tolerancia = datos.toleranciaSegundos ?? TOLERANCIA_FIRMA_SEGUNDOS;
  if (!Number.isFinite(tolerancia) || tolerancia < 0) throw new RangeError(`Tolerancia de firma inválida: ${tolerancia}`);
  if (!Number.isFinite(datos.ahoraSegundos)) throw new RangeError(`Hora del servidor inválida: ${datos.ahoraSegundos}`);

  // Primero lo que depende del servidor: con un secreto roto el socio no puede hacer nada por su parte.
  if (datos.secretos.length === 0) return rechazo('sin_secreto', 'el socio no tiene ningún secreto de firma vigente');
  const claves: Buffer[] = [];
  for (const [i, secreto] of datos.secretos.entries()) {
    const clave = claveDeSecreto(secreto);
    if (typeof clave === 'string')
      return rechazo('secreto_mal_formado', `el secreto de firma n.º ${i + 1} del socio está mal formado: ${clave}`);
    claves.push(clave);
  }

  const { id, marcaTiempo, firma } = datos.cabeceras;
  for (const [nombre, valor] of [
    [CABECERAS_STANDARD_WEBHOOKS.id, id],
    [CABECERAS_STANDARD_WEBHOOKS.marcaTiempo, marcaTiempo],
    [CABECERAS_STANDARD_WEBHOOKS.firma, firma],
  ] as const) {
    if (valor === undefined || valor === null || valor.trim() === '') {
      return rechazo('falta_cabecera', `falta la cabecera ${nombre} (la petición debe ir firmada con Standard Webhooks)`);
    }
  }
  const problemaId = problemaDeId(id!);
  if (problemaId) return rechazo('id_invalido', `la cabecera webhook-id no es válida: ${problemaId}`);

  const textoMarca = marcaTiempo!.trim();
  if (!ENTERO.test(textoMarca)) {
    return rechazo(
      'marca_de_tiempo_no_numerica',
      `la cabecera webhook-timestamp debe ser un entero de segundos Unix, no «${recortar(textoMarca)}»`,
    );
  }
  const segundos = Number(textoMarca);
  const ahora = Math.floor(datos.ahoraSegundos);
  if (ahora - segundos > tolerancia) {
    return rechazo(
      'marca_de_tiempo_antigua',
      `la marca de tiempo webhook-timestamp (${segundos}) es ${ahora - segundos} s anterior a la hora del servidor (${ahora}); se aceptan ±${tolerancia} s`,
    );
  }
  if (segundos - ahora > tolerancia) {
    return rechazo(
      'marca_de_tiempo_futura',
      `la marca de tiempo webhook-timestamp (${segundos}) es ${segundos - ahora} s posterior a la hora del servidor (${ahora}); se aceptan ±${tolerancia} s`,
    );
  }

  const recibidas: Buffer[] = [];
  for (const parte of firma!.split(' ')) {
    const coma = parte.indexOf(',');
    if (coma < 0 || parte.slice(0, coma) !== VERSION_FIRMA) continue;
    recibidas.push(Buffer.from(parte.slice(coma + 1), 'latin1'));
  }
  if (recibidas.length === 0) {
    return rechazo('sin_firma_v1', 'la cabecera webhook-signature no trae ninguna firma «v1,<base64>» (varias, separadas por espacios)');
  }

  for (const [i, clave] of claves.entries()) {
    // Se compara el texto base64 canónico: una firma con otra codificación de los mismos bytes no coincide.
    const esperada = Buffer.from(hmacBase64(clave, id!, segundos, datos.cuerpo), 'latin1');
    for (const recibida of recibidas) {
      if (recibida.length === esperada.length && timingSafeEqual(recibida, esperada)) return { ok: true, indiceSecreto: i };
    }
  }
  return rechazo(
    'firma_no_coincide',
    'ninguna firma de webhook-signature coincide: se firma "{webhook-id}.{webhook-timestamp}.{cuerpo}" con HMAC-SHA256, sobre los bytes exactos del cuerpo enviado, con la clave que codifica el secreto tras «whsec_»',
  );
}

const VERSION_FIRMA = 'v1';
const BYTES_SECRETO_GENERADO = 32;
// Lo que recomienda la especificación para los secretos simétricos: de 24 a 64 bytes.
const BYTES_SECRETO_MINIMO = 24;
const BYTES_SECRETO_MAXIMO = 64;
const LONGITUD_MAXIMA_ID = 256;
const ENTERO = /^[0-9]{1,15}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// ASCII visible salvo el punto: con un punto en el id, "{id}.{ts}.{cuerpo}" admitiría otra partición.
const ID_VALIDO = /^[\x21-\x2D\x2F-\x7E]+$/;

function hmacBase64(clave: Buffer, id: string, segundos: number, cuerpo: CuerpoFirmado): string {
  return createHmac('sha256', clave).update(`${id}.${segundos}.`, 'utf8').update(cuerpo).digest('base64');
}

/** La clave HMAC de un secreto `whsec_<base64>`, o por qué no lo es. */
function claveDeSecreto(secreto: string): Buffer | string {
  if (typeof secreto !== 'string' || !secreto.startsWith(PREFIJO_SECRETO_FIRMA)) return `no empieza por «${PREFIJO_SECRETO_FIRMA}»`;
  const codificado = secreto.slice(PREFIJO_SECRETO_FIRMA.length);
  if (!BASE64.test(codificado)) return `lo que sigue a «${PREFIJO_SECRETO_FIRMA}» no es base64`;
  const clave = Buffer.from(codificado, 'base64');
  if (clave.length < BYTES_SECRETO_MINIMO || clave.length > BYTES_SECRETO_MAXIMO) {
    return `codifica ${clave.length} bytes (se admiten de ${BYTES_SECRETO_MINIMO} a ${BYTES_SECRETO_MAXIMO})`;
  }
  return clave;
}

function problemaDeId(id: string): string | undefined {
  if (id.length === 0) return 'está vacío';
  if (id.length > LONGITUD_MAXIMA_ID) return `tiene ${id.length} caracteres (como mucho ${LONGITUD_MAXIMA_ID})`;
  if (!ID_VALIDO.test(id)) return 'solo admite caracteres ASCII visibles y ningún punto';
  return undefined;
}

function rechazo(motivo: MotivoFirmaRechazada, detalle: string): VerificacionFirma {
  return { ok: false, motivo, detalle };
}

function recortar(texto: string): string {
  return texto.length > 40 ? `${texto.slice(0, 40)}…` : texto;
}
