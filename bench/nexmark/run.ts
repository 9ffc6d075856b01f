// Nexmark benchmark harness: per query, the hand-written loop, the RxJS pipeline (where RxJS expresses the query), weir threads p=1/p=2 (checkpoints every 10 s by default) and Flink p=1/p=2, with result checks, a table and an SVG chart.
//
//   npm run bench:nexmark                                       all default queries, 1M events
//   npm run bench:nexmark -- --events 200000 --queries q0,q5,q7
//   npm run bench:nexmark -- --no-flink --runs 3
//   npm run bench:nexmark -- --queries q0,q5 --latency --latency-rate 20000 --latency-seconds 20
//
// Every measurement runs in a fresh child process (tsx for the loop and weir, `bench/flink/run.sh`
// for Flink), so that its CPU time and peak RSS are its own. Two rates per run: the total (loop, RxJS
// and weir = events / wall time of the measured call, for weir the whole `executeJob`, thread start-up
// included; Flink = its `eventsPerSecond`, job net runtime, MiniCluster start excluded) and the
// steady state, counted the same way for both engines: events / (last sink close − first event a
// source emitted), so start-up, deployment and shutdown are out of it. Each run records the 1-minute
// load average it started at; a run waits (up to a minute) for the load to fall below 1.5 × cores
// and is made once more if it still started above. Cores used = CPU time / wall
// time of the child (for Flink the whole JVM, MiniCluster start included). Results are checked:
// weir's and Flink's output count and checksum (the wrapping 64-bit sum of Queries.java's per-record
// digests) must equal the loop's; for q4, whose running averages depend on arrival order, only the count;
// q12 (processing-time windows, cut by the wall clock; the window open at the end of input is
// dropped) differs from run to run and is not checked.
//
// Changelog queries (q15-q19: group aggregates, deduplication, Top-N) are checked on their final
// table (last row per upsert key). With --latency, each weir/Flink mode of --latency-modes also makes
// a real-time run: events emitted when the wall clock reaches their event time, and per output the
// sink takes wall clock − record timestamp (p50/p99 after a 1 s warm-up).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { executeJob } from '../../src/index.ts';
import {
  formatCount,
  formatRate,
  machineInfo,
  machineLine,
  median,
  provenanceLine,
  sourceRevision,
  textTable,
  updateReadmeSection,
} from '../lib/report.ts';
import {
  QUERIES,
  SUMMARY_ID,
  summarizerFor,
  latencyQuantile,
  mergeResultSummaries,
  nexmarkConfigOf,
  steadyInterval,
  type QueryName,
  type ResultSummary,
} from './lib.ts';
import { runLoop } from './loops.ts';
import { RX_QUERIES, runRx } from './rx.ts';
import { nexmarkSvg } from './svg.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const FLINK = join(root, 'bench', 'flink');
const DEFAULT_QUERIES: QueryName[] = ['q0', 'q1', 'q2', 'q5', 'q7', 'q8', 'q11', 'q12'];
/** Checkpoint interval of weir and Flink (ms), `--checkpoint-interval`. */
let checkpointIntervalMs = 10_000;
/** Wall time between launching a latency run and its first event time: start-up must fit in it (Flink's MiniCluster takes seconds). */
const LATENCY_LEAD_MS: Record<'weir' | 'flink', number> = { weir: 3_000, flink: 10_000 };
/** Event time at the start of a latency run whose outputs are not measured (warm-up). */
const LATENCY_WARMUP_MS = 1_000;

/** Where a measurement runs. */
type Engine = 'loop' | 'rxjs' | 'weir' | 'flink';

/** One measurement to make. */
interface Mode {
  id: string;
  label: string;
  engine: Engine;
  parallelism: number;
}

const MODES: readonly Mode[] = [
  { id: 'loop', label: 'hand-written loop', engine: 'loop', parallelism: 1 },
  { id: 'rxjs', label: 'RxJS pipeline', engine: 'rxjs', parallelism: 1 },
  { id: 'weir-1', label: 'weir threads p=1', engine: 'weir', parallelism: 1 },
  { id: 'weir-2', label: 'weir threads p=2', engine: 'weir', parallelism: 2 },
  { id: 'flink-1', label: 'Flink p=1', engine: 'flink', parallelism: 1 },
  { id: 'flink-2', label: 'Flink p=2', engine: 'flink', parallelism: 2 },
];

/** What one measured run reports. */
interface Run {
  /** Events per second as defined in the header comment. */
  eventsPerSecond: number;
  /** Wall time of the measured part, ms. */
  wallMs: number;
  /**
   * Events per second of the steady state: first event a source emitted → last sink's close (start-up,
   * deployment and shutdown excluded), for weir and Flink alike; the loop and RxJS have no start-up, so it equals their rate.
   */
  steadyEventsPerSecond: number;
  /** 1-minute load average just before the run. */
  load: number;
  /** CPU time / wall time of the child process (cores busy on average). */
  cores: number;
  /** Peak resident set of the child, MB. */
  peakRssMb: number;
  summary: ResultSummary;
}

/** A real-time (latency) run: events at `rate` per second of event time = wall time, from `baseTime` on. */
interface LatencySetup {
  rate: number;
  baseTime: number;
  /** Outputs stamped earlier are the warm-up. */
  from: number;
}

/** What a latency run reports (ms). */
interface LatencyRun {
  p50: number;
  p99: number;
  max: number;
  /** Output records measured. */
  records: number;
}

/** The request a child process gets (`--child <json>`). */
interface ChildRequest {
  query: QueryName;
  engine: 'loop' | 'rxjs' | 'weir';
  parallelism: number;
  events: number;
  checkpointInterval: number;
  latency?: LatencySetup;
}

/** Runs one loop or weir measurement inside this (child) process and prints its {@link Run} as JSON. */
async function child(request: ChildRequest): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let summary: ResultSummary;
  let steadyMs: number | undefined;
  if (request.engine === 'loop') {
    const s = summarizerFor(request.query);
    runLoop(request.query, nexmarkConfigOf({ events: request.events }), (r) => s.add(r));
    summary = s.summary();
  } else if (request.engine === 'rxjs') {
    const s = summarizerFor(request.query);
    await runRx(request.query, nexmarkConfigOf({ events: request.events }), (r) => s.add(r));
    summary = s.summary();
  } else {
    const l = request.latency;
    const timingDir = mkdtempSync(join(tmpdir(), 'weir-nexmark-timing-'));
    const timing = join(timingDir, 'marks');
    writeFileSync(timing, '');
    try {
      const result = await executeJob(join(here, 'queries', `${request.query}.ts`), {
        mode: 'threads',
        parallelism: request.parallelism,
        params: {
          events: request.events,
          checkpointInterval: request.checkpointInterval,
          timing,
          ...(l === undefined ? {} : { rate: l.rate, baseTime: l.baseTime, realTime: 1, latencyFrom: l.from }),
        },
      });
      summary = mergeResultSummaries((result.collected[SUMMARY_ID] ?? []) as ResultSummary[]);
      const { firstIn, lastOut } = steadyInterval(timing);
      steadyMs = lastOut - firstIn;
    } finally {
      rmSync(timingDir, { recursive: true, force: true });
    }
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const run: Run = {
    eventsPerSecond: request.events / (wallMs / 1000),
    wallMs,
    steadyEventsPerSecond: request.events / ((steadyMs ?? wallMs) / 1000),
    load: 0,
    cores: (cpu.user + cpu.system) / 1000 / wallMs,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    summary,
  };
  process.stdout.write(`${JSON.stringify(run)}\n`);
}

/** CPU seconds of this process's reaped children (/proc/self/stat cutime + cstime), or NaN off Linux. */
function childrenCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after "pid (comm) ": field 3 is state → cutime is field 16, cstime 17 (1-based in proc(5))
    const ticks = Number(fields[16 - 3]) + Number(fields[17 - 3]);
    const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return ticks / hz;
  } catch {
    return Number.NaN;
  }
}

/** A load average above this (1.5 × cores) makes a run suspect: the run waits for the load to fall first, and a run that started above it is made again. */
let loadLimit = 1.5 * cpus().length;

/** Sleeps `ms` without spinning (Atomics.wait on a throwaway buffer). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs one measurement in a fresh child process (a real-time latency run when `latency` is given),
 * waiting up to a minute for the load to fall below {@link loadLimit} first; a run that still
 * started above it is made once more after another wait, and the lower-load run is kept. The run
 * records the load it started at.
 */
function measure(query: QueryName, mode: Mode, events: number, latency?: LatencySetup): Run {
  const once = (): Run => {
    for (let waited = 0; loadavg()[0] > loadLimit && waited < 60_000; waited += 5_000) sleepSync(5_000);
    const load = loadavg()[0];
    return { ...measureOnce(query, mode, events, latency), load };
  };
  const first = once();
  if (first.load <= loadLimit || latency !== undefined) return first;
  process.stdout.write(`  ${query} ${mode.id}: load ${first.load.toFixed(2)} > ${loadLimit}, measured again\n`);
  const second = once();
  return second.load < first.load ? second : first;
}

function measureOnce(query: QueryName, mode: Mode, events: number, latency?: LatencySetup): Run {
  if (mode.engine === 'flink') return measureFlink(query, mode.parallelism, events, latency);
  const request: ChildRequest = {
    query,
    engine: mode.engine,
    parallelism: mode.parallelism,
    events,
    checkpointInterval: checkpointIntervalMs,
    latency,
  };
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', JSON.stringify(request)], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`${mode.id} ${query} failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line) as Run;
}

/** Runs Flink through bench/flink/run.sh; the checksum is read from the text, as it may exceed 2^53. */
function measureFlink(query: QueryName, parallelism: number, events: number, latency?: LatencySetup): Run {
  const cpu0 = childrenCpuSeconds();
  const t0 = performance.now();
  const args = [
    '--query',
    query,
    '--events',
    String(events),
    '--parallelism',
    String(parallelism),
    '--checkpoint-interval',
    String(checkpointIntervalMs),
    '--state-backend',
    'hashmap',
    '--object-reuse',
    'false',
  ];
  if (latency !== undefined) {
    args.push('--rate', String(latency.rate), '--base-time', String(latency.baseTime), '--real-time', 'true');
    args.push('--latency-from', String(latency.from));
  }
  const r = spawnSync(join(FLINK, 'run.sh'), args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallMs = performance.now() - t0;
  const cpuSeconds = childrenCpuSeconds() - cpu0;
  const line = r.stdout.split('\n').find((l) => l.startsWith('{"engine":"flink"')) ?? '';
  if (r.status !== 0 || line === '')
    throw new Error(`Flink ${query} p=${parallelism} failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  const json = JSON.parse(line) as {
    eventsPerSecond: number;
    steadyEventsPerSecond: number;
    seconds: number;
    outputRecords: number;
    peakRssMb: number;
    latency?: [number, number][];
  };
  const checksum = /"checksum":(-?\d+)/.exec(line)?.[1] ?? 'NaN';
  return {
    eventsPerSecond: json.eventsPerSecond,
    wallMs,
    steadyEventsPerSecond: json.steadyEventsPerSecond,
    load: 0,
    cores: (cpuSeconds * 1000) / wallMs,
    peakRssMb: json.peakRssMb,
    summary: { count: json.outputRecords, checksum, latency: json.latency },
  };
}

/**
 * A latency run of `query` in `mode`: `seconds` of events at `rate` events/s, each emitted when the
 * wall clock reaches its event time (event time starts a lead after launch, so start-up is over);
 * per output record the sink takes wall clock − record timestamp, which for a window result is its
 * last millisecond. The first {@link LATENCY_WARMUP_MS} of event time are not measured.
 */
function measureLatency(query: QueryName, mode: Mode, rate: number, seconds: number): LatencyRun {
  const engine = mode.engine === 'flink' ? 'flink' : 'weir';
  const baseTime = Date.now() + LATENCY_LEAD_MS[engine];
  const run = measure(query, mode, Math.round(rate * seconds), { rate, baseTime, from: baseTime + LATENCY_WARMUP_MS });
  const pairs = run.summary.latency ?? [];
  let records = 0;
  for (const [, c] of pairs) records += c;
  return { p50: latencyQuantile(pairs, 0.5), p99: latencyQuantile(pairs, 0.99), max: latencyQuantile(pairs, 1), records };
}

/** Java and Maven present, and the Flink project built (building it once if needed). */
function flinkReady(): boolean {
  const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (!has('java') || !has('mvn')) {
    console.log('Flink: skipped (java or mvn not found)');
    return false;
  }
  if (!existsSync(join(FLINK, 'target', 'classpath.txt')) || !existsSync(join(FLINK, 'target', 'classes'))) {
    console.log('Flink: building bench/flink (mvn -q package) ...');
    const r = spawnSync('mvn', ['-B', '-q', '-f', join(FLINK, 'pom.xml'), 'package'], { stdio: 'inherit' });
    if (r.status !== 0) {
      console.log('Flink: build failed, skipped');
      return false;
    }
  }
  return true;
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      queries: { type: 'string' },
      runs: { type: 'string' },
      modes: { type: 'string' },
      'no-flink': { type: 'boolean', default: false },
      readme: { type: 'boolean', default: false },
      latency: { type: 'boolean', default: false },
      'checkpoint-interval': { type: 'string' },
      'load-limit': { type: 'string' },
      'latency-modes': { type: 'string' },
      'latency-rate': { type: 'string' },
      'latency-seconds': { type: 'string' },
      out: { type: 'string' },
      child: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: npm run bench:nexmark -- [options]
  --events N        events per run (default 1,000,000)
  --queries LIST    comma-separated, of ${QUERIES.join(',')} (default ${DEFAULT_QUERIES.join(',')})
  --runs K          runs per measurement, median reported (default 1)
  --modes LIST      subset of ${MODES.map((m) => m.id).join(',')} (the loop always runs)
  --no-flink        skip Flink
  --readme          also write the summary table into README.md (its bench:nexmark section)
  --load-limit L    load average above which a run waits and is made again (default 1.5 × cores)
  --checkpoint-interval MS  weir's and Flink's checkpoint interval (default 10000)
  --latency         also a real-time latency run per query and weir/Flink mode (p50/p99 of sink time − record time)
  --latency-modes L modes with a latency run (default weir-2,flink-2)
  --latency-rate R  events/s of the latency run, event time = wall time (default 20,000)
  --latency-seconds S  its length (default 10)
  --out FILE        JSON results (default bench/results/nexmark.json)`);
    process.exit(0);
  }
  const count = (text: string | undefined, fallback: number, what: string) => {
    if (text === undefined) return fallback;
    const n = Number(text.replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer, got ${text}`);
    return n;
  };
  const queries = (values.queries?.split(',') ?? DEFAULT_QUERIES).map((q) => {
    if (!(QUERIES as readonly string[]).includes(q)) throw new RangeError(`unknown query '${q}'; known: ${QUERIES.join(', ')}`);
    return q as QueryName;
  });
  let modes = (values.modes?.split(',') ?? MODES.map((m) => m.id)).map((id) => {
    const m = MODES.find((x) => x.id === id);
    if (!m) throw new RangeError(`unknown mode '${id}'; known: ${MODES.map((x) => x.id).join(', ')}`);
    return m;
  });
  if (!modes.some((m) => m.engine === 'loop')) modes.unshift(MODES[0]);
  if (values['no-flink']) modes = modes.filter((m) => m.engine !== 'flink');
  return {
    child: values.child,
    events: count(values.events, 1_000_000, '--events'),
    runs: count(values.runs, 1, '--runs'),
    queries,
    modes,
    out: values.out ?? join(root, 'bench', 'results', 'nexmark.json'),
    latency: values.latency,
    readme: values.readme,
    checkpointInterval: count(values['checkpoint-interval'], 10_000, '--checkpoint-interval'),
    loadLimit: values['load-limit'] === undefined ? loadLimit : Number(values['load-limit']),
    latencyModes: (values['latency-modes'] ?? 'weir-2,flink-2').split(','),
    latencyRate: count(values['latency-rate'], 20_000, '--latency-rate'),
    latencySeconds: count(values['latency-seconds'], 10, '--latency-seconds'),
  };
}

/** What the summary table reads of a results row. */
interface SummaryRow {
  query: QueryName;
  mode: string;
  eventsPerSecond: number;
  steadyEventsPerSecond: number;
  load: number;
  matchesLoop: boolean | null;
}

/**
 * One row per query: the loop's rate, each engine's steady-state rate (total in parentheses), weir/Flink
 * at p=1 · p=2 for both, and the load range of the query's runs.
 */
function markdownSummary(rows: readonly SummaryRow[], queries: readonly QueryName[]): string {
  const rate = (n: number) => formatRate(n).replace('/s', '');
  const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : '—');
  const lines = [
    '| query | loop | weir p=1 | weir p=2 | Flink p=1 | Flink p=2 | weir/Flink steady p=1 · p=2 | weir/Flink total p=1 · p=2 | load |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const query of queries) {
    const of = (mode: string) => rows.find((r) => r.query === query && r.mode === mode);
    const cell = (mode: string) => {
      const r = of(mode);
      if (r === undefined) return '—';
      const bad = r.matchesLoop === false ? ' ✗' : '';
      return mode === 'loop' ? rate(r.eventsPerSecond) : `${rate(r.steadyEventsPerSecond)} (${rate(r.eventsPerSecond)})${bad}`;
    };
    const get = (mode: string, field: 'eventsPerSecond' | 'steadyEventsPerSecond') => of(mode)?.[field] ?? Number.NaN;
    const loads = rows.filter((r) => r.query === query).map((r) => r.load);
    lines.push(
      `| ${query} | ${cell('loop')} | ${cell('weir-1')} | ${cell('weir-2')} | ${cell('flink-1')} | ${cell('flink-2')} | ` +
        `${ratio(get('weir-1', 'steadyEventsPerSecond'), get('flink-1', 'steadyEventsPerSecond'))} · ${ratio(get('weir-2', 'steadyEventsPerSecond'), get('flink-2', 'steadyEventsPerSecond'))} | ` +
        `${ratio(get('weir-1', 'eventsPerSecond'), get('flink-1', 'eventsPerSecond'))} · ${ratio(get('weir-2', 'eventsPerSecond'), get('flink-2', 'eventsPerSecond'))} | ` +
        `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} |`,
    );
  }
  return `${lines.join('\n')}\n\nEvents/s: steady state (first event in → last result out, start-up excluded for both engines), the total in parentheses (weir: whole \`executeJob\` with thread start-up; Flink: job net runtime, MiniCluster start excluded); ✗ = result differs from the loop's.`;
}

/** Whether a query's result can be checked against the loop's: not q12 (see the header). */
const checkable = (query: QueryName) => query !== 'q12';

const sameResult = (query: QueryName, a: ResultSummary, b: ResultSummary) =>
  a.count === b.count && (query === 'q4' || a.checksum === b.checksum);

async function main(): Promise<void> {
  const options = parseOptions();
  if (options.child !== undefined) return child(JSON.parse(options.child) as ChildRequest);
  checkpointIntervalMs = options.checkpointInterval;
  loadLimit = options.loadLimit;
  let modes = options.modes;
  if (modes.some((m) => m.engine === 'flink') && !flinkReady()) modes = modes.filter((m) => m.engine !== 'flink');
  const machine = machineInfo();
  const startedAt = new Date();
  const revision = sourceRevision();
  const command = `npm run bench:nexmark${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  console.log(
    `weir Nexmark benchmark — ${new Date().toISOString()}${revision ? ` — weir ${revision.commit}${revision.srcDirty ? ' + uncommitted src/ changes' : ''}` : ''}`,
  );
  console.log(machineLine(machine));
  console.log(
    `command: ${command}; ${formatCount(options.events)} events, default generator (10,000 events/s of event time); weir and Flink checkpoint every ${checkpointIntervalMs / 1000} s (Flink: hashmap, object reuse off); median of ${options.runs} run(s)`,
  );
  const json: unknown[] = [];
  let mismatches = 0;
  for (const query of options.queries) {
    const queryModes = modes.filter((m) => m.engine !== 'rxjs' || RX_QUERIES.includes(query));
    const runs = new Map<string, Run[]>(queryModes.map((m) => [m.id, []]));
    for (let i = 0; i < options.runs; i++) {
      for (const mode of queryModes) {
        const run = measure(query, mode, options.events);
        (runs.get(mode.id) as Run[]).push(run);
        process.stdout.write(
          `  ${query} run ${i + 1}/${options.runs} ${mode.id.padEnd(8)} ${(run.wallMs / 1000).toFixed(2).padStart(7)} s  ${formatRate(run.eventsPerSecond)}  steady ${formatRate(run.steadyEventsPerSecond)}  load ${run.load.toFixed(2)}\n`,
        );
      }
    }
    const latencies = new Map<string, LatencyRun>();
    if (options.latency) {
      for (const mode of queryModes) {
        if (!options.latencyModes.includes(mode.id) || (mode.engine !== 'weir' && mode.engine !== 'flink')) continue;
        const l = measureLatency(query, mode, options.latencyRate, options.latencySeconds);
        latencies.set(mode.id, l);
        process.stdout.write(
          `  ${query} latency ${mode.id.padEnd(8)} p50 ${l.p50} ms  p99 ${l.p99} ms  (${formatCount(l.records)} outputs)\n`,
        );
      }
    }
    const pick = (id: string) => {
      const list = runs.get(id) as Run[];
      const rate = median(list.map((r) => r.eventsPerSecond));
      return {
        list,
        rate,
        steady: median(list.map((r) => r.steadyEventsPerSecond)),
        load: Math.max(...list.map((r) => r.load)),
        cores: median(list.map((r) => r.cores)),
        rss: Math.max(...list.map((r) => r.peakRssMb)),
      };
    };
    const expected = (runs.get('loop') as Run[])[0].summary;
    const loopRate = pick('loop').rate;
    const rows: string[][] = [];
    for (const mode of queryModes) {
      const { list, rate, steady, load, cores, rss } = pick(mode.id);
      const flinkPick = runs.has(`flink-${mode.parallelism}`) ? pick(`flink-${mode.parallelism}`) : undefined;
      const flink = flinkPick?.rate ?? Number.NaN;
      const flinkSteady = flinkPick?.steady ?? Number.NaN;
      const check = checkable(query);
      const bad = check ? list.filter((r) => !sameResult(query, r.summary, expected)).length : 0;
      if (mode.engine !== 'loop') mismatches += bad;
      rows.push([
        mode.label,
        formatRate(rate),
        mode.engine === 'weir' || mode.engine === 'flink' ? formatRate(steady) : '',
        mode.engine === 'weir' && Number.isFinite(flinkSteady) ? `${(steady / flinkSteady).toFixed(2)}×` : '',
        load.toFixed(2),
        cores.toFixed(2),
        formatRate(rate / cores),
        mode.engine === 'weir' && Number.isFinite(flink) ? `${(rate / flink).toFixed(2)}×` : '',
        mode.engine === 'loop' ? '' : `${((rate / loopRate) * 100).toFixed(1)}%`,
        Number.isFinite(rss) ? String(rss) : '',
        latencies.has(mode.id) ? `${latencies.get(mode.id)?.p50} / ${latencies.get(mode.id)?.p99}` : '',
        mode.engine === 'loop'
          ? `${formatCount(expected.count)} out`
          : !check
            ? `unchecked (${formatCount(list[0].summary.count)} out)`
            : bad === 0
              ? query === 'q4'
                ? 'ok (count)'
                : 'ok'
              : `MISMATCH ×${bad} (${list[0].summary.count} / ${list[0].summary.checksum})`,
      ]);
      json.push({
        query,
        mode: mode.id,
        engine: mode.engine,
        parallelism: mode.parallelism,
        events: options.events,
        checkpointIntervalMs: mode.engine === 'loop' || mode.engine === 'rxjs' ? 0 : checkpointIntervalMs,
        eventsPerSecond: Math.round(rate),
        steadyEventsPerSecond: Math.round(steady),
        load: Number(load.toFixed(2)),
        cores: Number(cores.toFixed(3)),
        eventsPerSecondPerCore: Math.round(rate / cores),
        peakRssMb: rss,
        wallMs: list.map((r) => Math.round(r.wallMs)),
        outputRecords: list[0].summary.count,
        checksum: list[0].summary.checksum,
        matchesLoop: check ? bad === 0 : null,
        latencyMs: latencies.get(mode.id) ?? null,
      });
    }
    console.log(`\n${query} — loop: ${formatCount(expected.count)} output records, checksum ${expected.checksum}`);
    console.log(
      textTable(
        [
          'mode',
          '>events/s',
          '>steady events/s',
          '>weir/Flink steady',
          '>load',
          '>cores used',
          '>events/s/core',
          '>weir/Flink total',
          '>vs loop',
          '>peak RSS MB',
          '>latency p50 / p99 ms',
          'result',
        ],
        rows,
      ),
    );
    console.log('');
  }
  const summaryTable = markdownSummary(json as SummaryRow[], options.queries);
  const provenance = provenanceLine(
    { benchmark: 'nexmark', startedAt, command, revision, machine },
    (json as SummaryRow[]).map((r) => r.load),
  );
  console.log(`${summaryTable}\n\n${provenance}\n`);
  if (options.readme) updateReadmeSection('nexmark', `${summaryTable}\n\n${provenance}`);
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(
    options.out,
    `${JSON.stringify(
      {
        benchmark: 'nexmark',
        startedAt: new Date().toISOString(),
        command,
        machine,
        revision,
        events: options.events,
        runs: options.runs,
        latencyRun: options.latency ? { rate: options.latencyRate, seconds: options.latencySeconds, modes: options.latencyModes } : null,
        results: json,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results: ${options.out}`);
  const svgPath = options.out.replace(/\.json$/, '') + '.svg';
  writeFileSync(
    svgPath,
    nexmarkSvg(json as Parameters<typeof nexmarkSvg>[0], `${formatCount(options.events)} events, median of ${options.runs} run(s)`),
  );
  console.log(`chart: ${svgPath}`);
  if (mismatches > 0) {
    console.log(`${mismatches} run(s) disagreed with the loop's result`);
    process.exitCode = 1;
  }
}

await main();
