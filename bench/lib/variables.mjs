// Variables de entorno de los benchmarks: un valor malo es una línea clara y código 2, no un NaN que
// se cuela en las cifras.

function salir(mensaje) {
  process.stderr.write(`${mensaje}\n`);
  process.exit(2);
}

/** Entero ≥ `minimo` (y ≤ `maximo`) de `process.env[nombre]`, o `porDefecto` si no está. */
export function entero(nombre, porDefecto, minimo = 1, maximo = Number.MAX_SAFE_INTEGER) {
  const texto = process.env[nombre];
  if (texto === undefined || texto === '') return porDefecto;
  const n = Number(texto);
  if (!Number.isSafeInteger(n) || n < minimo || n > maximo)
    salir(`${nombre} debe ser un entero entre ${minimo} y ${maximo} (recibido «${texto}»)`);
  return n;
}

/** Número en [minimo, maximo] de `process.env[nombre]`, o `porDefecto`. */
export function decimal(nombre, porDefecto, minimo, maximo) {
  const texto = process.env[nombre];
  if (texto === undefined || texto === '') return porDefecto;
  const n = Number(texto);
  if (!Number.isFinite(n) || n < minimo || n > maximo)
    salir(`${nombre} debe ser un número entre ${minimo} y ${maximo} (recibido «${texto}»)`);
  return n;
}

/** Lista de enteros ≥ 1 separados por comas. */
export function enteros(nombre, porDefecto) {
  const texto = process.env[nombre];
  if (texto === undefined || texto === '') return porDefecto;
  const lista = texto.split(',').map((x) => Number(x.trim()));
  if (lista.length === 0 || lista.some((n) => !Number.isSafeInteger(n) || n < 1))
    salir(`${nombre} debe ser una lista de enteros ≥ 1 separados por comas (recibido «${texto}»)`);
  return lista;
}

/** `1` o `0` (también sí/no). */
export function booleano(nombre, porDefecto) {
  const texto = process.env[nombre];
  if (texto === undefined || texto === '') return porDefecto;
  if (['1', 'si', 'sí', 'true'].includes(texto.toLowerCase())) return true;
  if (['0', 'no', 'false'].includes(texto.toLowerCase())) return false;
  return salir(`${nombre} debe ser 1 o 0 (recibido «${texto}»)`);
}
