import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Servidor HTTP local que imita la parte de la API de Stripe que usa la pasarela: `POST /v1/transfers`,
 * `GET /v1/transfers` (filtrado por `transfer_group`, de la más nueva a la más antigua), autenticación con
 * `Authorization: Bearer`, e idempotencia como la de Stripe:
 *
 * - misma `Idempotency-Key` y mismos parámetros → se repite la respuesta guardada (mismo estado, mismo
 *   cuerpo) con `Idempotent-Replayed: true`, sin ejecutar nada otra vez;
 * - misma clave con otros parámetros → 400 `idempotency_error`;
 * - misma clave mientras la primera petición sigue en curso → 409 `idempotency_key_in_use`;
 * - solo se guarda el resultado de las peticiones que llegaron a ejecutarse: una petición que falla la
 *   validación, o un fallo programado sin `guardarConLaClave`, no deja nada guardado;
 * - las claves se olvidan con `reiniciar({ olvidarClaves: true })` (Stripe las olvida a las 24 h); las
 *   transferencias no se olvidan nunca.
 *
 * Registra cada petición recibida y cada transferencia creada, para que un test cuente cuántas veces se
 * transfirió de verdad.
 */

/** Cuerpo `error` de una respuesta de error de Stripe. */
export interface ErrorStripeFalso {
  readonly type: string;
  readonly message: string;
  readonly code?: string;
  readonly decline_code?: string;
  readonly param?: string;
}

/** Lo que hará el servidor con la próxima petición que llegue a ejecutarse (en orden de programación). */
export type RespuestaProgramada =
  | {
      readonly tipo: 'error';
      readonly estado: number;
      readonly error: ErrorStripeFalso;
      readonly cabeceras?: Readonly<Record<string, string>>;
      /**
       * `true`: Stripe llegó a ejecutar la petición y guarda el error con la clave (un rechazo real), así
       * que repetirla devuelve el mismo error. `false` (por defecto): el fallo ocurrió antes (un 500 de
       * infraestructura) y un reintento con la misma clave se ejecuta de verdad.
       */
      readonly guardarConLaClave?: boolean;
    }
  /**
   * Ejecuta la transferencia y después responde con un error (p. ej. un 500 a mitad de camino). Como
   * Stripe con una petición que llegó a ejecutarse, guarda ese error con la clave y lo marca con
   * `Stripe-Should-Retry: false` (reintentar solo lo repetiría): repetirla devuelve el mismo error y no
   * transfiere otra vez. La respuesta no dice que el dinero se movió; solo preguntar por el
   * `transfer_group` lo revela.
   */
  | {
      readonly tipo: 'errorTrasTransferir';
      readonly estado: number;
      readonly error: ErrorStripeFalso;
    }
  /**
   * Ejecuta la transferencia y tarda `ms` en responder: si el cliente se cansa antes, la transferencia
   * existe igual (y la clave queda «en curso» hasta que se responde).
   */
  | { readonly tipo: 'retraso'; readonly ms: number };

/** Lo que hará el servidor con la próxima consulta `GET /v1/transfers` (en orden de programación). */
export type RespuestaListadoProgramada =
  | { readonly tipo: 'error'; readonly estado: number; readonly error: ErrorStripeFalso }
  | { readonly tipo: 'retraso'; readonly ms: number };

export interface SolicitudRegistrada {
  readonly metodo: string;
  readonly ruta: string;
  readonly claveIdempotencia: string | undefined;
  readonly autorizacion: string | undefined;
  /** Cuerpo `application/x-www-form-urlencoded` tal cual: `metadata[id_pago]` es una clave más. */
  readonly parametros: Readonly<Record<string, string>>;
  readonly cabeceras: Readonly<Record<string, string | string[] | undefined>>;
}

export interface TransferenciaFalsa {
  readonly id: string;
  readonly amount: number;
  readonly currency: string;
  readonly destination: string;
  readonly transfer_group: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly claveIdempotencia: string | undefined;
  /** Segundos Unix, como `created` en Stripe. */
  readonly created: number;
  /** Lo revertido (`revertir`); la transferencia está `reversed` cuando llega a `amount`. */
  readonly amount_reversed: number;
}

export interface OpcionesServidorStripeFalso {
  /** Única clave de API aceptada; cualquier otra recibe 401. Por defecto `sk_test_falsa`. */
  readonly apiKey?: string;
  /** Si se da, una transferencia a otra cuenta recibe 400 `No such destination`, como en Stripe. */
  readonly cuentasConectadas?: readonly string[];
}

export interface ServidorStripeFalso {
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http';
  readonly apiKey: string;
  /** Todas las peticiones recibidas, en orden de llegada, incluidas las rechazadas y repetidas. */
  readonly solicitudes: readonly SolicitudRegistrada[];
  /** Transferencias creadas de verdad (una por clave de idempotencia, como mucho). */
  readonly transferencias: readonly TransferenciaFalsa[];
  /** Encola respuestas para las próximas peticiones que lleguen a ejecutarse. */
  programar(...respuestas: RespuestaProgramada[]): void;
  /** Encola respuestas para las próximas consultas `GET /v1/transfers`. */
  programarListado(...respuestas: RespuestaListadoProgramada[]): void;
  /** Revierte la transferencia (entera si no se da `monto`), como `POST /v1/transfers/:id/reversals`. */
  revertir(idTransferencia: string, monto?: number): void;
  /**
   * Cierra el servidor (cortando las conexiones y las respuestas pendientes, como una caída) y vuelve a
   * escuchar en el mismo puerto. Las transferencias y las solicitudes registradas se conservan; con
   * `olvidarClaves`, las claves de idempotencia guardadas se olvidan, como Stripe a las 24 h.
   */
  reiniciar(opciones: { readonly olvidarClaves: boolean }): Promise<void>;
  cerrar(): Promise<void>;
}

interface RespuestaGuardada {
  readonly idPeticion: string;
  readonly parametros: string;
  readonly ruta: string;
  readonly estado: number;
  readonly cuerpo: unknown;
  readonly cabeceras: Readonly<Record<string, string>>;
}

const VERSION_API = '2026-10-28.endive';
const TAMANO_MAXIMO_CUERPO = 1024 * 1024;

function leerCuerpo(peticion: IncomingMessage): Promise<string> {
  return new Promise((resolver, rechazar) => {
    const trozos: Buffer[] = [];
    let tamano = 0;
    peticion.on('data', (trozo: Buffer) => {
      tamano += trozo.length;
      if (tamano > TAMANO_MAXIMO_CUERPO) {
        rechazar(new Error('Cuerpo demasiado grande'));
        peticion.destroy();
        return;
      }
      trozos.push(trozo);
    });
    peticion.on('end', () => resolver(Buffer.concat(trozos).toString('utf8')));
    peticion.on('error', rechazar);
  });
}

function cabecera(peticion: IncomingMessage, nombre: string): string | undefined {
  const valor = peticion.headers[nombre];
  return Array.isArray(valor) ? valor[0] : valor;
}

/** Forma canónica de los parámetros, para compararlos como lo hace Stripe (el orden no importa). */
function canonicos(parametros: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(parametros).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function cuerpoError(error: ErrorStripeFalso) {
  return { error: { ...error, doc_url: error.code ? `https://docs.stripe.com/error-codes/${error.code}` : undefined } };
}

export async function iniciarServidorStripeFalso(opciones: OpcionesServidorStripeFalso = {}): Promise<ServidorStripeFalso> {
  const apiKey = opciones.apiKey ?? 'sk_test_falsa';
  const solicitudes: SolicitudRegistrada[] = [];
  const transferencias: TransferenciaFalsa[] = [];
  const programadas: RespuestaProgramada[] = [];
  const listadosProgramados: RespuestaListadoProgramada[] = [];
  const guardadas = new Map<string, RespuestaGuardada>();
  const enCurso = new Set<string>();
  const temporizadores = new Set<NodeJS.Timeout>();
  let peticiones = 0;

  /** Espera `ms` con un temporizador que `cerrar`/`reiniciar` cancelan (la respuesta no llega nunca). */
  function esperar(ms: number): Promise<void> {
    return new Promise<void>((resolver) => {
      const t = setTimeout(() => {
        temporizadores.delete(t);
        resolver();
      }, ms);
      temporizadores.add(t);
    });
  }

  function responder(
    respuesta: ServerResponse,
    idPeticion: string,
    estado: number,
    cuerpo: unknown,
    extra: Readonly<Record<string, string>> = {},
  ): void {
    if (respuesta.destroyed || respuesta.writableEnded) return; // el cliente ya se fue (timeout)
    const json = JSON.stringify(cuerpo);
    respuesta.writeHead(estado, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(json),
      'request-id': idPeticion,
      'stripe-version': VERSION_API,
      ...extra,
    });
    respuesta.end(json);
  }

  function validarTransferencia(p: Readonly<Record<string, string>>): ErrorStripeFalso | undefined {
    for (const campo of ['amount', 'currency', 'destination']) {
      if (p[campo] === undefined || p[campo] === '') {
        return {
          type: 'invalid_request_error',
          code: 'parameter_missing',
          param: campo,
          message: `Missing required param: ${campo}.`,
        };
      }
    }
    if (!/^[1-9]\d*$/.test(p.amount ?? '')) {
      return {
        type: 'invalid_request_error',
        code: 'parameter_invalid_integer',
        param: 'amount',
        message: 'Invalid positive integer',
      };
    }
    const destino = p.destination ?? '';
    if (opciones.cuentasConectadas !== undefined && !opciones.cuentasConectadas.includes(destino)) {
      return {
        type: 'invalid_request_error',
        code: 'resource_missing',
        param: 'destination',
        message: `No such destination: '${destino}'`,
      };
    }
    return undefined;
  }

  function crearTransferencia(p: Readonly<Record<string, string>>, clave: string | undefined) {
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(p)) {
      const m = /^metadata\[(.+)\]$/.exec(k);
      if (m?.[1] !== undefined) metadata[m[1]] = v;
    }
    const id = `tr_falsa_${String(transferencias.length + 1).padStart(6, '0')}`;
    const transferencia: TransferenciaFalsa = {
      id,
      amount: Number(p.amount),
      currency: p.currency ?? '',
      destination: p.destination ?? '',
      transfer_group: p.transfer_group ?? null,
      metadata,
      claveIdempotencia: clave,
      created: Math.floor(Date.now() / 1000),
      amount_reversed: 0,
    };
    transferencias.push(transferencia);
    return cuerpoTransferencia(transferencia);
  }

  function cuerpoTransferencia(transferencia: TransferenciaFalsa) {
    const { id, metadata } = transferencia;
    return {
      id,
      object: 'transfer',
      amount: transferencia.amount,
      amount_reversed: transferencia.amount_reversed,
      balance_transaction: `txn_falsa_${id.slice(9)}`,
      created: transferencia.created,
      currency: transferencia.currency,
      description: null,
      destination: transferencia.destination,
      destination_payment: `py_falsa_${id.slice(9)}`,
      livemode: false,
      metadata,
      reversals: { object: 'list', data: [], has_more: false, url: `/v1/transfers/${id}/reversals` },
      reversed: transferencia.amount_reversed >= transferencia.amount,
      source_transaction: null,
      source_type: 'card',
      transfer_group: transferencia.transfer_group,
    };
  }

  async function atender(peticion: IncomingMessage, respuesta: ServerResponse, idPeticion: string): Promise<void> {
    const texto = await leerCuerpo(peticion);
    const parametros = Object.fromEntries(new URLSearchParams(texto));
    const metodo = peticion.method ?? 'GET';
    const ruta = new URL(peticion.url ?? '/', 'http://localhost').pathname;
    const clave = cabecera(peticion, 'idempotency-key');
    const autorizacion = cabecera(peticion, 'authorization');
    solicitudes.push({
      metodo,
      ruta,
      claveIdempotencia: clave,
      autorizacion,
      parametros,
      cabeceras: { ...peticion.headers },
    });

    if (autorizacion !== `Bearer ${apiKey}`) {
      const mostrada = autorizacion?.replace(/^Bearer /, '') ?? '';
      return responder(respuesta, idPeticion, 401, {
        error: {
          type: 'invalid_request_error',
          message: `Invalid API Key provided: ${mostrada.slice(0, 8)}****${mostrada.slice(-4)}`,
        },
      });
    }
    if (metodo === 'GET' && ruta === '/v1/transfers') {
      const programada = listadosProgramados.shift();
      if (programada?.tipo === 'error') return responder(respuesta, idPeticion, programada.estado, cuerpoError(programada.error));
      if (programada?.tipo === 'retraso') await esperar(programada.ms);
      const consulta = new URL(peticion.url ?? '/', 'http://localhost').searchParams;
      const grupo = consulta.get('transfer_group');
      const limite = Math.min(100, Math.max(1, Number(consulta.get('limit') ?? 10) || 10));
      let todas = transferencias.filter((t) => grupo === null || t.transfer_group === grupo).reverse();
      const despuesDe = consulta.get('starting_after');
      if (despuesDe !== null) todas = todas.slice(todas.findIndex((t) => t.id === despuesDe) + 1);
      return responder(respuesta, idPeticion, 200, {
        object: 'list',
        url: '/v1/transfers',
        has_more: todas.length > limite,
        data: todas.slice(0, limite).map((t) => cuerpoTransferencia(t)),
      });
    }
    if (metodo !== 'POST' || ruta !== '/v1/transfers') {
      return responder(
        respuesta,
        idPeticion,
        404,
        cuerpoError({ type: 'invalid_request_error', message: `Unrecognized request URL (${metodo}: ${ruta}).` }),
      );
    }

    const claveCanonica = canonicos(parametros);
    if (clave !== undefined) {
      if (enCurso.has(clave)) {
        return responder(
          respuesta,
          idPeticion,
          409,
          cuerpoError({
            type: 'invalid_request_error',
            code: 'idempotency_key_in_use',
            message: 'There is currently another in-progress request using this idempotent key. ' + 'Please retry this request later.',
          }),
        );
      }
      const guardada = guardadas.get(clave);
      if (guardada !== undefined) {
        if (guardada.ruta !== ruta || guardada.parametros !== claveCanonica) {
          return responder(
            respuesta,
            idPeticion,
            400,
            cuerpoError({
              type: 'idempotency_error',
              message:
                'Keys for idempotent requests can only be used with the same parameters they were first used with. ' +
                `Try using a key other than '${clave}' if you meant to execute a different request.`,
            }),
          );
        }
        return responder(respuesta, idPeticion, guardada.estado, guardada.cuerpo, {
          ...guardada.cabeceras,
          'idempotency-key': clave,
          'idempotent-replayed': 'true',
          'original-request': guardada.idPeticion,
        });
      }
    }

    const invalida = validarTransferencia(parametros);
    if (invalida !== undefined) return responder(respuesta, idPeticion, 400, cuerpoError(invalida));

    const guardar = (estado: number, cuerpo: unknown, cabeceras: Readonly<Record<string, string>> = {}) => {
      if (clave !== undefined) guardadas.set(clave, { idPeticion, parametros: claveCanonica, ruta, estado, cuerpo, cabeceras });
    };
    const eco: Record<string, string> = clave === undefined ? {} : { 'idempotency-key': clave };

    const programada = programadas.shift();
    if (programada?.tipo === 'error') {
      const cuerpo = cuerpoError(programada.error);
      if (programada.guardarConLaClave === true) guardar(programada.estado, cuerpo);
      return responder(respuesta, idPeticion, programada.estado, cuerpo, { ...eco, ...programada.cabeceras });
    }

    const cuerpo = crearTransferencia(parametros, clave);
    if (programada?.tipo === 'errorTrasTransferir') {
      const error = cuerpoError(programada.error);
      const noReintentar = { 'stripe-should-retry': 'false' };
      guardar(programada.estado, error, noReintentar);
      return responder(respuesta, idPeticion, programada.estado, error, { ...eco, ...noReintentar });
    }
    guardar(200, cuerpo);
    if (programada?.tipo === 'retraso') {
      if (clave !== undefined) enCurso.add(clave);
      await esperar(programada.ms);
      if (clave !== undefined) enCurso.delete(clave);
    }
    return responder(respuesta, idPeticion, 200, cuerpo, eco);
  }

  function crearServidor(): Server {
    return createServer((peticion, respuesta) => {
      peticiones += 1;
      const idPeticion = `req_falsa_${String(peticiones).padStart(6, '0')}`;
      atender(peticion, respuesta, idPeticion).catch((error: unknown) => {
        const mensaje = `Fallo del servidor falso: ${String(error)}`;
        responder(respuesta, idPeticion, 500, cuerpoError({ type: 'api_error', message: mensaje }));
      });
    });
  }

  function escuchar(s: Server, puerto: number): Promise<void> {
    return new Promise<void>((resolver, rechazar) => {
      s.once('error', rechazar);
      s.listen(puerto, '127.0.0.1', () => {
        s.off('error', rechazar);
        resolver();
      });
    });
  }

  function apagar(s: Server): Promise<void> {
    for (const t of temporizadores) clearTimeout(t);
    temporizadores.clear();
    enCurso.clear();
    s.closeAllConnections();
    return new Promise<void>((resolver, rechazar) => s.close((e) => (e ? rechazar(e) : resolver())));
  }

  let servidor = crearServidor();
  await escuchar(servidor, 0);
  const { port } = servidor.address() as AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    protocol: 'http',
    apiKey,
    solicitudes,
    transferencias,
    programar(...respuestas) {
      programadas.push(...respuestas);
    },
    programarListado(...respuestas) {
      listadosProgramados.push(...respuestas);
    },
    revertir(idTransferencia, monto) {
      const i = transferencias.findIndex((t) => t.id === idTransferencia);
      const t = transferencias[i];
      if (t === undefined) throw new Error(`No existe la transferencia ${idTransferencia} en el Stripe falso.`);
      transferencias[i] = { ...t, amount_reversed: Math.min(t.amount, t.amount_reversed + (monto ?? t.amount)) };
    },
    async reiniciar({ olvidarClaves }) {
      await apagar(servidor);
      if (olvidarClaves) guardadas.clear();
      servidor = crearServidor();
      await escuchar(servidor, port);
    },
    cerrar() {
      return apagar(servidor);
    },
  };
}
