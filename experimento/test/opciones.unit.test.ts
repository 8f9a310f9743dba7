import { describe, expect, it } from 'vitest';
import { leerOpciones, textoAyuda } from '../src/opciones.js';

const leer = (argv: string[], env: Record<string, string> = {}) => leerOpciones(argv, env);
const opciones = (argv: string[], env: Record<string, string> = {}) => {
  const r = leer(argv, env);
  if (!r.ok) throw new Error(r.mensaje);
  return r.opciones;
};

describe('opciones del experimento', () => {
  it('por defecto: 4 socios × 8000 pagos, ritmo medido con la rampa y mantenido al 80 %, los fallos de issue 9', () => {
    const o = opciones([]);
    expect(o.socios).toBe(4);
    expect(o.pagosPorSocio).toBe(8000);
    expect(o.ritmo).toBeUndefined();
    expect(o.rampa).toEqual({ inicio: 100, paso: 100, escalonS: 5 });
    expect(o.fraccionCapacidad).toBe(0.8);
    expect([o.matarConsumidor, o.matarRelay, o.reiniciarPostgres, o.matarPostgres]).toEqual([3, 2, 1, 1]);
    expect([o.apis, o.relays, o.consumidores]).toEqual([1, 2, 3]);
    expect(o.pasarelaSinRespuesta).toBeGreaterThanOrEqual(0.02);
    expect(o.pasarela500).toBeGreaterThan(0);
    expect(o.duplicarEntregas).toBe(true);
    expect(o.url).toBeUndefined();
  });

  it('--pagos es el total de pagos distintos (se reparte entre los socios); --pagos-por-socio lo fija por socio', () => {
    expect(opciones(['--pagos', '50000']).pagosPorSocio).toBe(12_500);
    expect(opciones(['--socios=3', '--pagos=10']).pagosPorSocio).toBe(4);
    expect(opciones(['--pagos-por-socio', '7', '--pagos', '1000']).pagosPorSocio).toBe(7);
  });

  it('ignora el «--» que pnpm deja pasar; --ayuda es un interruptor y los sí/no llevan valor', () => {
    const o = opciones(['--', '--duplicar-entregas', 'no', '--ayuda']);
    expect(o.duplicarEntregas).toBe(false);
    expect(o.ayuda).toBe(true);
    expect(opciones(['--duplicar-entregas=sí']).duplicarEntregas).toBe(true);
  });

  it('toma las variables EXPERIMENTO_* y los flags mandan sobre ellas', () => {
    expect(opciones([], { EXPERIMENTO_RITMO: '800' }).ritmo).toBe(800);
    expect(opciones(['--ritmo', '50'], { EXPERIMENTO_RITMO: '800' }).ritmo).toBe(50);
    expect(opciones([], { EXPERIMENTO_URL: 'http://api:8000/' }).url).toBe('http://api:8000');
    expect(opciones([], { EXPERIMENTO_MATAR_POSTGRES: '2' }).matarPostgres).toBe(2);
    expect(opciones([], { EXPERIMENTO_AYUDA: '1' }).ayuda).toBe(true);
  });

  it('lee la rampa inicio:paso:segundos y la fracción de la capacidad', () => {
    expect(opciones(['--rampa', '100:50:10']).rampa).toEqual({ inicio: 100, paso: 50, escalonS: 10 });
    expect(opciones(['--fraccion-capacidad', '0.9']).fraccionCapacidad).toBe(0.9);
  });

  it.each([
    [['--ritmo', 'rápido'], /--ritmo debe ser un entero/],
    [['--dobles', '1.5'], /--dobles debe ser una fracción/],
    [['--rampa', '100:50'], /--rampa debe ser inicio:paso:segundos/],
    [['--url', 'ftp://x'], /--url debe ser una URL/],
    [['--no-existe', '1'], /flag desconocido: --no-existe/],
    [['--socios'], /--socios necesita un valor/],
    [['--ayuda=1'], /--ayuda no admite valor/],
    [['suelto'], /argumento no reconocido: "suelto"/],
    [['--database-url', 'postgres://a@b/c'], /--database-url solo tiene sentido con --url/],
    [['--fraccion-capacidad', '0'], /--fraccion-capacidad debe ser un número entre 0.05 y 2/],
    [['--pasarela-sin-respuesta', '0.6', '--pasarela-500', '0.5'], /no pueden sumar más de 1/],
  ])('%j es UN error en español que nombra el flag', (argv, mensaje) => {
    const r = leer(argv);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.mensaje).toMatch(mensaje);
      expect(r.mensaje.split('\n')).toHaveLength(1);
    }
  });

  it('un valor malo en EXPERIMENTO_* también es UN error que nombra el flag', () => {
    const r = leer([], { EXPERIMENTO_CONSUMIDORES: 'tres' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.mensaje).toMatch(/--consumidores debe ser un entero/);
  });

  it('la ayuda lista cada flag con su valor por defecto', () => {
    const ayuda = textoAyuda();
    expect(ayuda).toMatch(/--matar-consumidor\s+SIGKILL a un consumidor.*\(por defecto: 3\)/);
    expect(ayuda).toMatch(/--matar-postgres\s+Caídas de PostgreSQL.*\(por defecto: 1\)/);
    expect(ayuda).toMatch(/EXPERIMENTO_<NOMBRE>/);
  });
});
