import { setTimeout as dormir } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { AdministracionSocios, ErrorAdministracion } from '@aeropartners/aplicacion';
import { Modo, estadoClave, type Resultado } from '@aeropartners/dominio';
import { PLAZO_CACHE_CLAVES_MS } from '../postgres/socios/postgres-autenticador-de-claves.js';
import { ErrorOperacion, duracionMs, type EntornoOperacion } from './entorno-operacion.js';

/**
 * Las subórdenes de administración de `pnpm socios` (crear, clave, revocar, suspender, reactivar,
 * listar) sobre el puerto `AdministracionSocios`: cada una lee sus argumentos, llama al puerto y escribe
 * una línea (JSON donde otro programa la lee: `crear` y `clave`). Un error es una línea y un código ≠ 0.
 */

const OPCIONES = {
  'firma-obligatoria': { type: 'boolean' },
  'limite-rps': { type: 'string' },
  test: { type: 'boolean' },
  'expira-en': { type: 'string' },
  json: { type: 'boolean' },
} as const;

type Opciones = { readonly [K in keyof typeof OPCIONES]?: (typeof OPCIONES)[K]['type'] extends 'boolean' ? boolean : string };

export interface ContextoSocios {
  readonly administracion: AdministracionSocios;
  readonly entorno: EntornoOperacion;
  readonly ahora: () => Date;
  /** Espera antes de volver de `revocar`, `suspender` y `reactivar` (inyectable en los tests). */
  readonly esperar?: (ms: number) => Promise<void>;
}

export function leerOpciones(argumentos: readonly string[], orden: string): { o: Opciones; posicionales: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...argumentos], options: OPCIONES, allowPositionals: true, strict: true });
    return { o: values, posicionales: positionals };
  } catch (error) {
    const mensaje = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ErrorOperacion(`Argumentos inválidos: ${mensaje} (pnpm socios ${orden} --ayuda)`, 2);
  }
}

function soloPermitidas(o: Opciones, permitidas: readonly (keyof Opciones)[], orden: string): void {
  for (const nombre of Object.keys(o) as (keyof Opciones)[]) {
    if (o[nombre] !== undefined && !permitidas.includes(nombre))
      throw new ErrorOperacion(`--${nombre} no es una opción de «socios ${orden}»`, 2);
  }
}

function posicionales(p: readonly string[], nombres: readonly string[], orden: string): string[] {
  if (p.length !== nombres.length) {
    throw new ErrorOperacion(`Uso: pnpm socios ${orden} ${nombres.map((n) => `<${n}>`).join(' ')} (recibido: ${p.length} argumento(s))`, 2);
  }
  return [...p];
}

/** Un error de la administración como una línea para el operador. */
export function describirError(error: ErrorAdministracion): string {
  switch (error.tipo) {
    case 'DatoInvalido':
      return `${error.campo}: ${error.motivo}`;
    case 'DemasiadasClaves':
      return `El socio ${error.idSocio} ya tiene 2 claves vigentes en modo ${error.modo} (${error.vigentes.join(', ')}): revoque una con «pnpm socios revocar ${error.idSocio} <prefijo>».`;
    case 'SinClaveAnterior':
      return `El socio ${error.idSocio} no tiene una clave vigente en modo ${error.modo} a la que poner --expira-en.`;
    case 'SocioNoEncontrado':
      return `No existe el socio ${error.idSocio} (pnpm socios listar).`;
    case 'ClaveNoEncontrada':
      return `El socio ${error.idSocio} no tiene una clave con el prefijo ${error.prefijo} (pnpm socios listar).`;
    case 'DemasiadosSecretos':
      return `El socio ${error.idSocio} ya tiene 2 secretos de firma vigentes.`;
  }
}

function valor<T>(r: Resultado<T, ErrorAdministracion>): T {
  if (!r.ok) throw new ErrorOperacion(describirError(r.error));
  return r.valor;
}

function limiteRps(texto: string | undefined): number | null {
  if (texto === undefined) return null;
  if (!/^[1-9][0-9]{0,6}$/.test(texto)) throw new ErrorOperacion(`--limite-rps inválido: «${texto}» (entero de 1 a 1000000)`, 2);
  return Number(texto);
}

/** `--expira-en`: un instante ISO 8601 o una duración desde ahora (`90s`, `10m`, `24h`). */
export function instanteDe(texto: string, ahora: Date): Date {
  const ms = duracionMs(texto);
  if (ms !== undefined) return new Date(ahora.getTime() + ms);
  if (/^\d{4}-\d{2}-\d{2}T/.test(texto)) {
    const fecha = new Date(texto);
    if (!Number.isNaN(fecha.getTime())) return fecha;
  }
  throw new ErrorOperacion(
    `--expira-en inválido: «${texto}» (un instante ISO 8601 como 2026-12-31T23:59:00Z o una duración: 90s, 10m, 24h)`,
    2,
  );
}

/** El plazo de la caché de credenciales de las instancias de la API (`CLAVES_CACHE_MS`, por defecto 5 s). */
export function plazoCacheDe(env: EntornoOperacion['env']): number {
  const texto = env.CLAVES_CACHE_MS;
  if (texto === undefined || texto === '') return PLAZO_CACHE_CLAVES_MS;
  if (!/^[0-9]{1,7}$/.test(texto)) throw new ErrorOperacion(`CLAVES_CACHE_MS inválida: «${texto}» (milisegundos, entero de 0 a 9999999)`);
  return Number(texto);
}

/** Tras revocar o suspender: que ninguna instancia acepte ya la credencial por su caché (el aviso NOTIFY es el camino rápido; esto, la garantía). */
async function esperarCaches(ctx: ContextoSocios): Promise<void> {
  const ms = plazoCacheDe(ctx.entorno.env);
  if (ms > 0) await (ctx.esperar ?? ((t) => dormir(t)))(ms);
}

const modoDe = (o: Opciones): Modo => (o.test ? Modo.PRUEBA : Modo.REAL);

export async function sociosCrear(ctx: ContextoSocios, argumentos: readonly string[]): Promise<number> {
  const { o, posicionales: p } = leerOpciones(argumentos, 'crear');
  soloPermitidas(o, ['firma-obligatoria', 'limite-rps', 'test'], 'crear');
  const [nombre] = posicionales(p, ['nombre'], 'crear');
  const creado = valor(
    await ctx.administracion.crear(
      {
        nombre: nombre as string,
        firmaObligatoria: o['firma-obligatoria'] === true,
        limiteRps: limiteRps(o['limite-rps']),
        modo: modoDe(o),
      },
      ctx.ahora(),
    ),
  );
  ctx.entorno.escribir(
    JSON.stringify({
      id_socio: creado.socio.id,
      clave: creado.clave.claveEnClaro,
      ...(creado.secretoFirma === null ? {} : { secreto_firma: creado.secretoFirma }),
    }),
  );
  ctx.entorno.escribirError('Guarde la clave (y el secreto de firma) ahora: no se vuelven a mostrar.');
  return 0;
}

export async function sociosClave(ctx: ContextoSocios, argumentos: readonly string[]): Promise<number> {
  const { o, posicionales: p } = leerOpciones(argumentos, 'clave');
  soloPermitidas(o, ['expira-en', 'test'], 'clave');
  const [idSocio] = posicionales(p, ['id_socio'], 'clave');
  const ahora = ctx.ahora();
  const expira = o['expira-en'] === undefined ? undefined : instanteDe(o['expira-en'], ahora);
  const emitida = valor(await ctx.administracion.emitirClave(idSocio as string, modoDe(o), ahora, expira));
  ctx.entorno.escribir(JSON.stringify({ id_socio: idSocio, clave: emitida.claveEnClaro, prefijo: emitida.clave.prefijo }));
  ctx.entorno.escribirError(
    expira === undefined
      ? 'Guarde la clave ahora: no se vuelve a mostrar. La anterior sigue valiendo hasta que la revoque.'
      : `Guarde la clave ahora: no se vuelve a mostrar. La anterior deja de valer el ${expira.toISOString()}.`,
  );
  return 0;
}

export async function sociosRevocar(ctx: ContextoSocios, argumentos: readonly string[]): Promise<number> {
  const { o, posicionales: p } = leerOpciones(argumentos, 'revocar');
  soloPermitidas(o, [], 'revocar');
  const [idSocio, prefijo] = posicionales(p, ['id_socio', 'prefijo'], 'revocar');
  const clave = valor(await ctx.administracion.revocarClave(idSocio as string, prefijo as string, ctx.ahora()));
  await esperarCaches(ctx);
  ctx.entorno.escribir(
    `Clave ${clave.prefijo} del socio ${clave.idSocio} revocada (${clave.revocadaEn?.toISOString()}): ya no la acepta ninguna instancia.`,
  );
  return 0;
}

export function sociosEstado(estado: 'suspender' | 'reactivar') {
  return async (ctx: ContextoSocios, argumentos: readonly string[]): Promise<number> => {
    const { o, posicionales: p } = leerOpciones(argumentos, estado);
    soloPermitidas(o, [], estado);
    const [idSocio] = posicionales(p, ['id_socio'], estado);
    const cambio = valor(
      await (estado === 'suspender' ? ctx.administracion.suspender(idSocio as string) : ctx.administracion.reactivar(idSocio as string)),
    );
    await esperarCaches(ctx);
    const hecho = estado === 'suspender' ? 'suspendido' : 'reactivado';
    ctx.entorno.escribir(
      cambio.cambiado
        ? `Socio ${cambio.socio.id} ${hecho}.`
        : `El socio ${cambio.socio.id} ya estaba ${cambio.socio.estado}: nada que cambiar.`,
    );
    return 0;
  };
}

export async function sociosListar(ctx: ContextoSocios, argumentos: readonly string[]): Promise<number> {
  const { o, posicionales: p } = leerOpciones(argumentos, 'listar');
  soloPermitidas(o, ['json'], 'listar');
  posicionales(p, [], 'listar');
  const ahora = ctx.ahora();
  const socios = await ctx.administracion.listar();
  for (const { socio, claves } of socios) {
    const filaClaves = claves.map((c) => ({
      prefijo: c.prefijo,
      modo: c.modo,
      estado: estadoClave(c, ahora),
      creada_en: c.creadaEn.toISOString(),
      expira_en: c.expiraEn?.toISOString() ?? null,
    }));
    if (o.json) {
      ctx.entorno.escribir(
        JSON.stringify({
          id_socio: socio.id,
          nombre: socio.nombre,
          estado: socio.estado,
          firma_obligatoria: socio.firmaObligatoria,
          limite_rps: socio.limiteRps,
          claves: filaClaves,
        }),
      );
      continue;
    }
    const extras = [socio.firmaObligatoria ? 'firma obligatoria' : null, socio.limiteRps === null ? null : `${socio.limiteRps} rps`].filter(
      Boolean,
    );
    ctx.entorno.escribir(`${socio.id}  ${socio.estado}  «${socio.nombre}»${extras.length > 0 ? `  (${extras.join(', ')})` : ''}`);
    for (const c of filaClaves) {
      ctx.entorno.escribir(
        `    ${c.prefijo}…  ${c.modo}  ${c.estado}  creada ${c.creada_en}${c.expira_en === null ? '' : `  expira ${c.expira_en}`}`,
      );
    }
  }
  if (!o.json) ctx.entorno.escribirError(`${socios.length} socio(s).`);
  return 0;
}
