/** Resultado de una operación que puede fallar por una regla de negocio: el fallo es un valor, no una excepción. */
export type Resultado<T, E> = { readonly ok: true; readonly valor: T } | { readonly ok: false; readonly error: E };

export const Resultado = {
  ok<T>(valor: T): Resultado<T, never> {
    return { ok: true, valor };
  },
  fallo<E>(error: E): Resultado<never, E> {
    return { ok: false, error };
  },
} as const;
