// The dashboard page: polls the REST API of its own server every second and draws the selected job (graph, rates, backpressure, watermarks, checkpoints, state, exceptions, the watermark explanation) and its savepoint buttons.
import { RateChart } from './charts.js';
import { bytes, count, duration, h, instant, noWatermark, rate, setValue } from './dom.js';
import { renderGraph } from './graph.js';

const POLL_MS = 1000;
/** A subtask metric by the first of its names present (Flink's REST names, then Flink's metric names). */
function metric(metrics, ...names) {
  for (const name of names) if (typeof metrics?.[name] === 'number') return metrics[name];
  return undefined;
}
const TOKEN_KEY = 'weir.dashboard.token';

const ui = {
  /** The job chosen by the user (or from the address `#job=<jid>`); otherwise the first running one. */
  chosen: new URLSearchParams(location.hash.slice(1)).get('job') ?? undefined,
  polling: false,
  /** The drawn job: its id, plan key, elements and charts. */
  view: undefined,
  listKey: '',
};

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Flink's error shape `{ errors: [...] }` as one message. */
async function failure(response) {
  const body = await response.json().catch(() => undefined);
  const text = Array.isArray(body?.errors) ? body.errors.join('; ') : (body?.message ?? response.statusText);
  return new HttpError(response.status, `${response.status} ${text}`);
}

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  if (!response.ok) throw await failure(response);
  return response.json();
}

async function postJson(path, body) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  const token = document.getElementById('token').value.trim();
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!response.ok) {
    const error = await failure(response);
    if (response.status === 401) error.message += token ? ' (the token was refused)' : ' (enter the token the server printed at start)';
    throw error;
  }
  return response.json();
}

/** A failed section's value: the page shows the message in place and keeps polling the rest. */
const failed = (error) => ({ error: error instanceof Error ? error.message : String(error) });

const job = (jid) => `/jobs/${encodeURIComponent(jid)}`;

// ---- polling --------------------------------------------------------------------------------

async function tick() {
  if (ui.polling) return;
  ui.polling = true;
  const connection = document.getElementById('connection');
  try {
    const overview = await getJson('/jobs/overview');
    const jobs = overview.jobs ?? [];
    const jid = chooseJob(jobs);
    drawJobList(jobs, jid);
    if (jid) await refreshJob(jid);
    else if (ui.view || !jobs.length) showNoJob();
    connection.textContent = `updated ${new Date().toLocaleTimeString()}`;
    connection.className = 'muted';
  } catch (error) {
    // A failed request is the server's (or the network's) doing; anything else is a bug of the page, for the console.
    if (!(error instanceof HttpError) && !(error instanceof TypeError && /fetch/i.test(error.message))) console.error(error);
    connection.textContent = error instanceof HttpError ? `REST API: ${error.message}` : `update failed: ${error.message}`;
    connection.className = 'error';
  } finally {
    ui.polling = false;
  }
}

function chooseJob(jobs) {
  if (ui.chosen && jobs.some((j) => j.jid === ui.chosen)) return ui.chosen;
  return (jobs.find((j) => j.state === 'RUNNING') ?? jobs[0])?.jid;
}

function drawJobList(jobs, selected) {
  const list = document.getElementById('jobs');
  const key = JSON.stringify([selected, jobs.map((j) => [j.jid, j.state, j.name])]);
  if (key !== ui.listKey) {
    ui.listKey = key;
    list.replaceChildren(
      ...jobs.map((j) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              'data-testid': `job-${j.jid}`,
              class: j.jid === selected ? 'selected' : undefined,
              title: j.jid,
              onclick: () => choose(j.jid),
            },
            h('div', {}, j.name ?? j.jid),
            h(
              'div',
              { class: 'job-state' },
              h('span', { class: `state state-${j.state}` }, j.state),
              ' · ',
              h('span', { 'data-duration': '' }),
            ),
          ),
        ),
      ),
    );
  }
  // Durations change every second: only their text is refreshed.
  jobs.forEach((j, i) => {
    const el = list.children[i]?.querySelector('[data-duration]');
    if (el) el.textContent = duration(j.duration);
  });
}

function choose(jid) {
  ui.chosen = jid;
  history.replaceState(null, '', `#job=${encodeURIComponent(jid)}`);
  void tick();
}

function showNoJob() {
  destroyView();
  document.getElementById('job').replaceChildren(h('p', { class: 'muted' }, 'No job yet.'));
}

function destroyView() {
  for (const row of ui.view?.rows.values() ?? []) row.chart.destroy();
  ui.view = undefined;
}

/** The plan inside `/jobs/:id` (Flink puts `{ jid, name, nodes }` there; `{ plan: {...} }` is `/plan`'s wrapper). */
function planOf(detail) {
  const plan = detail.plan?.nodes ? detail.plan : detail.plan?.plan;
  return plan?.nodes ? plan : undefined;
}

async function refreshJob(jid) {
  const detail = await getJson(job(jid));
  const plan = planOf(detail) ?? (await getJson(`${job(jid)}/plan`)).plan;
  const vertices = detail.vertices ?? plan.nodes.map((n) => ({ id: n.id, name: n.description, parallelism: n.parallelism }));
  const planKey = JSON.stringify(plan.nodes.map((n) => [n.id, n.parallelism, n.operators, n.inputs]));
  if (ui.view?.jid !== jid || ui.view.planKey !== planKey) buildView(jid, plan, vertices, planKey);

  const [checkpoints, exceptions, explain, perVertex] = await Promise.all([
    getJson(`${job(jid)}/checkpoints`).catch(failed),
    getJson(`${job(jid)}/exceptions`).catch(failed),
    getJson(`${job(jid)}/watermark-explain`).catch(failed),
    Promise.all(vertices.map((v) => vertexData(jid, v.id))),
  ]);
  if (ui.view?.jid !== jid) return; // another job was chosen meanwhile
  drawHead(detail, exceptions);
  drawVertices(detail, vertices, perVertex);
  drawWatermarks(vertices, perVertex, detail.now);
  drawOperators(vertices, perVertex);
  drawCheckpoints(checkpoints);
  drawExceptions(exceptions);
  drawExplain(explain);
}

/**
 * One vertex's live data: `/vertices/:vid` (per subtask: Flink's metrics, watermarks per input, the chain's operators
 * with their state, timers and windows) and `/backpressure`; `/watermarks` (Flink's shape) when the subtasks lack their own.
 */
async function vertexData(jid, vid) {
  const base = `${job(jid)}/vertices/${encodeURIComponent(vid)}`;
  const [detail, backpressure] = await Promise.all([getJson(base).catch(failed), getJson(`${base}/backpressure`).catch(failed)]);
  const subtasks = Array.isArray(detail.subtasks) ? detail.subtasks : [];
  const watermarks = subtasks.length && subtasks.every((t) => t.watermarks) ? undefined : await getJson(`${base}/watermarks`).catch(failed);
  const total = (...names) => {
    const xs = subtasks.map((t) => metric(t.metrics, ...names)).filter((x) => x !== undefined);
    return xs.length ? xs.reduce((a, b) => a + b, 0) : undefined;
  };
  const max = (...names) => {
    const xs = subtasks.map((t) => metric(t.metrics, ...names)).filter((x) => x !== undefined);
    return xs.length ? Math.max(...xs) : undefined;
  };
  // The chain's operators, summed over the subtasks (keyed by position in the chain).
  const operators = [];
  for (const t of subtasks) {
    (t.operators ?? []).forEach((op, i) => {
      const o = (operators[i] ??= {
        name: op.name,
        keys: 0,
        bytes: 0,
        timers: 0,
        windows: 0,
        earliestWindowEnd: undefined,
        neverFires: op.neverFires,
      });
      o.keys += op.state?.keys ?? 0;
      o.bytes += op.state?.bytes ?? 0;
      o.timers += op.timers?.pending ?? 0;
      o.windows += op.windows?.pending ?? 0;
      const end = op.windows?.earliest?.end;
      if (end !== undefined && (o.earliestWindowEnd === undefined || end < o.earliestWindowEnd)) o.earliestWindowEnd = end;
    });
  }
  return {
    vid: String(vid),
    error: detail.error,
    subtasks,
    inRate: total('read-records-per-second', 'numRecordsInPerSecond'),
    outRate: total('write-records-per-second', 'numRecordsOutPerSecond'),
    busy: max('busy-time-ms-per-second', 'busyTimeMsPerSecond'),
    operators,
    backpressure,
    watermarks,
  };
}

/** A plan node's chain of operators as one line. */
const chain0 = (node) => (node?.operators?.length ? node.operators.join(' → ') : (node?.description ?? ''));

// ---- the view ---------------------------------------------------------------------------------

function section(title, ...children) {
  return h('section', {}, h('h2', {}, title), ...children);
}

function buildView(jid, plan, vertices, planKey) {
  destroyView();
  const els = {
    name: h('h2', {}),
    state: h('span', { class: 'state', 'data-testid': 'status' }),
    uptime: h('span', { class: 'muted' }),
    restarts: h('span', { 'data-testid': 'restarts' }),
    target: h('input', { 'data-testid': 'savepoint-target', placeholder: 'target directory (optional; inside the allowed root)' }),
    result: h('span', { 'data-testid': 'savepoint-result', 'aria-live': 'polite' }),
    checkpointCounts: h('p', { class: 'muted', 'data-testid': 'checkpoint-counts' }),
    checkpointRows: h('tbody', {}),
    exceptionRows: h('tbody', {}),
    watermarkRows: h('tbody', {}),
    operatorRows: h('tbody', {}),
    explain: h('pre', { class: 'explain', 'data-testid': 'explain' }),
  };
  els.savepoint = h('button', { 'data-testid': 'savepoint-button', onclick: () => savepoint(jid, false) }, 'Savepoint');
  els.stop = h('button', { 'data-testid': 'stop-button', onclick: () => savepoint(jid, true) }, 'Stop with savepoint');

  const graph = renderGraph(plan);
  const rows = new Map();
  const nodes = new Map(plan.nodes.map((n) => [String(n.id), n]));
  const body = h('tbody', {});
  const charts = h('div', { class: 'charts' });
  for (const v of vertices) {
    const vid = String(v.id);
    const node = nodes.get(vid);
    const chartCell = h('div', { class: 'chart', 'data-testid': `vertex-${vid}-chart` });
    charts.append(h('div', { class: 'card' }, h('div', { class: 'card-title' }, v.name ?? chain0(node)), chartCell));
    const row = {
      inRate: h('td', { class: 'num', 'data-testid': `vertex-${vid}-in-rate` }),
      outRate: h('td', { class: 'num', 'data-testid': `vertex-${vid}-out-rate` }),
      backpressure: h('span', { class: 'level level-unknown', 'data-testid': `vertex-${vid}-backpressure` }),
      busy: h('td', { class: 'num', 'data-testid': `vertex-${vid}-busy` }),
      stateKeys: h('td', { class: 'num', 'data-testid': `vertex-${vid}-state-keys` }),
      stateBytes: h('td', { class: 'num', 'data-testid': `vertex-${vid}-state-bytes` }),
      pending: h('td', { class: 'num', 'data-testid': `vertex-${vid}-pending` }),
      status: h('td', {}),
      chart: undefined,
    };
    const chain = chain0(node);
    body.append(
      h(
        'tr',
        { 'data-testid': `vertex-row-${vid}` },
        h('td', {}, h('div', {}, v.name ?? chain), chain && chain !== v.name ? h('div', { class: 'muted' }, chain) : null),
        h('td', { class: 'num' }, String(v.parallelism ?? node?.parallelism ?? '')),
        row.status,
        row.inRate,
        row.outRate,
        h('td', {}, row.backpressure),
        row.busy,
        row.stateKeys,
        row.stateBytes,
        row.pending,
      ),
    );
    rows.set(vid, row);
    row.chartCell = chartCell;
  }

  document.getElementById('job').replaceChildren(
    h('div', { class: 'job-head' }, els.name, els.state, els.uptime, els.restarts, h('span', { class: 'muted' }, jid)),
    h('div', { class: 'actions' }, els.savepoint, els.stop, els.target, els.result),
    section('Job graph', graph.svg),
    section(
      'Operators',
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['vertex', 'P', 'status', 'in', 'out', 'backpressure', 'busy (max)', 'state keys', 'state size', 'timers / windows'].map(
              (t) =>
                h(
                  'th',
                  {
                    class: ['P', 'in', 'out', 'busy (max)', 'state keys', 'state size', 'timers / windows'].includes(t) ? 'num' : undefined,
                  },
                  t,
                ),
            ),
          ),
        ),
        body,
      ),
    ),
    section(
      'Rates',
      h(
        'p',
        { class: 'muted' },
        h('span', { class: 'legend-in' }, 'records in/s'),
        ' · ',
        h('span', { class: 'legend-out' }, 'records out/s'),
        ' · ',
        h('span', { class: 'legend-bp' }, 'time backpressured (%, right axis)'),
      ),
      charts,
    ),
    section(
      'State, timers and windows per operator',
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['operator', 'vertex', 'state keys', 'state size', 'timers', 'windows', 'earliest window end', 'never fires'].map((t) =>
              h('th', { class: ['state keys', 'state size', 'timers', 'windows'].includes(t) ? 'num' : undefined }, t),
            ),
          ),
        ),
        els.operatorRows,
      ),
    ),
    section(
      'Watermarks',
      h('table', {}, h('thead', {}, h('tr', {}, ...['vertex', 'subtask', 'watermarks'].map((t) => h('th', {}, t)))), els.watermarkRows),
    ),
    section("Why hasn't my window fired?", els.explain),
    section(
      'Checkpoints',
      els.checkpointCounts,
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['id', 'kind', 'status', 'triggered', 'duration', 'size', 'alignment', 'path / failure'].map((t) => h('th', {}, t)),
          ),
        ),
        els.checkpointRows,
      ),
    ),
    section(
      'Exceptions and restarts',
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ...['time', 'attempt', 'action', 'task', 'exception'].map((t) => h('th', {}, t)))),
        els.exceptionRows,
      ),
    ),
  );
  // uPlot measures its parent: charts are created once the table is in the document.
  for (const row of rows.values()) row.chart = new RateChart(row.chartCell);
  ui.view = { jid, planKey, graph, rows, els, keys: {} };
}

function drawHead(detail, exceptions) {
  const { els } = ui.view;
  els.name.textContent = detail.name ?? detail.jid;
  const state = detail.state ?? 'UNKNOWN';
  if (els.state.textContent !== state) {
    els.state.textContent = state;
    els.state.className = `state state-${state}`;
  }
  els.uptime.textContent = `uptime ${duration(detail.duration)}`;
  const entries = exceptions.exceptionHistory?.entries ?? [];
  const restarts = detail.numRestarts ?? entries.filter((e) => e.action === 'restart').length;
  setValue(els.restarts, restarts, `${restarts} restart${restarts === 1 ? '' : 's'}`);
  const running = state === 'RUNNING';
  if (!els.busy) {
    els.savepoint.disabled = !running;
    els.stop.disabled = !running;
  }
}

function drawVertices(detail, vertices, perVertex) {
  const { rows, graph } = ui.view;
  const at = Number.isFinite(detail.now) ? detail.now : Date.now();
  vertices.forEach((v, i) => {
    const data = perVertex[i];
    const row = rows.get(String(v.id));
    if (!row) return;
    const { inRate, outRate, busy, operators } = data;
    setValue(row.inRate, inRate, data.error ? data.error : rate(inRate));
    setValue(row.outRate, outRate, rate(outRate));
    setValue(row.busy, busy, busy === undefined ? '–' : `${Math.round(busy / 10)}%`);
    const sum = (f) => (operators.length ? operators.reduce((a, o) => a + f(o), 0) : undefined);
    const keys = sum((o) => o.keys);
    const stateBytes = sum((o) => o.bytes);
    setValue(row.stateKeys, keys, count(keys));
    setValue(row.stateBytes, stateBytes, bytes(stateBytes));
    const pending = `${count(sum((o) => o.timers))} / ${count(sum((o) => o.windows))}`;
    if (row.pending.textContent !== pending) row.pending.textContent = pending;
    if (row.status.textContent !== (v.status ?? '')) row.status.textContent = v.status ?? '';

    const bp = data.backpressure;
    const level = bp.error ? 'unknown' : (bp.backpressureLevel ?? 'unknown');
    const ratios = (bp.subtasks ?? []).map((s) => s.ratio).filter((r) => Number.isFinite(r));
    const ratio = ratios.length ? Math.max(...ratios) : undefined;
    const text = bp.error ? bp.error : `${level}${ratio === undefined ? '' : ` ${Math.round(ratio * 100)}%`}`;
    setValue(row.backpressure, ratio, text);
    if (row.backpressure.dataset.level !== level) {
      row.backpressure.dataset.level = level;
      row.backpressure.className = `level level-${level}`;
    }
    graph.update(v.id, { inRate, outRate, level });
    row.chart.push(at, inRate, outRate, ratio === undefined ? undefined : ratio * 100);
  });
}

/** `"<subtask>.currentInputWatermark"` → subtask 0, "input"; `currentInput2Watermark` → "input 2"; `currentOutputWatermark` → "output". */
function watermarkLabel(metric) {
  const m = /^currentInput(\d+)Watermark$/.exec(metric);
  if (m) return `input ${m[1]}`;
  if (metric === 'currentInputWatermark') return 'input';
  if (metric === 'currentOutputWatermark') return 'output';
  return metric;
}

function drawWatermarks(vertices, perVertex, now) {
  const { els, keys } = ui.view;
  const wallClock = Number.isFinite(now) ? now : Date.now();
  const show = (label, value) => {
    const ms = value === null || value === undefined ? NaN : Number(value);
    const lag = !noWatermark(ms) && Math.abs(wallClock - ms) < 86_400_000 ? ` (${duration(wallClock - ms)} behind)` : '';
    return `${label}: ${instant(ms)}${lag}`;
  };
  const rowsOut = [];
  vertices.forEach((v, i) => {
    const data = perVertex[i];
    if (!data.watermarks) {
      // Each subtask's own: the watermark of every input channel, the combined input watermark, the output watermark.
      for (const t of data.subtasks) {
        const w = t.watermarks;
        const inputs = w.input ?? [];
        const parts = inputs.length > 1 ? inputs.map((x, n) => show(`input ${n + 1}`, x)) : [];
        parts.push(show(inputs.length > 1 ? 'input (min)' : 'input', w.current), show('output', w.output));
        rowsOut.push([v, String(t.subtask), parts.join(' · ')]);
      }
      return;
    }
    const list = data.watermarks;
    if (!Array.isArray(list)) {
      rowsOut.push([v, '', list.error ?? '']);
      return;
    }
    // Flink's shape: `[{ id: "<subtask>.<metric>", value: "<ms>" }]`.
    const bySubtask = new Map();
    for (const { id, value } of list) {
      const dot = String(id).indexOf('.');
      const subtask = dot < 0 ? '' : String(id).slice(0, dot);
      const name = dot < 0 ? String(id) : String(id).slice(dot + 1);
      if (!bySubtask.has(subtask)) bySubtask.set(subtask, []);
      bySubtask.get(subtask).push(show(watermarkLabel(name), value));
    }
    for (const [subtask, parts] of [...bySubtask].sort((a, b) => Number(a[0]) - Number(b[0])))
      rowsOut.push([v, subtask, parts.join(' · ')]);
  });
  const key = JSON.stringify(rowsOut.map(([v, s, t]) => [v.id, s, t]));
  if (keys.watermarks === key) return;
  keys.watermarks = key;
  els.watermarkRows.replaceChildren(
    ...rowsOut.map(([v, subtask, text]) =>
      h(
        'tr',
        { 'data-testid': `watermark-${v.id}-${subtask}` },
        h('td', {}, v.name ?? String(v.id)),
        h('td', { class: 'num' }, subtask),
        h('td', { class: 'wrap' }, text),
      ),
    ),
  );
}

/** Keyed state, timers and windows of every operator of every chain (summed over its subtasks). */
function drawOperators(vertices, perVertex) {
  const { els, keys } = ui.view;
  const rowsOut = [];
  vertices.forEach((v, i) =>
    perVertex[i].operators.forEach((o, n) => rowsOut.push({ vid: String(v.id), vertex: v.name ?? String(v.id), n, ...o })),
  );
  const key = JSON.stringify(rowsOut);
  if (keys.operators === key) return;
  keys.operators = key;
  els.operatorRows.replaceChildren(
    ...rowsOut.map((o) =>
      h(
        'tr',
        { 'data-testid': `operator-${o.vid}-${o.n}` },
        h('td', {}, o.name),
        h('td', { class: 'muted' }, o.vertex),
        h('td', { class: 'num', 'data-value': o.keys }, count(o.keys)),
        h('td', { class: 'num', 'data-value': o.bytes }, bytes(o.bytes)),
        h('td', { class: 'num' }, count(o.timers)),
        h('td', { class: 'num' }, count(o.windows)),
        h('td', {}, o.earliestWindowEnd === undefined ? '' : instant(o.earliestWindowEnd)),
        h('td', {}, o.neverFires ?? ''),
      ),
    ),
  );
}

function drawCheckpoints(checkpoints) {
  const { els, keys } = ui.view;
  if (checkpoints.error) {
    els.checkpointCounts.textContent = checkpoints.error;
    return;
  }
  const c = checkpoints.counts ?? {};
  els.checkpointCounts.textContent = `${c.completed ?? 0} completed · ${c.failed ?? 0} failed · ${c.in_progress ?? 0} in progress`;
  // The newest 20 entries, and every savepoint (they are rare and what an operator looks for).
  const history = [...(checkpoints.history ?? [])].sort((a, b) => b.id - a.id).filter((cp, i) => i < 20 || cp.is_savepoint);
  const key = JSON.stringify(history);
  if (keys.checkpoints === key) return;
  keys.checkpoints = key;
  els.checkpointRows.replaceChildren(
    ...history.map((cp) => {
      const kind = cp.is_savepoint ? 'savepoint' : 'checkpoint';
      return h(
        'tr',
        { 'data-testid': `checkpoint-row-${cp.id}`, 'data-kind': kind, 'data-status': cp.status },
        h('td', { class: 'num' }, String(cp.id)),
        h('td', {}, kind),
        h('td', {}, cp.status),
        h('td', {}, cp.trigger_timestamp ? new Date(cp.trigger_timestamp).toLocaleTimeString() : '–'),
        h('td', { class: 'num' }, duration(cp.end_to_end_duration)),
        h('td', { class: 'num' }, bytes(cp.state_size)),
        h('td', { class: 'num' }, duration(cp.alignment_duration)),
        h('td', { class: 'path' }, cp.failure_message ?? cp.external_path ?? ''),
      );
    }),
  );
}

function drawExceptions(exceptions) {
  const { els, keys } = ui.view;
  const entries = exceptions.error ? [] : [...(exceptions.exceptionHistory?.entries ?? [])].reverse();
  const key = exceptions.error ?? JSON.stringify(entries);
  if (keys.exceptions === key) return;
  keys.exceptions = key;
  if (exceptions.error) {
    els.exceptionRows.replaceChildren(h('tr', {}, h('td', { colspan: 5 }, exceptions.error)));
    return;
  }
  if (!entries.length) {
    els.exceptionRows.replaceChildren(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'none')));
    return;
  }
  els.exceptionRows.replaceChildren(
    ...entries.map((e) =>
      h(
        'tr',
        {},
        h('td', {}, e.timestamp ? new Date(e.timestamp).toLocaleTimeString() : '–'),
        h('td', { class: 'num' }, String(e.attempt ?? '')),
        h('td', {}, e.action ?? ''),
        h('td', {}, `${e.taskName ?? ''}${e.subtask === undefined ? '' : ` #${e.subtask}`}`),
        h('td', { class: 'path', title: e.stacktrace ?? '' }, e.exceptionName ?? ''),
      ),
    ),
  );
}

function drawExplain(explain) {
  const { els } = ui.view;
  const text = explain.error ? `not available: ${explain.error}` : (explain.lines ?? []).join('\n') || 'Nothing waits on a watermark.';
  if (els.explain.textContent !== text) els.explain.textContent = text;
}

// ---- savepoints -------------------------------------------------------------------------------

async function savepoint(jid, stop) {
  const view = ui.view;
  if (!view || view.jid !== jid) return;
  const { els } = view;
  const target = els.target.value.trim() || undefined;
  els.busy = true;
  els.savepoint.disabled = els.stop.disabled = true;
  els.result.className = 'muted';
  els.result.textContent = stop ? 'stopping with a savepoint…' : 'taking a savepoint…';
  delete els.result.dataset.location;
  try {
    const body = stop ? { targetDirectory: target } : { 'target-directory': target };
    const { 'request-id': requestId } = await postJson(`${job(jid)}/${stop ? 'stop' : 'savepoints'}`, body);
    const location = await awaitSavepoint(jid, requestId);
    els.result.className = '';
    els.result.dataset.location = location;
    els.result.textContent = `savepoint: ${location}`;
  } catch (error) {
    els.result.className = 'error';
    els.result.textContent = `savepoint failed: ${error.message}`;
  } finally {
    els.busy = false;
    void tick();
  }
}

/** Polls `/jobs/:id/savepoints/:rid` until the operation ends: its location, or its failure as an error. */
async function awaitSavepoint(jid, requestId) {
  for (;;) {
    const op = await getJson(`${job(jid)}/savepoints/${encodeURIComponent(requestId)}`);
    if (op.status?.id === 'COMPLETED') {
      const cause = op.operation?.['failure-cause'];
      if (cause)
        throw new Error(
          typeof cause === 'string'
            ? cause
            : (cause.class ? `${cause.class}: ` : '') + (cause['stack-trace'] ?? cause.message ?? JSON.stringify(cause)),
        );
      return op.operation?.location;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// ---- start ------------------------------------------------------------------------------------

const tokenInput = document.getElementById('token');
tokenInput.value = localStorage.getItem(TOKEN_KEY) ?? '';
tokenInput.addEventListener('change', () => localStorage.setItem(TOKEN_KEY, tokenInput.value.trim()));
document.getElementById('token-form').addEventListener('submit', (event) => event.preventDefault());
void tick();
// A hidden tab does not poll; it catches up when shown again.
setInterval(() => document.hidden || void tick(), POLL_MS);
document.addEventListener('visibilitychange', () => document.hidden || void tick());
