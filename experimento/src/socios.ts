import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CABECERAS_STANDARD_WEBHOOKS, firmarStandardWebhooks } from '@aeropartners/adaptadores';

/**
 * Los socios de una corrida: socios de verdad, creados con la administración de socios (`pnpm socios`)
 * contra la base de la topología, cada uno con su clave. Todos comparten referencias (ver `plan.ts`);
 * además, con 3 socios o más, uno exige firmas, y con 4 o más, uno se suspende a mitad de la carga.
 */

export type Papel = 'normal' | 'firma' | 'suspendido';

export interface SocioCorrida {
  /** Número del socio en el plan (1…P). */
  readonly numero: number;
  readonly id: string;
  readonly papel: Papel;
  readonly clave: string;
  /** Su secreto `whsec_…` si exige firmas. */
  readonly secretoFirma: string | undefined;
}

/** Lo que imprime `pnpm socios crear` (una línea JSON). */
export interface SocioCreado {
  readonly id_socio: string;
  readonly clave: string;
  readonly secreto_firma?: string;
}

export interface AdministradorSocios {
  crear(nombre: string, opciones: { readonly firmaObligatoria: boolean; readonly limiteRps: number }): Promise<SocioCreado>;
  suspender(idSocio: string): Promise<void>;
}

/**
 * El papel de cada socio: el 3.º exige firmas y el 4.º se suspende; los demás (y los dos primeros, que
 * son los que más claramente comparten referencias con todos) son normales.
 */
export function papelesDeSocios(socios: number): Papel[] {
  return Array.from({ length: socios }, (_, i): Papel => (i === 2 ? 'firma' : i === 3 ? 'suspendido' : 'normal'));
}

/**
 * El límite de ritmo de los socios de la corrida: el máximo que admite la administración, para que la
 * capacidad que mide la rampa sea la del sistema y no la del límite (el límite sí se aplica y se cuenta).
 */
export const LIMITE_RPS_CORRIDA = 1_000_000;

/** Crea los socios de la corrida, uno tras otro (son pocos). */
export async function crearSociosDeLaCorrida(admin: AdministradorSocios, corrida: string, socios: number): Promise<SocioCorrida[]> {
  const papeles = papelesDeSocios(socios);
  const creados: SocioCorrida[] = [];
  for (const [i, papel] of papeles.entries()) {
    const numero = i + 1;
    const c = await admin.crear(`experimento ${corrida} socio ${numero}${papel === 'normal' ? '' : ` (${papel})`}`, {
      firmaObligatoria: papel === 'firma',
      limiteRps: LIMITE_RPS_CORRIDA,
    });
    if (papel === 'firma' && !c.secreto_firma) throw new Error(`el socio ${c.id_socio} exige firmas pero no se recibió su secreto_firma`);
    creados.push({ numero, id: c.id_socio, papel, clave: c.clave, secretoFirma: c.secreto_firma });
  }
  return creados;
}

const ejecutar = promisify(execFile);

/** Lee la línea JSON de `pnpm socios crear` y comprueba su forma. */
export function leerSocioCreado(salida: string): SocioCreado {
  const linea = salida
    .trim()
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .at(-1);
  let json: unknown;
  try {
    json = JSON.parse(linea ?? '');
  } catch {
    throw new Error(`«socios crear» no imprimió una línea JSON: ${salida.slice(0, 300)}`);
  }
  const o = json as Record<string, unknown>;
  if (typeof o['id_socio'] !== 'string' || typeof o['clave'] !== 'string') {
    throw new Error(`«socios crear» no devolvió id_socio y clave: ${linea}`);
  }
  if (o['secreto_firma'] !== undefined && typeof o['secreto_firma'] !== 'string') {
    throw new Error(`«socios crear» devolvió un secreto_firma que no es texto: ${linea}`);
  }
  return {
    id_socio: o['id_socio'],
    clave: o['clave'],
    ...(typeof o['secreto_firma'] === 'string' ? { secreto_firma: o['secreto_firma'] } : {}),
  };
}

/**
 * La administración de socios por su línea de comandos (la de `pnpm socios`, ya compilada: `pnpm
 * experimento` compila antes), contra `databaseUrl`.
 */
export function administradorPorCli(raiz: string, databaseUrl: string): AdministradorSocios {
  const script = path.join(raiz, 'packages/adaptadores/dist/cli/socios.js');
  const correr = async (args: readonly string[]) => {
    if (!existsSync(script)) throw new Error(`no está la administración de socios compilada (${path.relative(raiz, script)}): pnpm build`);
    try {
      const { stdout } = await ejecutar(process.execPath, [script, ...args], {
        cwd: raiz,
        env: { ...process.env, DATABASE_URL: databaseUrl },
        timeout: 60_000,
      });
      return stdout;
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`socios ${args[0]}: ${(e.stderr ?? '').trim() || e.message}`, { cause: error });
    }
  };
  return {
    async crear(nombre, o) {
      const args = ['crear', nombre, '--limite-rps', String(o.limiteRps)];
      if (o.firmaObligatoria) args.push('--firma-obligatoria');
      return leerSocioCreado(await correr(args));
    },
    async suspender(idSocio) {
      await correr(['suspender', idSocio]);
    },
  };
}

/**
 * Las cabeceras con las que el socio firma (y autentica) una petición: `Authorization: Bearer` y, si exige
 * firmas, las de Standard Webhooks sobre el cuerpo exacto que se envía (cada intento, su id y su hora).
 */
export function cabecerasDe(socio: SocioCorrida, cuerpo: string): Record<string, string> {
  const cabeceras: Record<string, string> = { authorization: `Bearer ${socio.clave}` };
  if (socio.secretoFirma) {
    const id = `msg_${randomUUID()}`;
    const marcaTiempoSegundos = Math.floor(Date.now() / 1000);
    cabeceras[CABECERAS_STANDARD_WEBHOOKS.id] = id;
    cabeceras[CABECERAS_STANDARD_WEBHOOKS.marcaTiempo] = String(marcaTiempoSegundos);
    cabeceras[CABECERAS_STANDARD_WEBHOOKS.firma] = firmarStandardWebhooks({ secreto: socio.secretoFirma, id, marcaTiempoSegundos, cuerpo });
  }
  return cabeceras;
}
