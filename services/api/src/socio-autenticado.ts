import type { Ambito } from '@aeropartners/dominio';

/**
 * El socio de una petición. Lo pone el middleware de autenticación a partir de la clave y de nada más
 * (ni cabeceras ni cuerpo); cada ruta lo lee con `c.get('socio')` y pasa su ámbito a cada comando y
 * consulta. Se amplía con lo que la autenticación sepa de él (firma obligatoria, límite de ritmo…).
 */
export interface SocioAutenticado extends Ambito {}
