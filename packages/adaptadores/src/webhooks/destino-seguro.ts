import { lookup as lookupDns, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Los destinos a los que se puede enviar un webhook (SSRF, decisión 0172): solo URLs http(s) sin
 * credenciales, y ninguna dirección de una red privada, de loopback, link-local, reservada o de
 * documentación, salvo que `permitirRedLocal` lo admita (tests y ejecuciones locales). Se comprueba al
 * registrar y otra vez al entregar: el nombre se resuelve y se comprueba CADA dirección, y la conexión
 * usa {@link lookupSeguro}, que vuelve a comprobar lo que resuelve en ese momento (un nombre que cambia
 * de dirección entre la comprobación y la conexión tampoco pasa).
 */

const PROHIBIDAS = new BlockList();
const RANGOS: readonly (readonly [string, number, 'ipv4' | 'ipv6', string])[] = [
  ['0.0.0.0', 8, 'ipv4', 'red «esta red» (0.0.0.0/8)'],
  ['10.0.0.0', 8, 'ipv4', 'red privada (10.0.0.0/8)'],
  ['100.64.0.0', 10, 'ipv4', 'red compartida CGNAT (100.64.0.0/10)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback (127.0.0.0/8)'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (169.254.0.0/16)'],
  ['172.16.0.0', 12, 'ipv4', 'red privada (172.16.0.0/12)'],
  ['192.0.0.0', 24, 'ipv4', 'reservada IETF (192.0.0.0/24)'],
  ['192.0.2.0', 24, 'ipv4', 'documentación (192.0.2.0/24)'],
  ['192.88.99.0', 24, 'ipv4', 'relé 6to4 (192.88.99.0/24)'],
  ['192.168.0.0', 16, 'ipv4', 'red privada (192.168.0.0/16)'],
  ['198.18.0.0', 15, 'ipv4', 'pruebas de rendimiento (198.18.0.0/15)'],
  ['198.51.100.0', 24, 'ipv4', 'documentación (198.51.100.0/24)'],
  ['203.0.113.0', 24, 'ipv4', 'documentación (203.0.113.0/24)'],
  ['224.0.0.0', 4, 'ipv4', 'multidifusión (224.0.0.0/4)'],
  ['240.0.0.0', 4, 'ipv4', 'reservada (240.0.0.0/4)'],
  ['::', 128, 'ipv6', 'dirección no especificada (::)'],
  ['::1', 128, 'ipv6', 'loopback (::1)'],
  ['::', 96, 'ipv6', 'IPv4 compatible (::/96)'],
  ['64:ff9b::', 96, 'ipv6', 'traducción NAT64 (64:ff9b::/96)'],
  ['64:ff9b:1::', 48, 'ipv6', 'traducción NAT64 local (64:ff9b:1::/48)'],
  ['100::', 64, 'ipv6', 'descarte (100::/64)'],
  ['2001::', 23, 'ipv6', 'protocolos IETF (2001::/23)'],
  ['2001:db8::', 32, 'ipv6', 'documentación (2001:db8::/32)'],
  ['2002::', 16, 'ipv6', '6to4 (2002::/16)'],
  ['fc00::', 7, 'ipv6', 'red privada única local (fc00::/7)'],
  ['fe80::', 10, 'ipv6', 'link-local (fe80::/10)'],
  ['fec0::', 10, 'ipv6', 'site-local (fec0::/10)'],
  ['ff00::', 8, 'ipv6', 'multidifusión (ff00::/8)'],
];
for (const [red, prefijo, tipo] of RANGOS) PROHIBIDAS.addSubnet(red, prefijo, tipo);
// Las IPv4 mapeadas (::ffff:a.b.c.d) las comprueba BlockList contra las reglas IPv4.

/** El rango prohibido al que pertenece una dirección IP, o `undefined` si es pública. */
export function rangoProhibido(direccion: string): string | undefined {
  const familia = isIP(direccion);
  if (familia === 0) return `«${direccion}» no es una dirección IP`;
  const tipo = familia === 4 ? 'ipv4' : 'ipv6';
  if (!PROHIBIDAS.check(direccion, tipo)) return undefined;
  // Se busca el nombre del rango (solo para el mensaje): el primero que la contiene.
  for (const [red, prefijo, t, nombre] of RANGOS) {
    const una = new BlockList();
    una.addSubnet(red, prefijo, t);
    if (una.check(direccion, tipo)) return nombre;
  }
  return 'dirección reservada';
}

export type Resolver = (nombre: string) => Promise<readonly string[]>;

/** Todas las direcciones de un nombre, como las resolvería la conexión (`dns.lookup`, con /etc/hosts). */
export const resolverConDns: Resolver = (nombre) =>
  new Promise((resolver, rechazar) =>
    lookupDns(nombre, { all: true, verbatim: true }, (error, direcciones) =>
      error ? rechazar(error) : resolver(direcciones.map((d) => d.address)),
    ),
  );

export interface OpcionesDestino {
  readonly permitirRedLocal: boolean;
  readonly resolver?: Resolver;
}

/** Por qué no se admite un destino: una frase para el socio (o para el registro de un intento). */
export type DestinoRechazado = { readonly ok: false; readonly motivo: string };
export type DestinoComprobado = { readonly ok: true; readonly url: URL } | DestinoRechazado;

const LONGITUD_MAXIMA_URL = 2048;

/** Lo que se puede decidir sin resolver nada: forma de la URL, esquema, credenciales. */
export function comprobarFormaUrl(texto: string): DestinoComprobado {
  if (texto.length > LONGITUD_MAXIMA_URL) return { ok: false, motivo: `admite como máximo ${LONGITUD_MAXIMA_URL} caracteres` };
  let url: URL;
  try {
    url = new URL(texto);
  } catch {
    return { ok: false, motivo: 'no es una URL absoluta' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, motivo: `solo se admiten URLs http:// o https:// (no ${url.protocol})` };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, motivo: 'no puede llevar usuario ni contraseña' };
  if (url.hostname === '') return { ok: false, motivo: 'falta el nombre del servidor' };
  return { ok: true, url };
}

/** El nombre o la dirección de la URL, sin los corchetes de una IPv6 literal. */
const servidorDe = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Comprueba un destino entero: forma, y cada dirección a la que resuelve su nombre (o la dirección
 * literal). Un nombre que no resuelve se rechaza.
 */
export async function comprobarDestino(texto: string, opciones: OpcionesDestino): Promise<DestinoComprobado> {
  const forma = comprobarFormaUrl(texto);
  if (!forma.ok || opciones.permitirRedLocal) return forma;
  const servidor = servidorDe(forma.url);
  let direcciones: readonly string[];
  if (isIP(servidor) !== 0) direcciones = [servidor];
  else {
    try {
      direcciones = await (opciones.resolver ?? resolverConDns)(servidor);
    } catch (error) {
      const codigo = (error as { code?: string }).code;
      return { ok: false, motivo: `el nombre ${servidor} no se puede resolver${codigo ? ` (${codigo})` : ''}` };
    }
    if (direcciones.length === 0) return { ok: false, motivo: `el nombre ${servidor} no resuelve a ninguna dirección` };
  }
  for (const direccion of direcciones) {
    const rango = rangoProhibido(direccion);
    if (rango) {
      return {
        ok: false,
        motivo:
          direccion === servidor
            ? `la dirección ${direccion} es de una red no admitida: ${rango}`
            : `${servidor} resuelve a ${direccion}, de una red no admitida: ${rango}`,
      };
    }
  }
  return forma;
}

type CallbackLookup = (error: NodeJS.ErrnoException | null, direccion: string | LookupAddress[], familia?: number) => void;

/**
 * La función `lookup` para las conexiones de entrega: resuelve como siempre y rechaza la conexión si
 * alguna dirección resuelta está prohibida (la comprobación previa no basta si el DNS cambia entre medias).
 */
export function lookupSeguro(permitirRedLocal: boolean) {
  return (nombre: string, opciones: LookupOptions, callback: CallbackLookup): void => {
    lookupDns(nombre, { ...opciones, all: true }, (error, direcciones) => {
      if (error) return callback(error, '');
      if (!permitirRedLocal) {
        for (const d of direcciones) {
          const rango = rangoProhibido(d.address);
          if (rango) {
            const rechazo: NodeJS.ErrnoException = new Error(`${nombre} resuelve a ${d.address}, de una red no admitida: ${rango}`);
            rechazo.code = 'EDESTINOPROHIBIDO';
            return callback(rechazo, '');
          }
        }
      }
      if (opciones.all) return callback(null, direcciones);
      const primera = direcciones[0];
      if (!primera) return callback(Object.assign(new Error(`${nombre} no resuelve a ninguna dirección`), { code: 'ENOTFOUND' }), '');
      return callback(null, primera.address, primera.family);
    });
  };
}
