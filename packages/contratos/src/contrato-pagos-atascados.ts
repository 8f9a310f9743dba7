import type { EstadoPago } from '@aeropartners/dominio';
import { afterEach, describe, expect, it } from 'vitest';
import type { MotivoSinReimpulso, PagoAtascado, PagosAtascados } from '@aeropartners/aplicacion';

/** Un pago que plantar, con tiempos relativos al reloj del almacén. */
export interface PlantaPago {
  readonly estado: EstadoPago;
  /** Cuánto hace que entró en su estado. */
  readonly haceMs: number;
  /** Turno de cobro: vigente (alguien lo procesa), vencido (su titular murió) o ninguno. */
  readonly turno?: 'vigente' | 'vencido';
  /** Su `PagoPendiente` en el outbox: ninguno, aún sin publicar, o publicado hace tanto. */
  readonly evento: 'ninguno' | 'sinPublicar' | { readonly publicadoHaceMs: number };
}

/** Lo que cada adaptador entrega a la suite: un almacén nuevo y vacío. */
export interface PagosAtascadosBajoPrueba {
  readonly atascados: PagosAtascados;
  /** Planta los pagos en este orden (ids crecientes) y devuelve sus ids. */
  plantar(pagos: readonly PlantaPago[]): Promise<readonly string[]>;
  /** Lo que haría el relay: publica ahora los `PagoPendiente` en cola. */
  publicar(): Promise<void>;
  /** Veces que se re-encoló el `PagoPendiente` de un pago. */
  reimpulsos(idPago: string): Promise<number>;
  /** Otro acceso al mismo almacén, como el de otro proceso (otra conexión): para las carreras. */
  otroAcceso?(): PagosAtascados;
  cerrar?(): Promise<void>;
}

const U = 60_000;
const VIEJO = 3 * U;
const RECIENTE = U / 3;

/**
 * Suite de contrato de `PagosAtascados`: qué es atascado y qué se re-impulsa (el criterio de
 * `evaluarAtasco`), re-impulso idempotente y único aunque compitan varios barrenderos, lotes y ventanas
 * acotados con recorrido por cursor, y las medidas de las métricas.
 */
export function probarContratoPagosAtascados(nombre: string, crear: () => Promise<PagosAtascadosBajoPrueba>): void {
  describe(`contrato PagosAtascados: ${nombre}`, () => {
    const abiertos: PagosAtascadosBajoPrueba[] = [];
    const nuevo = async () => {
      const a = await crear();
      abiertos.push(a);
      return a;
    };
    afterEach(async () => {
      for (const a of abiertos.splice(0)) await a.cerrar?.();
    });

    async function listarTodo(a: PagosAtascados, estado: 'PENDIENTE' | 'PROCESANDO', umbralMs = U): Promise<PagoAtascado[]> {
      const todos: PagoAtascado[] = [];
      let despuesDe: string | null = null;
      for (let vuelta = 0; vuelta < 100; vuelta += 1) {
        const pagina = await a.listar({ estado, umbralMs, ventana: 3, despuesDe });
        todos.push(...pagina.pagos);
        if (pagina.siguiente === null) return todos;
        despuesDe = pagina.siguiente;
      }
      throw new Error('el recorrido no terminó');
    }

    it('atascado = en PENDIENTE/PROCESANDO más que el umbral y sin turno vigente; re-impulsable si su evento se publicó hace más que el umbral', async () => {
      const a = await nuevo();
      const casos: readonly (PlantaPago & { readonly esperado: 'no' | 'reimpulsable' | MotivoSinReimpulso })[] = [
        { estado: 'PENDIENTE', haceMs: VIEJO, evento: { publicadoHaceMs: VIEJO }, esperado: 'reimpulsable' },
        { estado: 'PENDIENTE', haceMs: VIEJO, evento: 'sinPublicar', esperado: 'eventoSinPublicar' },
        { estado: 'PENDIENTE', haceMs: VIEJO, evento: 'ninguno', esperado: 'sinEvento' },
        { estado: 'PENDIENTE', haceMs: RECIENTE, evento: { publicadoHaceMs: RECIENTE }, esperado: 'no' },
        { estado: 'PROCESANDO', haceMs: VIEJO, evento: { publicadoHaceMs: VIEJO }, esperado: 'reimpulsable' },
        { estado: 'PROCESANDO', haceMs: VIEJO, turno: 'vencido', evento: { publicadoHaceMs: VIEJO }, esperado: 'reimpulsable' },
        { estado: 'PROCESANDO', haceMs: VIEJO, turno: 'vigente', evento: { publicadoHaceMs: VIEJO }, esperado: 'no' },
        { estado: 'PROCESANDO', haceMs: VIEJO, evento: { publicadoHaceMs: RECIENTE }, esperado: 'publicadoHacePoco' },
        { estado: 'PROCESANDO', haceMs: RECIENTE, evento: { publicadoHaceMs: VIEJO }, esperado: 'no' },
        { estado: 'EXITOSO', haceMs: VIEJO, evento: { publicadoHaceMs: VIEJO }, esperado: 'no' },
        { estado: 'FALLIDO', haceMs: VIEJO, evento: { publicadoHaceMs: VIEJO }, esperado: 'no' },
      ];
      const ids = await a.plantar(casos);
      const listados = [...(await listarTodo(a.atascados, 'PENDIENTE')), ...(await listarTodo(a.atascados, 'PROCESANDO'))];
      const porId = new Map(listados.map((p) => [p.idPago, p]));
      casos.forEach((caso, i) => {
        const visto = porId.get(ids[i]!);
        const juicio = visto === undefined ? 'no' : visto.atasco.reimpulsable ? 'reimpulsable' : visto.atasco.motivo;
        expect({ caso: i, juicio }).toEqual({ caso: i, juicio: caso.esperado });
        if (visto) {
          expect(visto.estado).toBe(caso.estado);
          expect(visto.edadMs).toBeGreaterThanOrEqual(caso.haceMs);
          expect(visto.edadMs).toBeLessThan(caso.haceMs + U);
        }
      });
      expect(listados).toHaveLength(casos.filter((c) => c.esperado !== 'no').length);
    });

    it('reimpulsar vuelve a encolar solo los re-impulsables, una vez: repetirlo, o tras publicarse, no vuelve a hacerlo antes del umbral', async () => {
      const a = await nuevo();
      const [pendiente, procesando, conTurno, sinPublicar, joven] = await a.plantar([
        { estado: 'PENDIENTE', haceMs: VIEJO, evento: { publicadoHaceMs: VIEJO } },
        { estado: 'PROCESANDO', haceMs: VIEJO, turno: 'vencido', evento: { publicadoHaceMs: VIEJO } },
        { estado: 'PROCESANDO', haceMs: VIEJO, turno: 'vigente', evento: { publicadoHaceMs: VIEJO } },
        { estado: 'PENDIENTE', haceMs: VIEJO, evento: 'sinPublicar' },
        { estado: 'PENDIENTE', haceMs: RECIENTE, evento: { publicadoHaceMs: RECIENTE } },
      ]);
      const reimpulsar = async (estado: 'PENDIENTE' | 'PROCESANDO') =>
        (await a.atascados.reimpulsar({ estado, umbralMs: U, ventana: 100, lote: 100, despuesDe: null })).pagos.map((p) => p.idPago);
      expect(await reimpulsar('PENDIENTE')).toEqual([pendiente]);
      expect(await reimpulsar('PROCESANDO')).toEqual([procesando]);
      expect(await reimpulsar('PENDIENTE')).toEqual([]);
      expect(await reimpulsar('PROCESANDO')).toEqual([]);
      // Re-encolado: ahora aparece como evento sin publicar; el relay lo publica y sigue sin tocarse.
      const tras = await listarTodo(a.atascados, 'PENDIENTE');
      expect(tras.find((p) => p.idPago === pendiente)?.atasco).toMatchObject({ reimpulsable: false, motivo: 'eventoSinPublicar' });
      await a.publicar();
      expect(await reimpulsar('PENDIENTE')).toEqual([]);
      expect((await listarTodo(a.atascados, 'PENDIENTE')).find((p) => p.idPago === pendiente)?.atasco).toMatchObject({
        reimpulsable: false,
        motivo: 'publicadoHacePoco',
      });
      for (const [id, veces] of [
        [pendiente, 1],
        [procesando, 1],
        [conTurno, 0],
        [sinPublicar, 0],
        [joven, 0],
      ] as const) {
        expect({ id, veces: await a.reimpulsos(id!) }).toEqual({ id, veces });
      }
    });

    it('el re-impulsado lleva la cuenta de re-impulsos y la edad con que se le vio', async () => {
      const a = await nuevo();
      const [id] = await a.plantar([{ estado: 'PROCESANDO', haceMs: VIEJO, evento: { publicadoHaceMs: VIEJO } }]);
      const r = await a.atascados.reimpulsar({ estado: 'PROCESANDO', umbralMs: U, ventana: 10, lote: 10, despuesDe: null });
      expect(r.pagos).toHaveLength(1);
      const [p] = r.pagos;
      expect(p).toMatchObject({
        idPago: id,
        estado: 'PROCESANDO',
        evento: { publicadoEn: null, reimpulsos: 1 },
        atasco: { reimpulsable: true },
      });
      expect(p!.edadMs).toBeGreaterThanOrEqual(VIEJO);
    });

    it('varios barrenderos a la vez: cada pago atascado se re-impulsa exactamente una vez', async () => {
      const a = await nuevo();
      const ids = await a.plantar(
        Array.from({ length: 30 }, (_, i) => ({
          estado: i % 2 === 0 ? ('PENDIENTE' as const) : ('PROCESANDO' as const),
          haceMs: VIEJO,
          evento: { publicadoHaceMs: VIEJO },
        })),
      );
      const accesos = Array.from({ length: 6 }, (_, i) => (i > 0 && a.otroAcceso ? a.otroAcceso() : a.atascados));
      const rondas = await Promise.all(
        accesos.flatMap((acceso) =>
          (['PENDIENTE', 'PROCESANDO'] as const).map((estado) =>
            acceso.reimpulsar({ estado, umbralMs: U, ventana: 100, lote: 100, despuesDe: null }),
          ),
        ),
      );
      const hechos = rondas.flatMap((r) => r.pagos.map((p) => p.idPago));
      expect([...hechos].sort()).toEqual([...ids].sort());
      for (const id of ids) expect(await a.reimpulsos(id)).toBe(1);
    });

    it('lote y ventana acotados: el cursor recorre el estado por tramos y vuelve a null al final', async () => {
      const a = await nuevo();
      const ids = await a.plantar([
        { estado: 'PENDIENTE', haceMs: VIEJO, evento: { publicadoHaceMs: VIEJO } },
        { estado: 'PENDIENTE', haceMs: RECIENTE, evento: { publicadoHaceMs: RECIENTE } },
        { estado: 'PENDIENTE', haceMs: VIEJO, evento: { publicadoHaceMs: VIEJO } },
        { estado: 'PENDIENTE', haceMs: VIEJO, evento: { publicadoHaceMs: VIEJO } },
        { estado: 'PENDIENTE', haceMs: VIEJO, evento: 'sinPublicar' },
        { estado: 'PENDIENTE', haceMs: VIEJO, evento: { publicadoHaceMs: VIEJO } },
      ]);
      const tramo = (despuesDe: string | null) =>
        a.atascados.reimpulsar({ estado: 'PENDIENTE', umbralMs: U, ventana: 3, lote: 1, despuesDe });
      // Lote lleno: sigue tras el último re-impulsado.
      const t1 = await tramo(null);
      expect(t1.pagos.map((p) => p.idPago)).toEqual([ids[0]]);
      expect(t1.siguiente).toBe(ids[0]);
      // Ventana [1, 2, 3]: el 1 es joven; lote lleno con el 2.
      const t2 = await tramo(t1.siguiente);
      expect(t2.pagos.map((p) => p.idPago)).toEqual([ids[2]]);
      expect(t2.siguiente).toBe(ids[2]);
      const t3 = await tramo(t2.siguiente);
      expect(t3.pagos.map((p) => p.idPago)).toEqual([ids[3]]);
      // Ventana [4, 5]: incompleta, así que llegó al final.
      const t4 = await tramo(t3.siguiente);
      expect(t4.pagos.map((p) => p.idPago)).toEqual([ids[5]]);
      expect(t4.siguiente).toBe(ids[5]);
      const t5 = await tramo(t4.siguiente);
      expect(t5).toEqual({ pagos: [], siguiente: null });
      // Una ventana sin nada que hacer deja el cursor al final de la ventana.
      const soloVentana = await a.atascados.reimpulsar({ estado: 'PENDIENTE', umbralMs: U, ventana: 2, lote: 5, despuesDe: null });
      expect(soloVentana).toEqual({ pagos: [], siguiente: ids[1] });
    });

    it('medir: atascados y edad del más viejo sin turno vigente, por estado', async () => {
      const a = await nuevo();
      await a.plantar([
        { estado: 'PENDIENTE', haceMs: 5 * U, evento: { publicadoHaceMs: 5 * U } },
        { estado: 'PENDIENTE', haceMs: VIEJO, evento: 'sinPublicar' },
        { estado: 'PENDIENTE', haceMs: RECIENTE, evento: { publicadoHaceMs: RECIENTE } },
        { estado: 'PROCESANDO', haceMs: 10 * U, turno: 'vigente', evento: { publicadoHaceMs: 10 * U } },
        { estado: 'PROCESANDO', haceMs: VIEJO, evento: { publicadoHaceMs: VIEJO } },
        { estado: 'EXITOSO', haceMs: 20 * U, evento: { publicadoHaceMs: 20 * U } },
      ]);
      const medidas = await a.atascados.medir({ PENDIENTE: U, PROCESANDO: U }, 100);
      const pendiente = medidas.find((m) => m.estado === 'PENDIENTE');
      const procesando = medidas.find((m) => m.estado === 'PROCESANDO');
      expect(pendiente).toMatchObject({ atascados: 2, completa: true });
      expect(pendiente!.masViejoMs).toBeGreaterThanOrEqual(5 * U);
      expect(pendiente!.masViejoMs).toBeLessThan(6 * U);
      // El de turno vigente no cuenta: alguien lo está procesando.
      expect(procesando).toMatchObject({ atascados: 1, completa: true });
      expect(procesando!.masViejoMs).toBeGreaterThanOrEqual(VIEJO);
      expect(procesando!.masViejoMs).toBeLessThan(VIEJO + U);
      // Ventana menor que el estado: cuenta solo lo examinado y lo dice.
      const acotada = await a.atascados.medir({ PENDIENTE: U, PROCESANDO: U }, 1);
      expect(acotada.find((m) => m.estado === 'PENDIENTE')).toMatchObject({ atascados: 1, completa: false });
    });

    it('sin pagos: ceros y ventanas vacías', async () => {
      const a = await nuevo();
      expect(await a.atascados.medir({ PENDIENTE: U, PROCESANDO: U }, 10)).toEqual([
        { estado: 'PENDIENTE', atascados: 0, masViejoMs: 0, completa: true },
        { estado: 'PROCESANDO', atascados: 0, masViejoMs: 0, completa: true },
      ]);
      expect(await a.atascados.listar({ estado: 'PROCESANDO', umbralMs: U, ventana: 10, despuesDe: null })).toEqual({
        pagos: [],
        siguiente: null,
      });
    });
  });
}
