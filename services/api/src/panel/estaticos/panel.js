// El panel en vivo: lee la API del socio con su clave (fetch + Authorization). El stream SSE se lee con
// fetch y un lector de ReadableStream porque EventSource no puede enviar cabeceras; al cortarse, se
// reanuda con Last-Event-ID. Todo se escribe con textContent: ningún dato se interpreta como HTML.

const CLAVE_SESION = 'aeropartners.panel.clave';
/** Eventos anteriores a la conexión que se muestran al entrar (los más recientes). */
const VENTANA_HISTORIA = 500;
const MAXIMO_POR_LISTA = 200;

const $ = (id) => document.getElementById(id);

const estado = {
  clave: null,
  abortar: null,
  /** La última secuencia recibida (o, antes del primer evento, donde empezó el stream). */
  posicion: null,
  reintentoMs: 2000,
  /** Secuencias ya aplicadas (solo las recientes: la memoria no crece con la sesión). */
  vistos: new Set(),
  mostrados: 0,
  elementos: new Map(),
  duplicados: new Map(),
};

class ErrorFatal extends Error {}

function nodo(etiqueta, clase, texto) {
  const n = document.createElement(etiqueta);
  if (clase) n.className = clase;
  if (texto !== undefined && texto !== null) n.textContent = String(texto);
  return n;
}

function conexion(clase, texto) {
  const p = $('conexion');
  p.dataset.estado = clase;
  p.textContent = texto;
}

const dormir = (ms, senal) =>
  new Promise((resolver) => {
    const t = setTimeout(resolver, ms);
    senal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolver();
    });
  });

async function pedir(ruta, senal) {
  const r = await fetch(ruta, {
    headers: { Authorization: `Bearer ${estado.clave}`, Accept: 'application/json' },
    signal: senal,
    cache: 'no-store',
  });
  if (r.status === 401 || r.status === 403) {
    const problema = await r.json().catch(() => ({}));
    throw new ErrorFatal(problema.detail ?? `La API respondió ${r.status}`);
  }
  if (!r.ok) {
    const problema = await r.json().catch(() => ({}));
    throw new Error(problema.detail ?? `${ruta}: ${r.status}`);
  }
  return r.json();
}

// ── Modelo: qué elemento cambia con cada evento ───────────────────────────────

const importe = (unidades, moneda) =>
  typeof unidades === 'number' && moneda
    ? `${(unidades / 100).toFixed(2)} ${moneda}`
    : typeof unidades === 'number'
      ? `${unidades / 100}`
      : '';

function aplicar(evento) {
  if (estado.vistos.has(evento.secuencia)) return;
  estado.vistos.add(evento.secuencia);
  estado.mostrados += 1;
  if (estado.vistos.size > 4 * VENTANA_HISTORIA) {
    // Solo puede repetirse lo cercano a la posición (la ventana inicial frente al stream): lo viejo se olvida.
    const limite = (estado.posicion ?? 0) - 2 * VENTANA_HISTORIA;
    for (const s of estado.vistos) if (s < limite) estado.vistos.delete(s);
  }
  const d = evento.datos ?? {};
  const [familia] = evento.tipo.split('.');
  if (evento.tipo === 'duplicado.absorbido') {
    const etapa = typeof d.etapa === 'string' ? d.etapa : 'desconocida';
    const actual = estado.duplicados.get(etapa) ?? { eventos: 0, veces: 0 };
    actual.eventos += 1;
    actual.veces += typeof d.veces === 'number' ? d.veces : 1;
    estado.duplicados.set(etapa, actual);
    pintarDuplicados();
    return;
  }
  if (familia === 'webhook') {
    pintarAviso(evento);
    return;
  }
  if (familia === 'pago') {
    const referencia = typeof d.referencia_pago === 'string' ? d.referencia_pago : '';
    actualizar('pago', evento.sujeto, evento, d.estado, `${importe(d.monto_unidades, d.moneda)} · ${d.id_afiliado ?? ''} · ${referencia}`);
    // El pago de una liquidación lleva su id como referencia.
    if (referencia.startsWith('liquidacion:')) {
      actualizar('liquidacion', referencia, evento, `PAGO_${d.estado}`, `${importe(d.monto_unidades, d.moneda)} · pago ${evento.sujeto}`, {
        idPago: evento.sujeto,
      });
    }
    return;
  }
  if (familia === 'conversion' || familia === 'comision') {
    const detalle = d.detalle ?? {};
    if (familia === 'conversion')
      actualizar('conversion', evento.sujeto, evento, d.estado ?? evento.tipo.split('.')[1].toUpperCase(), evento.tipo);
    const comision = detalle.comision;
    if (comision && typeof comision === 'object') {
      actualizar('comision', evento.sujeto, evento, comision.estado, `${importe(comision.unidades)} · conversión ${evento.sujeto}`);
    }
    if (familia === 'comision') {
      const pagada = evento.tipo === 'comision.pagada';
      actualizar('comision', evento.sujeto, evento, pagada ? 'PAGADA' : 'LIBERADA', `conversión ${evento.sujeto}`);
      if (typeof detalle.id_liquidacion === 'string') {
        actualizar('liquidacion', detalle.id_liquidacion, evento, pagada ? 'PAGADA' : 'ANULADA', `cerrada por ${evento.tipo}`);
      }
    }
    return;
  }
  if (familia === 'liquidacion') actualizar('liquidacion', evento.sujeto, evento, d.estado ?? evento.tipo.split('.')[1].toUpperCase(), '');
}

function actualizar(tipo, sujeto, evento, estadoNuevo, detalle, extra = {}) {
  const clave = `${tipo}:${sujeto}`;
  let e = estado.elementos.get(clave);
  if (!e) {
    e = { tipo, sujeto, secuencia: 0, estado: null, recorrido: [], detalle: '', ...extra };
    e.nodo = crearNodo(e);
    estado.elementos.set(clave, e);
  }
  Object.assign(e, extra);
  // Los eventos de antes de conectar y los del stream pueden llegar intercalados: manda la secuencia.
  if (evento.secuencia < e.secuencia) return;
  e.secuencia = evento.secuencia;
  if (estadoNuevo && e.estado !== estadoNuevo) {
    e.estado = estadoNuevo;
    e.recorrido.push(estadoNuevo);
  }
  if (detalle) e.detalle = detalle;
  pintarElemento(e);
  const lista = $(`lista-${tipo}`);
  lista.prepend(e.nodo);
  while (lista.children.length > MAXIMO_POR_LISTA) {
    const ultimo = lista.lastElementChild;
    estado.elementos.delete(`${tipo}:${ultimo.dataset.sujeto}`);
    ultimo.remove();
  }
}

function crearNodo(e) {
  const li = nodo('li', 'elemento nuevo');
  li.tabIndex = 0;
  li.setAttribute('role', 'button');
  li.dataset.tipo = e.tipo;
  li.dataset.sujeto = e.sujeto;
  li.append(nodo('span', 'estado'), nodo('div', 'id', e.sujeto), nodo('div', 'detalle'), nodo('div', 'recorrido'));
  const abrir = () => abrirLinea(e);
  li.addEventListener('click', abrir);
  li.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      abrir();
    }
  });
  li.addEventListener('animationend', () => li.classList.remove('nuevo'));
  return li;
}

function pintarElemento(e) {
  const li = e.nodo;
  li.dataset.estado = e.estado ?? '';
  li.querySelector('.estado').textContent = e.estado ?? '';
  li.querySelector('.detalle').textContent = e.detalle;
  li.querySelector('.recorrido').textContent = e.recorrido.join(' → ');
}

function pintarDuplicados() {
  const dl = $('duplicados');
  dl.replaceChildren();
  for (const [etapa, { eventos, veces }] of [...estado.duplicados].sort(([a], [b]) => a.localeCompare(b))) {
    const dt = nodo('dt', null, etapa);
    const dd = nodo('dd', null, `${veces} (${eventos} ${eventos === 1 ? 'evento' : 'eventos'})`);
    dd.dataset.etapa = etapa;
    dd.dataset.veces = String(veces);
    dl.append(dt, dd);
  }
}

/** Un aviso al socio (`webhook.desactivado`): los más recientes arriba, como mucho 20. */
function pintarAviso(evento) {
  const ul = $('avisos');
  if (!ul.querySelector('li[data-tipo]')) ul.replaceChildren();
  const d = evento.datos ?? {};
  const li = nodo('li', null, `${evento.tipo} · ${d.url ?? evento.sujeto} · ${d.motivo ?? ''}`);
  li.dataset.tipo = evento.tipo;
  li.dataset.sujeto = evento.sujeto;
  li.title = evento.ocurrido_en;
  ul.prepend(li);
  while (ul.children.length > 20) ul.lastElementChild?.remove();
}

function pintarPosicion() {
  $('posicion').textContent = `Secuencia: ${estado.posicion ?? '—'} · ${estado.mostrados} eventos mostrados`;
}

// ── Línea de tiempo de un elemento ─────────────────────────────────────────────

function paso(titulo, cuando, campos) {
  const li = nodo('li', 'paso');
  li.append(nodo('span', 'titulo', titulo));
  if (cuando) li.append(nodo('span', 'cuando', new Date(cuando).toLocaleString('es', { dateStyle: 'short', timeStyle: 'medium' })));
  const dl = nodo('dl');
  for (const [k, v] of Object.entries(campos)) {
    if (v === null || v === undefined || v === '') continue;
    dl.append(nodo('dt', null, k), nodo('dd', null, typeof v === 'object' ? JSON.stringify(v) : v));
  }
  li.append(dl);
  return li;
}

function seccion(titulo, pasos) {
  const ol = nodo('ol', 'pasos');
  ol.append(...pasos);
  const div = nodo('div', 'seccion');
  div.append(nodo('h3', null, titulo), ol);
  return div;
}

const ruta = (...partes) => `/${partes.map(encodeURIComponent).join('/')}`;

async function historialDe(e) {
  const secciones = [];
  if (e.tipo === 'pago') {
    const h = await pedir(`${ruta('pagos', e.sujeto, 'historial')}`);
    secciones.push(
      seccion(
        'Historial del pago',
        h.historial.map((x) =>
          paso(x.estado, x.ocurrido_en, {
            versión: x.version,
            evento: x.tipo_evento,
            id_evento: x.id_evento,
            id_correlacion: x.id_correlacion,
            id_solicitud: x.id_solicitud,
          }),
        ),
      ),
    );
  } else if (e.tipo === 'conversion' || e.tipo === 'comision') {
    const h = await pedir(`${ruta('conversiones', e.sujeto, 'historial')}`);
    secciones.push(
      seccion(
        'Historial de la conversión',
        h.historial.map((x) =>
          paso(`${x.tipo}${x.estado ? ` · ${x.estado}` : ''}`, x.ocurrido_en, {
            id_evento: x.id_evento,
            id_correlacion: x.id_correlacion,
            detalle: x.detalle,
          }),
        ),
      ),
    );
  } else if (e.tipo === 'liquidacion') {
    const l = await pedir(ruta('liquidaciones', e.sujeto));
    const { partidas, ...resto } = l;
    secciones.push(seccion('Liquidación', [paso(l.estado ?? 'liquidación', null, { ...resto, partidas: partidas?.length })]));
    if (typeof l.id_pago === 'string') {
      const h = await pedir(ruta('pagos', l.id_pago, 'historial'));
      secciones.push(
        seccion(
          `Historial de su pago ${l.id_pago}`,
          h.historial.map((x) => paso(x.estado, x.ocurrido_en, { versión: x.version, id_correlacion: x.id_correlacion })),
        ),
      );
    }
  }
  // Y lo que el registro de eventos dice del mismo sujeto (incluidos los duplicados absorbidos).
  const sujeto = e.tipo === 'liquidacion' ? e.idPago : e.sujeto;
  if (sujeto) {
    const pagina = await pedir(`/eventos?sujeto=${encodeURIComponent(sujeto)}&limite=500`);
    secciones.push(
      seccion(
        'Eventos del registro',
        pagina.eventos.map((x) =>
          paso(`#${x.secuencia} ${x.tipo}`, x.ocurrido_en, {
            id_solicitud: x.id_solicitud,
            id_traza: x.id_traza,
            id_correlacion: x.id_correlacion,
            datos: x.datos,
          }),
        ),
      ),
    );
  }
  return secciones;
}

let lineaPedida = 0;
async function abrirLinea(e) {
  const turno = ++lineaPedida;
  const aside = $('linea-de-tiempo');
  aside.hidden = false;
  document.body.classList.add('con-linea');
  aside.dataset.tipo = e.tipo;
  aside.dataset.sujeto = e.sujeto;
  aside.dataset.cargada = 'no';
  $('t-linea').textContent = `Línea de tiempo · ${e.tipo}`;
  $('sujeto-linea').textContent = e.sujeto;
  const contenido = $('contenido-linea');
  contenido.replaceChildren(nodo('p', null, 'Cargando…'));
  try {
    const secciones = await historialDe(e);
    if (turno !== lineaPedida) return;
    contenido.replaceChildren(...secciones);
    aside.dataset.cargada = 'si';
  } catch (error) {
    if (turno !== lineaPedida) return;
    contenido.replaceChildren(nodo('p', 'aviso', `No se pudo leer la línea de tiempo: ${error.message}`));
    aside.dataset.cargada = 'error';
  }
}

// ── Stream SSE leído con fetch ─────────────────────────────────────────────────

/** Los eventos de antes de conectar: la ventana (posicion − VENTANA_HISTORIA, posicion] del feed. */
async function cargarHistoria(hasta, senal) {
  let despues = Math.max(0, hasta - VENTANA_HISTORIA);
  while (despues < hasta) {
    const pagina = await pedir(`/eventos?despues_de=${despues}&limite=500`, senal);
    for (const evento of pagina.eventos) if (evento.secuencia <= hasta) aplicar(evento);
    if (!pagina.hay_mas || pagina.eventos.length === 0) break;
    despues = pagina.siguiente;
  }
  pintarPosicion();
}

async function leerStream(senal) {
  const cabeceras = { Authorization: `Bearer ${estado.clave}`, Accept: 'text/event-stream' };
  if (estado.posicion !== null) cabeceras['Last-Event-ID'] = String(estado.posicion);
  const r = await fetch('/eventos/stream', { headers: cabeceras, signal: senal, cache: 'no-store' });
  if (r.status === 401 || r.status === 403) {
    const problema = await r.json().catch(() => ({}));
    throw new ErrorFatal(problema.detail ?? `La API respondió ${r.status}`);
  }
  if (!r.ok || !r.body) throw new Error(`El stream respondió ${r.status}`);
  conexion('conectado', 'Conectado: en vivo.');
  const lector = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let resto = '';
  let id = null;
  let datos = [];
  for (;;) {
    const { value, done } = await lector.read();
    if (done) return;
    resto += value;
    let fin = resto.indexOf('\n');
    while (fin >= 0) {
      const linea = resto.slice(0, fin).replace(/\r$/, '');
      resto = resto.slice(fin + 1);
      fin = resto.indexOf('\n');
      if (linea === '') {
        if (datos.length > 0) {
          const evento = JSON.parse(datos.join('\n'));
          aplicar(evento);
          if (id !== null) estado.posicion = Number(id);
          pintarPosicion();
        }
        id = null;
        datos = [];
        continue;
      }
      if (linea.startsWith(':')) {
        // El servidor dice desde dónde empieza: lo anterior (una ventana) se lee del feed.
        const inicio = /^: eventos desde la secuencia (\d+)/.exec(linea);
        if (inicio && estado.posicion === null) {
          estado.posicion = Number(inicio[1]);
          pintarPosicion();
          void cargarHistoria(estado.posicion, senal).catch((error) => {
            if (error instanceof ErrorFatal) estado.abortar?.abort();
          });
        }
        continue;
      }
      const dos = linea.indexOf(':');
      const campo = dos < 0 ? linea : linea.slice(0, dos);
      const valor = dos < 0 ? '' : linea.slice(dos + 1).replace(/^ /, '');
      // `event:` repite el tipo que ya va en el objeto JSON.
      if (campo === 'id') id = valor;
      else if (campo === 'data') datos.push(valor);
      else if (campo === 'retry' && /^\d+$/.test(valor)) estado.reintentoMs = Number(valor);
    }
  }
}

async function bucle(senal) {
  while (!senal.aborted) {
    try {
      await leerStream(senal);
      if (senal.aborted) return;
      conexion('reconectando', `Stream cortado: reanudando desde la secuencia ${estado.posicion ?? '—'}…`);
    } catch (error) {
      if (senal.aborted) return;
      if (error instanceof ErrorFatal) {
        conexion('error', `Clave rechazada: ${error.message}`);
        return;
      }
      conexion('reconectando', `Sin conexión (${error.message}): reintentando…`);
    }
    await dormir(estado.reintentoMs, senal);
  }
}

function conectar(clave) {
  estado.abortar?.abort();
  estado.clave = clave;
  estado.posicion = null;
  estado.vistos.clear();
  estado.mostrados = 0;
  estado.elementos.clear();
  estado.duplicados.clear();
  for (const t of ['pago', 'conversion', 'comision', 'liquidacion']) $(`lista-${t}`).replaceChildren();
  $('avisos').replaceChildren(nodo('li', null, 'ninguno todavía'));
  pintarDuplicados();
  const control = new AbortController();
  estado.abortar = control;
  conexion('reconectando', 'Conectando…');
  void bucle(control.signal);
}

function iniciar() {
  const form = $('form-clave');
  const campo = $('clave');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const clave = campo.value.trim();
    if (!clave) return;
    sessionStorage.setItem(CLAVE_SESION, clave);
    conectar(clave);
  });
  $('olvidar').addEventListener('click', () => {
    sessionStorage.removeItem(CLAVE_SESION);
    estado.abortar?.abort();
    campo.value = '';
    conexion('desconectado', 'Sin conectar: pegue la clave de API del socio.');
  });
  $('cerrar-linea').addEventListener('click', () => {
    $('linea-de-tiempo').hidden = true;
    document.body.classList.remove('con-linea');
  });
  const guardada = sessionStorage.getItem(CLAVE_SESION);
  if (guardada) {
    campo.value = guardada;
    conectar(guardada);
  }
}

iniciar();
