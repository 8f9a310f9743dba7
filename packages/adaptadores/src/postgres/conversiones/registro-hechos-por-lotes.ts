import type { HechoParaRegistrar, ResultadoRegistroHecho } from '@aeropartners/aplicacion';
import { HechoConversion, autorizar, esEstadoSocio, type MotivoRechazo, type Modo, type Trazabilidad } from '@aeropartners/dominio';
import { AgrupadorPorLotes, type MetricasAgrupador, type Pendiente } from '../agrupador-por-lotes.js';
import type { PoolPostgres } from '../pool-postgres.js';
import { SQL_ESTADO_CREDENCIAL, conReintentos, esErrorDeDatos } from '../sentencias-escritura.js';
import { idAgregadoConversion } from './filas.js';
import { CTES_CREDENCIAL_AUTORIZADA } from '../credencial-en-lote.js';

/** Tipo del evento de outbox que lleva un hecho de conversión al consumidor. */
export const TIPO_EVENTO_HECHO = 'HechoConversionRecibido';

/**
 * Registra un LOTE de hechos en UNA sentencia (como `SQL_CREAR_LOTE` de los pagos): hechos, sus eventos de
 * outbox y su historial, un commit y un `NOTIFY` del outbox (su disparador es por sentencia) para todo el lote.
 *
 * - `autorizada`: la credencial de cada entrada se comprueba dentro de la sentencia (decisión 0121): socio
 *   activo y, si hay clave, vigente y de ese socio y modo, con sus filas en `FOR SHARE` (en orden de id: sin
 *   interbloqueos entre lotes). Una revocación confirmada antes deja esa entrada sin escribir nada, ni siquiera
 *   la respuesta de una réplica (`denegado`); las demás entradas del lote siguen.
 * - `previos`: los hechos que ya existían con alguna de las claves (socio, modo, id_evento): réplicas tardías
 *   respondidas con la huella guardada, sin otra consulta.
 * - `nuevos`: inserta el resto en orden de clave (a igual clave, gana la que llegó antes al lote) y
 *   `ON CONFLICT DO NOTHING` descarta los duplicados, dentro del lote o frente a otra transacción concurrente
 *   (a la que espera hasta que confirme). Outbox e historial solo para los realmente insertados.
 *
 * Devuelve una fila por entrada nueva (`id_mensaje`), por hecho previo (clave y huella) y por entrada
 * denegada (`orden`). Una entrada que no sale en ninguna perdió su clave frente a otra del lote (se responde
 * con la fila de la ganadora) o frente a otra transacción (se lee después).
 */
const SQL_REGISTRAR_HECHOS = `
WITH entrada AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::text[],
                       $9::timestamptz[], $10::int8[], $11::text[], $12::text[], $13::uuid[], $14::text[], $15::uuid[],
                       $16::text[], $17::text[], $18::bool[], $19::uuid[])
    WITH ORDINALITY
    AS e(id_socio, modo, id_evento, id_conversion, tipo, id_afiliado, monto_unidades, moneda, ocurrido_en, version, motivo,
         huella, id_mensaje, id_correlacion, id_agregado, payload, metadatos, comprobar, id_clave, orden)
),
${CTES_CREDENCIAL_AUTORIZADA},
previos AS MATERIALIZED (
  SELECT h.id_socio, h.modo, h.id_evento, h.huella, h.id_conversion FROM hechos_conversion h
  WHERE (h.id_socio, h.modo, h.id_evento) IN (SELECT id_socio, modo, id_evento FROM autorizada)
),
nuevos AS (
  INSERT INTO hechos_conversion (id_socio, modo, id_evento, id_conversion, tipo, id_afiliado, monto_unidades, moneda,
                                 ocurrido_en, version, motivo, huella, id_mensaje, id_correlacion)
  SELECT a.id_socio, a.modo, a.id_evento, a.id_conversion, a.tipo, a.id_afiliado, a.monto_unidades, a.moneda,
         a.ocurrido_en, a.version, a.motivo, a.huella, a.id_mensaje, a.id_correlacion
  FROM autorizada a
  WHERE NOT EXISTS (SELECT 1 FROM previos p WHERE p.id_socio = a.id_socio AND p.modo = a.modo AND p.id_evento = a.id_evento)
  ORDER BY a.id_socio, a.modo, a.id_evento, a.orden
  ON CONFLICT (id_socio, modo, id_evento) DO NOTHING
  RETURNING id_socio, modo, id_evento, huella, id_conversion, id_mensaje
),
en_outbox AS (
  INSERT INTO outbox (id_evento, id_agregado, version_agregado, tipo, payload, metadatos)
  SELECT a.id_mensaje, a.id_agregado, 1, '${TIPO_EVENTO_HECHO}', a.payload::jsonb, a.metadatos::jsonb
  FROM autorizada a JOIN nuevos n ON n.id_mensaje = a.id_mensaje
  ORDER BY a.orden
),
en_historial AS (
  INSERT INTO historial_conversiones (id_socio, modo, id_conversion, id_evento, tipo, detalle, id_correlacion)
  SELECT a.id_socio, a.modo, a.id_conversion, a.id_evento, 'HechoRecibido',
         jsonb_build_object('tipo_hecho', a.tipo, 'id_solicitud', a.metadatos::jsonb -> 'id_solicitud'), a.id_correlacion
  FROM autorizada a JOIN nuevos n ON n.id_mensaje = a.id_mensaje
  ORDER BY a.orden
)
SELECT 'nuevo' AS resultado, id_socio, modo, id_evento, huella, id_conversion, id_mensaje::text AS id_mensaje, NULL::int8 AS orden
FROM nuevos
UNION ALL
SELECT 'previo', id_socio, modo, id_evento, huella, id_conversion, NULL, NULL FROM previos
UNION ALL
SELECT 'denegado', e.id_socio, e.modo, e.id_evento, NULL, NULL, NULL, e.orden
FROM entrada e WHERE e.orden NOT IN (SELECT orden FROM autorizada)`;

/** Hechos ya guardados por claves (socio, modo, id_evento): la lectura tras perder una carrera con otra transacción. */
const SQL_HECHOS_POR_CLAVE = `
SELECT id_socio, modo, id_evento, huella, id_conversion FROM hechos_conversion
WHERE (id_socio, modo, id_evento) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`;

interface FilaRegistro {
  resultado: 'nuevo' | 'previo' | 'denegado';
  id_socio: string;
  modo: string;
  id_evento: string;
  huella: string | null;
  id_conversion: string | null;
  id_mensaje: string | null;
  orden: string | null;
}

interface SolicitudRegistro {
  readonly registro: HechoParaRegistrar;
  readonly traza: Trazabilidad;
  /** 1 la primera vez; 2 si se reenvía (la credencial denegada volvió a valer, o el hecho ganador no era visible). */
  readonly intento: number;
}

type PendienteRegistro = Pendiente<SolicitudRegistro, ResultadoRegistroHecho>;

export interface OpcionesRegistroHechos {
  /**
   * Sentencias de registro en vuelo a la vez. Por defecto 2: la sentencia de un lote de hechos es corta y, con
   * más huecos, los lotes salen pequeños y cada hecho paga más commits, escrituras y avisos (decisión 0185).
   */
  readonly enVueloMaximo?: number;
  /** Hechos como máximo por sentencia. Por defecto 500. */
  readonly loteMaximo?: number;
}

/** Contadores de la agrupación, para tests y benchmarks. */
export interface MetricasRegistroHechos extends MetricasAgrupador {
  /** Sentencias de registro ejecutadas (reintentos por interbloqueo y entradas aisladas incluidos). */
  readonly sentencias: number;
  readonly nuevos: number;
  readonly existentes: number;
  readonly denegados: number;
  /** Lecturas tras perder una clave frente a otra transacción. */
  readonly seguimientos: number;
}

function llave(idSocio: string, modo: string, idEvento: string): string {
  // PostgreSQL no admite U+0000 en `text`: separador sin ambigüedad.
  return `${idSocio}\u0000${modo}\u0000${idEvento}`;
}

const llaveDe = ({ registro }: SolicitudRegistro) => llave(registro.hecho.idSocio, registro.modo, registro.hecho.idEvento);

/**
 * `registrarHecho` agrupado («group commit», como `PostgresRepositorioPagos.crear`): las llamadas concurrentes
 * salen juntas en una sentencia y cada una se responde solo cuando su sentencia confirmó (commit durable).
 * Un dato que PostgreSQL rechaza aísla el lote en sentencias sueltas: solo falla la culpable y, como cada
 * sentencia es atómica, nada queda a medias.
 */
export class RegistroHechosPorLotes {
  readonly #pool: PoolPostgres;
  readonly #agrupador: AgrupadorPorLotes<SolicitudRegistro, ResultadoRegistroHecho>;
  readonly #seguimientos = new Set<Promise<void>>();
  #sentencias = 0;
  #nuevos = 0;
  #existentes = 0;
  #denegados = 0;
  #lecturas = 0;

  constructor(pool: PoolPostgres, opciones: OpcionesRegistroHechos = {}) {
    this.#pool = pool;
    this.#agrupador = new AgrupadorPorLotes(
      { enVueloMaximo: opciones.enVueloMaximo ?? 2, loteMaximo: opciones.loteMaximo ?? 500 },
      (lote) => this.#registrarLote(lote),
    );
  }

  registrar(registro: HechoParaRegistrar, traza: Trazabilidad): Promise<ResultadoRegistroHecho> {
    return this.#agrupador.enviar({ registro, traza, intento: 1 });
  }

  metricas(): MetricasRegistroHechos {
    return {
      ...this.#agrupador.metricas(),
      sentencias: this.#sentencias,
      nuevos: this.#nuevos,
      existentes: this.#existentes,
      denegados: this.#denegados,
      seguimientos: this.#lecturas,
    };
  }

  /** Espera a que se respondan todos los registros en curso. */
  async vaciar(): Promise<void> {
    for (;;) {
      await this.#agrupador.vaciar();
      if (this.#seguimientos.size === 0) return;
      await Promise.allSettled([...this.#seguimientos]);
    }
  }

  async #registrarLote(lote: readonly PendienteRegistro[]): Promise<void> {
    let filas: FilaRegistro[];
    try {
      const parametros = parametrosLote(lote.map((p) => p.entrada));
      filas = await conReintentos(async () => {
        this.#sentencias += 1;
        const { rows } = await this.#pool.query<FilaRegistro>({
          name: 'aeropartners_registrar_hechos_v1',
          text: SQL_REGISTRAR_HECHOS,
          values: parametros,
        });
        return rows;
      });
    } catch (causa) {
      // Un dato que la base rechaza es culpa de una entrada: cada una en su propia sentencia.
      if (lote.length > 1 && esErrorDeDatos(causa)) return this.#aislar(lote);
      const unico = lote.length === 1 ? lote[0]?.entrada.registro.hecho.idEvento : undefined;
      const mensaje =
        unico === undefined
          ? `No se pudo registrar el hecho: falló la sentencia del lote (${lote.length} hechos) en PostgreSQL`
          : `No se pudo registrar el hecho ${unico}: falló su sentencia en PostgreSQL`;
      const error = new Error(mensaje, { cause: causa });
      for (const p of lote) p.rechazar(error);
      return;
    }

    const nuevos = new Set<string>();
    const denegados = new Set<number>();
    const porClave = new Map<string, { huella: string; idConversion: string }>();
    for (const f of filas) {
      if (f.resultado === 'denegado') {
        denegados.add(Number(f.orden));
        continue;
      }
      if (f.resultado === 'nuevo' && f.id_mensaje !== null) nuevos.add(f.id_mensaje.toLowerCase());
      porClave.set(llave(f.id_socio, f.modo, f.id_evento), { huella: f.huella ?? '', idConversion: f.id_conversion ?? '' });
    }
    const sinResolver: PendienteRegistro[] = [];
    lote.forEach((p, i) => {
      if (denegados.has(i + 1)) return this.#denegar(p);
      if (nuevos.has(p.entrada.registro.idMensaje.toLowerCase())) {
        this.#nuevos += 1;
        return p.resolver({ tipo: 'nuevo' });
      }
      const existente = porClave.get(llaveDe(p.entrada));
      if (!existente) return void sinResolver.push(p);
      this.#existentes += 1;
      p.resolver({ tipo: 'existente', ...existente });
    });
    if (sinResolver.length > 0) this.#seguir(this.#leerGanadores(sinResolver));
  }

  async #aislar(lote: readonly PendienteRegistro[]): Promise<void> {
    await Promise.all(
      lote.map(async (p) => {
        try {
          await this.#registrarLote([p]);
        } catch (causa) {
          p.rechazar(new Error(`No se pudo registrar el hecho ${p.entrada.registro.hecho.idEvento}`, { cause: causa }));
        }
      }),
    );
  }

  /** Un seguimiento fuera del lote: el hueco del agrupador queda libre mientras tanto. */
  #seguir(trabajo: Promise<void>): void {
    const seguimiento = trabajo.finally(() => this.#seguimientos.delete(seguimiento));
    this.#seguimientos.add(seguimiento);
  }

  /**
   * Entradas cuya clave ganó otra transacción: el INSERT esperó a que confirmara, así que una lectura nueva la
   * ve. Si aun así no aparece, se reenvía la entrada una vez entera.
   */
  async #leerGanadores(pendientes: readonly PendienteRegistro[]): Promise<void> {
    this.#lecturas += 1;
    let porClave: Map<string, { huella: string; idConversion: string }>;
    try {
      const { rows } = await this.#pool.query<{ id_socio: string; modo: string; id_evento: string; huella: string; id_conversion: string }>(
        {
          name: 'aeropartners_hechos_por_clave_v1',
          text: SQL_HECHOS_POR_CLAVE,
          values: [
            pendientes.map((p) => p.entrada.registro.hecho.idSocio),
            pendientes.map((p) => p.entrada.registro.modo),
            pendientes.map((p) => p.entrada.registro.hecho.idEvento),
          ],
        },
      );
      porClave = new Map(rows.map((f) => [llave(f.id_socio, f.modo, f.id_evento), { huella: f.huella, idConversion: f.id_conversion }]));
    } catch (causa) {
      const error = new Error('No se pudo leer el hecho existente tras una carrera por su id_evento', { cause: causa });
      for (const p of pendientes) p.rechazar(error);
      return;
    }
    for (const p of pendientes) {
      const existente = porClave.get(llaveDe(p.entrada));
      if (existente) {
        this.#existentes += 1;
        p.resolver({ tipo: 'existente', ...existente });
      } else if (p.entrada.intento === 1) {
        this.#agrupador.enviar({ ...p.entrada, intento: 2 }).then(p.resolver, p.rechazar);
      } else {
        p.rechazar(new Error(`El hecho ${p.entrada.registro.hecho.idEvento} no se insertó ni existe`));
      }
    }
  }

  /**
   * Una entrada que la sentencia denegó: se averigua por qué (lectura aparte, solo en este caso raro). Si la
   * credencial vuelve a valer (p. ej. el socio se reactivó entretanto), se reenvía una vez entera.
   */
  #denegar(p: PendienteRegistro): void {
    this.#denegados += 1;
    const { registro, intento } = p.entrada;
    this.#seguir(
      this.#motivoDenegacion(registro.hecho.idSocio, registro.modo, registro.credencial?.idClave ?? null)
        .then((motivo) => {
          if (motivo !== null) return p.resolver({ tipo: 'denegado', motivo });
          if (intento === 1) return this.#agrupador.enviar({ ...p.entrada, intento: 2 }).then(p.resolver, p.rechazar);
          p.resolver({ tipo: 'denegado', motivo: 'clave-revocada' });
        })
        .catch((causa: unknown) => p.rechazar(new Error('No se pudo leer por qué se denegó la credencial', { cause: causa }))),
    );
  }

  /** Por qué la credencial no vale ahora (`null` si vale): como en la creación de pagos. */
  async #motivoDenegacion(idSocio: string, modo: Modo, idClave: string | null): Promise<MotivoRechazo | null> {
    const { rows } = await this.#pool.query<{
      estado: string | null;
      socio_clave: string | null;
      modo_clave: string | null;
      expira_en: Date | null;
      revocada_en: Date | null;
    }>(SQL_ESTADO_CREDENCIAL, [idSocio, idClave]);
    const f = rows[0];
    if (f === undefined || f.estado === null || !esEstadoSocio(f.estado)) return 'socio-suspendido';
    if (idClave !== null && (f.socio_clave !== idSocio || f.modo_clave !== modo)) return 'clave-revocada';
    const permiso = autorizar(
      { estado: f.estado },
      idClave === null ? null : { expiraEn: f.expira_en, revocadaEn: f.revocada_en },
      new Date(),
    );
    return permiso.ok ? null : permiso.error;
  }
}

/** Los 19 arrays de `SQL_REGISTRAR_HECHOS`, en el orden del lote (la posición + 1 es su `orden`). */
function parametrosLote(solicitudes: readonly SolicitudRegistro[]): unknown[][] {
  const columnas: unknown[][] = Array.from({ length: 19 }, () => []);
  for (const { registro, traza } of solicitudes) {
    const { hecho, modo } = registro;
    const monto = HechoConversion.monto(hecho);
    const payload = {
      id_socio: hecho.idSocio,
      modo,
      id_evento: hecho.idEvento,
      id_conversion: hecho.idConversion,
      tipo_hecho: hecho.tipo,
      ocurrido_en: hecho.ocurridoEn.toISOString(),
    };
    const metadatos = {
      id_correlacion: traza.idCorrelacion,
      traceparent: traza.traceparent ?? null,
      id_solicitud: traza.idSolicitud ?? null,
    };
    const fila = [
      hecho.idSocio,
      modo,
      hecho.idEvento,
      hecho.idConversion,
      hecho.tipo,
      hecho.idAfiliado,
      monto?.unidadesMenores ?? null,
      monto?.moneda ?? null,
      hecho.ocurridoEn,
      hecho.version,
      hecho.motivo,
      registro.huella,
      registro.idMensaje,
      traza.idCorrelacion,
      idAgregadoConversion(hecho.idSocio, modo, hecho.idConversion),
      JSON.stringify(payload),
      JSON.stringify(metadatos),
      registro.credencial !== undefined,
      registro.credencial?.idClave ?? null,
    ];
    fila.forEach((valor, i) => columnas[i]?.push(valor));
  }
  return columnas;
}
