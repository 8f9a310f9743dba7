import { describe, expect, it } from 'vitest';
import type { Broker, MensajeEntrante, MensajeSaliente, OpcionesSuscripcion, Publicador, Suscripcion } from '@aeropartners/aplicacion';

/** Lo que cada adaptador entrega a la suite: un broker nuevo y aislado (tópico o base propios). */
export interface BrokerBajoPrueba {
  readonly broker: Broker;
  /** Libera lo que la fábrica creó además del broker (base de datos, cliente…). */
  readonly cerrar?: () => Promise<void>;
  /**
   * Hace vencer ya el lease de lo que `s` (de la suscripción `nombre`) tiene sin confirmar, como si su
   * proceso se hubiera quedado parado más allá del lease, y resuelve cuando otro consumidor de la
   * suscripción (que el test tiene esperando) lo ha reclamado. Solo los brokers con leases (ver
   * {@link CapacidadesBroker.leases}).
   */
  readonly vencerLeases?: (s: Suscripcion, nombre: string) => Promise<void>;
}

/** Lo que un adaptador puede demostrar además del contrato común. */
export interface CapacidadesBroker {
  /**
   * El broker sabe cuándo un consumidor pierde un mensaje por lease vencido (embebido, en memoria) y se
   * lo dice abortando su señal. El cliente de Pulsar para Node no lo expone: ahí no aplica.
   */
  readonly leases?: boolean;
  /**
   * El adaptador reenvía dentro de `publicar` los envíos de resultado incierto (Pulsar con fallos de
   * envío inyectados): un mensaje ya publicado cuyo primer envío falló y cuyo reenvío vuelve duplicado
   * se informa `aceptado` (ver `ResultadoPublicacion`). Un mensaje nuevo es `aceptado` siempre.
   */
  readonly reenviosInciertos?: boolean;
}

/** Límite de cada espera: generoso, para no depender de la velocidad de la máquina. */
const ESPERA_MS = 15_000;
const LIMITE_TEST_MS = 60_000;

function conLimite<T>(promesa: Promise<T>, ms: number, que: string): Promise<T> {
  let temporizador: ReturnType<typeof setTimeout> | undefined;
  const limite = new Promise<never>((_, rechazar) => {
    temporizador = setTimeout(() => rechazar(new Error(`Tiempo agotado (${ms} ms) esperando ${que}`)), ms);
  });
  return Promise.race([promesa, limite]).finally(() => clearTimeout(temporizador));
}

async function recibir(s: Suscripcion, que = 'un mensaje'): Promise<MensajeEntrante> {
  const m = await conLimite(s.recibir(), ESPERA_MS, que);
  if (m === null) throw new Error(`La suscripción se cerró esperando ${que}`);
  return m;
}

async function esperarHasta<T>(consulta: () => Promise<T>, listo: (v: T) => boolean, que: string): Promise<T> {
  const hasta = Date.now() + ESPERA_MS;
  for (;;) {
    const v = await consulta();
    if (listo(v)) return v;
    if (Date.now() > hasta) throw new Error(`Tiempo agotado (${ESPERA_MS} ms) esperando ${que}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function mensaje(clave: string, secuencia: number, cuerpo = `{"n":${secuencia}}`): MensajeSaliente {
  return {
    clave,
    secuencia,
    cuerpo,
    propiedades: {
      id_evento: `evento-${clave}-${secuencia}`,
      tipo: 'PagoPendiente',
      version: String(secuencia),
      id_correlacion: `corr-${secuencia}`,
    },
  };
}

const opciones = (suscripcion: string, extra: Partial<OpcionesSuscripcion> = {}): OpcionesSuscripcion => ({
  suscripcion,
  maximoEntregas: 5,
  retrasoReentregaMs: 100,
  ...extra,
});

interface Contexto {
  readonly broker: Broker;
  vencerLeases(s: Suscripcion, nombre: string): Promise<void>;
  publicador(nombre?: string): Promise<Publicador>;
  suscribir(op: OpcionesSuscripcion): Promise<Suscripcion>;
}

/**
 * Suite de contrato del puerto `Broker` (al estilo de `runTest` de hono): cada adaptador la ejecuta
 * con una línea, `probarContratoBroker('pulsar', fabrica)`. `fabrica` da un broker nuevo y aislado
 * por test. Las suscripciones se crean antes de publicar (semántica de Pulsar: una suscripción nueva
 * empieza en el último mensaje). Las esperas están acotadas y son generosas; ningún test mide la
 * velocidad.
 */
export function probarContratoBroker(nombre: string, fabrica: () => Promise<BrokerBajoPrueba>, capacidades: CapacidadesBroker = {}): void {
  // Lo que se espera de un mensaje ya publicado (ver `reenviosInciertos`).
  const duplicado: unknown = capacidades.reenviosInciertos ? expect.stringMatching(/^(duplicado|aceptado)$/) : 'duplicado';
  const prueba = (titulo: string, cuerpo: (ctx: Contexto) => Promise<void>) =>
    it(
      titulo,
      async () => {
        const sut = await fabrica();
        const suscripciones: Suscripcion[] = [];
        const publicadores: Publicador[] = [];
        const ctx: Contexto = {
          broker: sut.broker,
          async vencerLeases(s, nombreSuscripcion) {
            if (!sut.vencerLeases) throw new Error(`El broker ${nombre} declara leases pero su fábrica no da vencerLeases`);
            await sut.vencerLeases(s, nombreSuscripcion);
          },
          async publicador(nombreProductor = 'relay-0') {
            const p = await sut.broker.crearPublicador(nombreProductor);
            publicadores.push(p);
            return p;
          },
          async suscribir(op) {
            const s = await sut.broker.suscribir(op);
            suscripciones.push(s);
            return s;
          },
        };
        try {
          await cuerpo(ctx);
        } finally {
          for (const s of suscripciones) await s.cerrar();
          for (const p of publicadores) await p.cerrar();
          await sut.broker.cerrar();
          await sut.cerrar?.();
        }
      },
      LIMITE_TEST_MS,
    );

  describe(`contrato Broker: ${nombre}`, () => {
    prueba('entrega lo publicado con clave, cuerpo y propiedades intactos', async ({ publicador, suscribir }) => {
      const s = await suscribir(opciones('consumidor'));
      const p = await publicador('relay-a');
      const salientes: MensajeSaliente[] = [
        {
          clave: 'pago-1',
          secuencia: 0,
          cuerpo: '{"monto":"150.75","nota":"señal ✓ — ñandú"}',
          propiedades: {
            id_evento: 'ev-1',
            tipo: 'PagoPendiente',
            version: '1',
            id_correlacion: 'corr-1',
            traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
            socio: 'socio-7',
          },
        },
        mensaje('pago-2', 1),
        mensaje('pago-3', 2, ''),
      ];
      await p.publicar(salientes);

      const recibidos: MensajeEntrante[] = [];
      for (let i = 0; i < salientes.length; i++) recibidos.push(await recibir(s));
      recibidos.sort((a, b) => a.secuencia - b.secuencia);
      expect(recibidos.map((m) => m.secuencia)).toEqual([0, 1, 2]);
      for (const [i, r] of recibidos.entries()) {
        const enviado = salientes[i]!;
        expect(r.clave).toBe(enviado.clave);
        expect(r.cuerpo).toBe(enviado.cuerpo);
        expect(r.propiedades).toEqual(enviado.propiedades);
        expect(r.productor).toBe('relay-a');
        expect(r.entregas).toBe(1);
        expect(typeof r.idMensaje).toBe('string');
        expect(r.idMensaje.length).toBeGreaterThan(0);
      }
      expect(new Set(recibidos.map((r) => r.idMensaje)).size).toBe(3);
      for (const r of recibidos) await s.confirmar(r);
    });

    prueba(
      'publicar() resuelve cuando el broker aceptó todo: se recibe aunque el publicador ya se cerró',
      async ({ publicador, suscribir }) => {
        const s = await suscribir(opciones('consumidor'));
        const p = await publicador('relay-a');
        expect(await p.ultimaSecuenciaAceptada()).toBeNull();
        await p.publicar([]);
        await p.publicar(Array.from({ length: 50 }, (_, i) => mensaje(`pago-${i % 7}`, i + 1)));
        const ultima = await p.ultimaSecuenciaAceptada();
        expect(ultima === null || ultima === 50).toBe(true);
        await p.cerrar();

        const vistos = new Set<number>();
        while (vistos.size < 50) {
          const m = await recibir(s, 'los 50 mensajes publicados');
          vistos.add(m.secuencia);
          await s.confirmar(m);
        }
        expect([...vistos].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      },
    );

    prueba(
      'deduplica por (productor, secuencia): republicar la misma o una menor se acepta y no se entrega',
      async ({ publicador, suscribir }) => {
        const s = await suscribir(opciones('consumidor'));
        const p = await publicador('relay-a');
        expect(await p.publicar([mensaje('pago-1', 1), mensaje('pago-1', 2), mensaje('pago-1', 3)])).toEqual([
          'aceptado',
          'aceptado',
          'aceptado',
        ]);
        expect(await p.publicar([mensaje('pago-1', 3)])).toEqual([duplicado]);
        expect(await p.publicar([mensaje('pago-1', 1), mensaje('pago-1', 2)])).toEqual([duplicado, duplicado]);
        // Otro productor lleva su propia secuencia: su 1 no es un duplicado del 1 de relay-a.
        const otro = await publicador('relay-b');
        expect(await otro.publicar([mensaje('pago-1', 1, '{"de":"relay-b"}')])).toEqual(['aceptado']);
        // Centinela en la misma clave: si algún duplicado se entregara, llegaría antes que él. El 3 del
        // mismo lote, ya visto, se informa duplicado mensaje a mensaje.
        expect(await p.publicar([mensaje('pago-1', 3), mensaje('pago-1', 4)])).toEqual([duplicado, 'aceptado']);

        const recibidos: string[] = [];
        for (;;) {
          const m = await recibir(s, 'el centinela');
          recibidos.push(`${m.productor}:${m.secuencia}`);
          await s.confirmar(m);
          if (m.productor === 'relay-a' && m.secuencia === 4) break;
        }
        expect(recibidos).toEqual(['relay-a:1', 'relay-a:2', 'relay-a:3', 'relay-b:1', 'relay-a:4']);
      },
    );

    prueba('deduplica entre instancias del mismo productor (relay caído entre publicar y marcar)', async ({ publicador, suscribir }) => {
      const s = await suscribir(opciones('consumidor'));
      const antes = await publicador('relay-outbox');
      await antes.publicar([mensaje('pago-1', 10), mensaje('pago-2', 11), mensaje('pago-1', 12)]);
      await antes.cerrar();

      // El relay reinicia: no marcó el lote, así que lo republica (mismas secuencias) y sigue.
      const despues = await publicador('relay-outbox');
      const ultima = await despues.ultimaSecuenciaAceptada();
      expect(ultima === null || ultima === 12).toBe(true);
      expect(
        await despues.publicar([
          mensaje('pago-1', 10),
          mensaje('pago-2', 11),
          mensaje('pago-1', 12),
          mensaje('pago-1', 13),
          mensaje('pago-2', 14),
        ]),
      ).toEqual([duplicado, duplicado, duplicado, 'aceptado', 'aceptado']);

      const porClave = new Map<string, number[]>();
      let total = 0;
      while (!(porClave.get('pago-1')?.includes(13) && porClave.get('pago-2')?.includes(14))) {
        const m = await recibir(s, 'los centinelas 13 y 14');
        porClave.set(m.clave, [...(porClave.get(m.clave) ?? []), m.secuencia]);
        total += 1;
        await s.confirmar(m);
      }
      expect(porClave.get('pago-1')).toEqual([10, 12, 13]);
      expect(porClave.get('pago-2')).toEqual([11, 14]);
      expect(total).toBe(5);
    });

    prueba(
      'al menos una vez: lo recibido sin confirmar vuelve a otro consumidor cuando el primero cae',
      async ({ publicador, suscribir }) => {
        const primero = await suscribir(opciones('consumidor'));
        const segundo = await suscribir(opciones('consumidor'));
        const p = await publicador();
        await p.publicar([mensaje('pago-1', 1, '{"importante":true}')]);

        // Quien lo reciba primero "cae" sin confirmarlo. El recibir() del otro sigue pendiente.
        const dePrimero = primero.recibir();
        const deSegundo = segundo.recibir();
        const m = await conLimite(
          Promise.race([
            dePrimero.then((x) => ({ x, quien: primero, otro: segundo, pendiente: deSegundo })),
            deSegundo.then((x) => ({ x, quien: segundo, otro: primero, pendiente: dePrimero })),
          ]),
          ESPERA_MS,
          'la primera entrega',
        );
        expect(m.x?.secuencia).toBe(1);
        await m.quien.cerrar();

        // El recibir() pendiente del otro consumidor se resuelve con la reentrega, en segundos.
        const reentregado = await conLimite(m.pendiente, ESPERA_MS, 'la reentrega tras la caída');
        if (reentregado === null) throw new Error('El otro consumidor se cerró');
        expect(reentregado.secuencia).toBe(1);
        expect(reentregado.cuerpo).toBe('{"importante":true}');
        expect(reentregado.idMensaje).toBe(m.x?.idMensaje);
        expect(reentregado.entregas).toBeGreaterThanOrEqual(1);
        await m.otro.confirmar(reentregado);
      },
    );

    prueba('rechazar() reentrega tras el retraso con las entregas incrementadas', async ({ publicador, suscribir }) => {
      const s = await suscribir(opciones('consumidor', { retrasoReentregaMs: 300 }));
      const p = await publicador();
      await p.publicar([mensaje('pago-1', 1)]);

      const primera = await recibir(s);
      expect(primera.entregas).toBe(1);
      const rechazadoEn = Date.now();
      await s.rechazar(primera);

      const segunda = await recibir(s, 'la reentrega tras rechazar');
      // Cota inferior holgada (no es una medida de velocidad): no se reentrega antes del retraso.
      expect(Date.now() - rechazadoEn).toBeGreaterThanOrEqual(150);
      expect(segunda.secuencia).toBe(1);
      expect(segunda.idMensaje).toBe(primera.idMensaje);
      expect(segunda.entregas).toBe(2);
      await s.confirmar(segunda);
    });

    prueba(
      'tras maximoEntregas va a mensajes muertos con motivo, y lo que viene detrás sigue fluyendo',
      async ({ broker, publicador, suscribir }) => {
        const s = await suscribir(opciones('consumidor', { maximoEntregas: 3, retrasoReentregaMs: 50 }));
        const p = await publicador();
        await p.publicar([mensaje('pago-1', 1, '{"veneno":true}'), mensaje('pago-1', 2), mensaje('pago-2', 3)]);

        const entregasVeneno: number[] = [];
        const confirmados: number[] = [];
        while (!(entregasVeneno.length === 3 && confirmados.includes(2) && confirmados.includes(3))) {
          const m = await recibir(s, 'las entregas del veneno y los mensajes de detrás');
          if (m.secuencia === 1) {
            entregasVeneno.push(m.entregas);
            await s.rechazar(m);
          } else {
            confirmados.push(m.secuencia);
            await s.confirmar(m);
          }
        }
        expect(entregasVeneno).toEqual([1, 2, 3]);

        const muertos = await esperarHasta(
          () => broker.mensajesMuertos('consumidor'),
          (l) => l.length > 0,
          'el mensaje muerto',
        );
        expect(muertos).toHaveLength(1);
        expect(muertos[0]!.mensaje.secuencia).toBe(1);
        expect(muertos[0]!.mensaje.clave).toBe('pago-1');
        expect(muertos[0]!.mensaje.cuerpo).toBe('{"veneno":true}');
        expect(muertos[0]!.mensaje.propiedades).toEqual(mensaje('pago-1', 1).propiedades);
        expect(muertos[0]!.motivo.length).toBeGreaterThan(0);

        // No se entrega una cuarta vez: lo siguiente de su clave es el centinela.
        await p.publicar([mensaje('pago-1', 4)]);
        const siguiente = await recibir(s, 'el centinela');
        expect(siguiente.secuencia).toBe(4);
        await s.confirmar(siguiente);
        expect(await broker.mensajesMuertos('otra-suscripcion')).toEqual([]);
      },
    );

    prueba(
      'aMensajesMuertos() guarda el motivo, no reentrega y deja pasar lo que sigue de la clave',
      async ({ broker, publicador, suscribir }) => {
        const s = await suscribir(opciones('consumidor'));
        const p = await publicador();
        await p.publicar([mensaje('pago-1', 1, 'no es json'), mensaje('pago-1', 2)]);

        const malo = await recibir(s);
        expect(malo.secuencia).toBe(1);
        await s.aMensajesMuertos(malo, 'sobre inválido: no es JSON');
        const siguiente = await recibir(s, 'el mensaje detrás del muerto');
        expect(siguiente.secuencia).toBe(2);
        await s.confirmar(siguiente);

        const muertos = await esperarHasta(
          () => broker.mensajesMuertos('consumidor'),
          (l) => l.length > 0,
          'el mensaje muerto',
        );
        expect(muertos.map((x) => ({ secuencia: x.mensaje.secuencia, cuerpo: x.mensaje.cuerpo, motivo: x.motivo }))).toEqual([
          { secuencia: 1, cuerpo: 'no es json', motivo: 'sobre inválido: no es JSON' },
        ]);
      },
    );

    prueba('orden por clave con dos consumidores concurrentes, y cada mensaje confirmado una vez', async ({ publicador, suscribir }) => {
      const claves = ['pago-a', 'pago-b', 'pago-c', 'pago-d', 'pago-e'];
      const porClave = 40;
      const total = claves.length * porClave;
      const consumidores = [await suscribir(opciones('consumidor')), await suscribir(opciones('consumidor'))];
      const p = await publicador();

      const esperado = new Map<string, number[]>(claves.map((c) => [c, []]));
      const salientes: MensajeSaliente[] = [];
      for (let i = 0; i < total; i++) {
        // Reparto irregular de claves para que el orden de publicación entre claves se entremezcle.
        const clave = claves[(i * 7 + Math.floor(i / 3)) % claves.length]!;
        const sec = i + 1;
        esperado.get(clave)!.push(sec);
        salientes.push(mensaje(clave, sec));
      }
      const publicando = (async () => {
        for (let i = 0; i < salientes.length; i += 25) await p.publicar(salientes.slice(i, i + 25));
      })();

      const confirmados = new Map<string, number[]>();
      let cuenta = 0;
      let terminar = () => {};
      const terminado = new Promise<null>((r) => (terminar = () => r(null)));
      const trabajar = async (s: Suscripcion, semilla: number) => {
        let azar = semilla;
        while (cuenta < total) {
          const m = await conLimite(Promise.race([s.recibir(), terminado]), ESPERA_MS, `el mensaje ${cuenta + 1} de ${total}`);
          if (m === null) return;
          azar = (azar * 1103515245 + 12345) % 2147483648;
          if (azar % 4 === 0) await new Promise((r) => setTimeout(r, azar % 5));
          confirmados.set(m.clave, [...(confirmados.get(m.clave) ?? []), m.secuencia]);
          cuenta += 1;
          await s.confirmar(m);
          if (cuenta >= total) terminar();
        }
      };
      await Promise.all([publicando, trabajar(consumidores[0]!, 1), trabajar(consumidores[1]!, 2)]);

      expect(cuenta).toBe(total);
      for (const clave of claves) expect(confirmados.get(clave)).toEqual(esperado.get(clave));
    });

    prueba('cada suscripción recibe todos los mensajes', async ({ publicador, suscribir }) => {
      const a = await suscribir(opciones('consumidor'));
      const b = await suscribir(opciones('auditoria'));
      const p = await publicador();
      await p.publicar(Array.from({ length: 20 }, (_, i) => mensaje(`pago-${i % 3}`, i + 1)));

      for (const s of [a, b]) {
        const vistos: number[] = [];
        while (vistos.length < 20) {
          const m = await recibir(s, 'los 20 mensajes en cada suscripción');
          vistos.push(m.secuencia);
          await s.confirmar(m);
        }
        expect(vistos.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      }
    });

    prueba('cerrar() aborta la señal de lo que el consumidor tenía sin confirmar', async ({ publicador, suscribir }) => {
      const s = await suscribir(opciones('consumidor'));
      const p = await publicador();
      await p.publicar([mensaje('pago-1', 1), mensaje('pago-2', 2)]);
      const primero = await recibir(s);
      const segundo = await recibir(s);
      expect(primero.senal?.aborted).toBe(false);
      await s.confirmar(segundo);
      await s.cerrar();
      expect(primero.senal?.aborted).toBe(true);
      // Lo confirmado antes de cerrar ya no era del consumidor: su señal no se toca.
      expect(segundo.senal?.aborted).toBe(false);
    });

    if (capacidades.leases) {
      prueba(
        'un consumidor lento que pierde el lease lo sabe (señal abortada) y su confirmación no borra el mensaje del otro',
        async ({ publicador, suscribir, vencerLeases }) => {
          const lento = await suscribir(opciones('consumidor'));
          const p = await publicador();
          await p.publicar([mensaje('pago-1', 1, '{"lento":true}')]);
          const suyo = await recibir(lento);
          expect(suyo.senal?.aborted).toBe(false);

          // El lento se queda parado más allá de su lease: otro consumidor, que espera, recibe el mensaje.
          const otro = await suscribir(opciones('consumidor'));
          const esperaDelOtro = recibir(otro, 'la reentrega tras vencer el lease');
          await vencerLeases(lento, 'consumidor');
          const delOtro = await esperaDelOtro;
          expect(delOtro.idMensaje).toBe(suyo.idMensaje);
          expect(delOtro.entregas).toBe(suyo.entregas + 1);
          await esperarHasta(async () => suyo.senal?.aborted === true, Boolean, 'la señal abortada del consumidor lento');
          expect(delOtro.senal?.aborted).toBe(false);

          // Lo que el lento haga con su entrega ya no cuenta: ni borra ni devuelve el mensaje del otro.
          await lento.confirmar(suyo);
          await lento.rechazar(suyo, 0);
          await lento.cerrar(); // para que la reentrega que sigue solo pueda ir al otro
          await otro.rechazar(delOtro, 0);
          const otraVez = await recibir(otro, 'el mensaje, que sigue en la suscripción');
          expect(otraVez.idMensaje).toBe(suyo.idMensaje);
          expect(otraVez.cuerpo).toBe('{"lento":true}');
          await otro.confirmar(otraVez);
        },
      );
    }

    prueba('recibir() devuelve null tras cerrar(), también si ya estaba esperando', async ({ suscribir }) => {
      const s = await suscribir(opciones('consumidor'));
      const esperando = s.recibir();
      await s.cerrar();
      expect(await conLimite(esperando, ESPERA_MS, 'el null del recibir pendiente')).toBeNull();
      expect(await conLimite(s.recibir(), ESPERA_MS, 'el null tras cerrar')).toBeNull();
      await s.cerrar();
    });
  });
}
