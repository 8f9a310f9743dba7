import { describe, expect, it } from 'vitest';
import type { ConsultaPostgres, PoolPostgres } from '../pool-postgres.js';
import { generarClave, hashDeClave, mismoHash, prefijoDe } from './claves.js';
import { PostgresAutenticadorDeClaves } from './postgres-autenticador-de-claves.js';

describe('forma de las claves de API', () => {
  it('ap_live_/ap_test_ + 56 base64url (42 bytes aleatorios); el prefijo son los 12 primeros tras el modo; el hash, SHA-256', () => {
    const live = generarClave('live');
    const test = generarClave('test');
    expect(live.claveEnClaro).toMatch(/^ap_live_[A-Za-z0-9_-]{56}$/);
    expect(test.claveEnClaro).toMatch(/^ap_test_[A-Za-z0-9_-]{56}$/);
    expect(live.prefijo).toBe(live.claveEnClaro.slice(0, 20));
    expect(live.hash).toHaveLength(32);
    expect(mismoHash(live.hash, hashDeClave(live.claveEnClaro))).toBe(true);
    expect(mismoHash(live.hash, test.hash)).toBe(false);
    expect(new Set(Array.from({ length: 200 }, () => generarClave('live').prefijo)).size).toBe(200);
  });

  it('lo que no tiene la forma de una clave no tiene prefijo (no se busca)', () => {
    for (const mala of [
      '',
      'ap_live_',
      'ap_live_corta',
      `sk_live_${'a'.repeat(56)}`,
      `ap_live_${'a'.repeat(55)}!`,
      `ap_live_${'a'.repeat(57)}`,
    ]) {
      expect(prefijoDe(mala), mala).toBeNull();
    }
  });
});

describe('autenticar en tiempo constante por construcción', () => {
  /** Un pool que anota las consultas y responde con la fila dada (o ninguna). */
  function poolCon(fila: Record<string, unknown> | undefined) {
    const consultas: ConsultaPostgres[] = [];
    const pool = {
      query: async (consulta: ConsultaPostgres) => {
        consultas.push(consulta);
        return { rows: fila ? [fila] : [], rowCount: fila ? 1 : 0 };
      },
    } as unknown as PoolPostgres;
    return { pool, consultas };
  }

  it('prefijo inexistente y secreto equivocado: la misma consulta, la misma comparación de hashes y «desconocida»', async () => {
    const buena = generarClave('live');
    const fila = {
      id: 'soc_1',
      nombre: 'S',
      estado: 'activo',
      firma_obligatoria: false,
      limite_rps: null,
      id_clave: '0190a0b0-0000-7000-8000-000000000001',
      prefijo: buena.prefijo,
      modo: 'live',
      creada_en: new Date(),
      expira_en: null,
      revocada_en: null,
      hash_secreto: buena.hash,
      secretos: [],
    };
    const otroSecreto = `${buena.prefijo}${generarClave('live').claveEnClaro.slice(20)}`;
    const conFila = poolCon(fila);
    const sinFila = poolCon(undefined);
    const a = new PostgresAutenticadorDeClaves({ pool: conFila.pool, url: 'postgres://nadie@127.0.0.1:1/x', plazoCacheMs: 0 });
    const b = new PostgresAutenticadorDeClaves({ pool: sinFila.pool, url: 'postgres://nadie@127.0.0.1:1/x', plazoCacheMs: 0 });
    expect(await a.autenticar(otroSecreto, new Date())).toEqual({ tipo: 'desconocida' });
    expect(await b.autenticar(generarClave('live').claveEnClaro, new Date())).toEqual({ tipo: 'desconocida' });
    expect(conFila.consultas.map((c) => c.name)).toEqual(sinFila.consultas.map((c) => c.name));
    expect(conFila.consultas).toHaveLength(1);
    // La buena autentica con esa misma consulta.
    expect((await a.autenticar(buena.claveEnClaro, new Date())).tipo).toBe('autenticada');
    // Lo que no tiene forma de clave no consulta la base.
    const vacio = poolCon(undefined);
    const c = new PostgresAutenticadorDeClaves({ pool: vacio.pool, url: 'postgres://nadie@127.0.0.1:1/x', plazoCacheMs: 0 });
    expect(await c.autenticar('Bearer nada', new Date())).toEqual({ tipo: 'desconocida' });
    expect(vacio.consultas).toEqual([]);
  });
});
