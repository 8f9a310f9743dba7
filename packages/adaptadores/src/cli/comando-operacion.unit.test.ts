import { describe, expect, it } from 'vitest';
import { crearBrokerPulsar } from '../pulsar/pulsar-broker.js';
import { MENSAJE_SIN_BINARIO_PULSAR } from '../pulsar/cliente-pulsar.js';
import { IDS_MENSAJE_FALSOS, PulsarFalso, fabricaConLector } from '@aeropartners/contratos/pulsar';
import { comandoOperacion } from './comando-operacion.js';
import { duracionLegible, duracionMs, tabla, umbralesDe } from './entorno-operacion.js';

async function ejecutar(argumentos: string[], env: Record<string, string | undefined> = {}, importarPulsar?: () => Promise<unknown>) {
  const salida: string[] = [];
  const errores: string[] = [];
  const codigo = await comandoOperacion({
    argumentos,
    env,
    directorio: '/no/existe/ningun/pnpm-start',
    escribir: (l) => salida.push(l),
    escribirError: (l) => errores.push(l),
    ...(importarPulsar && { importarPulsar }),
  });
  return { codigo, salida, errores };
}

describe('pnpm operacion: uso', () => {
  it('sin comando, la ayuda y código 2; con --ayuda, código 0', async () => {
    const sin = await ejecutar([]);
    expect(sin.codigo).toBe(2);
    expect(sin.salida.join('\n')).toMatch(/^Uso: pnpm operacion/);
    expect((await ejecutar(['--ayuda'])).codigo).toBe(0);
  });

  it.each([
    [['otra-cosa'], /Comando desconocido: «otra-cosa»/],
    [['atascados', '--verboso'], /Argumentos inválidos: opción desconocida: --verboso/],
    [['atascados', '--estado', 'EXITOSO'], /--estado inválido: «EXITOSO» \(PENDIENTE o PROCESANDO\)/],
    [['atascados', '--mas-de', 'un rato'], /--mas-de inválido: «un rato»/],
    [['atascados', '--mas-de', '0s'], /--mas-de inválido/],
    [['atascados', '--limite', '0'], /--limite inválido: «0»/],
    [['atascados', 'listar'], /atascados no lleva subcomando/],
    [['atascados', '--todos'], /--todos es de «muertos»/],
    [['muertos'], /muertos necesita listar o reenviar \(recibido: nada\)/],
    [['muertos', 'reenviar'], /Uso: pnpm operacion muertos reenviar <id> \| muertos reenviar --todos/],
    [['muertos', 'reenviar', '7', '--todos'], /Uso: pnpm operacion muertos reenviar/],
    [['muertos', 'listar', '--reimpulsar'], /--reimpulsar es de «atascados»/],
  ])('%j → una línea clara y código 2, sin tocar nada', async (argumentos, mensaje) => {
    const { codigo, salida, errores } = await ejecutar(argumentos);
    expect(codigo).toBe(2);
    expect(salida).toEqual([]);
    expect(errores).toHaveLength(1);
    expect(errores[0]).toMatch(mensaje);
    expect(errores[0]).not.toContain('\n');
  });
});

describe('pnpm operacion: base de datos', () => {
  it('sin DATABASE_URL ni pnpm start en marcha: una línea que dice qué hacer, código 1', async () => {
    const { codigo, errores } = await ejecutar(['atascados']);
    expect(codigo).toBe(1);
    expect(errores).toEqual([
      expect.stringMatching(/^Falta DATABASE_URL y no hay un `pnpm start` en marcha .*procesos\.json.*exporte DATABASE_URL/),
    ]);
  });

  it('DATABASE_URL inválida o inalcanzable: una línea sin la contraseña, código 1', async () => {
    expect((await ejecutar(['atascados'], { DATABASE_URL: 'mysql://u@h/db' })).errores).toEqual([
      expect.stringMatching(/^DATABASE_URL inválida: protocolo «mysql» no admitido/),
    ]);
    const { codigo, errores } = await ejecutar(['muertos', 'listar'], { DATABASE_URL: 'postgres://yo:secreta@127.0.0.1:1/pagos' });
    expect(codigo).toBe(1);
    expect(errores).toHaveLength(1);
    expect(errores[0]).toMatch(/ECONNREFUSED.*\(postgres:\/\/yo:\*\*\*@127\.0\.0\.1:1\/pagos\)$/);
    expect(errores[0]).not.toContain('secreta');
  });
});

describe('pnpm operacion muertos con PULSAR_URL', () => {
  it('sin el binario nativo de pulsar-client: el mensaje claro, código 1', async () => {
    const { codigo, errores } = await ejecutar(['muertos', 'listar'], { PULSAR_URL: 'pulsar://localhost:6650' }, () =>
      Promise.reject(new Error('Cannot find module pulsar.node')),
    );
    expect(codigo).toBe(1);
    expect(errores[0]).toContain(MENSAJE_SIN_BINARIO_PULSAR);
  });

  it('lista y reenvía los de la DLQ de Pulsar (cliente falso); el segundo reenvío dice que no está pendiente', async () => {
    const falso = new PulsarFalso();
    const broker = await crearBrokerPulsar({ url: 'pulsar://falso:6650', topico: 'pagos', crearCliente: falso.crearCliente });
    const s = await broker.suscribir({ suscripcion: 'consumidor-pagos', maximoEntregas: 3, retrasoReentregaMs: 10 });
    const p = await broker.crearPublicador('relay');
    await p.publicar([
      {
        clave: 'pago-1',
        secuencia: 1,
        cuerpo: '{"x":1}',
        propiedades: { id_evento: 'e1', tipo: 'PagoPendiente', version: '1', id_correlacion: 'c1' },
      },
    ]);
    const m = await s.recibir();
    await s.aMensajesMuertos(m!, 'El pago pago-1 no existe');
    const conLector = fabricaConLector(falso);
    // `new Client(config)` del cliente de Pulsar: una función constructora que devuelve el falso.
    function Client(config: { serviceUrl: string }) {
      return conLector(config);
    }
    const importar = async () => ({ default: { Client, MessageId: IDS_MENSAJE_FALSOS } });
    const env = { PULSAR_URL: 'pulsar://falso:6650' };
    const listado = await ejecutar(['muertos', 'listar', '--json'], env, importar);
    expect(listado.codigo).toBe(0);
    expect(listado.salida).toHaveLength(1);
    const muerto = JSON.parse(listado.salida[0]!) as { id: string; clave: string; motivo: string; propiedades: Record<string, string> };
    expect(muerto).toMatchObject({ clave: 'pago-1', motivo: 'El pago pago-1 no existe', propiedades: { id_evento: 'e1' } });
    expect(listado.errores).toEqual(['1 mensaje(s) muerto(s) pendiente(s) en la suscripción «consumidor-pagos».']);
    const reenvio = await ejecutar(['muertos', 'reenviar', muerto.id], env, importar);
    expect(reenvio).toMatchObject({ codigo: 0, salida: [`reenviado ${muerto.id}`, expect.stringContaining('1 mensaje(s) reenviado(s)')] });
    expect((await s.recibir())?.cuerpo).toBe('{"x":1}');
    const otraVez = await ejecutar(['muertos', 'reenviar', muerto.id], env, importar);
    expect(otraVez.codigo).toBe(1);
    expect(otraVez.errores).toEqual([expect.stringMatching(/no está entre los mensajes muertos pendientes .* no se reenvió nada/)]);
    await broker.cerrar();
  });
});

describe('utilidades del CLI', () => {
  it('duraciones: se leen con unidad (o en segundos) y se escriben para personas', () => {
    expect([duracionMs('90'), duracionMs('90s'), duracionMs('5m'), duracionMs('5min'), duracionMs('2h'), duracionMs('500ms')]).toEqual([
      90_000, 90_000, 300_000, 300_000, 7_200_000, 500,
    ]);
    expect([duracionMs('0'), duracionMs('-1s'), duracionMs('1.5h'), duracionMs('')]).toEqual([undefined, undefined, undefined, undefined]);
    expect([
      duracionLegible(450),
      duracionLegible(12_000),
      duracionLegible(190_000),
      duracionLegible(7_500_000),
      duracionLegible(3 * 86_400_000),
    ]).toEqual(['450 ms', '12 s', '3 min 10 s', '2 h 05 min', '3 d 00 h']);
  });

  it('umbrales: los del barrendero por pasarela, las variables BARRENDERO_UMBRAL_*_MS o --mas-de', () => {
    expect(umbralesDe({}, undefined)).toEqual({ PENDIENTE: 120_000, PROCESANDO: 300_000 });
    expect(umbralesDe({ PASARELA: 'stripe' }, undefined)).toEqual({ PENDIENTE: 300_000, PROCESANDO: 1_800_000 });
    expect(umbralesDe({ BARRENDERO_UMBRAL_PROCESANDO_MS: '60000' }, undefined)).toEqual({ PENDIENTE: 120_000, PROCESANDO: 60_000 });
    expect(umbralesDe({ BARRENDERO_UMBRAL_PROCESANDO_MS: '60000' }, '10m')).toEqual({ PENDIENTE: 600_000, PROCESANDO: 600_000 });
    expect(() => umbralesDe({ BARRENDERO_UMBRAL_PENDIENTE_MS: 'mucho' }, undefined)).toThrow(/BARRENDERO_UMBRAL_PENDIENTE_MS inválida/);
  });

  it('tabla: columnas alineadas', () => {
    expect(
      tabla(
        ['A', 'BB'],
        [
          ['xxx', 'y'],
          ['z', 'w'],
        ],
      ),
    ).toEqual(['A    BB', 'xxx  y', 'z    w']);
  });
});
