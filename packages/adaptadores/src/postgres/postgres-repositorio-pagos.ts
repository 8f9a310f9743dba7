import {
  Resultado,
  autorizar,
  esEstadoSocio,
  type CambioPago,
  type ClaveIdempotencia,
  type ConflictoDeVersion,
  type CredencialEscritura,
  type MotivoRechazo,
  type Pago,
  type RepositorioPagos,
  type ResultadoCreacion,
  type Trazabilidad,
} from '@aeropartners/dominio';
import { esUuid } from '../ids/uuidv7.js';
import { AgrupadorPorLotes, type Pendiente } from './agrupador-por-lotes.js';
import { filaAPago, type FilaPago } from './fila-pago.js';
import type { ConsultaPostgres, PoolPostgres } from './pool-postgres.js';
import {
  SQL_CREAR_LOTE,
  SQL_ESTADO_CREDENCIAL,
  SQL_GUARDAR_LOTE,
  SQL_PAGOS_POR_CLAVE,
  SQL_PAGOS_POR_ID,
  comprobarEventos,
  conReintentos,
  ejecutarRonda,
  esErrorDeDatos,
  parametrosEventos,
  parametrosTransiciones,
  rondasSinRepetir,
  type Transicion,
} from './sentencias-escritura.js';

export interface OpcionesRepositorioPagos {
  /** Sentencias de creación en vuelo a la vez (≈ tamaño del pool). Por defecto 8. */
  readonly enVueloMaximo?: number;
  /** Solicitudes como máximo por sentencia de creación. Por defecto 500. */
  readonly loteMaximo?: number;
  /**
   * Usar sentencias preparadas con nombre (se analizan y planifican una vez por conexión). Por
   * defecto `true`; desactívelo detrás de un PgBouncer en modo transacción antiguo (< 1.21).
   */
  readonly sentenciasPreparadas?: boolean;
  /**
   * Sentencias de `guardar` (y de lectura de `obtener`) agrupadas en vuelo a la vez. Por defecto 1:
   * mientras una sentencia corre, las llamadas que llegan se juntan para la siguiente: lotes mayores,
   * menos CPU de PostgreSQL por pago y menos latencia que con varios huecos (lo medido: bench/README.md).
   */
  readonly enVueloMaximoTransiciones?: number;
}

/** Contadores de la agrupación de creaciones, para observar el «group commit» en marcha. */
export interface MetricasCreacion {
  /** Llamadas a `crear` recibidas (los reintentos internos no cuentan). */
  readonly solicitudes: number;
  /** Sentencias de creación por lotes ejecutadas (incluidos reintentos por interbloqueo). */
  readonly sentencias: number;
  /** Lotes despachados por el agrupador. */
  readonly lotes: number;
  readonly mayorLote: number;
  readonly pagosCreados: number;
  /** Respondidas `existente` (clave ya usada: antes, en el mismo lote o por otra transacción). */
  readonly existentes: number;
  /** Consultas de seguimiento tras perder una carrera con otra transacción. */
  readonly consultasSeguimiento: number;
  /** Solicitudes reenviadas porque el pago ganador aún no era visible. */
  readonly reintentos: number;
  /** Lotes que fallaron (todas sus solicitudes rechazadas o aisladas). */
  readonly lotesFallidos: number;
  /** Solicitudes cuya credencial ya no valía al escribir (respondidas `denegado`, sin escribir nada). */
  readonly denegadas: number;
  readonly enVuelo: number;
  readonly enCola: number;
}

interface SolicitudCreacion {
  readonly cambio: CambioPago;
  readonly clave: ClaveIdempotencia;
  readonly traza: Trazabilidad;
  /** La credencial que la sentencia comprueba; `undefined`: escritura interna, sin comprobar. */
  readonly credencial: CredencialEscritura | undefined;
  /**
   * 1 la primera vez; 2 si se reenvía porque el pago con la clave aún no era visible, o porque la
   * credencial denegada volvió a valer antes de averiguar por qué.
   */
  readonly intento: number;
}

type FilaCreacion = FilaPago & { resultado: 'nuevo' | 'previo' | 'denegado' };

type PendienteCreacion = Pendiente<SolicitudCreacion, ResultadoCreacion>;

type PendienteGuardar = Pendiente<Transicion, boolean>;

function llave(idSocio: string, modo: string, clave: string): string {
  // PostgreSQL no admite U+0000 en `text`: separador sin ambigüedad.
  return `${idSocio}\u0000${modo}\u0000${clave}`;
}

/**
 * `RepositorioPagos` sobre PostgreSQL.
 *
 * `crear` agrupa las llamadas concurrentes («group commit»): cada lote es UNA sentencia con CTE que
 * inserta pagos, outbox e historial (un viaje y un commit para todo el lote) y cada llamada se
 * responde solo cuando su sentencia confirmó. La clave `(id_socio, clave_idempotencia)` decide las
 * carreras, dentro del lote y entre procesos. `guardar` agrupa igual: un lote es UNA sentencia
 * `UPDATE … FROM unnest(…)` con control optimista de versión por fila (dos cambios del mismo pago nunca
 * van en la misma sentencia: el segundo sale en la siguiente), y `obtener` agrupa las lecturas en un
 * `WHERE id = ANY(…)`. Todo con `pg` directo (sentencias fijas, preparadas por conexión).
 */
export class PostgresRepositorioPagos implements RepositorioPagos {
  readonly #pool: PoolPostgres;
  readonly #preparadas: boolean;
  readonly #agrupador: AgrupadorPorLotes<SolicitudCreacion, ResultadoCreacion>;
  readonly #agrupadorGuardar: AgrupadorPorLotes<Transicion, boolean>;
  readonly #agrupadorObtener: AgrupadorPorLotes<string, FilaPago | null>;
  readonly #seguimientos = new Set<Promise<void>>();
  #sentencias = 0;
  #pagosCreados = 0;
  #existentes = 0;
  #consultasSeguimiento = 0;
  #reintentos = 0;
  #lotesFallidos = 0;
  #solicitudes = 0;
  #denegadas = 0;

  constructor(pool: PoolPostgres, opciones: OpcionesRepositorioPagos = {}) {
    this.#pool = pool;
    this.#preparadas = opciones.sentenciasPreparadas ?? true;
    this.#agrupador = new AgrupadorPorLotes(
      { enVueloMaximo: opciones.enVueloMaximo ?? 8, loteMaximo: opciones.loteMaximo ?? 500 },
      (lote) => this.#crearLote(lote),
    );
    const transiciones = { enVueloMaximo: opciones.enVueloMaximoTransiciones ?? 1, loteMaximo: opciones.loteMaximo ?? 500 };
    this.#agrupadorGuardar = new AgrupadorPorLotes(transiciones, (lote) => this.#guardarLote(lote));
    this.#agrupadorObtener = new AgrupadorPorLotes(transiciones, (lote) => this.#obtenerLote(lote));
  }

  crear(cambio: CambioPago, clave: ClaveIdempotencia, traza: Trazabilidad, credencial?: CredencialEscritura): Promise<ResultadoCreacion> {
    this.#solicitudes += 1;
    return this.#agrupador.enviar({ cambio, clave, traza, credencial, intento: 1 });
  }

  async obtener(idPago: string): Promise<Pago | null> {
    if (!esUuid(idPago)) return null;
    const fila = await this.#agrupadorObtener.enviar(idPago.toLowerCase());
    return fila ? filaAPago(fila) : null;
  }

  guardar(cambio: CambioPago, versionEsperada: number, traza: Trazabilidad): Promise<Resultado<Pago, ConflictoDeVersion>> {
    return this.guardarConTurno(cambio, versionEsperada, traza, undefined);
  }

  /**
   * `guardar` que además toma el turno de cobro del pago en la MISMA sentencia (el paso a PROCESANDO): sin
   * otra ida y vuelta ni otra versión de la fila. Ver `TurnosCobro.iniciar`.
   */
  async guardarConTurno(
    cambio: CambioPago,
    versionEsperada: number,
    traza: Trazabilidad,
    turno: Transicion['turno'],
  ): Promise<Resultado<Pago, ConflictoDeVersion>> {
    const conflicto = Resultado.fallo({ tipo: 'ConflictoDeVersion', idPago: cambio.pago.id, versionEsperada } as const);
    if (!esUuid(cambio.pago.id)) return conflicto;
    comprobarEventos(cambio);
    const actualizado = await this.#agrupadorGuardar.enviar({ cambio, versionEsperada, traza, turno });
    return actualizado ? Resultado.ok(cambio.pago) : conflicto;
  }

  metricas(): MetricasCreacion {
    const a = this.#agrupador.metricas();
    return {
      solicitudes: this.#solicitudes,
      sentencias: this.#sentencias,
      lotes: a.lotes,
      mayorLote: a.mayorLote,
      pagosCreados: this.#pagosCreados,
      existentes: this.#existentes,
      consultasSeguimiento: this.#consultasSeguimiento,
      reintentos: this.#reintentos,
      lotesFallidos: this.#lotesFallidos,
      denegadas: this.#denegadas,
      enVuelo: a.enVuelo,
      enCola: a.enCola,
    };
  }

  /** Espera a que se respondan todas las creaciones en curso (para cerrar sin cortar a nadie). */
  async vaciar(): Promise<void> {
    for (;;) {
      await Promise.all([this.#agrupador.vaciar(), this.#agrupadorGuardar.vaciar(), this.#agrupadorObtener.vaciar()]);
      if (this.#seguimientos.size > 0) {
        await Promise.allSettled([...this.#seguimientos]);
        continue;
      }
      const { enVuelo, enCola } = this.#agrupador.metricas();
      if (enVuelo === 0 && enCola === 0) return;
    }
  }

  #consultar<F>(nombre: string, text: string, values: readonly unknown[]) {
    const consulta: ConsultaPostgres = this.#preparadas ? { name: nombre, text, values } : { text, values };
    return this.#pool.query<F>(consulta);
  }

  async #obtenerLote(lote: readonly Pendiente<string, FilaPago | null>[]): Promise<void> {
    const ids = [...new Set(lote.map((p) => p.entrada))];
    const { rows } = await this.#consultar<FilaPago>('aeropartners_pagos_por_id_v1', SQL_PAGOS_POR_ID, [ids]);
    const porId = new Map(rows.map((f) => [f.id.toLowerCase(), f]));
    for (const p of lote) p.resolver(porId.get(p.entrada) ?? null);
  }

  /** Un lote de `guardar`: rondas sin pagos repetidos, una sentencia por ronda, en orden. */
  async #guardarLote(lote: readonly PendienteGuardar[]): Promise<void> {
    for (const ronda of rondasSinRepetir(lote, (p) => [p.entrada.cambio.pago.id.toLowerCase()])) {
      await this.#guardarRonda(ronda);
    }
  }

  async #guardarRonda(ronda: readonly PendienteGuardar[]): Promise<void> {
    // Un dato que PostgreSQL rechaza no tumba a las demás: cada una en su propia sentencia.
    const filas = await ejecutarRonda(
      ronda,
      () =>
        conReintentos(() =>
          this.#consultar<{ id: string }>(
            'aeropartners_guardar_pagos_v2',
            SQL_GUARDAR_LOTE,
            parametrosTransiciones(ronda.map((p) => p.entrada)),
          ),
        ),
      (p) => this.#guardarRonda([p]),
      (causa) =>
        new Error(`No se pudo guardar el pago: falló la sentencia del lote (${ronda.length} solicitud(es)) en PostgreSQL`, {
          cause: causa,
        }),
    );
    if (!filas) return;
    const actualizados = new Set(filas.rows.map((r) => r.id.toLowerCase()));
    for (const p of ronda) p.resolver(actualizados.has(p.entrada.cambio.pago.id.toLowerCase()));
  }

  /** Ejecuta un lote; al volver, el hueco del agrupador queda libre (el seguimiento sigue aparte). */
  async #crearLote(lote: readonly PendienteCreacion[]): Promise<void> {
    const validos: PendienteCreacion[] = [];
    let parametros: unknown[];
    try {
      parametros = this.#parametrosCreacion(lote, validos);
    } catch (error) {
      // Solo puede fallar por una solicitud incoherente: se aíslan una a una.
      if (lote.length > 1) return this.#aislar(lote.filter((p) => !p.respondido));
      throw error;
    }
    if (validos.length === 0) return;

    let filas: FilaCreacion[];
    try {
      filas = await this.#ejecutarLote(parametros);
    } catch (causa) {
      this.#lotesFallidos += 1;
      if (validos.length > 1 && esErrorDeDatos(causa)) return this.#aislar(validos);
      const error = new Error(`No se pudo registrar el pago: falló la sentencia del lote (${validos.length} solicitud(es)) en PostgreSQL`, {
        cause: causa,
      });
      for (const p of validos) p.rechazar(error);
      return;
    }

    const creados = new Set<string>();
    const denegados = new Set<string>();
    const porClave = new Map<string, FilaPago>();
    for (const fila of filas) {
      if (fila.resultado === 'denegado') {
        denegados.add(fila.id);
        continue;
      }
      if (fila.resultado === 'nuevo') creados.add(fila.id);
      porClave.set(llave(fila.id_socio, fila.modo, fila.clave_idempotencia), fila);
    }
    const sinResolver: PendienteCreacion[] = [];
    for (const p of validos) {
      const { cambio, clave } = p.entrada;
      if (denegados.has(cambio.pago.id)) {
        this.#denegar(p);
        continue;
      }
      if (creados.has(cambio.pago.id)) {
        this.#pagosCreados += 1;
        p.resolver({ tipo: 'creado', pago: cambio.pago });
        continue;
      }
      const existente = porClave.get(llave(clave.idSocio, cambio.pago.modo, clave.clave));
      if (existente) this.#responderExistente(p, existente);
      else sinResolver.push(p);
    }
    if (sinResolver.length > 0) {
      const seguimiento = this.#seguimiento(sinResolver).finally(() => this.#seguimientos.delete(seguimiento));
      this.#seguimientos.add(seguimiento);
    }
  }

  async #ejecutarLote(parametros: readonly unknown[]): Promise<FilaCreacion[]> {
    return conReintentos(async () => {
      this.#sentencias += 1;
      const { rows } = await this.#consultar<FilaCreacion>('aeropartners_crear_pagos_v1', SQL_CREAR_LOTE, parametros);
      return rows;
    });
  }

  /** Cada solicitud en su propia sentencia: un dato que PostgreSQL rechaza no tumba a las demás. */
  async #aislar(lote: readonly PendienteCreacion[]): Promise<void> {
    await Promise.all(
      lote.map(async (p) => {
        try {
          await this.#crearLote([p]);
        } catch (causa) {
          p.rechazar(new Error(`No se pudo registrar el pago ${p.entrada.cambio.pago.id}`, { cause: causa }));
        }
      }),
    );
  }

  /**
   * Una solicitud que la sentencia denegó: se averigua por qué (lectura aparte, solo en este caso raro). Si
   * la credencial vuelve a valer (p. ej. se reactivó el socio entretanto), se reenvía una vez entera.
   */
  #denegar(p: PendienteCreacion): void {
    this.#denegadas += 1;
    const { cambio, credencial, intento } = p.entrada;
    const seguimiento = this.#motivoDenegacion(cambio.pago.idSocio, cambio.pago.modo, credencial?.idClave ?? null)
      .then((motivo) => {
        if (motivo !== null) return p.resolver({ tipo: 'denegado', motivo });
        if (intento === 1) return this.#agrupador.enviar({ ...p.entrada, intento: 2 }).then(p.resolver, p.rechazar);
        p.resolver({ tipo: 'denegado', motivo: 'clave-revocada' });
      })
      .catch((causa: unknown) => p.rechazar(new Error('No se pudo leer por qué se denegó la credencial', { cause: causa })))
      .finally(() => this.#seguimientos.delete(seguimiento));
    this.#seguimientos.add(seguimiento);
  }

  /** El motivo por el que la credencial no vale ahora; `null` si vale. */
  async #motivoDenegacion(idSocio: string, modo: string, idClave: string | null): Promise<MotivoRechazo | null> {
    const { rows } = await this.#consultar<{
      estado: string | null;
      socio_clave: string | null;
      modo_clave: string | null;
      expira_en: Date | null;
      revocada_en: Date | null;
    }>('aeropartners_estado_credencial_v1', SQL_ESTADO_CREDENCIAL, [idSocio, idClave]);
    const f = rows[0];
    // Un socio que no existe no puede operar: como uno suspendido.
    if (f === undefined || f.estado === null || !esEstadoSocio(f.estado)) return 'socio-suspendido';
    // Una clave que no existe o no es de este socio y modo no identifica a nadie: como una revocada.
    if (idClave !== null && (f.socio_clave !== idSocio || f.modo_clave !== modo)) return 'clave-revocada';
    const clave = idClave === null ? null : { expiraEn: f.expira_en, revocadaEn: f.revocada_en };
    const permiso = autorizar({ estado: f.estado }, clave, new Date());
    return permiso.ok ? null : permiso.error;
  }

  #responderExistente(p: PendienteCreacion, fila: FilaPago): void {
    try {
      const pago = filaAPago(fila);
      this.#existentes += 1;
      p.resolver({ tipo: 'existente', pago });
    } catch (error) {
      p.rechazar(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Solicitudes cuya clave ganó otra transacción concurrente: el INSERT esperó a que confirmara, así
   * que una consulta nueva la ve. Si aun así no aparece (la otra fila se borró o falló), se reenvía la
   * solicitud una vez entera.
   */
  async #seguimiento(pendientes: readonly PendienteCreacion[]): Promise<void> {
    this.#consultasSeguimiento += 1;
    let filas: FilaPago[];
    try {
      const { rows } = await this.#consultar<FilaPago>('aeropartners_pagos_por_clave_v1', SQL_PAGOS_POR_CLAVE, [
        pendientes.map((p) => p.entrada.clave.idSocio),
        pendientes.map((p) => p.entrada.cambio.pago.modo),
        pendientes.map((p) => p.entrada.clave.clave),
      ]);
      filas = rows;
    } catch (causa) {
      const error = new Error('No se pudo leer el pago existente tras un conflicto de clave de idempotencia', { cause: causa });
      for (const p of pendientes) p.rechazar(error);
      return;
    }
    const porClave = new Map(filas.map((f) => [llave(f.id_socio, f.modo, f.clave_idempotencia), f]));
    for (const p of pendientes) {
      const { cambio, clave, intento } = p.entrada;
      const fila = porClave.get(llave(clave.idSocio, cambio.pago.modo, clave.clave));
      if (fila) {
        this.#responderExistente(p, fila);
      } else if (intento === 1) {
        this.#reintentos += 1;
        this.#agrupador.enviar({ ...p.entrada, intento: 2 }).then(p.resolver, p.rechazar);
      } else {
        p.rechazar(new Error(`No se pudo crear ni leer el pago con la clave de idempotencia «${clave.clave}» del socio ${clave.idSocio}`));
      }
    }
  }

  /** Arrays de parámetros del lote; deja en `validos` las solicitudes que entran, en el mismo orden. */
  #parametrosCreacion(lote: readonly PendienteCreacion[], validos: PendienteCreacion[]): unknown[] {
    const id: string[] = [];
    const idSocio: string[] = [];
    const clave: string[] = [];
    const idAfiliado: string[] = [];
    const monto: number[] = [];
    const moneda: string[] = [];
    const referencia: string[] = [];
    const estado: string[] = [];
    const version: number[] = [];
    const creacion: Date[] = [];
    const actualizacion: Date[] = [];
    const modo: string[] = [];
    const idClave: (string | null)[] = [];
    const comprobar: boolean[] = [];
    for (const p of lote) {
      const { cambio } = p.entrada;
      if (!esUuid(cambio.pago.id)) {
        p.rechazar(new Error(`El id del pago debe ser un UUID: ${cambio.pago.id}`));
        continue;
      }
      validos.push(p);
      const pago = cambio.pago;
      // La unicidad la da la clave: `id_socio` es el socio de la clave de idempotencia (en el flujo
      // normal, el mismo que el del pago).
      id.push(pago.id);
      idSocio.push(p.entrada.clave.idSocio);
      clave.push(p.entrada.clave.clave);
      idAfiliado.push(pago.idAfiliado);
      monto.push(pago.monto.unidadesMenores);
      moneda.push(pago.monto.moneda);
      referencia.push(pago.referenciaPago);
      estado.push(pago.estado);
      version.push(pago.version);
      creacion.push(pago.fechaCreacion);
      actualizacion.push(pago.fechaActualizacion);
      modo.push(pago.modo);
      idClave.push(p.entrada.credencial?.idClave ?? null);
      comprobar.push(p.entrada.credencial !== undefined);
    }
    return [
      ...parametrosEventos(validos.map((p) => p.entrada)),
      id,
      idSocio,
      clave,
      idAfiliado,
      monto,
      moneda,
      referencia,
      estado,
      version,
      creacion,
      actualizacion,
      modo,
      idClave,
      comprobar,
    ];
  }
}
