import * as v from 'valibot';

/**
 * La referencia de configuración (docs/configuracion.md) generada de los esquemas valibot de los
 * servicios: cada variable con sus servicios, su valor por defecto y su descripción (`v.description`).
 * La escribe `scripts/generar-doc-configuracion.mjs`; un test la regenera en memoria y la compara con el
 * fichero, así que la tabla y los esquemas no pueden divergir.
 */

export interface EsquemaDeServicio {
  /** Nombre corto del servicio: `api`, `outbox`, `consumer`. */
  readonly servicio: string;
  readonly esquema: v.ObjectSchema<v.ObjectEntries, undefined>;
}

export interface FilaConfiguracion {
  readonly variable: string;
  readonly servicios: readonly string[];
  /** Texto del valor por defecto; `undefined` si es obligatoria; `null` si es opcional sin valor. */
  readonly porDefecto: string | null | undefined;
  readonly significado: string;
}

type Esquema = v.GenericSchema & { readonly pipe?: readonly { readonly type: string; readonly kind: string }[] };

/** La descripción de una variable: la última acción `description` de su tubería. */
function descripcionDe(esquema: Esquema): string {
  const accion = [...(esquema.pipe ?? [])].reverse().find((a) => a.type === 'description') as { readonly description?: string } | undefined;
  if (!accion?.description) throw new Error('variable sin v.description');
  return accion.description;
}

/** El esquema base de una variable (el primero de su tubería, si la tiene). */
function baseDe(esquema: Esquema): v.GenericSchema {
  const primero = esquema.pipe?.[0];
  return (primero && primero.kind === 'schema' ? primero : esquema) as v.GenericSchema;
}

function porDefectoDe(esquema: Esquema): string | null | undefined {
  const base = baseDe(esquema);
  if (base.type !== 'optional' && base.type !== 'nullish') return undefined;
  const valor: unknown = v.getDefault(base as v.OptionalSchema<v.GenericSchema, unknown>);
  return valor === undefined ? null : String(valor);
}

/** Una fila por variable y (valor por defecto, significado): si dos servicios la usan igual, comparten fila. */
export function filasConfiguracion(servicios: readonly EsquemaDeServicio[]): FilaConfiguracion[] {
  const filas = new Map<string, { variable: string; servicios: string[]; porDefecto: string | null | undefined; significado: string }>();
  for (const { servicio, esquema } of servicios) {
    for (const [variable, entrada] of Object.entries(esquema.entries)) {
      let significado: string;
      try {
        significado = descripcionDe(entrada as Esquema);
      } catch {
        throw new Error(`${servicio}: la variable ${variable} no tiene descripción (v.description)`);
      }
      const porDefecto = porDefectoDe(entrada as Esquema);
      const clave = JSON.stringify([variable, porDefecto ?? `<${String(porDefecto)}>`, significado]);
      const fila = filas.get(clave);
      if (fila) fila.servicios.push(servicio);
      else filas.set(clave, { variable, servicios: [servicio], porDefecto, significado });
    }
  }
  return [...filas.values()].sort((a, b) => (a.variable === b.variable ? 0 : a.variable < b.variable ? -1 : 1));
}

const celda = (texto: string) => texto.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

function textoPorDefecto(valor: string | null | undefined): string {
  if (valor === undefined) return '**obligatoria**';
  if (valor === null) return '—';
  return valor === '' ? '`""`' : `\`${valor}\``;
}

/** El documento Markdown completo (con su aviso de fichero generado). */
export function documentoConfiguracion(servicios: readonly EsquemaDeServicio[]): string {
  const filas = filasConfiguracion(servicios);
  return [
    '# Configuración',
    '',
    '<!-- Generado por scripts/generar-doc-configuracion.mjs a partir de los esquemas valibot de cada servicio',
    '     (services/*/src/config.ts). No editar a mano: cambie la descripción en el esquema y regenere con',
    '     `pnpm docs:configuracion`. Un test falla si este fichero y los esquemas no coinciden. -->',
    '',
    'Cada servicio lee su configuración de variables de entorno y la valida al arrancar: un valor no válido',
    'lo detiene con una línea que nombra la variable. Un valor vacío cuenta como ausente. «—» significa',
    'opcional y sin valor por defecto.',
    '',
    '| Variable | Servicio(s) | Por defecto | Significado |',
    '| --- | --- | --- | --- |',
    ...filas.map((f) => `| \`${f.variable}\` | ${f.servicios.join(', ')} | ${textoPorDefecto(f.porDefecto)} | ${celda(f.significado)} |`),
    '',
  ].join('\n');
}
