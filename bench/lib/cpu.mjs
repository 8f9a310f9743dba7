// CPU consumida por árbol de procesos (Linux, /proc): utime + stime de cada proceso vivo del árbol más
// lo ya acumulado por sus hijos terminados (cutime + cstime). Sirve para repartir el coste por pago
// entre generador de carga, API, relay, consumidor y PostgreSQL. Fuera de Linux devuelve null.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const TICKS_POR_SEGUNDO = 100; // USER_HZ en Linux

/** `/proc/<pid>/stat`: ppid y ticks propios (utime + stime) y de hijos terminados (cutime + cstime); null si ya no existe. */
function leerStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const campos = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // campos[0] = estado (campo 3)
    return {
      ppid: Number(campos[1]),
      propios: Number(campos[11]) + Number(campos[12]),
      hijos: Number(campos[13]) + Number(campos[14]),
    };
  } catch {
    return null;
  }
}

function leerProcesos() {
  let entradas;
  try {
    entradas = readdirSync('/proc');
  } catch {
    return null;
  }
  const procesos = new Map();
  for (const entrada of entradas) {
    if (!/^\d+$/.test(entrada)) continue;
    const stat = leerStat(Number(entrada));
    if (stat) procesos.set(Number(entrada), { ppid: stat.ppid, ticks: stat.propios + stat.hijos });
  }
  return procesos;
}

/**
 * Segundos de CPU de cada árbol cuya raíz es uno de los pids dados: { nombre: segundos }. Con PostgreSQL
 * como raíz: el postmaster, sus procesos vivos y lo acumulado por los ya terminados.
 */
export function cpuPorArbol(raices) {
  const procesos = leerProcesos();
  if (!procesos) return null;
  const hijos = new Map();
  for (const [pid, p] of procesos) {
    if (!hijos.has(p.ppid)) hijos.set(p.ppid, []);
    hijos.get(p.ppid).push(pid);
  }
  const resultado = {};
  for (const [nombre, raiz] of Object.entries(raices)) {
    let ticks = 0;
    const pendientes = raiz ? [raiz] : [];
    while (pendientes.length > 0) {
      const pid = pendientes.pop();
      ticks += procesos.get(pid)?.ticks ?? 0;
      pendientes.push(...(hijos.get(pid) ?? []));
    }
    resultado[nombre] = ticks / TICKS_POR_SEGUNDO;
  }
  return resultado;
}

/** Diferencia entre dos lecturas de cpuPorArbol. */
export function restarCpu(despues, antes) {
  if (!despues || !antes) return null;
  return Object.fromEntries(Object.entries(despues).map(([k, v]) => [k, v - (antes[k] ?? 0)]));
}

/** Puertos TCP locales de los sockets abiertos por un proceso (vía /proc/<pid>/fd y /proc/net/tcp*). */
function puertosDe(pid) {
  const inodos = new Set();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const destino = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(destino);
        if (m) inodos.add(m[1]);
      } catch {
        // descriptor cerrado mientras se leía
      }
    }
  } catch {
    return new Set();
  }
  const puertos = new Set();
  for (const tabla of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let texto = '';
    try {
      texto = readFileSync(tabla, 'utf8');
    } catch {
      continue;
    }
    for (const linea of texto.split('\n').slice(1)) {
      const c = linea.trim().split(/\s+/);
      if (c.length < 10) continue;
      if (inodos.has(c[9])) puertos.add(Number.parseInt(c[1].split(':')[1], 16));
    }
  }
  return puertos;
}

/**
 * Reparte la CPU de PostgreSQL (segundos desde el arranque de cada proceso) entre los procesos
 * cliente dueños de cada conexión (por puerto TCP, o por `application_name` en el socket Unix) y los
 * procesos de fondo del servidor.
 */
export async function cpuPostgresPorCliente(clientePg, pidPostgres, servicios) {
  const { rows } = await clientePg.query('SELECT pid, backend_type, client_port, application_name FROM pg_stat_activity');
  const duenoDePuerto = new Map();
  for (const [nombre, pid] of Object.entries(servicios)) for (const p of puertosDe(pid)) duenoDePuerto.set(p, nombre);
  const resultado = {};
  const sumar = (clave, ticks) => (resultado[clave] = (resultado[clave] ?? 0) + ticks / TICKS_POR_SEGUNDO);
  for (const fila of rows) {
    // Por TCP, el dueño del puerto; por socket Unix (client_port -1 o nulo), el application_name.
    const cliente = duenoDePuerto.get(fila.client_port) ?? (fila.application_name || 'otro');
    const clave = fila.backend_type === 'client backend' ? `backend ${cliente}` : fila.backend_type;
    sumar(clave, leerStat(fila.pid)?.propios ?? 0);
  }
  const maestro = leerStat(pidPostgres);
  sumar('postmaster', maestro?.propios ?? 0);
  sumar('procesos ya terminados (autovacuum…)', maestro?.hijos ?? 0);
  return resultado;
}
