import { verificarStandardWebhooks } from '@aeropartners/adaptadores';
import { describe, expect, it } from 'vitest';
import { idsDeRespuesta } from '../src/consultas-ambito.js';
import {
  LIMITE_RPS_CORRIDA,
  cabecerasDe,
  crearSociosDeLaCorrida,
  leerSocioCreado,
  papelesDeSocios,
  type AdministradorSocios,
  type SocioCorrida,
} from '../src/socios.js';

const SECRETO = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

describe('socios de la corrida', () => {
  it('con 4 socios: el 3.º firma y el 4.º se suspende; con menos, esos papeles no están', () => {
    expect(papelesDeSocios(4)).toEqual(['normal', 'normal', 'firma', 'suspendido']);
    expect(papelesDeSocios(6)).toEqual(['normal', 'normal', 'firma', 'suspendido', 'normal', 'normal']);
    expect(papelesDeSocios(2)).toEqual(['normal', 'normal']);
  });

  it('se crean con la administración: el que firma con --firma-obligatoria y su secreto, todos con el límite alto', async () => {
    const pedidos: { nombre: string; firmaObligatoria: boolean; limiteRps: number }[] = [];
    const admin: AdministradorSocios = {
      async crear(nombre, o) {
        pedidos.push({ nombre, ...o });
        const n = pedidos.length;
        return { id_socio: `s${n}`, clave: `ap_live_${n}`, ...(o.firmaObligatoria ? { secreto_firma: SECRETO } : {}) };
      },
      async suspender() {},
    };
    const socios = await crearSociosDeLaCorrida(admin, 'c1', 4);
    expect(socios.map((s) => [s.numero, s.id, s.papel, s.secretoFirma])).toEqual([
      [1, 's1', 'normal', undefined],
      [2, 's2', 'normal', undefined],
      [3, 's3', 'firma', SECRETO],
      [4, 's4', 'suspendido', undefined],
    ]);
    expect(pedidos.map((p) => p.firmaObligatoria)).toEqual([false, false, true, false]);
    expect(pedidos.every((p) => p.limiteRps === LIMITE_RPS_CORRIDA && p.nombre.includes('c1'))).toBe(true);
  });

  it('un socio que exige firmas sin secreto en la respuesta de la administración es un error claro', async () => {
    const admin: AdministradorSocios = { crear: async () => ({ id_socio: 'x', clave: 'ap_live_x' }), suspender: async () => {} };
    await expect(crearSociosDeLaCorrida(admin, 'c1', 3)).rejects.toThrow(/exige firmas pero no se recibió su secreto_firma/);
  });

  it('lee la línea JSON de «socios crear» (aunque haya otras líneas antes) y rechaza lo que no tiene su forma', () => {
    expect(leerSocioCreado('aviso\n{"id_socio":"a","clave":"ap_live_1"}\n')).toEqual({ id_socio: 'a', clave: 'ap_live_1' });
    expect(leerSocioCreado('{"id_socio":"a","clave":"k","secreto_firma":"whsec_x"}')).toEqual({
      id_socio: 'a',
      clave: 'k',
      secreto_firma: 'whsec_x',
    });
    expect(() => leerSocioCreado('nada')).toThrow(/no imprimió una línea JSON/);
    expect(() => leerSocioCreado('{"id_socio":"a"}')).toThrow(/no devolvió id_socio y clave/);
  });

  it('cada petición lleva su Bearer; la del socio que firma, una firma Standard Webhooks válida de ese cuerpo exacto', () => {
    const normal: SocioCorrida = { numero: 1, id: 'a', papel: 'normal', clave: 'ap_live_a', secretoFirma: undefined };
    expect(cabecerasDe(normal, '{}')).toEqual({ authorization: 'Bearer ap_live_a' });
    const firma: SocioCorrida = { numero: 3, id: 'c', papel: 'firma', clave: 'ap_live_c', secretoFirma: SECRETO };
    const cuerpo = '{"referencia_pago":"exp-1"}';
    const h = cabecerasDe(firma, cuerpo);
    expect(h['authorization']).toBe('Bearer ap_live_c');
    const verificar = (c: string) =>
      verificarStandardWebhooks({
        secretos: [SECRETO],
        cabeceras: { id: h['webhook-id'], marcaTiempo: h['webhook-timestamp'], firma: h['webhook-signature'] },
        cuerpo: c,
        ahoraSegundos: Math.floor(Date.now() / 1000),
      });
    expect(verificar(cuerpo).ok).toBe(true);
    expect(verificar(`${cuerpo} `).ok).toBe(false);
    // Cada intento, su propio id.
    expect(cabecerasDe(firma, cuerpo)['webhook-id']).not.toBe(h['webhook-id']);
  });

  it('los ids de pago de una respuesta de lectura: un pago, una página o un historial', () => {
    expect(idsDeRespuesta('{"id":"p1","estado":"EXITOSO"}')).toEqual(['p1']);
    expect(idsDeRespuesta('{"pagos":[{"id":"p1"},{"id":"p2"}],"siguiente_cursor":null}')).toEqual(['p1', 'p2']);
    expect(idsDeRespuesta('{"id_pago":"p3","historial":[]}')).toEqual(['p3']);
    expect(idsDeRespuesta('no es json')).toEqual([]);
  });
});
