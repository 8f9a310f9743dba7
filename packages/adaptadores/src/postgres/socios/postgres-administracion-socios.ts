import { randomBytes, randomUUID } from 'node:crypto';
import type {
  AdministracionSocios,
  CambioEstadoSocio,
  ClaveEmitida,
  DatosSocioNuevo,
  ErrorAdministracion,
  SocioConClaves,
  SocioCreado,
} from '@aeropartners/aplicacion';
import { EstadoSocio, Resultado, crearSocio, planificarClaveNueva, type ClaveApi, type Modo } from '@aeropartners/dominio';
import type { ClientePostgres, PoolPostgres } from '../pool-postgres.js';
import { codigoPg } from '../sentencias-escritura.js';
import { generarSecretoFirma } from '../../firmas/standard-webhooks.js';
import { generarClave } from './claves.js';
import { COLUMNAS_CLAVE, COLUMNAS_SOCIO, filaAClave, filaASocio, type FilaClave, type FilaSocio } from './filas-socios.js';

const MAXIMO_CLAVES = 'claves_api_maximo_vigentes';
const MAXIMO_SECRETOS = 'secretos_firma_maximo_vigentes';

const SQL_INSERTAR_CLAVE = `
INSERT INTO claves_api (id, id_socio, prefijo, hash_secreto, modo, creada_en)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING ${COLUMNAS_CLAVE.replaceAll('c.', '')}`;

/** Un id de socio nuevo: corto, sin ambigüedad y válido en URLs, cabeceras y registros. */
function nuevoIdSocio(): string {
  return `soc_${randomBytes(10).toString('hex')}`;
}

function restriccion(error: unknown): string | undefined {
  return codigoPg(error) === '23514' && typeof error === 'object' && error !== null && 'constraint' in error
    ? String(error.constraint)
    : undefined;
}

/**
 * `AdministracionSocios` sobre PostgreSQL (la línea de órdenes `pnpm socios`). Cada operación es una
 * transacción; las que tocan a un socio bloquean antes su fila, así que dos administradores a la vez se
 * ordenan. Los máximos (2 claves vigentes por socio y modo, 2 secretos de firma) los decide la regla del
 * dominio y los garantiza además la base (disparadores de la migración 0007), también entre procesos.
 * Revocar, suspender y reactivar avisan a las cachés de credenciales con el `NOTIFY` de esos
 * disparadores, en la misma transacción.
 */
export class PostgresAdministracionSocios implements AdministracionSocios {
  readonly #pool: PoolPostgres;

  constructor(pool: PoolPostgres) {
    this.#pool = pool;
  }

  async crear(datos: DatosSocioNuevo, ahora: Date): Promise<Resultado<SocioCreado, ErrorAdministracion>> {
    const socio = crearSocio({ id: nuevoIdSocio(), ...datos });
    if (!socio.ok) return socio;
    const s = socio.valor;
    return this.#enTransaccion(async (cliente) => {
      await cliente.query('INSERT INTO socios (id, nombre, firma_obligatoria, limite_rps, creado_en) VALUES ($1, $2, $3, $4, $5)', [
        s.id,
        s.nombre,
        s.firmaObligatoria,
        s.limiteRps,
        ahora,
      ]);
      const clave = await this.#insertarClave(cliente, s.id, datos.modo, ahora);
      const secretoFirma = s.firmaObligatoria ? await this.#insertarSecreto(cliente, s.id, ahora) : null;
      return Resultado.ok({ socio: s, clave, secretoFirma });
    });
  }

  async emitirClave(
    idSocio: string,
    modo: Modo,
    ahora: Date,
    expiraAnteriorEn?: Date,
  ): Promise<Resultado<ClaveEmitida, ErrorAdministracion>> {
    try {
      return await this.#enTransaccion(async (cliente) => {
        if (!(await this.#bloquearSocio(cliente, idSocio))) return Resultado.fallo({ tipo: 'SocioNoEncontrado', idSocio });
        const claves = await this.#claves(cliente, idSocio);
        const plan = planificarClaveNueva(idSocio, modo, claves, ahora, expiraAnteriorEn);
        if (!plan.ok) return plan;
        for (const { id, expiraEn } of plan.valor.expirarAnterior) {
          await cliente.query('UPDATE claves_api SET expira_en = $2 WHERE id = $1', [id, expiraEn]);
        }
        return Resultado.ok(await this.#insertarClave(cliente, idSocio, modo, ahora));
      });
    } catch (error) {
      // La regla del dominio ya lo miró; la base lo vuelve a mirar si otro proceso emitió a la vez.
      if (restriccion(error) === MAXIMO_CLAVES) {
        const vigentes = (await this.#listarClaves(idSocio)).filter((c) => c.modo === modo && c.revocadaEn === null).map((c) => c.prefijo);
        return Resultado.fallo({ tipo: 'DemasiadasClaves', idSocio, modo, vigentes });
      }
      throw error;
    }
  }

  async revocarClave(idSocio: string, prefijo: string, ahora: Date): Promise<Resultado<ClaveApi, ErrorAdministracion>> {
    const { rows } = await this.#pool.query<FilaClave>(
      `UPDATE claves_api c SET revocada_en = COALESCE(c.revocada_en, $3)
       WHERE c.id_socio = $1 AND c.prefijo = $2
       RETURNING ${COLUMNAS_CLAVE}`,
      [idSocio, prefijo, ahora],
    );
    const fila = rows[0];
    return fila === undefined ? Resultado.fallo({ tipo: 'ClaveNoEncontrada', idSocio, prefijo }) : Resultado.ok(filaAClave(fila));
  }

  suspender(idSocio: string): Promise<Resultado<CambioEstadoSocio, ErrorAdministracion>> {
    return this.#cambiarEstado(idSocio, EstadoSocio.SUSPENDIDO);
  }

  reactivar(idSocio: string): Promise<Resultado<CambioEstadoSocio, ErrorAdministracion>> {
    return this.#cambiarEstado(idSocio, EstadoSocio.ACTIVO);
  }

  async listar(): Promise<readonly SocioConClaves[]> {
    const [socios, claves] = await Promise.all([
      this.#pool.query<FilaSocio>(`SELECT ${COLUMNAS_SOCIO} FROM socios s ORDER BY s.id`),
      this.#pool.query<FilaClave>(`SELECT ${COLUMNAS_CLAVE} FROM claves_api c ORDER BY c.id_socio, c.creada_en, c.id`),
    ]);
    const porSocio = new Map<string, ClaveApi[]>();
    for (const f of claves.rows) {
      const lista = porSocio.get(f.id_socio) ?? [];
      lista.push(filaAClave(f));
      porSocio.set(f.id_socio, lista);
    }
    return socios.rows.map((f) => ({ socio: filaASocio(f), claves: porSocio.get(f.id) ?? [] }));
  }

  async emitirSecretoFirma(idSocio: string, ahora: Date): Promise<Resultado<string, ErrorAdministracion>> {
    try {
      return await this.#enTransaccion(async (cliente) => {
        if (!(await this.#bloquearSocio(cliente, idSocio))) return Resultado.fallo({ tipo: 'SocioNoEncontrado', idSocio });
        return Resultado.ok(await this.#insertarSecreto(cliente, idSocio, ahora));
      });
    } catch (error) {
      if (restriccion(error) === MAXIMO_SECRETOS) return Resultado.fallo({ tipo: 'DemasiadosSecretos', idSocio });
      throw error;
    }
  }

  async #cambiarEstado(idSocio: string, estado: EstadoSocio): Promise<Resultado<CambioEstadoSocio, ErrorAdministracion>> {
    // El aviso a las cachés lo da el disparador de `socios` (solo si la fila cambia de verdad: ver abajo).
    const { rows } = await this.#pool.query<FilaSocio & { antes: string }>(
      `WITH antes AS (SELECT id, estado FROM socios WHERE id = $1 FOR UPDATE)
       UPDATE socios s SET estado = $2 FROM antes a WHERE s.id = a.id
       RETURNING ${COLUMNAS_SOCIO}, a.estado AS antes`,
      [idSocio, estado],
    );
    const fila = rows[0];
    if (fila === undefined) return Resultado.fallo({ tipo: 'SocioNoEncontrado', idSocio });
    return Resultado.ok({ socio: filaASocio(fila), cambiado: fila.antes !== estado });
  }

  async #bloquearSocio(cliente: ClientePostgres, idSocio: string): Promise<boolean> {
    const { rows } = await cliente.query('SELECT 1 FROM socios WHERE id = $1 FOR UPDATE', [idSocio]);
    return rows.length > 0;
  }

  async #claves(cliente: ClientePostgres | PoolPostgres, idSocio: string): Promise<ClaveApi[]> {
    const { rows } = await cliente.query<FilaClave>(
      `SELECT ${COLUMNAS_CLAVE} FROM claves_api c WHERE c.id_socio = $1 ORDER BY c.creada_en, c.id`,
      [idSocio],
    );
    return rows.map(filaAClave);
  }

  #listarClaves(idSocio: string): Promise<ClaveApi[]> {
    return this.#claves(this.#pool, idSocio);
  }

  async #insertarClave(cliente: ClientePostgres, idSocio: string, modo: Modo, ahora: Date): Promise<ClaveEmitida> {
    const generada = generarClave(modo);
    const { rows } = await cliente.query<FilaClave>(SQL_INSERTAR_CLAVE, [
      randomUUID(),
      idSocio,
      generada.prefijo,
      generada.hash,
      modo,
      ahora,
    ]);
    const fila = rows[0];
    if (fila === undefined) throw new Error(`No se insertó la clave del socio ${idSocio}`);
    return { clave: filaAClave(fila), claveEnClaro: generada.claveEnClaro };
  }

  async #insertarSecreto(cliente: ClientePostgres, idSocio: string, ahora: Date): Promise<string> {
    const secreto = generarSecretoFirma();
    await cliente.query('INSERT INTO secretos_firma (id, id_socio, secreto, creado_en) VALUES ($1, $2, $3, $4)', [
      randomUUID(),
      idSocio,
      secreto,
      ahora,
    ]);
    return secreto;
  }

  async #enTransaccion<T>(
    trabajo: (cliente: ClientePostgres) => Promise<Resultado<T, ErrorAdministracion>>,
  ): Promise<Resultado<T, ErrorAdministracion>> {
    const cliente = await this.#pool.connect();
    let roto = false;
    try {
      await cliente.query('BEGIN');
      const resultado = await trabajo(cliente);
      await cliente.query(resultado.ok ? 'COMMIT' : 'ROLLBACK');
      return resultado;
    } catch (error) {
      await cliente.query('ROLLBACK').catch(() => {
        roto = true;
      });
      throw error;
    } finally {
      cliente.release(roto);
    }
  }
}
