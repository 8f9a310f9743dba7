import { describe, expect, it } from 'vitest';
import { leerOpciones, textoAyuda } from '../src/opciones.js';

const leer = (argv: string[], env: Record<string, string> = {}) => leerOpciones(argv, env);
const opciones = (argv: string[], env: Record<string, string> = {}) => {
  const r = leer(argv, env);
  if (!r.ok) throw new Error(r.mensaje);
  return r.opciones;
};

describe('opciones del experimento', () => {
  it('por defecto cumple el listón del escenario: 4 socios × 8000 pagos, 3 + 2 muertes y 1 reinicio de PostgreSQL', () => {
    const o = opciones([]);
    expect(o.socios).toBe(4);
    expect(o.pagosPorSocio).toBe(8000);
    expect([o.matarConsumidor, o.matarRelay, o.reiniciarPostgres]).toEqual([3, 2, 1]);
    expect(o.url).toBeUndefined();
    expect(o.rampa).toBeUndefined();
  });

  it('--pagos es el total de pagos distintos (se reparte entre los socios); --pagos-por-socio lo fija por socio', () => {
    expect(opciones(['--pagos', '50000']).pagosPorSocio).toBe(12_500);
    expect(opciones(['--socios=3', '--pagos=10']).pagosPorSocio).toBe(4);
    expect(opciones(['--pagos-por-socio', '7', '--pagos', '1000']).pagosPorSocio).toBe(7);
  });

  it('ignora el «--» que pnpm deja pasar y acepta flags booleanos sin valor', () => {
    const o = opciones(['--', '--duplicar-entregas', 'no', '--ayuda']);
    expect(o.duplicarEntregas).toBe(false);
    expect(o.ayuda).toBe(true);
  });

  it('toma las variables EXPERIMENTO_* y los flags mandan sobre ellas', () => {
    expect(opciones([], { EXPERIMENTO_RITMO: '800' }).ritmo).toBe(800);
    expect(opciones(['--ritmo', '50'], { EXPERIMENTO_RITMO: '800' }).ritmo).toBe(50);
    expect(opciones([], { EXPERIMENTO_URL: 'http://api:8000/' }).url).toBe('http://api:8000');
  });

  it('lee la rampa inicio:paso:segundos', () => {
    expect(opciones(['--rampa', '100:50:10']).rampa).toEqual({ inicio: 100, paso: 50, escalonS: 10 });
  });

  it.each([
    [['--ritmo', 'rápido'], /--ritmo debe ser un entero/],
    [['--dobles', '1.5'], /--dobles debe ser una fracción/],
    [['--rampa', '100:50'], /--rampa debe ser inicio:paso:segundos/],
    [['--url', 'ftp://x'], /--url debe ser una URL/],
    [['--no-existe', '1'], /flag desconocido: --no-existe/],
    [['--socios'], /--socios necesita un valor/],
    [['suelto'], /argumento no reconocido/],
    [['--database-url', 'postgres://a@b/c'], /--database-url solo tiene sentido con --url/],
  ])('%j es UN error en español que nombra el flag', (argv, mensaje) => {
    const r = leer(argv);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.mensaje).toMatch(mensaje);
      expect(r.mensaje.split('\n')).toHaveLength(1);
    }
  });

  it('la ayuda lista cada flag con su valor por defecto', () => {
    const ayuda = textoAyuda();
    expect(ayuda).toMatch(/--matar-consumidor\s+SIGKILL al consumidor.*\(por defecto: 3\)/);
    expect(ayuda).toMatch(/EXPERIMENTO_<NOMBRE>/);
  });
});
