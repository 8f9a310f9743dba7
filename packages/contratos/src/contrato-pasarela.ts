import { describe, expect, it, type TestContext } from 'vitest';
import {
  Dinero,
  type ConsultaCobro,
  type EstadoCobro,
  type PasarelaDePagos,
  type ResultadoPago,
  type SolicitudCobro,
} from '@aeropartners/dominio';

/**
 * Desenlace que un test puede imponer al próximo intento de cobro de un pago:
 * - `exitoso` / `rechazado`: la decisión definitiva (la que queda guardada con la clave);
 * - `incierto`: ese intento falla ANTES de cobrar, sin registrar nada; los siguientes deciden como siempre;
 * - `exitosoSinRespuesta`: ese intento cobra (y queda registrado) pero la respuesta se pierde o es un
 *   error: quien llama recibe `incierto` (o, si su cliente reintenta por dentro con la misma clave, el
 *   cobro ya hecho), y solo `consultar` lo revela.
 */
export type DesenlaceForzado = ResultadoPago['tipo'] | 'exitosoSinRespuesta';

/** Lo que la fábrica de la suite entrega: la pasarela y cómo observarla. */
export interface PasarelaBajoPrueba {
  readonly pasarela: PasarelaDePagos;
  /**
   * Cargos hechos de verdad (dinero movido: desenlace `exitoso` registrado) para el pago, según el
   * registro del propio adaptador o de su servidor: libro de la pasarela simulada, transferencias del
   * Stripe falso, lista de la pasarela en memoria. Un rechazo no es un cargo.
   */
  contarCargos(idPago: string): Promise<number>;
  /**
   * Impone el desenlace del próximo intento de cobro del pago que llegue a decidirse (ver
   * {@link DesenlaceForzado}). La suite lo llama justo antes del primer intento del pago y sin otros
   * cobros en curso, así que un adaptador puede aplicarlo a la próxima operación que ejecute (un servidor
   * falso con una cola de respuestas). Un desenlace forzado no tira ningún otro dado de fallo del adaptador.
   */
  configurar(idPago: string, desenlace: DesenlaceForzado): void | Promise<void>;
  /** Libera lo que la fábrica abrió (servidores, pools). */
  cerrar?(): Promise<void>;
}

export interface OpcionesContratoPasarela {
  /** Llamadas simultáneas con la misma clave (y pagos simultáneos con claves distintas). Por defecto 20. */
  readonly concurrencia?: number;
  /**
   * Tope de intentos al reintentar un `incierto` con la misma clave hasta obtener un desenlace
   * definitivo (con una espera creciente entre intentos, como el consumidor). Por defecto 50: con tasas
   * de fallo de unos pocos por ciento es imposible agotarlo en la práctica.
   */
  readonly maximoIntentos?: number;
  /** Afiliado de las solicitudes de la suite (la fábrica debe poder pagarle). Por defecto `afiliado-contrato`. */
  readonly idAfiliado?: string;
}

/** Afiliado que usan las solicitudes de la suite si no se indica otro. */
export const AFILIADO_CONTRATO = 'afiliado-contrato';

// Palabras y raíces frecuentes del español: un mensaje en inglés («Your card was declined») no
// contiene ninguna; uno en español casi siempre alguna. Es una comprobación de humo, no un idioma.
const PALABRAS_ESPANOL =
  /(?:^|[^a-záéíóúüñ])(?:el|la|los|las|de|del|se|un|una|por|para|con|sin|que|en|al|es|fondos|insuficientes|tarjeta|rechaz\p{L}*|l[ií]mite|excedid[oa]|transferencia|pasarela|pago|cobro|reintent\p{L}*|transitori[oa]|incierto|respuesta|fallo|clave|cuenta|banco)(?=$|[^a-záéíóúüñ])/iu;

/** ¿Parece un mensaje en español legible por un operador? Vacío o solo inglés → no. */
export function esMensajeEnEspanol(mensaje: unknown): boolean {
  return typeof mensaje === 'string' && mensaje.trim() !== '' && (/[áéíóúñ¿¡]/i.test(mensaje) || PALABRAS_ESPANOL.test(mensaje));
}

function comprobarReferencia(referencia: unknown): void {
  expect(typeof referencia, 'referenciaTransaccion debe ser texto').toBe('string');
  expect(String(referencia).trim(), 'referenciaTransaccion no puede estar vacía').not.toBe('');
}

function comprobarMensaje(tipo: string, mensaje: unknown): void {
  // Un rechazo dice por qué no se cobró; un incierto, por qué no se sabe (lo leerá un operador).
  expect(esMensajeEnEspanol(mensaje), `${tipo}: mensaje en español esperado, llegó: ${JSON.stringify(mensaje)}`).toBe(true);
}

/**
 * Falla el test, con un mensaje claro, si el resultado no tiene la forma de un `ResultadoPago`:
 * `exitoso` con referencia no vacía; `rechazado` e `incierto` con un mensaje en español.
 */
export function comprobarFormaResultado(resultado: ResultadoPago): void {
  switch (resultado.tipo) {
    case 'exitoso':
      comprobarReferencia(resultado.referenciaTransaccion);
      return;
    case 'rechazado':
    case 'incierto':
      comprobarMensaje(resultado.tipo, resultado.mensaje);
      return;
    default: {
      const imposible: never = resultado;
      throw new Error(`Resultado de pasarela con tipo desconocido: ${JSON.stringify(imposible)}`);
    }
  }
}

/** Como {@link comprobarFormaResultado}, para lo que responde `consultar` (`sinCobro` no lleva nada). */
export function comprobarFormaEstado(estado: EstadoCobro): void {
  switch (estado.tipo) {
    case 'exitoso':
      comprobarReferencia(estado.referenciaTransaccion);
      return;
    case 'rechazado':
    case 'incierto':
      comprobarMensaje(estado.tipo, estado.mensaje);
      return;
    case 'sinCobro':
      return;
    default: {
      const imposible: never = estado;
      throw new Error(`Estado de cobro con tipo desconocido: ${JSON.stringify(imposible)}`);
    }
  }
}

/**
 * Lo que debe repetirse con la misma clave: el tipo y, si fue exitoso, la referencia. El texto de un
 * rechazo puede llevar detalle propio de cada petición (el `request-id` de Stripe), así que no se compara.
 */
export function desenlace(resultado: ResultadoPago): { readonly tipo: ResultadoPago['tipo']; readonly referenciaTransaccion?: string } {
  return resultado.tipo === 'exitoso'
    ? { tipo: resultado.tipo, referenciaTransaccion: resultado.referenciaTransaccion }
    : { tipo: resultado.tipo };
}

function dinero(unidadesMenores: number): Dinero {
  const d = Dinero.deUnidadesMenores(unidadesMenores, 'USD');
  if (!d.ok) throw new Error(`monto de prueba inválido: ${unidadesMenores}`);
  return d.valor;
}

/**
 * Suite de contrato de `PasarelaDePagos`: cada adaptador (en memoria, simulada sobre PostgreSQL, Stripe
 * contra su servidor falso) la ejecuta con una línea. `fabrica` da una pasarela aislada por test.
 *
 * Lo que exige, con o sin desenlaces forzados:
 * - la misma clave de idempotencia da el mismo desenlace definitivo (mismo tipo; si es exitoso, la misma
 *   referencia: ver {@link desenlace}) y, como mucho, un cargo, también con N llamadas simultáneas (entre
 *   ellas puede haber `incierto`: «en curso», tiempo agotado…);
 * - claves distintas son cobros independientes; la misma clave con otro monto nunca cobra otra vez;
 * - `exitoso` trae una `referenciaTransaccion` no vacía; `rechazado` e `incierto`, un mensaje en
 *   español; los cargos de un pago son 1 si su desenlace fue `exitoso`, 0 si fue `rechazado`, y como
 *   mucho 1 si fue `incierto` (no se sabe: por eso se pregunta);
 * - `consultar`: un pago desconocido → `sinCobro`; tras un cobro → `exitoso` con la misma referencia;
 *   tras un rechazo → `rechazado` o `sinCobro` (Stripe no guarda los rechazos); tras un fallo antes de
 *   cobrar → `sinCobro` o `incierto`; tras un cobro con la respuesta perdida → `exitoso`. Nunca
 *   `exitoso` sin un cargo, ni `sinCobro` o `rechazado` con él.
 */
export function probarContratoPasarela(
  nombre: string,
  fabrica: () => Promise<PasarelaBajoPrueba> | PasarelaBajoPrueba,
  opciones: OpcionesContratoPasarela = {},
) {
  const concurrencia = opciones.concurrencia ?? 20;
  const maximoIntentos = opciones.maximoIntentos ?? 50;
  const idAfiliado = opciones.idAfiliado ?? AFILIADO_CONTRATO;

  function solicitud(cambios: Partial<SolicitudCobro> = {}): SolicitudCobro {
    const idPago = cambios.idPago ?? crypto.randomUUID();
    return {
      idPago,
      modo: 'live',
      idAfiliado,
      monto: dinero(15_075),
      referenciaPago: `REF-${idPago.slice(0, 8)}`,
      claveIdempotencia: idPago,
      traza: { idCorrelacion: `corr-${idPago}` },
      ...cambios,
    };
  }

  function consulta(s: SolicitudCobro): ConsultaCobro {
    return { idPago: s.idPago, modo: s.modo, claveIdempotencia: s.claveIdempotencia, traza: s.traza };
  }

  /**
   * Reintenta con la misma clave mientras el desenlace sea incierto, con una espera creciente (un cobro
   * «en curso» termina solo si se le da tiempo), como haría el consumidor.
   */
  async function cobrarHastaDefinitivo(pasarela: PasarelaDePagos, s: SolicitudCobro): Promise<ResultadoPago> {
    for (let intento = 1; intento <= maximoIntentos; intento += 1) {
      const resultado = await pasarela.cobrar(s);
      comprobarFormaResultado(resultado);
      if (resultado.tipo !== 'incierto') return resultado;
      await new Promise((r) => setTimeout(r, Math.min(2 ** intento, 50)));
    }
    throw new Error(`La pasarela siguió respondiendo «incierto» tras ${maximoIntentos} intentos con la clave ${s.claveIdempotencia}`);
  }

  /** Cargos coherentes con el desenlace: uno si fue exitoso, ninguno si fue rechazado, como mucho uno si no se sabe. */
  async function comprobarCargos(sut: PasarelaBajoPrueba, idPago: string, resultado: ResultadoPago): Promise<void> {
    const cargos = await sut.contarCargos(idPago);
    const mensaje = `cargos del pago ${idPago} con desenlace ${resultado.tipo}`;
    if (resultado.tipo === 'incierto') expect(cargos, mensaje).toBeLessThanOrEqual(1);
    else expect(cargos, mensaje).toBe(resultado.tipo === 'exitoso' ? 1 : 0);
  }

  /**
   * Lo que `consultar` responde es coherente con los cargos y con lo que respondió `cobrar`: nunca
   * `exitoso` sin cargo (ni con otra referencia), nunca `sinCobro` o `rechazado` con él.
   */
  async function comprobarConsulta(sut: PasarelaBajoPrueba, s: SolicitudCobro, cobro?: ResultadoPago): Promise<EstadoCobro> {
    const estado = await sut.pasarela.consultar(consulta(s));
    comprobarFormaEstado(estado);
    const cargos = await sut.contarCargos(s.idPago);
    const contexto = `consultar el pago ${s.idPago} (cobro: ${cobro?.tipo ?? 'ninguno'}) respondió ${estado.tipo} con ${cargos} cargos`;
    if (estado.tipo === 'exitoso') expect(cargos, contexto).toBe(1);
    if (estado.tipo === 'sinCobro' || estado.tipo === 'rechazado') expect(cargos, contexto).toBe(0);
    if (cobro?.tipo === 'exitoso') expect(estado, contexto).toEqual(cobro);
    if (cobro?.tipo === 'rechazado') expect(['rechazado', 'sinCobro'], contexto).toContain(estado.tipo);
    return estado;
  }

  /** Ejecuta el cuerpo con una pasarela nueva y la cierra pase lo que pase. */
  async function con(cuerpo: (sut: PasarelaBajoPrueba) => Promise<void>): Promise<void> {
    const sut = await fabrica();
    try {
      await cuerpo(sut);
    } finally {
      await sut.cerrar?.();
    }
  }

  /** Como {@link con}, con `configurar` para forzar desenlaces (falla si la fábrica no lo da). */
  function conDesenlaces(
    contexto: TestContext,
    cuerpo: (sut: PasarelaBajoPrueba, configurar: NonNullable<PasarelaBajoPrueba['configurar']>) => Promise<void>,
  ): Promise<void> {
    return con(async (sut) => {
      const configurar = sut.configurar?.bind(sut);
      if (configurar === undefined) {
        throw new Error(`${contexto.task.name}: la fábrica de la suite debe dar configurar() para forzar desenlaces`);
      }
      await cuerpo(sut, configurar);
    });
  }

  describe(`contrato PasarelaDePagos: ${nombre}`, () => {
    it('una clave nueva: resultado con forma válida y cargos coherentes con el desenlace', () =>
      con(async (sut) => {
        const s = solicitud();
        const resultado = await sut.pasarela.cobrar(s);
        comprobarFormaResultado(resultado);
        await comprobarCargos(sut, s.idPago, resultado);
      }));

    it('la misma clave dos veces seguidas: el mismo desenlace y como mucho un cargo', () =>
      con(async (sut) => {
        const s = solicitud();
        const primero = await cobrarHastaDefinitivo(sut.pasarela, s);
        const segundo = await sut.pasarela.cobrar(s);
        const tercero = await sut.pasarela.cobrar(s);
        expect(desenlace(segundo)).toEqual(desenlace(primero));
        expect(desenlace(tercero)).toEqual(desenlace(primero));
        await comprobarCargos(sut, s.idPago, primero);
      }));

    // La trazabilidad es observación, no parte del cobro: un reintento que llega con otra correlación u
    // otro traceparent (un reproceso manual, un barrido de pagos atascados en PROCESANDO) debe recibir
    // el desenlace guardado. Si el adaptador manda la correlación como parámetro del cobro y el
    // proveedor compara parámetros al repetir la clave (Stripe lo hace, metadata incluida), el reintento
    // se rechaza aunque el dinero ya se movió, y el pago acabaría FALLIDO con la transferencia hecha.
    it('la misma clave con otra traza (correlación, traceparent): el mismo desenlace y como mucho un cargo', () =>
      con(async (sut) => {
        const s = solicitud();
        const primero = await cobrarHastaDefinitivo(sut.pasarela, s);
        const otraTraza = await cobrarHastaDefinitivo(sut.pasarela, {
          ...s,
          traza: { idCorrelacion: 'corr-reproceso', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
        });
        expect(desenlace(otraTraza)).toEqual(desenlace(primero));
        await comprobarCargos(sut, s.idPago, primero);
      }));

    it(`${concurrencia} llamadas simultáneas con la misma clave: un solo desenlace y como mucho un cargo`, () =>
      con(async (sut) => {
        const s = solicitud();
        // Todas las llamadas empiezan antes de esperar a ninguna.
        const enCurso = Array.from({ length: concurrencia }, () => sut.pasarela.cobrar(s));
        const resultados = await Promise.all(enCurso);
        resultados.forEach(comprobarFormaResultado);
        const definitivos = resultados.filter((r) => r.tipo !== 'incierto');
        const primero = definitivos[0];
        for (const r of definitivos) expect(desenlace(r)).toEqual(desenlace(definitivos[0] ?? r));
        expect(await sut.contarCargos(s.idPago)).toBeLessThanOrEqual(1);

        const final = await cobrarHastaDefinitivo(sut.pasarela, s);
        if (primero !== undefined) expect(desenlace(final)).toEqual(desenlace(primero));
        await comprobarCargos(sut, s.idPago, final);
      }));

    it(`claves distintas: ${concurrencia} cobros simultáneos e independientes`, () =>
      con(async (sut) => {
        const solicitudes = Array.from({ length: concurrencia }, () => solicitud());
        const resultados = await Promise.all(solicitudes.map((s) => cobrarHastaDefinitivo(sut.pasarela, s)));
        for (const [i, s] of solicitudes.entries()) {
          const resultado = resultados[i];
          if (resultado === undefined) throw new Error('falta un resultado');
          await comprobarCargos(sut, s.idPago, resultado);
        }
        const referencias = resultados.flatMap((r) => (r.tipo === 'exitoso' ? [r.referenciaTransaccion] : []));
        expect(new Set(referencias).size, 'cada cobro exitoso tiene su propia referencia').toBe(referencias.length);
      }));

    it('la misma clave con otro monto no vuelve a cobrar', () =>
      con(async (sut) => {
        const s = solicitud();
        const primero = await cobrarHastaDefinitivo(sut.pasarela, s);
        const otro = await sut.pasarela.cobrar({ ...s, monto: dinero(99_900) });
        comprobarFormaResultado(otro);
        // Repite lo guardado, o responde un conflicto de clave (incierto: la primera petición pudo
        // cobrar) o un rechazo; nunca un cobro nuevo.
        if (otro.tipo === 'exitoso') expect(desenlace(otro)).toEqual(desenlace(primero));
        await comprobarCargos(sut, s.idPago, primero);
      }));

    it('consultar un pago desconocido: sinCobro', () =>
      con(async (sut) => {
        const s = solicitud();
        expect(await comprobarConsulta(sut, s)).toEqual({ tipo: 'sinCobro' });
      }));

    it(`${concurrencia} pagos: cobrar una vez y consultar, coherentes con los cargos; al final, el desenlace definitivo`, () =>
      con(async (sut) => {
        const solicitudes = Array.from({ length: concurrencia }, () => solicitud());
        await Promise.all(
          solicitudes.map(async (s) => {
            const primero = await sut.pasarela.cobrar(s);
            comprobarFormaResultado(primero);
            await comprobarConsulta(sut, s, primero);
            const final = await cobrarHastaDefinitivo(sut.pasarela, s);
            await comprobarCargos(sut, s.idPago, final);
            const estado = await comprobarConsulta(sut, s, final);
            if (final.tipo === 'exitoso') expect(estado).toEqual(final);
          }),
        );
      }));

    it('exitoso forzado: referencia no vacía, un cargo, repetir devuelve la misma referencia, y consultar también', (contexto) =>
      conDesenlaces(contexto, async (sut, configurar) => {
        const s = solicitud();
        await configurar(s.idPago, 'exitoso');
        const resultado = await sut.pasarela.cobrar(s);
        expect(resultado.tipo).toBe('exitoso');
        comprobarFormaResultado(resultado);
        expect(desenlace(await sut.pasarela.cobrar(s))).toEqual(desenlace(resultado));
        expect(await sut.contarCargos(s.idPago)).toBe(1);
        expect(await comprobarConsulta(sut, s, resultado)).toEqual(resultado);
      }));

    it('rechazado forzado: mensaje en español, ningún cargo, y repetir la clave da el mismo rechazo', (contexto) =>
      conDesenlaces(contexto, async (sut, configurar) => {
        const s = solicitud();
        await configurar(s.idPago, 'rechazado');
        const resultado = await sut.pasarela.cobrar(s);
        expect(resultado.tipo).toBe('rechazado');
        comprobarFormaResultado(resultado);
        const repetido = await sut.pasarela.cobrar(s);
        comprobarFormaResultado(repetido);
        expect(desenlace(repetido)).toEqual(desenlace(resultado));
        expect(await sut.contarCargos(s.idPago)).toBe(0);
        // Stripe no guarda los rechazos: tanto «rechazado» como «sinCobro» dicen que no hubo cargo.
        expect(['rechazado', 'sinCobro']).toContain((await comprobarConsulta(sut, s, resultado)).tipo);
      }));

    it('incierto forzado (falla antes de cobrar): mensaje en español, nada cobrado, consultar no ve cobro, y el reintento cobra como mucho una vez', (contexto) =>
      conDesenlaces(contexto, async (sut, configurar) => {
        const s = solicitud();
        await configurar(s.idPago, 'incierto');
        const resultado = await sut.pasarela.cobrar(s);
        expect(resultado.tipo).toBe('incierto');
        comprobarFormaResultado(resultado);
        expect(await sut.contarCargos(s.idPago)).toBe(0);
        expect(['sinCobro', 'incierto']).toContain((await comprobarConsulta(sut, s, resultado)).tipo);

        const final = await cobrarHastaDefinitivo(sut.pasarela, s);
        expect(desenlace(await sut.pasarela.cobrar(s))).toEqual(desenlace(final));
        await comprobarCargos(sut, s.idPago, final);
      }));

    it('cobro con la respuesta perdida (exitosoSinRespuesta forzado): consultar lo encuentra, un cargo, y repetir nunca cobra otra vez', (contexto) =>
      conDesenlaces(contexto, async (sut, configurar) => {
        const s = solicitud();
        await configurar(s.idPago, 'exitosoSinRespuesta');
        const resultado = await sut.pasarela.cobrar(s);
        comprobarFormaResultado(resultado);
        expect(resultado.tipo, 'un cobro hecho nunca se responde como rechazo').not.toBe('rechazado');
        expect(await sut.contarCargos(s.idPago)).toBe(1);

        const estado = await comprobarConsulta(sut, s, resultado);
        expect(estado.tipo).toBe('exitoso');
        for (let i = 0; i < 3; i += 1) {
          const repetido = await sut.pasarela.cobrar(s);
          comprobarFormaResultado(repetido);
          expect(repetido.tipo).not.toBe('rechazado');
          if (repetido.tipo === 'exitoso') expect(repetido).toEqual(estado);
        }
        expect(await sut.contarCargos(s.idPago)).toBe(1);
      }));

    it(`exitoso forzado con ${concurrencia} llamadas simultáneas: una sola referencia y exactamente un cargo`, (contexto) =>
      conDesenlaces(contexto, async (sut, configurar) => {
        const s = solicitud();
        await configurar(s.idPago, 'exitoso');
        const resultados = await Promise.all(Array.from({ length: concurrencia }, () => sut.pasarela.cobrar(s)));
        resultados.forEach(comprobarFormaResultado);
        const exitosos = resultados.filter((r) => r.tipo === 'exitoso');
        expect(exitosos.length, 'alguna llamada obtiene el desenlace forzado').toBeGreaterThan(0);
        expect(resultados.filter((r) => r.tipo === 'rechazado')).toEqual([]);
        for (const r of exitosos) expect(desenlace(r)).toEqual(desenlace(exitosos[0] ?? r));
        expect(await sut.contarCargos(s.idPago)).toBe(1);
      }));

    it(`rechazado forzado con ${concurrencia} llamadas simultáneas: el mismo rechazo para todas y ningún cargo`, (contexto) =>
      conDesenlaces(contexto, async (sut, configurar) => {
        const s = solicitud();
        await configurar(s.idPago, 'rechazado');
        const resultados = await Promise.all(Array.from({ length: concurrencia }, () => sut.pasarela.cobrar(s)));
        resultados.forEach(comprobarFormaResultado);
        const definitivos = resultados.filter((r) => r.tipo !== 'incierto');
        expect(definitivos.length).toBeGreaterThan(0);
        for (const r of definitivos) expect(r.tipo).toBe('rechazado');
        expect((await cobrarHastaDefinitivo(sut.pasarela, s)).tipo).toBe('rechazado');
        expect(await sut.contarCargos(s.idPago)).toBe(0);
      }));
  });
}
