import { afterEach, describe, expect, it } from 'vitest';
import {
  PROPIEDAD_REENVIADO_DE,
  type AdministracionMensajesMuertos,
  type Broker,
  type MensajeEntrante,
  type MensajeMuerto,
  type Publicador,
  type ResultadoReenvio,
  type Suscripcion,
} from '@aeropartners/aplicacion';

/** Lo que cada adaptador entrega a la suite: un broker nuevo y aislado y su administración de muertos. */
export interface MuertosBajoPrueba {
  readonly broker: Broker;
  readonly administracion: AdministracionMensajesMuertos;
  /** Otra administración sobre el mismo broker, como la de otro proceso (para las carreras). */
  readonly otraAdministracion?: () => Promise<AdministracionMensajesMuertos>;
  readonly cerrar?: () => Promise<void>;
}

const SUSCRIPCION = 'consumidor-muertos';
const ESPERA_MS = 15_000;

function conLimite<T>(promesa: Promise<T>, que: string): Promise<T> {
  let temporizador: ReturnType<typeof setTimeout> | undefined;
  const limite = new Promise<never>((_, rechazar) => {
    temporizador = setTimeout(() => rechazar(new Error(`Tiempo agotado (${ESPERA_MS} ms) esperando ${que}`)), ESPERA_MS);
  });
  return Promise.race([promesa, limite]).finally(() => clearTimeout(temporizador));
}

async function recibir(s: Suscripcion, que: string): Promise<MensajeEntrante> {
  const m = await conLimite(s.recibir(), que);
  if (m === null) throw new Error(`La suscripción se cerró esperando ${que}`);
  return m;
}

async function esperarHasta<T>(consulta: () => Promise<T>, listo: (v: T) => boolean, que: string): Promise<T> {
  const hasta = Date.now() + ESPERA_MS;
  for (;;) {
    const v = await consulta();
    if (listo(v)) return v;
    if (Date.now() > hasta) throw new Error(`Tiempo agotado (${ESPERA_MS} ms) esperando ${que}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Suite de contrato de `AdministracionMensajesMuertos`: listar lo que se apartó (por el consumidor o
 * por agotar entregas), reenviarlo a su suscripción una sola vez aunque se pida dos veces o a la vez
 * desde dos procesos, y que deje de estar entre los muertos. «Una sola vez» se comprueba con un mensaje
 * testigo de la misma clave publicado después: el orden por clave obliga a que cualquier copia de más
 * llegue antes que él.
 */
export function probarContratoMensajesMuertos(nombre: string, crear: () => Promise<MuertosBajoPrueba>): void {
  describe(`contrato AdministracionMensajesMuertos: ${nombre}`, () => {
    const abiertos: MuertosBajoPrueba[] = [];
    afterEach(async () => {
      for (const a of abiertos.splice(0)) {
        await a.administracion.cerrar().catch(() => undefined);
        await a.broker.cerrar().catch(() => undefined);
        await a.cerrar?.();
      }
    });

    async function preparar(maximoEntregas = 5) {
      const bajoPrueba = await crear();
      abiertos.push(bajoPrueba);
      const { broker, administracion } = bajoPrueba;
      const suscripcion = await broker.suscribir({ suscripcion: SUSCRIPCION, maximoEntregas, retrasoReentregaMs: 10 });
      const publicador: Publicador = await broker.crearPublicador('relay-contrato-muertos');
      let secuencia = 0;
      let n = 0;
      const publicar = async (clave: string) => {
        n += 1;
        const cuerpo = JSON.stringify({ n, clave });
        await publicador.publicar([
          {
            clave,
            secuencia: ++secuencia,
            cuerpo,
            propiedades: { id_evento: `evento-${n}`, tipo: 'PagoPendiente', version: '1', id_correlacion: `corr-${n}` },
          },
        ]);
        return cuerpo;
      };
      /** Publica un testigo con la clave y recibe hasta él: devuelve lo que llegó antes (copias de más). */
      const antesDelTestigo = async (clave: string) => {
        const testigo = await publicar(clave);
        const antes: MensajeEntrante[] = [];
        for (;;) {
          const m = await recibir(suscripcion, `el testigo de ${clave}`);
          await suscripcion.confirmar(m);
          if (m.cuerpo === testigo) return antes;
          antes.push(m);
        }
      };
      /** Publica un mensaje y lo manda a muertos con un motivo, como el consumidor con un veneno. */
      const matar = async (clave: string, motivo = `veneno ${clave}`) => {
        const cuerpo = await publicar(clave);
        const m = await recibir(suscripcion, `el mensaje de ${clave}`);
        expect(m.cuerpo).toBe(cuerpo);
        await suscripcion.aMensajesMuertos(m, motivo);
        const [muerto] = await esperarHasta(
          () => administracion.listar(SUSCRIPCION),
          (l) => l.some((x) => x.cuerpo === cuerpo),
          `que ${clave} aparezca entre los muertos`,
        ).then((l) => l.filter((x) => x.cuerpo === cuerpo));
        return muerto!;
      };
      return { ...bajoPrueba, suscripcion, publicar, antesDelTestigo, matar };
    }

    it('lista lo apartado con su motivo; reenviarlo lo entrega otra vez una sola vez y deja de listarse', async () => {
      const { administracion, suscripcion, matar, antesDelTestigo } = await preparar();
      expect(await administracion.listar(SUSCRIPCION)).toEqual([]);
      const muerto = await matar('pago-a', 'Mensaje inválido: falta la propiedad tipo');
      expect(muerto).toMatchObject<Partial<MensajeMuerto>>({
        suscripcion: SUSCRIPCION,
        clave: 'pago-a',
        motivo: 'Mensaje inválido: falta la propiedad tipo',
      });
      expect(muerto.propiedades).toMatchObject({ id_evento: 'evento-1', tipo: 'PagoPendiente', version: '1', id_correlacion: 'corr-1' });
      expect(typeof muerto.id).toBe('string');

      expect(await administracion.reenviar(SUSCRIPCION, muerto.id)).toEqual({ tipo: 'reenviado', id: muerto.id });
      const otraVez = await recibir(suscripcion, 'el reenviado');
      expect(otraVez).toMatchObject({ clave: 'pago-a', cuerpo: muerto.cuerpo, entregas: 1 });
      expect(otraVez.propiedades).toMatchObject({ ...muerto.propiedades, [PROPIEDAD_REENVIADO_DE]: muerto.id });
      await suscripcion.confirmar(otraVez);
      expect(await administracion.listar(SUSCRIPCION)).toEqual([]);

      expect(await administracion.reenviar(SUSCRIPCION, muerto.id)).toEqual({ tipo: 'noPendiente', id: muerto.id });
      expect(await antesDelTestigo('pago-a')).toEqual([]);
    });

    it('reenviar el mismo a la vez (mismo proceso y otro): un solo reenvío y una sola copia', async () => {
      const bajoPrueba = await preparar();
      const { administracion, matar, antesDelTestigo, suscripcion } = bajoPrueba;
      const muerto = await matar('pago-b');
      const otra = bajoPrueba.otraAdministracion ? await bajoPrueba.otraAdministracion() : administracion;
      try {
        const resultados = await Promise.all(
          [administracion, otra, administracion, otra, administracion].map((a) => a.reenviar(SUSCRIPCION, muerto.id)),
        );
        expect(resultados.filter((r) => r.tipo === 'reenviado')).toHaveLength(1);
        expect(resultados.filter((r) => r.tipo === 'noPendiente')).toHaveLength(4);
        const copia = await recibir(suscripcion, 'la copia reenviada');
        expect(copia.cuerpo).toBe(muerto.cuerpo);
        await suscripcion.confirmar(copia);
        expect(await antesDelTestigo('pago-b')).toEqual([]);
      } finally {
        if (otra !== administracion) await otra.cerrar();
      }
    });

    it('reenviar todos: cada pendiente una vez, en su orden; repetirlo no reenvía nada', async () => {
      const { administracion, matar, suscripcion, antesDelTestigo } = await preparar();
      const muertos = [await matar('pago-c1'), await matar('pago-c2'), await matar('pago-c3')];
      const hechos = await administracion.reenviarTodos(SUSCRIPCION);
      expect(hechos).toEqual(muertos.map((m): ResultadoReenvio => ({ tipo: 'reenviado', id: m.id })));
      const recibidos: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const m = await recibir(suscripcion, 'los reenviados');
        recibidos.push(m.cuerpo);
        await suscripcion.confirmar(m);
      }
      expect(recibidos.sort()).toEqual(muertos.map((m) => m.cuerpo).sort());
      expect(await administracion.listar(SUSCRIPCION)).toEqual([]);
      expect(await administracion.reenviarTodos(SUSCRIPCION)).toEqual([]);
      for (const clave of ['pago-c1', 'pago-c2', 'pago-c3']) expect(await antesDelTestigo(clave)).toEqual([]);
    });

    it('lo que murió por agotar sus entregas también se lista y se reenvía (con las entregas de nuevo a cero)', async () => {
      const { administracion, suscripcion, publicar } = await preparar(2);
      const cuerpo = await publicar('pago-d');
      for (let entrega = 1; entrega <= 2; entrega += 1) {
        const m = await recibir(suscripcion, `la entrega ${entrega}`);
        expect(m.cuerpo).toBe(cuerpo);
        await suscripcion.rechazar(m, 10);
      }
      const [muerto] = await esperarHasta(
        () => administracion.listar(SUSCRIPCION),
        (l) => l.length === 1,
        'que el mensaje agotado aparezca entre los muertos',
      );
      expect(muerto).toMatchObject({ clave: 'pago-d', cuerpo });
      expect(muerto!.motivo.length).toBeGreaterThan(0);
      expect(await administracion.reenviar(SUSCRIPCION, muerto!.id)).toMatchObject({ tipo: 'reenviado' });
      const otraVez = await recibir(suscripcion, 'el reenviado');
      expect(otraVez).toMatchObject({ cuerpo, entregas: 1 });
      await suscripcion.confirmar(otraVez);
    });

    it('un reenviado que vuelve a morir aparece otra vez, con otro id, y se puede volver a reenviar', async () => {
      const { administracion, suscripcion, matar } = await preparar();
      const primero = await matar('pago-e');
      await administracion.reenviar(SUSCRIPCION, primero.id);
      const otraVez = await recibir(suscripcion, 'el reenviado');
      await suscripcion.aMensajesMuertos(otraVez, 'sigue siendo un veneno');
      const [segundo] = await esperarHasta(
        () => administracion.listar(SUSCRIPCION),
        (l) => l.length === 1,
        'la segunda muerte',
      );
      expect(segundo).toMatchObject({ cuerpo: primero.cuerpo, motivo: 'sigue siendo un veneno' });
      expect(segundo!.id).not.toBe(primero.id);
      expect(await administracion.reenviar(SUSCRIPCION, segundo!.id)).toEqual({ tipo: 'reenviado', id: segundo!.id });
      const terceraVez = await recibir(suscripcion, 'el segundo reenvío');
      expect(terceraVez.cuerpo).toBe(primero.cuerpo);
      await suscripcion.confirmar(terceraVez);
    });

    it('ids desconocidos o mal formados y suscripciones sin muertos: noPendiente y listas vacías, sin errores', async () => {
      const { administracion, matar } = await preparar();
      const muerto = await matar('pago-f');
      for (const id of ['999999999', 'no-es-un-id', '', "1' OR '1'='1", '(1,2,-1,-1)']) {
        expect(await administracion.reenviar(SUSCRIPCION, id)).toEqual({ tipo: 'noPendiente', id });
      }
      expect(await administracion.listar('otra-suscripcion')).toEqual([]);
      expect(await administracion.reenviar('otra-suscripcion', muerto.id)).toEqual({ tipo: 'noPendiente', id: muerto.id });
      expect(await administracion.listar(SUSCRIPCION)).toHaveLength(1);
    });
  });
}
