/** La misma URL de conexión apuntando a otra base de datos. */
export function urlConBase(url: string, base: string): string {
  const nueva = new URL(url);
  nueva.pathname = `/${encodeURIComponent(base)}`;
  return nueva.toString();
}
