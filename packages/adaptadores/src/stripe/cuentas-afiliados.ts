import { Resultado } from '@aeropartners/dominio';

/**
 * De qué cuenta conectada de Stripe (`acct_…`) es cada afiliado: una tabla fija (p. ej. leída de la
 * configuración) o una función (p. ej. una consulta a la base de datos). `undefined` = sin cuenta.
 */
export type CuentasAfiliados =
  | Readonly<Record<string, string>>
  | ((idAfiliado: string) => string | undefined | Promise<string | undefined>);

export type ErrorCuentaAfiliado =
  | { readonly tipo: 'AfiliadoSinCuenta'; readonly idAfiliado: string }
  | { readonly tipo: 'CuentaMalFormada'; readonly idAfiliado: string; readonly cuenta: string };

const CUENTA_CONECTADA = /^acct_[A-Za-z0-9]+$/;

/**
 * La cuenta conectada del afiliado. Un afiliado sin cuenta, o con algo que no es un `acct_…`, es un
 * rechazo de ese pago, no un fallo del servicio. Si la función de búsqueda lanza (la base de datos
 * cayó), el error se propaga tal cual: es un fallo de infraestructura.
 */
export async function resolverCuentaAfiliado(
  cuentas: CuentasAfiliados,
  idAfiliado: string,
): Promise<Resultado<string, ErrorCuentaAfiliado>> {
  const cuenta =
    typeof cuentas === 'function'
      ? await cuentas(idAfiliado)
      : // hasOwn: un afiliado llamado "constructor" no debe encontrar nada en el prototipo.
        Object.hasOwn(cuentas, idAfiliado)
        ? cuentas[idAfiliado]
        : undefined;
  if (cuenta === undefined || cuenta === '') return Resultado.fallo({ tipo: 'AfiliadoSinCuenta', idAfiliado });
  if (!CUENTA_CONECTADA.test(cuenta)) return Resultado.fallo({ tipo: 'CuentaMalFormada', idAfiliado, cuenta });
  return Resultado.ok(cuenta);
}

export function describirErrorCuenta(error: ErrorCuentaAfiliado): string {
  switch (error.tipo) {
    case 'AfiliadoSinCuenta':
      return `El afiliado ${error.idAfiliado} no tiene una cuenta conectada de Stripe configurada: no se transfirió nada.`;
    case 'CuentaMalFormada':
      return (
        `La cuenta de Stripe configurada para el afiliado ${error.idAfiliado} («${error.cuenta}») no es ` +
        'un identificador de cuenta conectada (acct_…): no se transfirió nada.'
      );
  }
}
