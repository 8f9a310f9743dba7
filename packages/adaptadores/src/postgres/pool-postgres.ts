/**
 * Lo mínimo que los adaptadores necesitan de un pool de `pg` (como hace Kysely con su `PostgresPool`):
 * así sus tipos no arrastran los de la biblioteca y un test puede pasar un doble.
 */
export interface ConsultaPostgres {
  readonly text: string;
  readonly values?: readonly unknown[];
  /** Nombre de sentencia preparada: `pg` la prepara una vez por conexión y la reutiliza. */
  readonly name?: string;
}

export interface ResultadoPostgres<F> {
  readonly rows: F[];
  readonly rowCount: number | null;
}

export interface ClientePostgres {
  query<F = Record<string, unknown>>(consulta: ConsultaPostgres): Promise<ResultadoPostgres<F>>;
  query<F = Record<string, unknown>>(texto: string, valores?: readonly unknown[]): Promise<ResultadoPostgres<F>>;
  release(destruir?: boolean | Error): void;
}

export interface PoolPostgres {
  query<F = Record<string, unknown>>(consulta: ConsultaPostgres): Promise<ResultadoPostgres<F>>;
  query<F = Record<string, unknown>>(texto: string, valores?: readonly unknown[]): Promise<ResultadoPostgres<F>>;
  connect(): Promise<ClientePostgres>;
  end(): Promise<void>;
}
