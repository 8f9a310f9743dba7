import type { Context, Env, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { uniqueSymbol } from 'hono-openapi';
import * as v from 'valibot';
import { leerConsulta } from './consulta.js';
import { interpretarJson, motivoTipoNoSoportado } from './cuerpo.js';
import { leerCuerpoAcotado } from './cuerpo-crudo.js';
import { esquemaDocumentado } from './openapi.js';
import type { ErrorCampo } from './problemas.js';

/**
 * La entrada de cada ruta. `validar(objetivo, esquema)` lee una parte de la petición (cabeceras,
 * parámetros de ruta, consulta o cuerpo JSON), la valida con su esquema valibot y deja el resultado en
 * `c.req.valid(objetivo)`; si no vale, la rechaza con un error por campo. Lleva además la marca de
 * hono-openapi (la misma que su `validator`): el documento publica cada esquema como parámetro o como
 * cuerpo de la ruta que lo usa, así que una ruta nueva queda documentada por escribirse con su esquema.
 *
 * No se usa el `validator` de hono-openapi tal cual porque lee la petición a su manera y aquí la
 * entrada es más estricta (ver `docs/decisiones/0090-openapi-generado-de-las-rutas.md`): cabeceras con
 * su nombre documentado, parámetros de consulta repetidos o mal codificados, JSON ambiguo, límite de
 * tamaño y tipo de contenido antes de leer nada, y un solo 400 que nombra todos los campos.
 */

export type Objetivo = 'header' | 'param' | 'query' | 'json';

/** Lo que la app convierte en problem+json (`app.ts`). */
export type Rechazo =
  | { readonly tipo: 'solicitud-invalida'; readonly errores: readonly ErrorCampo[] }
  | { readonly tipo: 'cuerpo-demasiado-grande'; readonly limiteBytes: number }
  | { readonly tipo: 'tipo-de-contenido-no-soportado'; readonly detalle: string };

export interface OpcionesEntrada<E extends Env> {
  readonly limiteCuerpoBytes: number;
  readonly rechazar: (c: Context<E>, rechazo: Rechazo) => Response;
}

type Comprobacion = { readonly ok: true; readonly valor: unknown } | { readonly ok: false; readonly errores: readonly ErrorCampo[] };

/** Un 400 nombra primero lo que va en las cabeceras y la URL, después el cuerpo. */
const ORDEN: Readonly<Record<Objetivo, number>> = { header: 0, param: 1, query: 2, json: 3 };

/** En un validador que no es del cuerpo: comprueba su parte sin efectos (ver {@link erroresDeLosSiguientes}). */
const COMPROBAR = Symbol('comprobar');
type Comprobable = { readonly [COMPROBAR]?: { readonly objetivo: Objetivo; comprobar(c: Context): Comprobacion } };

export function crearEntrada<E extends Env>(opciones: OpcionesEntrada<E>) {
  const { rechazar, limiteCuerpoBytes } = opciones;
  const demasiadoGrande = (c: Context<E>) => rechazar(c, { tipo: 'cuerpo-demasiado-grande', limiteBytes: limiteCuerpoBytes });

  function validar<O extends Objetivo, S extends v.GenericSchema>(
    objetivo: O,
    esquema: S,
  ): MiddlewareHandler<E, string, { out: { [K in O]: v.InferOutput<S> } }> {
    const comprobar = (valor: unknown): Comprobacion => {
      const resultado = v.safeParse(esquema, valor);
      return resultado.success ? { ok: true, valor: resultado.output } : { ok: false, errores: erroresDeValidacion(resultado.issues) };
    };
    const leer = objetivo === 'json' ? undefined : lectorDe(objetivo, nombresDe(esquema));
    const leerYComprobar =
      leer &&
      ((c: Context): Comprobacion => {
        const lectura = leer(c);
        return lectura.ok ? comprobar(lectura.valor) : lectura;
      });

    const aceptar = async (c: Context<E>, comprobacion: Comprobacion, seguir: () => Promise<void>) => {
      if (!comprobacion.ok) {
        const errores = [{ objetivo, errores: comprobacion.errores }, ...erroresDeLosSiguientes(c)];
        errores.sort((a, b) => ORDEN[a.objetivo] - ORDEN[b.objetivo]);
        return rechazar(c, { tipo: 'solicitud-invalida', errores: errores.flatMap((e) => e.errores) });
      }
      c.req.addValidatedData(objetivo, comprobacion.valor as object);
      await seguir();
      return undefined;
    };

    const validador: MiddlewareHandler<E> = leerYComprobar
      ? async (c, next) => aceptar(c, leerYComprobar(c), next)
      : async (c, next) => {
          // El cuerpo: tipo de contenido (415) y tamaño (413) antes de leerlo.
          const motivo = motivoTipoNoSoportado(c.req.header('content-type'), c.req.header('content-encoding'));
          if (motivo !== undefined) return rechazar(c, { tipo: 'tipo-de-contenido-no-soportado', detalle: motivo });
          const bytes = await leerCuerpoAcotado(c, limiteCuerpoBytes);
          if (bytes === null) return demasiadoGrande(c);
          const lectura = interpretarJson(bytes);
          return lectura.ok
            ? aceptar(c, comprobar(lectura.valor), next)
            : rechazar(c, { tipo: 'solicitud-invalida', errores: [{ campo: lectura.campo, mensaje: lectura.mensaje }] });
        };

    const marcas = {
      [uniqueSymbol]: { target: objetivo, ...esquemaDocumentado(esquema, objetivo === 'query' ? 'output' : 'input') },
      ...(leerYComprobar ? { [COMPROBAR]: { objetivo, comprobar: leerYComprobar } } : {}),
    };
    return Object.assign(validador, marcas) as MiddlewareHandler<E, string, { out: { [K in O]: v.InferOutput<S> } }>;
  }

  /**
   * Si una parte no vale, un solo 400 nombra también los campos malos de las partes que la ruta valida
   * después (cabeceras, ruta, consulta: leerlas no tiene efectos). Por eso el cuerpo se valida el
   * primero de la ruta: si falla, el 400 nombra también las cabeceras.
   */
  function erroresDeLosSiguientes(c: Context<E>): { objetivo: Objetivo; errores: readonly ErrorCampo[] }[] {
    return matchedRoutes(c)
      .slice(c.req.routeIndex + 1)
      .flatMap(({ handler }) => {
        const siguiente = (handler as Comprobable)[COMPROBAR];
        const comprobacion = siguiente?.comprobar(c);
        return siguiente && comprobacion && !comprobacion.ok ? [{ objetivo: siguiente.objetivo, errores: comprobacion.errores }] : [];
      });
  }

  return { validar };
}

/** Lee la parte de la petición que valida un validador que no es del cuerpo. */
function lectorDe(objetivo: Exclude<Objetivo, 'json'>, nombres: readonly string[]): (c: Context) => Comprobacion {
  switch (objetivo) {
    case 'header':
      // Cada cabecera con el nombre que documenta el esquema (`Idempotency-Key`), que es el que nombra un error.
      return (c) => {
        const valores: Record<string, string> = {};
        for (const nombre of nombres) {
          const valor = c.req.header(nombre);
          if (valor !== undefined) valores[nombre] = valor;
        }
        return { ok: true, valor: valores };
      };
    case 'param':
      return (c) => ({ ok: true, valor: c.req.param() });
    case 'query': {
      const parametros = new Set(nombres);
      return (c) => {
        const lectura = leerConsulta(c.req.url, parametros);
        return lectura.ok ? { ok: true, valor: lectura.valores } : lectura;
      };
    }
    default:
      return objetivo satisfies never;
  }
}

/** Las claves de un `v.object` (o de un pipe que empieza por uno): las cabeceras o los parámetros que se leen. */
function nombresDe(esquema: v.GenericSchema): readonly string[] {
  const base: unknown = 'pipe' in esquema && Array.isArray(esquema.pipe) ? esquema.pipe[0] : esquema;
  return typeof base === 'object' && base !== null && 'entries' in base && typeof base.entries === 'object' && base.entries !== null
    ? Object.keys(base.entries)
    : [];
}

/** Un error por campo (el primero de cada uno): «es obligatorio» si falta, si no el mensaje del esquema. */
export function erroresDeValidacion(issues: readonly v.BaseIssue<unknown>[]): ErrorCampo[] {
  const errores: ErrorCampo[] = [];
  const vistos = new Set<string>();
  for (const issue of issues) {
    const ruta = v.getDotPath(issue);
    const campo = ruta ?? 'cuerpo';
    if (vistos.has(campo)) continue;
    vistos.add(campo);
    const falta = ruta !== null && issue.input === undefined;
    errores.push({ campo, mensaje: falta ? 'es obligatorio' : issue.message });
  }
  return errores;
}
