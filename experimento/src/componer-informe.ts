import os from 'node:os';
import type pg from 'pg';
import { RAMPA_MAXIMA_DEL_PLAN, type MedidaCapacidad } from './capacidad.js';
import type { EstadoCarga } from './carga.js';
import {
  cubetas,
  duplicadosEnElTiempo,
  duplicadosPorEtapa,
  resumenLatencias,
  totalContadores,
  type Informe,
  type MarcaFallo,
} from './informe.js';
import type { Muestreo } from './muestreo.js';
import type { Opciones } from './opciones.js';
import type { Plan } from './plan.js';
import type { Veredicto } from './veredicto.js';

/** Lo que se cuenta en la base al final, solo para el informe (el veredicto va aparte). */
export interface CuentasEnLaBase {
  readonly cobros: number;
  readonly rechazos: number;
  readonly pagosReimpulsados: number;
  readonly reimpulsos: number;
}

export async function contarEnLaBase(pool: pg.Pool, socios: readonly string[]): Promise<CuentasEnLaBase> {
  const r = `r AS (SELECT id FROM pagos WHERE id_socio = ANY($1::text[]))`;
  const { rows: libro } = await pool
    .query<{ cobros: number; rechazos: number }>(
      `WITH ${r} SELECT count(*) FILTER (WHERE c.resultado = 'exitoso')::int AS cobros, count(*) FILTER (WHERE c.resultado = 'rechazado')::int AS rechazos
       FROM pasarela_simulada.cargos c JOIN r ON r.id = c.id_pago`,
      [socios],
    )
    .catch(() => ({ rows: [] as { cobros: number; rechazos: number }[] })); // sin libro (Stripe)
  const { rows: barrido } = await pool.query<{ pagos: number; veces: number }>(
    `WITH ${r} SELECT count(*)::int AS pagos, coalesce(sum((o.metadatos ->> 'reimpulsos')::numeric), 0)::int AS veces
     FROM outbox o JOIN r ON r.id = o.id_agregado WHERE o.tipo = 'PagoPendiente' AND o.metadatos ? 'reimpulsos'`,
    [socios],
  );
  return {
    cobros: libro[0]?.cobros ?? 0,
    rechazos: libro[0]?.rechazos ?? 0,
    pagosReimpulsados: barrido[0]?.pagos ?? 0,
    reimpulsos: barrido[0]?.veces ?? 0,
  };
}

export interface DatosInforme {
  readonly corrida: string;
  readonly fecha: Date;
  readonly opciones: Opciones;
  readonly montaje: {
    readonly Topología: string;
    readonly Socios: string;
    readonly Barrendero: string;
    readonly propia: boolean;
    readonly local: boolean;
  };
  readonly plan: Plan;
  readonly peticionesPorPago: number;
  readonly estado: EstadoCarga;
  readonly muestreo: Muestreo;
  readonly marcas: readonly MarcaFallo[];
  readonly venenos: number;
  readonly veredicto: Veredicto;
  readonly capacidad: MedidaCapacidad | undefined;
  readonly enBase: CuentasEnLaBase | undefined;
  /** Las medidas del stream SSE y de los webhooks de los socios (`trazabilidad.ts`). */
  readonly trazabilidad?: Readonly<Record<string, string>>;
  /** Las cifras de conversiones y liquidaciones (`resumen-conversiones.ts`). */
  readonly conversiones?: Readonly<Record<string, string>>;
  /** Lo del ámbito de los socios: la suspensión y las lecturas de muestreo. */
  readonly ambito: {
    readonly peticionesTrasSuspension: number;
    readonly respuestas403TrasSuspension: number;
    readonly lecturas: number;
    readonly lecturasDeOtroSocio: number;
  };
  readonly tiempos: {
    readonly duracionCarga: number;
    readonly finCarga: number;
    readonly finDrenaje: number;
    readonly drenado: boolean;
    readonly total: number;
    /** Peticiones enviadas por segundo en la carga mantenida (tras la rampa). */
    readonly ritmoMantenido: number;
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('es-ES');
const pct = (parte: number, todo: number) => `${((100 * parte) / Math.max(1, todo)).toFixed(1)} %`;
const s1 = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(1)} s`;

/** El informe de la corrida como experimento de arquitectura: hipótesis, montaje, medidas, resultado regla a regla, conclusión. */
export function componerInforme(d: DatosInforme): Informe {
  const { opciones: o, plan, estado, veredicto, capacidad, tiempos } = d;
  const c = estado.contadores;
  const muestras = d.muestreo.contadores;
  const suma = (servicio: 'outbox' | 'consumer', ...claves: string[]) => totalContadores(muestras, servicio, claves);
  const duplicados = duplicadosPorEtapa(muestras, c.replays);
  const tiempos200 = estado.muestras.map(([t]) => t / 1000);
  const replaysHasta = (s: number) => Math.round(c.replays * (tiempos200.filter((t) => t <= s).length / Math.max(1, tiempos200.length)));
  const lat = resumenLatencias(estado.muestras);
  const repetidas = c.peticiones - plan.pagos.length;
  const hechos = (tipo: string) => d.marcas.filter((m) => m.tipo === tipo && !m.error);
  const recuperados = (tipo: string) =>
    `${hechos(tipo).length} (${
      hechos(tipo)
        .map((m) => s1(m.recuperacionMs))
        .join(', ') || '—'
    })`;
  const finRampa = capacidad?.escalones.at(-1)?.hasta;
  const objetivo = capacidad ? capacidad.ritmoMantenido : (o.ritmo ?? 0);
  const decisiones = d.enBase ? d.enBase.cobros + d.enBase.rechazos : 0;
  const perdidas = suma('consumer', 'pasarela_respuestasPerdidas');
  const procesosKill = hechos('matar-consumidor').length + hechos('matar-relay-lider').length;
  const deFinal = (k: 'p50' | 'p99' | 'max') => {
    const v = veredicto.latenciaFinalMs[k];
    return v === null ? '—' : s1(v);
  };
  return {
    titulo: 'Experimento · escenario de calidad n.º 3: cada pago, exactamente una vez',
    corrida: d.corrida,
    fecha: d.fecha.toISOString(),
    resultado: veredicto.aprobado ? 'APROBADO' : 'SUSPENDIDO',
    hipotesis:
      'Si los socios envían sus pagos, a un ritmo cercano a lo que la máquina sostiene, por una red que los duplica (copias simultáneas, ' +
      'reintentos tras un timeout cuyo original sí llegó, réplicas tardías), los desordena y los entrelaza; si la pasarela pierde respuestas ' +
      'después de cobrar, responde 500 después de cobrar o sigue «en curso»; y si entretanto mueren consumidores y el relay líder (con otro en ' +
      'reserva), PostgreSQL se reinicia y además se cae de golpe, entonces cada (socio, referencia) produce exactamente un pago, cobrado como ' +
      'mucho una vez (exactamente una si es EXITOSO, ninguna si es FALLIDO), ninguno queda incierto, ningún evento publicado se pierde, cada ' +
      `historial está completo y todos llegan a un estado final en menos de ${o.plazoS} s, sin intervención manual; y con socios de verdad ` +
      'que comparten referencias, ninguna respuesta lleva datos de otro socio y el socio suspendido a mitad no escribe nada más; ' +
      'y cada cambio de estado llega a su socio, y solo a él, exactamente una vez y en orden por el feed de eventos, por el stream SSE ' +
      '(aunque se corte) y por webhooks firmados (aunque el receptor falle).',
    montaje: {
      Topología: d.montaje.Topología,
      Máquina: `${os.cpus().length} núcleos, Node ${process.version}`,
      Socios: d.montaje.Socios,
      'Pagos distintos': plan.pagos.length,
      'Peticiones planeadas': plan.peticiones,
      Ritmo:
        o.ritmo !== undefined
          ? o.ritmo > 0
            ? `${o.ritmo} pet/s fijas`
            : 'sin límite'
          : `rampa desde ${o.rampa.inicio} pet/s, +${o.rampa.paso} cada ${o.rampa.escalonS} s hasta saturar (como mucho ${Math.round(100 * RAMPA_MAXIMA_DEL_PLAN)} % del plan); después ${Math.round(o.fraccionCapacidad * 100)} % de la capacidad medida`,
      Concurrencia: o.concurrencia,
      'Fallos de red': `dobles ${o.dobles * 100} %, triples ${o.triples * 100} %, timeouts ${o.timeouts * 100} %, tardías ${o.tardias * 100} %, conflictos ${o.conflictos * 100} %, ventana de desorden ${o.desorden}`,
      'Fallos de procesos': d.montaje.local
        ? `${o.matarConsumidor} SIGKILL a un consumidor, ${o.matarRelay} al relay líder, ${o.reiniciarPostgres} reinicio(s) de PostgreSQL (SIGUSR2), ${o.matarPostgres} caída(s) (SIGKILL al postmaster)`
        : 'ninguno (despliegue remoto)',
      'Pasarela simulada': d.montaje.propia
        ? `perfil ${o.perfilPasarela}; tras decidir: ${o.pasarelaSinRespuesta * 100} % sin respuesta, ${o.pasarela500 * 100} % HTTP 500, ${o.pasarelaEnCurso * 100} % «en curso»`
        : 'la de la topología en marcha',
      'Duplicación en el broker': d.montaje.propia ? o.duplicarEntregas : 'la de la topología en marcha',
      Barrendero: d.montaje.Barrendero,
      'Mensajes venenosos': d.venenos,
      'Plazo declarado': `${o.plazoS} s de creación a estado final`,
      Semilla: o.semilla,
    },
    medidas: {
      'Peticiones HTTP enviadas': c.peticiones,
      'Peticiones que repiten una referencia': `${fmt(repetidas)} (${pct(repetidas, c.peticiones)})`,
      'Copias dobles / triples simultáneas': `${fmt(c.dobles)} / ${fmt(c.triples)}`,
      'Timeouts del cliente con original aceptado / reintento reconocido': `${fmt(c.timeoutsOriginalExitoso)} / ${fmt(c.timeoutsReintentoReconocido)}`,
      'Réplicas tardías de pagos terminados': c.tardias,
      'Misma referencia con otro cuerpo (→ 422)': `${fmt(c.conflictos)} enviadas, ${fmt(c.r422)} respuestas 422`,
      'Envíos fuera de orden / cambios de socio': `${fmt(c.fueraDeOrden)} / ${fmt(c.entrelazados)}`,
      'Respuestas 200 (de ellas Idempotent-Replayed)': `${fmt(c.respuestas200)} (${fmt(c.replays)})`,
      'Errores transitorios (5xx o red) reintentados': `${fmt(c.transitorios)} (${fmt(c.reintentosTransitorios)} reintentos)`,
      'Otros 4xx': JSON.stringify(c.otros4xx),
      'Socio suspendido: peticiones tras confirmarse / respuestas 403': `${fmt(d.ambito.peticionesTrasSuspension)} / ${fmt(d.ambito.respuestas403TrasSuspension)}`,
      'Lecturas de muestreo del ámbito (de ellas, del pago de otro socio)': `${fmt(d.ambito.lecturas)} (${fmt(d.ambito.lecturasDeOtroSocio)})`,
      'Capacidad de extremo a extremo (rampa)': capacidad
        ? `${fmt(capacidad.pagosPorSegundo)} pagos terminados/s = ${fmt(capacidad.peticionesPorSegundo)} pet/s del plan (${fmt(d.peticionesPorPago * 100)} pet. cada 100 pagos)${capacidad.saturada ? '' : ', cota inferior'}`
        : '— (ritmo fijo)',
      'Ritmo mantenido: objetivo / enviado': `${fmt(objetivo)} / ${fmt(tiempos.ritmoMantenido)} pet/s${capacidad ? ` (${pct(objetivo, capacidad.peticionesPorSegundo)} / ${pct(tiempos.ritmoMantenido, capacidad.peticionesPorSegundo)} de la capacidad)` : ''}`,
      'Despachador sin hueco en la concurrencia (la API no daba abasto)': `${(estado.sinHuecoMs / 1000).toFixed(1)} s`,
      'Duración de la carga principal (rampa + mantenida)': `${tiempos.duracionCarga.toFixed(1)} s${finRampa !== undefined ? ` (rampa ${finRampa.toFixed(0)} s)` : ''}`,
      'Latencia POST /pagos p50 / p95 / p99 / máx': `${lat.p50} / ${lat.p95} / ${lat.p99} / ${lat.max}`,
      'Pagos en la base (EXITOSO / FALLIDO / otros)': `${fmt(veredicto.pagos)} (${fmt(veredicto.porEstado['EXITOSO'] ?? 0)} / ${fmt(veredicto.porEstado['FALLIDO'] ?? 0)} / ${fmt(veredicto.pagos - (veredicto.porEstado['EXITOSO'] ?? 0) - (veredicto.porEstado['FALLIDO'] ?? 0))})`,
      'Creación → estado final p50 / p99 / máx': `${deFinal('p50')} / ${deFinal('p99')} / ${deFinal('max')}`,
      'Drenaje tras la carga': `${(tiempos.finDrenaje - tiempos.finCarga).toFixed(1)} s${tiempos.drenado ? '' : ' (sin vaciarse)'}`,
      'Consumidor matado (todo listo de nuevo en)': recuperados('matar-consumidor'),
      'Relay líder matado (relevo / todo listo en)': `${hechos('matar-relay-lider').length} (${
        hechos('matar-relay-lider')
          .map((m) => `${s1(m.relevoMs)} / ${s1(m.recuperacionMs)}`)
          .join(', ') || '—'
      })`,
      'PostgreSQL reiniciado con SIGUSR2 (todo listo en)': recuperados('reiniciar-postgres'),
      'PostgreSQL caído con SIGKILL al postmaster (todo listo en)': recuperados('matar-postgres'),
      'Fallos que no se pudieron inyectar': d.marcas.filter((m) => m.error).length,
      'Pasarela: cobros / rechazos en el libro': d.enBase ? `${fmt(d.enBase.cobros)} / ${fmt(d.enBase.rechazos)}` : '—',
      'Pasarela: decisiones con la respuesta perdida / con HTTP 500 / «en curso»': `${fmt(perdidas)} (${pct(perdidas, decisiones)} de las decisiones) / ${fmt(suma('consumer', 'pasarela_errores500TrasCobro'))} / ${fmt(suma('consumer', 'pasarela_enCurso'))}`,
      'Pasarela: transitorios antes de cobrar / consultas por un pago': `${fmt(suma('consumer', 'pasarela_transitorios'))} / ${fmt(suma('consumer', 'pasarela_consultas'))}`,
      'Consumidor: inciertos / turno de otro / lease perdido / reintentos de la pasarela': `${fmt(suma('consumer', 'inciertos'))} / ${fmt(suma('consumer', 'ocupados'))} / ${fmt(suma('consumer', 'abandonados'))} / ${fmt(suma('consumer', 'reintentosPasarela'))}`,
      'Relay: publicados / republicados / secuencias nuevas descartadas (alarma)': `${fmt(suma('outbox', 'publicados'))} / ${fmt(suma('outbox', 'republicados'))} / ${fmt(suma('outbox', 'secuenciasDescartadas'))}`,
      'Pagos re-impulsados por el barrendero (veces)': d.enBase ? `${fmt(d.enBase.pagosReimpulsados)} (${fmt(d.enBase.reimpulsos)})` : '—',
      'Consultas de muestreo fallidas (base caída)': d.muestreo.fallosBase,
      ...d.trazabilidad,
      ...d.conversiones,
      'Duración total': `${tiempos.total.toFixed(1)} s`,
    },
    ...(capacidad ? { capacidad } : {}),
    duplicadosPorEtapa: duplicados,
    veredicto,
    conclusion: veredicto.aprobado
      ? `Se sostiene la hipótesis en esta corrida: ${fmt(c.peticiones)} peticiones (${pct(repetidas, c.peticiones)} repiten una referencia) ` +
        `${capacidad ? `a ${fmt(objetivo)} pet/s (${pct(objetivo, capacidad.peticionesPorSegundo)} de la capacidad medida) ` : ''}` +
        `dieron ${fmt(veredicto.pagos)} pagos, uno por socio y referencia, todos finales, ninguna respuesta con datos de otro socio, sin cobros dobles ni cobros de pagos fallidos ni eventos perdidos, ` +
        `a pesar de ${procesosKill} procesos matados, ${hechos('reiniciar-postgres').length} reinicio(s) y ${hechos('matar-postgres').length} caída(s) de PostgreSQL ` +
        `y ${fmt(perdidas)} respuestas de la pasarela perdidas tras decidir; cada etapa absorbió sus duplicados ` +
        `(${Object.entries(duplicados)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join(', ')}).`
      : `Se refuta la hipótesis en esta corrida: ${veredicto.violaciones.length} regla(s) incumplida(s): ${veredicto.violaciones.map((v) => `${v.regla} (${v.total})`).join(', ')}. Ver los ids en el informe.`,
    series: {
      respuestas: cubetas(estado.muestras, 1),
      estados: d.muestreo.estados,
      duplicados: duplicadosEnElTiempo(muestras, replaysHasta),
      fallos: d.marcas.filter((m) => m.tipo !== 'venenos'),
      ...(finRampa !== undefined ? { finRampa } : {}),
      finCarga: tiempos.finCarga,
      finDrenaje: tiempos.finDrenaje,
    },
  };
}
