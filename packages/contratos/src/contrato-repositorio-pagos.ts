import { describe, expect, it } from 'vitest';
import {
  Dinero,
  crearPago,
  type Ambito,
  type Modo,
  iniciarProcesamiento,
  registrarExito,
  type CambioPago,
  type Contexto,
  type RepositorioPagos,
} from '@aeropartners/dominio';
import type { ConsultasPagos } from '@aeropartners/aplicacion';

export interface RepositorioBajoPrueba {
  readonly repositorio: RepositorioPagos;
  readonly consultas: ConsultasPagos;
  /** Genera ids del tipo que el adaptador guarda (UUID). */
  readonly nuevoId: () => string;
  readonly cerrar?: () => Promise<void>;
}

const traza = { idCorrelacion: 'corr-contrato' };
const ambito: Ambito = { idSocio: 'socio-1', modo: 'live' };

function valor<T>(r: { ok: true; valor: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(`Se esperaba ok: ${JSON.stringify(r.error)}`);
  return r.valor;
}

/**
 * Suite de contrato de `RepositorioPagos` + `ConsultasPagos`: cada adaptador (memoria, PostgreSQL)
 * la ejecuta con una línea. `fabrica` da un repositorio vacío y aislado por cada test.
 */
export function probarContratoRepositorioPagos(nombre: string, fabrica: () => Promise<RepositorioBajoPrueba>) {
  describe(`contrato RepositorioPagos: ${nombre}`, () => {
    const nuevoCambio = (
      sut: RepositorioBajoPrueba,
      datos: { afiliado?: string; referencia?: string; centavos?: number; socio?: string; modo?: Modo } = {},
    ) => {
      const ctx: Contexto = { ahora: new Date('2026-03-01T10:00:00.000Z'), nuevoId: sut.nuevoId };
      return valor(
        crearPago(
          {
            id: sut.nuevoId(),
            idSocio: datos.socio ?? 'socio-1',
            modo: datos.modo ?? 'live',
            idAfiliado: datos.afiliado ?? 'afiliado-1',
            monto: valor(Dinero.deUnidadesMenores(datos.centavos ?? 15075, 'USD')),
            referenciaPago: datos.referencia ?? `ref-${sut.nuevoId()}`,
          },
          ctx,
        ),
      );
    };
    const ctxDe = (sut: RepositorioBajoPrueba): Contexto => ({ ahora: new Date('2026-03-01T10:00:05.000Z'), nuevoId: sut.nuevoId });

    it('crea un pago y lo devuelve igual al leerlo', async () => {
      const sut = await fabrica();
      const cambio = nuevoCambio(sut);
      const r = await sut.repositorio.crear(cambio, { idSocio: 'socio-1', clave: 'k1' }, traza);
      expect(r.tipo).toBe('creado');
      expect(await sut.repositorio.obtener(cambio.pago.id)).toEqual(cambio.pago);
      expect(await sut.consultas.estadisticasOutbox(ambito)).toEqual({ total: 1, publicados: 0, pendientes: 1 });
      const historial = await sut.consultas.historial(ambito, cambio.pago.id);
      expect(historial).toEqual([
        {
          estado: 'PENDIENTE',
          version: 1,
          tipoEvento: 'PagoPendiente',
          idEvento: cambio.eventos[0]?.idEvento,
          ocurridoEn: cambio.pago.fechaCreacion,
          idCorrelacion: 'corr-contrato',
          idSolicitud: null,
        },
      ]);
      expect(await sut.consultas.obtenerPago(ambito, cambio.pago.id)).toEqual(cambio.pago);
      await sut.cerrar?.();
    });

    it('misma clave de idempotencia: devuelve el existente y no escribe nada', async () => {
      const sut = await fabrica();
      const primero = nuevoCambio(sut, { referencia: 'ref-a' });
      const segundo = nuevoCambio(sut, { referencia: 'ref-a', centavos: 999 });
      await sut.repositorio.crear(primero, { idSocio: 'socio-1', clave: 'ref-a' }, traza);
      const r = await sut.repositorio.crear(segundo, { idSocio: 'socio-1', clave: 'ref-a' }, traza);
      expect(r).toEqual({ tipo: 'existente', pago: primero.pago });
      expect(await sut.repositorio.obtener(segundo.pago.id)).toBeNull();
      expect((await sut.consultas.estadisticasOutbox(ambito)).total).toBe(1);
      await sut.cerrar?.();
    });

    it('la clave es por socio: otro socio con la misma clave crea otro pago', async () => {
      const sut = await fabrica();
      const a = nuevoCambio(sut);
      const b = nuevoCambio(sut);
      expect((await sut.repositorio.crear(a, { idSocio: 'socio-1', clave: 'k' }, traza)).tipo).toBe('creado');
      expect((await sut.repositorio.crear(b, { idSocio: 'socio-2', clave: 'k' }, traza)).tipo).toBe('creado');
      await sut.cerrar?.();
    });

    it('50 creaciones concurrentes con la misma clave: exactamente un pago', async () => {
      const sut = await fabrica();
      const cambios = Array.from({ length: 50 }, () => nuevoCambio(sut, { referencia: 'ref-carrera' }));
      const resultados = await Promise.all(cambios.map((c) => sut.repositorio.crear(c, { idSocio: 'socio-1', clave: 'carrera' }, traza)));
      expect(resultados.filter((r) => r.tipo === 'creado')).toHaveLength(1);
      expect(new Set(resultados.map((r) => (r.tipo === 'denegado' ? r.tipo : r.pago.id))).size).toBe(1);
      expect(await sut.consultas.estadisticasOutbox(ambito)).toEqual({ total: 1, publicados: 0, pendientes: 1 });
      await sut.cerrar?.();
    });

    it('guardar con control optimista: una transición gana, la otra ve ConflictoDeVersion', async () => {
      const sut = await fabrica();
      const creado = nuevoCambio(sut);
      await sut.repositorio.crear(creado, { idSocio: 'socio-1', clave: 'v' }, traza);
      const procesando = valor(iniciarProcesamiento(creado.pago, ctxDe(sut)));
      const otro = valor(iniciarProcesamiento(creado.pago, ctxDe(sut)));
      const [r1, r2] = await Promise.all([sut.repositorio.guardar(procesando, 1, traza), sut.repositorio.guardar(otro, 1, traza)]);
      expect([r1.ok, r2.ok].filter(Boolean)).toHaveLength(1);
      const fallido = r1.ok ? r2 : r1;
      expect(fallido).toEqual({ ok: false, error: { tipo: 'ConflictoDeVersion', idPago: creado.pago.id, versionEsperada: 1 } });
      const ganador: CambioPago = r1.ok ? procesando : otro;
      const exito = valor(registrarExito(ganador.pago, 'tr_1', ctxDe(sut)));
      expect((await sut.repositorio.guardar(exito, 2, traza)).ok).toBe(true);
      const leido = await sut.repositorio.obtener(creado.pago.id);
      expect(leido).toEqual(exito.pago);
      const historial = await sut.consultas.historial(ambito, creado.pago.id);
      expect(historial?.map((h) => [h.estado, h.version, h.tipoEvento])).toEqual([
        ['PENDIENTE', 1, 'PagoPendiente'],
        ['PROCESANDO', 2, 'PagoProcesando'],
        ['EXITOSO', 3, 'PagoExitoso'],
      ]);
      // PagoProcesando queda en el historial pero no sale por el outbox (no es un evento de integración).
      expect((await sut.consultas.estadisticasOutbox(ambito)).total).toBe(2);
      await sut.cerrar?.();
    });

    it('guardar sobre un pago inexistente es ConflictoDeVersion y no escribe', async () => {
      const sut = await fabrica();
      const cambio = nuevoCambio(sut);
      const procesando = valor(iniciarProcesamiento(cambio.pago, ctxDe(sut)));
      const r = await sut.repositorio.guardar(procesando, 1, traza);
      expect(r.ok).toBe(false);
      expect(await sut.consultas.estadisticasOutbox(ambito)).toEqual({ total: 0, publicados: 0, pendientes: 0 });
      await sut.cerrar?.();
    });

    it('lista con filtros y paginación por cursor, del más nuevo al más viejo, sin huecos ni repetidos', async () => {
      const sut = await fabrica();
      const creados = [];
      for (let i = 0; i < 7; i += 1) {
        const c = nuevoCambio(sut, { afiliado: i % 2 === 0 ? 'par' : 'impar', referencia: `lista-${i}` });
        await sut.repositorio.crear(c, { idSocio: 'socio-1', clave: `lista-${i}` }, traza);
        creados.push(c.pago);
      }
      const vistos: string[] = [];
      let cursor: string | undefined;
      for (let vuelta = 0; vuelta < 10; vuelta += 1) {
        const pagina = await sut.consultas.listar({ ambito, limite: 3, cursor });
        vistos.push(...pagina.elementos.map((p) => p.id));
        if (!pagina.siguienteCursor) break;
        cursor = pagina.siguienteCursor;
      }
      expect(vistos).toEqual(creados.map((p) => p.id).reverse());
      const pares = await sut.consultas.listar({ ambito, limite: 50, idAfiliado: 'par' });
      expect(pares.elementos).toHaveLength(4);
      expect(pares.siguienteCursor).toBeNull();
      const porReferencia = await sut.consultas.listar({ ambito, limite: 50, referenciaPago: 'lista-3' });
      expect(porReferencia.elementos.map((p) => p.id)).toEqual([creados[3]?.id]);
      expect((await sut.consultas.listar({ ambito, limite: 50, estado: 'EXITOSO' })).elementos).toHaveLength(0);
      expect((await sut.consultas.listar({ ambito, limite: 50, estado: 'PENDIENTE' })).elementos).toHaveLength(7);
      await sut.cerrar?.();
    });

    it('historial de un pago inexistente es null', async () => {
      const sut = await fabrica();
      expect(await sut.consultas.historial(ambito, sut.nuevoId())).toBeNull();
      await sut.cerrar?.();
    });

    it('la clave es por socio y modo: la misma en modo de prueba es otro pago', async () => {
      const sut = await fabrica();
      const real = nuevoCambio(sut);
      const prueba = nuevoCambio(sut, { modo: 'test' });
      expect((await sut.repositorio.crear(real, { idSocio: 'socio-1', clave: 'k' }, traza)).tipo).toBe('creado');
      expect(await sut.repositorio.crear(prueba, { idSocio: 'socio-1', clave: 'k' }, traza)).toEqual({ tipo: 'creado', pago: prueba.pago });
      expect((await sut.repositorio.obtener(prueba.pago.id))?.modo).toBe('test');
      await sut.cerrar?.();
    });

    it('lo de otro ámbito no existe: ni se obtiene, ni se lista, ni tiene historial, ni cuenta en el outbox', async () => {
      const sut = await fabrica();
      const mio = nuevoCambio(sut);
      const deOtro = nuevoCambio(sut, { socio: 'socio-2' });
      const dePrueba = nuevoCambio(sut, { modo: 'test' });
      await sut.repositorio.crear(mio, { idSocio: 'socio-1', clave: 'a' }, traza);
      await sut.repositorio.crear(deOtro, { idSocio: 'socio-2', clave: 'a' }, traza);
      await sut.repositorio.crear(dePrueba, { idSocio: 'socio-1', clave: 'a' }, traza);
      for (const ajeno of [deOtro.pago.id, dePrueba.pago.id]) {
        expect(await sut.consultas.obtenerPago(ambito, ajeno)).toBeNull();
        expect(await sut.consultas.historial(ambito, ajeno)).toBeNull();
      }
      expect((await sut.consultas.listar({ ambito, limite: 50 })).elementos.map((p) => p.id)).toEqual([mio.pago.id]);
      expect((await sut.consultas.listar({ ambito: { idSocio: 'socio-1', modo: 'test' }, limite: 50 })).elementos.map((p) => p.id)).toEqual(
        [dePrueba.pago.id],
      );
      expect(await sut.consultas.estadisticasOutbox(ambito)).toEqual({ total: 1, publicados: 0, pendientes: 1 });
      expect(await sut.consultas.estadisticasOutbox({ idSocio: 'socio-3', modo: 'live' })).toEqual({
        total: 0,
        publicados: 0,
        pendientes: 0,
      });
      await sut.cerrar?.();
    });

    it('el id de la petición (Request-Id) queda en el historial de cada paso que causó', async () => {
      const sut = await fabrica();
      const cambio = nuevoCambio(sut);
      await sut.repositorio.crear(cambio, { idSocio: 'socio-1', clave: 'req' }, { idCorrelacion: 'c', idSolicitud: 'req_abc' });
      const procesando = valor(iniciarProcesamiento(cambio.pago, ctxDe(sut)));
      await sut.repositorio.guardar(procesando, 1, { idCorrelacion: 'c' });
      expect((await sut.consultas.historial(ambito, cambio.pago.id))?.map((h) => h.idSolicitud)).toEqual(['req_abc', null]);
      await sut.cerrar?.();
    });
  });
}
