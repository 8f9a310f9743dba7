import { Resultado } from '@aeropartners/dominio';

/**
 * Valida una URL de conexión a PostgreSQL (`postgres://` o `postgresql://`, con base de datos).
 * Devuelve el motivo en español si no sirve; nunca repite la contraseña en el mensaje.
 */
export function validarUrlPostgres(valor: unknown): Resultado<string, string> {
  if (typeof valor !== 'string' || valor.trim() === '')
    return Resultado.fallo('falta (se esperaba postgres://usuario:clave@host:puerto/base)');
  let url: URL;
  try {
    url = new URL(valor.trim());
  } catch {
    return Resultado.fallo('no es una URL válida (se esperaba postgres://usuario:clave@host:puerto/base)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return Resultado.fallo(`protocolo «${url.protocol.replace(/:$/, '')}» no admitido (use postgres:// o postgresql://)`);
  }
  if (url.hostname === '' && !url.searchParams.has('host')) return Resultado.fallo('falta el host');
  if (url.port !== '' && !(Number(url.port) >= 1 && Number(url.port) <= 65535)) return Resultado.fallo('puerto inválido');
  if (url.pathname.replace(/^\//, '') === '') return Resultado.fallo('falta el nombre de la base de datos');
  return Resultado.ok(valor.trim());
}

/** La URL con la contraseña ocultada, para logs. */
export function urlSinContrasena(valor: string): string {
  try {
    const url = new URL(valor);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(URL inválida)';
  }
}
