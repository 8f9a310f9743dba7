import { describe, expect, it } from 'vitest';
import { comprobarDestino, comprobarFormaUrl, rangoProhibido } from './destino-seguro.js';

describe('destinos de webhooks (SSRF)', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.255.0.9', /loopback/],
    ['10.1.2.3', /privada/],
    ['172.20.0.1', /privada/],
    ['192.168.1.1', /privada/],
    ['169.254.169.254', /link-local/],
    ['100.64.0.1', /CGNAT/],
    ['0.0.0.0', /esta red/],
    ['224.0.0.1', /multidifusión/],
    ['::1', /loopback/],
    ['::', /no especificada/],
    ['fe80::1', /link-local/],
    ['fd00::1', /única local/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:a00:1', /privada/],
    ['64:ff9b::7f00:1', /NAT64/],
  ])('%s está prohibida', (ip, motivo) => {
    expect(rangoProhibido(ip)).toMatch(motivo);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '172.32.0.1', '::ffff:8.8.8.8'])('%s es pública', (ip) => {
    expect(rangoProhibido(ip)).toBeUndefined();
  });

  it('solo http(s), sin credenciales', () => {
    expect(comprobarFormaUrl('ftp://ejemplo.com/x')).toMatchObject({ ok: false, motivo: expect.stringContaining('http') });
    expect(comprobarFormaUrl('file:///etc/passwd')).toMatchObject({ ok: false });
    expect(comprobarFormaUrl('javascript:alert(1)')).toMatchObject({ ok: false });
    expect(comprobarFormaUrl('https://u:p@ejemplo.com/')).toMatchObject({ ok: false, motivo: expect.stringContaining('usuario') });
    expect(comprobarFormaUrl('no es una url')).toMatchObject({ ok: false });
    expect(comprobarFormaUrl('https://ejemplo.com/ganchos?x=1')).toMatchObject({ ok: true });
  });

  it('comprueba cada dirección a la que resuelve el nombre: basta una prohibida', async () => {
    const resolver = async (nombre: string) => (nombre === 'mixto.ejemplo' ? ['93.184.216.34', '10.0.0.5'] : ['93.184.216.34']);
    expect(await comprobarDestino('https://mixto.ejemplo/x', { permitirRedLocal: false, resolver })).toMatchObject({
      ok: false,
      motivo: 'mixto.ejemplo resuelve a 10.0.0.5, de una red no admitida: red privada (10.0.0.0/8)',
    });
    expect(await comprobarDestino('https://bueno.ejemplo/x', { permitirRedLocal: false, resolver })).toMatchObject({ ok: true });
    expect(await comprobarDestino('http://[::1]:8080/', { permitirRedLocal: false, resolver })).toMatchObject({
      ok: false,
      motivo: expect.stringContaining('loopback'),
    });
    const falla = async () => {
      throw Object.assign(new Error('no'), { code: 'ENOTFOUND' });
    };
    expect(await comprobarDestino('https://nadie.invalid/', { permitirRedLocal: false, resolver: falla })).toMatchObject({
      ok: false,
      motivo: expect.stringContaining('ENOTFOUND'),
    });
  });

  it('un nombre real que resuelve a loopback (localhost) se rechaza; con la red local permitida, se admite', async () => {
    expect(await comprobarDestino('http://localhost:9/x', { permitirRedLocal: false })).toMatchObject({
      ok: false,
      motivo: expect.stringMatching(/^localhost resuelve a .*loopback/),
    });
    expect(await comprobarDestino('http://localhost:9/x', { permitirRedLocal: true })).toMatchObject({ ok: true });
    expect(await comprobarDestino('ftp://localhost/x', { permitirRedLocal: true })).toMatchObject({ ok: false });
  });
});
