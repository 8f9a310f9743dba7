/**
 * Lo mínimo que el broker embebido necesita de `pg` (al estilo de kysely: su propia forma de pool en
 * vez del tipo entero de la biblioteca). `pg.Pool` la cumple.
 */
export interface ResultadoConsulta {
  /** Las filas llegan sin tipo desde el driver; cada sentencia las lee con su propia forma. */
  readonly rows: Record<string, unknown>[];
}

/** Una sentencia con nombre: `pg` la prepara una vez por conexión y reutiliza el plan. */
export interface ConsultaPreparada {
  readonly name: string;
  readonly text: string;
  readonly values: unknown[];
}

export interface ClientePostgresBroker {
  query(texto: string, valores?: unknown[]): Promise<ResultadoConsulta>;
  release(error?: Error | boolean): void;
}

/** Conexión dedicada a LISTEN: además de consultar, emite notificaciones y errores. */
export interface ClienteEscuchaBroker extends ClientePostgresBroker {
  on(evento: 'notification', oyente: (aviso: { readonly channel: string; readonly payload?: string | undefined }) => void): unknown;
  on(evento: 'error', oyente: (error: Error) => void): unknown;
  removeListener(evento: 'notification', oyente: (aviso: { readonly channel: string; readonly payload?: string | undefined }) => void): unknown;
  removeListener(evento: 'error', oyente: (error: Error) => void): unknown;
}

export interface PoolPostgresBroker {
  query(texto: string, valores?: unknown[]): Promise<ResultadoConsulta>;
  query(consulta: ConsultaPreparada): Promise<ResultadoConsulta>;
  connect(): Promise<ClienteEscuchaBroker>;
  end(): Promise<void>;
}
