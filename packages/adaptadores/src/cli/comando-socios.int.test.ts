import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crearPersistenciaPostgres, type PersistenciaPostgres } from '../postgres/persistencia-postgres.js';
import { PostgresAutenticadorDeClaves } from '../postgres/socios/postgres-autenticador-de-claves.js';
import { crearBaseDePrueba, type BaseDePrueba } from '../testing/index.js';
import { comandoSocios } from './comando-socios.js';
import { entornoDePrueba } from './entorno-de-prueba.js';

let base: BaseDePrueba;
let persistencia: PersistenciaPostgres;
let autenticador: PostgresAutenticadorDeClaves;

beforeAll(async () => {
  base = await crearBaseDePrueba();
  persistencia = crearPersistenciaPostgres({ url: base.url, tamanoPool: 2 });
  autenticador = new PostgresAutenticadorDeClaves({ pool: persistencia.pool, url: base.url, plazoCacheMs: 0 });
  await autenticador.iniciar();
});
afterAll(async () => {
  await autenticador?.cerrar();
  await persistencia?.cerrar();
  await base?.cerrar();
});

/** `pnpm socios …` en el proceso: salida, errores, código y lo que esperó antes de volver. */
async function socios(argumentos: string[], env: Record<string, string | undefined> = {}) {
  const { entorno, salida, errores } = entornoDePrueba(base.url, argumentos, env);
  const esperas: number[] = [];
  const codigo = await comandoSocios(entorno, { esperar: async (ms) => void esperas.push(ms) });
  return { codigo, salida, errores, esperas };
}

describe('pnpm socios', () => {
  it('crear imprime una línea JSON con id_socio y clave que autentica; con --firma-obligatoria, también secreto_firma', async () => {
    const r = await socios(['crear', 'Alpes Viajes', '--limite-rps', '200']);
    expect(r.codigo).toBe(0);
    expect(r.salida).toHaveLength(1);
    const creado = JSON.parse(r.salida[0] as string) as Record<string, string>;
    expect(Object.keys(creado)).toEqual(['id_socio', 'clave']);
    expect(creado.clave).toMatch(/^ap_live_/);
    expect(await autenticador.autenticar(creado.clave as string, new Date())).toMatchObject({
      tipo: 'autenticada',
      credencial: { socio: { id: creado.id_socio, nombre: 'Alpes Viajes', limiteRps: 200 }, modo: 'live' },
    });

    const firmado = JSON.parse((await socios(['crear', 'Firmado', '--firma-obligatoria', '--test'])).salida[0] as string) as Record<
      string,
      string
    >;
    expect(Object.keys(firmado)).toEqual(['id_socio', 'clave', 'secreto_firma']);
    expect(firmado.clave).toMatch(/^ap_test_/);
    expect(firmado.secreto_firma).toMatch(/^whsec_/);
  });

  it('clave, revocar (esperando el plazo de la caché), suspender, reactivar y listar', async () => {
    const { id_socio: id, clave: primera } = JSON.parse((await socios(['crear', 'Rotación'])).salida[0] as string) as Record<
      string,
      string
    >;
    const nueva = await socios(['clave', id as string, '--expira-en', '1h']);
    expect(nueva.codigo).toBe(0);
    const { clave: segunda, prefijo } = JSON.parse(nueva.salida[0] as string) as Record<string, string>;
    expect(nueva.errores.join(' ')).toMatch(/La anterior deja de valer el /);
    const tercera = await socios(['clave', id as string]);
    expect(tercera).toMatchObject({ codigo: 1, salida: [] });
    expect(tercera.errores).toEqual([
      expect.stringMatching(/^El socio soc_\w+ ya tiene 2 claves vigentes en modo live .*pnpm socios revocar/),
    ]);

    const revocada = await socios(['revocar', id as string, prefijo as string], { CLAVES_CACHE_MS: '1500' });
    expect(revocada).toMatchObject({ codigo: 0, esperas: [1500] });
    expect(await autenticador.autenticar(segunda as string, new Date())).toMatchObject({ tipo: 'rechazada', motivo: 'clave-revocada' });
    expect((await socios(['revocar', id as string, prefijo as string])).esperas).toEqual([5000]);

    expect((await socios(['suspender', id as string])).salida).toEqual([`Socio ${id} suspendido.`]);
    expect(await autenticador.autenticar(primera as string, new Date())).toMatchObject({ tipo: 'rechazada', motivo: 'socio-suspendido' });
    expect((await socios(['suspender', id as string])).salida).toEqual([`El socio ${id} ya estaba suspendido: nada que cambiar.`]);
    expect((await socios(['reactivar', id as string])).codigo).toBe(0);
    expect((await autenticador.autenticar(primera as string, new Date())).tipo).toBe('autenticada');

    const listado = await socios(['listar', '--json']);
    const mio = listado.salida
      .map((l) => JSON.parse(l) as { id_socio: string; claves: { estado: string; prefijo: string }[] })
      .find((s) => s.id_socio === id);
    expect(mio?.claves.map((c) => c.estado)).toEqual(['vigente', 'revocada']);
    expect(listado.salida.join('\n')).not.toContain((primera as string).slice(20));
    expect((await socios(['listar'])).salida.some((l) => l.startsWith(`${id}  activo  «Rotación»`))).toBe(true);
  });

  it('errores: una línea y código ≠ 0, sin escribir nada', async () => {
    const casos: [string[], number, RegExp][] = [
      [[], 2, /^Uso: pnpm socios/],
      [['inventar'], 2, /^Orden desconocida: «inventar»/],
      [['crear'], 2, /^Uso: pnpm socios crear <nombre>/],
      [['crear', '   '], 1, /^nombre: no puede estar vacío/],
      [['crear', 'x', '--limite-rps', '0'], 2, /^--limite-rps inválido/],
      [['crear', 'x', '--expira-en', '1h'], 2, /^--expira-en no es una opción de «socios crear»/],
      [['crear', 'x', '--sin-esto'], 2, /^Argumentos inválidos: /],
      [['clave', 'soc_nadie'], 1, /^No existe el socio soc_nadie/],
      [['clave', 'soc_nadie', '--expira-en', 'mañana'], 2, /^--expira-en inválido/],
      [['revocar', 'soc_nadie', 'ap_live_x'], 1, /^El socio soc_nadie no tiene una clave con el prefijo ap_live_x/],
      [['suspender'], 2, /^Uso: pnpm socios suspender <id_socio>/],
    ];
    for (const [argumentos, codigo, mensaje] of casos) {
      const r = await socios(argumentos);
      expect(r.codigo, argumentos.join(' ')).toBe(codigo);
      if (argumentos.length > 0) expect(r.errores, argumentos.join(' ')).toEqual([expect.stringMatching(mensaje)]);
      else expect(r.salida[0]).toMatch(mensaje);
      expect(r.esperas).toEqual([]);
    }
    const sinBase = await socios(['listar'], { DATABASE_URL: 'postgres://nadie:secreto@127.0.0.1:1/ninguna' });
    expect(sinBase.codigo).toBe(1);
    expect(sinBase.errores).toHaveLength(1);
    expect(sinBase.errores[0]).not.toContain('secreto');
  });
});
