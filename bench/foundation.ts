//! Foundation benchmark: two workloads under a hand-written loop, weir local mode and weir threads at parallelism 1 and 2.
//
//   npm run bench                         full run (about 70 s on a quiet 2-core machine)
//   npm run bench -- --quick              smoke run (seconds)
//   npm run bench -- --records 2000000 --runs 3 --keyed-impl sum
//
// Records/s are taken from the wall time of the whole `executeJob` call (thread start-up
// included), the median of `--runs` runs; runs are interleaved across modes so that noise from
// other processes spreads over all of them. Beside it, every mode's steady-state rate (records
// over the time from the sink's first record to its close, start-up and shutdown excluded) and
// its start-up time (call to first record at the sink), counted the same way for every mode.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { executeJob, startJob, type JobResult } from '../src/index.ts';
import { TALLY_ID, tallySpan, wallClock } from './jobs/count-sink.ts';
import {
  combineTallies,
  generateKeyCount,
  generateReading,
  keepScored,
  keyCountChecksum,
  scoreReading,
  scoredChecksum,
  type KeyCount,
  type SinkTally,
} from './jobs/workloads.ts';
import {
  MODES,
  formatCount,
  formatRate,
  machineInfo,
  machineLine,
  median,
  provenanceLine,
  sourceRevision,
  textTable,
  updateReadmeSection,
  writeResults,
  type Mode,
} from './lib/report.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** A workload: its weir job module and the hand-written loop computing the same thing. */
interface Workload {
  id: string;
  title: string;
  jobModule: string;
  records: number;
  params: Record<string, string | number>;
  handLoop: () => SinkTally;
}

/** One measured run. */
interface Run {
  wallMs: number;
  /** Deploy-to-end time reported by weir (the loop's wall time for the loop). */
  jobMs: number;
  /** Process CPU time (all threads) over wall time, in %. */
  cpuPercent: number;
  /** From the call to the first record at a sink (0 for the loop). */
  startupMs: number;
  /** From the first record at a sink to the last sink's close (the loop's wall time for the loop). */
  steadyMs: number;
  /** From the last sink's close to the call's return (0 for the loop). */
  shutdownMs: number;
  tally: SinkTally;
}

/** The hand-written baseline of (a): the same functions, called in a plain loop. */
function statelessLoop(records: number): SinkTally {
  let count = 0;
  let checksum = 0;
  for (let i = 0; i < records; i++) {
    const scored = scoreReading(generateReading(i));
    if (keepScored(scored)) {
      count++;
      checksum = (checksum + scoredChecksum(scored)) | 0;
    }
  }
  return { count, checksum };
}

/**
 * The hand-written baseline of (b): a Map from key to the running record, emitting a new
 * `{ key, count }` per record as weir's rolling sum does.
 */
function keyedLoop(records: number, keys: number): SinkTally {
  const latest = new Map<number, KeyCount>();
  let count = 0;
  let checksum = 0;
  for (let i = 0; i < records; i++) {
    const record = generateKeyCount(i, keys);
    const previous = latest.get(record.key);
    const result = previous === undefined ? record : { key: previous.key, count: previous.count + record.count };
    latest.set(record.key, result);
    count++;
    checksum = (checksum + keyCountChecksum(result)) | 0;
  }
  return { count, checksum };
}

function talliesOf(result: JobResult): SinkTally[] {
  return (result.collected[TALLY_ID] ?? []) as SinkTally[];
}

/**
 * How a run treats metrics (`--metrics`): `off` runs with `metrics: false` (no busy/idle/backpressure
 * time accounting); `sampled` with metrics on and `client.sample()` polled every second, as the
 * REST server's registry does. Without it, the default (metrics on, nobody sampling).
 */
type MetricsRun = 'default' | 'off' | 'sampled';

/** Runs a job, polling `client.sample()` every `intervalMs` while it runs; resolves with its result and the number of samples taken. */
/** How often `--metrics` samples the job (`--metrics-interval`; 1000 ms as the REST server does; shorter amplifies the sampling's cost). */
let sampleIntervalMs = 1000;

async function runSampled(
  jobModule: string,
  options: Parameters<typeof startJob>[1],
  intervalMs: number,
): Promise<{ result: JobResult; samples: number }> {
  const client = await startJob(jobModule, options);
  let samples = 0;
  let sampling = false;
  const timer = setInterval(() => {
    if (sampling) return;
    sampling = true;
    void client
      .sample()
      .then(() => samples++)
      .finally(() => (sampling = false));
  }, intervalMs);
  try {
    return { result: await client.result, samples };
  } finally {
    clearInterval(timer);
  }
}

async function measure(workload: Workload, mode: Mode, metrics: MetricsRun = 'default'): Promise<Run> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const called = wallClock();
  let tally: SinkTally;
  let jobMs: number;
  let firstAt = called;
  let lastAt: number | undefined;
  if (mode.id === 'loop') {
    tally = workload.handLoop();
    jobMs = performance.now() - t0;
  } else {
    const jobOptions = {
      mode: mode.id === 'local' ? ('local' as const) : ('threads' as const),
      parallelism: mode.parallelism,
      params: workload.params,
      ...(metrics === 'off' ? { metrics: false } : {}),
    };
    const jobModule = join(here, 'jobs', workload.jobModule);
    const result = metrics === 'sampled' ? (await runSampled(jobModule, jobOptions, sampleIntervalMs)).result : await executeJob(jobModule, jobOptions);
    const tallies = talliesOf(result);
    tally = combineTallies(tallies);
    const span = tallySpan(tallies);
    firstAt = span.firstAt ?? firstAt;
    lastAt = span.lastAt;
    jobMs = result.durationMs;
  }
  const wallMs = performance.now() - t0;
  const returned = called + wallMs;
  lastAt ??= returned;
  const cpu = process.cpuUsage(cpu0);
  return {
    wallMs,
    jobMs,
    cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    startupMs: firstAt - called,
    steadyMs: lastAt - firstAt,
    shutdownMs: returned - lastAt,
    tally,
  };
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      'keyed-records': { type: 'string' },
      keys: { type: 'string' },
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      modes: { type: 'string' },
      workloads: { type: 'string' },
      'keyed-impl': { type: 'string' },
      metrics: { type: 'boolean', default: false },
      'metrics-interval': { type: 'string' },
      out: { type: 'string' },
      readme: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: tsx bench/foundation.ts [options]
  --records N         records per workload (default 20M stateless, 5M keyed; --quick: 200k)
  --keyed-records N   records of the keyed workload only
  --keys N            distinct keys of the keyed workload (default 10000)
  --runs K            runs per measurement, median reported (default 5; --quick: 1)
  --quick             smoke run: small counts, one run, results to bench/results/foundation-quick.json
  --modes LIST        comma-separated subset of ${MODES.map((m) => m.id).join(',')}
  --workloads LIST    comma-separated subset of stateless,keyed
  --keyed-impl IMPL   sum (keyBy().sum), state (KeyedProcessFunction + ValueState) or both (default)
  --metrics           also run every weir mode with metrics off and with metrics on + client.sample() every 1 s
                      (interleaved, same runs), and print the overhead of metrics
  --metrics-interval <ms>
                      sample every <ms> instead (a short interval amplifies the sampling's cost)
  --out FILE          where to write the JSON results
  --readme            also write the summary table into README.md (its bench:foundation section)`);
    process.exit(0);
  }
  const count = (text: string | undefined, fallback: number, what: string): number => {
    if (text === undefined) return fallback;
    const n = Number(text.replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer, got ${text}`);
    return n;
  };
  const quick = values.quick;
  if (values['metrics-interval'] !== undefined) sampleIntervalMs = count(values['metrics-interval'], 1000, '--metrics-interval');
  const records = values.records === undefined ? undefined : count(values.records, 0, '--records');
  const statelessRecords = records ?? (quick ? 200_000 : 20_000_000);
  const keyedRecords = count(values['keyed-records'], records ?? (quick ? 200_000 : 5_000_000), '--keyed-records');
  const keys = count(values.keys, 10_000, '--keys');
  const runs = count(values.runs, quick ? 1 : 5, '--runs');
  const modeIds = values.modes?.split(',') ?? MODES.map((m) => m.id);
  const modes = modeIds.map((id) => {
    const mode = MODES.find((m) => m.id === id);
    if (!mode) throw new RangeError(`unknown mode '${id}'; known: ${MODES.map((m) => m.id).join(', ')}`);
    return mode;
  });
  if (!modes.some((m) => m.id === 'loop')) modes.unshift(MODES[0]); // ratios need the baseline
  const workloads = values.workloads?.split(',') ?? ['stateless', 'keyed'];
  const impl = values['keyed-impl'] ?? 'both';
  if (!['sum', 'state', 'both'].includes(impl)) throw new RangeError(`--keyed-impl must be sum, state or both, got ${impl}`);
  const out = values.out ?? join(here, 'results', quick ? 'foundation-quick.json' : 'foundation.json');
  return { quick, statelessRecords, keyedRecords, keys, runs, modes, workloads, impl, out, readme: values.readme, metrics: values.metrics };
}

function buildWorkloads(o: ReturnType<typeof parseOptions>): Workload[] {
  const list: Workload[] = [];
  if (o.workloads.includes('stateless')) {
    list.push({
      id: 'stateless',
      title: `(a) stateless chain: generator → map → filter → count sink, ${formatCount(o.statelessRecords)} records`,
      jobModule: 'stateless.ts',
      records: o.statelessRecords,
      params: { records: o.statelessRecords },
      handLoop: () => statelessLoop(o.statelessRecords),
    });
  }
  if (o.workloads.includes('keyed')) {
    const impls = o.impl === 'both' ? ['sum', 'state'] : [o.impl];
    for (const impl of impls) {
      list.push({
        id: `keyed-${impl}`,
        title: `(b) keyed running count (${impl === 'sum' ? "keyBy().sum('count')" : 'KeyedProcessFunction + ValueState'}), ${formatCount(o.keyedRecords)} records over ${formatCount(o.keys)} keys`,
        jobModule: 'keyed-count.ts',
        records: o.keyedRecords,
        params: { records: o.keyedRecords, keys: o.keys, impl },
        handLoop: () => keyedLoop(o.keyedRecords, o.keys),
      });
    }
  }
  return list;
}

function sameTally(a: SinkTally, b: SinkTally): boolean {
  return a.count === b.count && a.checksum === b.checksum;
}

async function main(): Promise<void> {
  const options = parseOptions();
  const machine = machineInfo();
  const command = `tsx bench/foundation.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  const startedAt = new Date();
  const revision = sourceRevision();
  console.log(
    `weir foundation benchmark — ${startedAt.toISOString()}${revision ? ` — weir ${revision.commit}${revision.srcDirty ? ' + uncommitted src/ changes' : ''}` : ''}`,
  );
  console.log(machineLine(machine));
  console.log(
    `command: ${command}; median of ${options.runs} run(s), runs interleaved across modes; rate = records / wall time of the whole run (thread start-up included); steady = records / (first record at the sink → last sink closed); start-up = call → first record at the sink`,
  );

  const workloads = buildWorkloads(options);
  const json: unknown[] = [];
  const summaries: { workload: Workload; rows: { mode: Mode; medianRate: number; steadyRate: number }[] }[] = [];
  for (const workload of workloads) {
    console.log(`\n${workload.title}`);
    const runs = new Map<string, Run[]>(options.modes.map((m) => [m.id, []]));
    for (let r = 0; r < options.runs; r++) {
      for (const mode of options.modes) {
        const run = await measure(workload, mode);
        (runs.get(mode.id) as Run[]).push(run);
        process.stdout.write(
          `  run ${r + 1}/${options.runs} ${mode.id.padEnd(9)} ${run.wallMs.toFixed(0).padStart(6)} ms  ${formatRate(workload.records / (run.wallMs / 1000)).padStart(10)}  steady ${formatRate(workload.records / (run.steadyMs / 1000)).padStart(10)}  start-up ${run.startupMs.toFixed(0).padStart(5)} ms  shutdown ${run.shutdownMs.toFixed(0).padStart(4)} ms\n`,
        );
      }
    }
    const expected = (runs.get('loop') as Run[])[0].tally;
    const loopRate = workload.records / (median((runs.get('loop') as Run[]).map((x) => x.wallMs)) / 1000);
    const localSteady = runs.has('local') ? workload.records / (median((runs.get('local') as Run[]).map((x) => x.steadyMs)) / 1000) : NaN;
    const rows: string[][] = [];
    const summaryRows: { mode: Mode; medianRate: number; steadyRate: number }[] = [];
    for (const mode of options.modes) {
      const list = runs.get(mode.id) as Run[];
      const wall = median(list.map((x) => x.wallMs));
      const rate = workload.records / (wall / 1000);
      const jobRate = workload.records / (median(list.map((x) => x.jobMs)) / 1000);
      const mismatched = list.filter((x) => !sameTally(x.tally, expected));
      const steadyRate = workload.records / (median(list.map((x) => x.steadyMs)) / 1000);
      const startupMs = median(list.map((x) => x.startupMs));
      const shutdownMs = median(list.map((x) => x.shutdownMs));
      summaryRows.push({ mode, medianRate: rate, steadyRate });
      rows.push([
        mode.label,
        wall.toFixed(0),
        formatRate(rate),
        formatRate(jobRate),
        `${((rate / loopRate) * 100).toFixed(1)}%`,
        formatRate(steadyRate),
        Number.isNaN(localSteady) ? '—' : `${((steadyRate / localSteady) * 100).toFixed(1)}%`,
        startupMs.toFixed(0),
        shutdownMs.toFixed(0),
        `${median(list.map((x) => x.cpuPercent)).toFixed(0)}%`,
        list.map((x) => x.wallMs.toFixed(0)).join(' '),
        mismatched.length === 0 ? 'ok' : `MISMATCH ×${mismatched.length}`,
      ]);
      json.push({
        workload: workload.id,
        mode: mode.id,
        parallelism: mode.parallelism,
        records: workload.records,
        params: workload.params,
        wallMs: list.map((x) => Number(x.wallMs.toFixed(1))),
        jobMs: list.map((x) => Number(x.jobMs.toFixed(1))),
        cpuPercent: list.map((x) => Number(x.cpuPercent.toFixed(0))),
        medianWallMs: Number(wall.toFixed(1)),
        recordsPerSecond: Math.round(rate),
        jobRecordsPerSecond: Math.round(jobRate),
        ratioToLoop: Number((rate / loopRate).toFixed(4)),
        startupMs: list.map((x) => Number(x.startupMs.toFixed(1))),
        steadyMs: list.map((x) => Number(x.steadyMs.toFixed(1))),
        shutdownMs: list.map((x) => Number(x.shutdownMs.toFixed(1))),
        medianStartupMs: Number(startupMs.toFixed(1)),
        medianShutdownMs: Number(shutdownMs.toFixed(1)),
        steadyRecordsPerSecond: Math.round(steadyRate),
        steadyRatioToLocal: Number.isNaN(localSteady) ? null : Number((steadyRate / localSteady).toFixed(4)),
        tally: list[0].tally,
        tallyMatchesLoop: mismatched.length === 0,
      });
    }
    console.log();
    console.log(
      textTable(
        [
          'mode',
          '>median ms',
          '>records/s',
          '>records/s (job)',
          '>vs loop',
          '>steady records/s',
          '>steady vs local',
          '>start-up ms',
          '>shutdown ms',
          '>cpu',
          '>runs (ms)',
          'output',
        ],
        rows,
      ),
    );
    summaries.push({ workload, rows: summaryRows });
    if (options.metrics) json.push(...(await metricsOverhead(workload, options.modes, options.runs)));
  }

  const targets = evaluateTargets(summaries);
  if (targets.length > 0) {
    console.log('\ntargets');
    console.log(
      textTable(
        ['target', '>measured', 'met'],
        targets.map((t) => [t.target, t.measured, t.met ? 'yes' : 'NO']),
      ),
    );
  }
  writeResults(
    options.out,
    { benchmark: 'foundation', startedAt, command, revision, machine: machine },
    {
      config: {
        runs: options.runs,
        statelessRecords: options.statelessRecords,
        keyedRecords: options.keyedRecords,
        keys: options.keys,
        rate: 'records / median wall time of executeJob (thread start-up included)',
        steadyRate: "records / median time from the first record at a sink to the last sink's close (start-up and shutdown excluded)",
        startup: 'median time from the executeJob call to the first record at a sink',
      },
      results: json,
      targets,
    },
  );
  console.log(`results written to ${options.out}`);
  const table = markdownSummary(
    workloads.map((w) => ({ id: w.id, title: w.title })),
    json as SummaryEntry[],
    targets,
  );
  const provenance = provenanceLine({ benchmark: 'foundation', startedAt, command, revision, machine }, [
    machine.loadAverage1m,
    machineInfo().loadAverage1m,
  ]);
  console.log(`\n${table}\n\n${provenance}`);
  if (options.readme) updateReadmeSection('foundation', `${table}\n\n${provenance}`);
}

/**
 * `--metrics`: every weir mode with metrics off and with metrics on + sampled every second, runs
 * interleaved, the order swapped every round (off, sampled, sampled, off, …: the second of a pair
 * runs while the first one's threads wind down); the overhead is the drop of the median steady rate
 * (and of the median total rate) from off to sampled.
 */
async function metricsOverhead(workload: Workload, modes: readonly Mode[], runs: number): Promise<unknown[]> {
  const weirModes = modes.filter((m) => m.id !== 'loop');
  const rows: string[][] = [];
  const json: unknown[] = [];
  const byMode = new Map<string, { off: Run[]; sampled: Run[] }>(weirModes.map((m) => [m.id, { off: [], sampled: [] }]));
  for (let r = 0; r < runs; r++) {
    for (const mode of weirModes) {
      const runsOf = byMode.get(mode.id) as { off: Run[]; sampled: Run[] };
      for (const kind of r % 2 === 0 ? (['off', 'sampled'] as const) : (['sampled', 'off'] as const)) {
        const run = await measure(workload, mode, kind);
        runsOf[kind].push(run);
        process.stdout.write(
          `  metrics ${kind.padEnd(7)} run ${r + 1}/${runs} ${mode.id.padEnd(9)} ${run.wallMs.toFixed(0).padStart(6)} ms  steady ${formatRate(workload.records / (run.steadyMs / 1000)).padStart(10)}\n`,
        );
      }
    }
  }
  for (const mode of weirModes) {
    const { off, sampled } = byMode.get(mode.id) as { off: Run[]; sampled: Run[] };
    const steady = (list: Run[]) => workload.records / (median(list.map((x) => x.steadyMs)) / 1000);
    const total = (list: Run[]) => workload.records / (median(list.map((x) => x.wallMs)) / 1000);
    const steadyOverhead = (1 - steady(sampled) / steady(off)) * 100;
    const totalOverhead = (1 - total(sampled) / total(off)) * 100;
    rows.push([
      mode.label,
      formatRate(steady(off)),
      formatRate(steady(sampled)),
      `${steadyOverhead.toFixed(1)}%`,
      formatRate(total(off)),
      formatRate(total(sampled)),
      `${totalOverhead.toFixed(1)}%`,
      off.map((x) => x.steadyMs.toFixed(0)).join(' '),
      sampled.map((x) => x.steadyMs.toFixed(0)).join(' '),
    ]);
    json.push({
      workload: workload.id,
      mode: mode.id,
      metricsComparison: true,
      offSteadyRecordsPerSecond: Math.round(steady(off)),
      sampledSteadyRecordsPerSecond: Math.round(steady(sampled)),
      steadyOverheadPercent: Number(steadyOverhead.toFixed(2)),
      offRecordsPerSecond: Math.round(total(off)),
      sampledRecordsPerSecond: Math.round(total(sampled)),
      totalOverheadPercent: Number(totalOverhead.toFixed(2)),
      offSteadyMs: off.map((x) => Number(x.steadyMs.toFixed(1))),
      sampledSteadyMs: sampled.map((x) => Number(x.steadyMs.toFixed(1))),
    });
  }
  console.log(
    `\nmetrics overhead (${workload.id}): metrics: false vs metrics on + client.sample() every ${sampleIntervalMs} ms; medians of ${runs} interleaved runs`,
  );
  console.log(
    textTable(
      [
        'mode',
        '>steady off',
        '>steady sampled',
        '>overhead (steady)',
        '>total off',
        '>total sampled',
        '>overhead (total)',
        '>steady ms off',
        '>steady ms sampled',
      ],
      rows,
    ),
  );
  return json;
}

/** What the README table reads of one workload × mode. */
interface SummaryEntry {
  workload: string;
  mode: string;
  recordsPerSecond: number;
  steadyRecordsPerSecond: number;
  steadyRatioToLocal: number | null;
  medianStartupMs: number;
  tallyMatchesLoop: boolean;
}

/** One row per workload (steady rate and share of the loop, the total's share in parentheses), then the targets. */
function markdownSummary(
  workloads: readonly { id: string; title: string }[],
  entries: readonly SummaryEntry[],
  targets: readonly { target: string; measured: string; met: boolean }[],
): string {
  const lines = [
    '| workload | loop | weir local | weir threads p=1 | weir threads p=2 | threads p=1 · p=2 vs local (steady) | start-up p=1 · p=2 |',
    '|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const w of workloads) {
    const of = (mode: string) => entries.find((e) => e.workload === w.id && e.mode === mode);
    const loop = of('loop')?.recordsPerSecond ?? Number.NaN;
    const pct = (n: number) => (Number.isFinite(n / loop) ? `${((n / loop) * 100).toFixed(0)} %` : '—');
    const cell = (mode: string) => {
      const e = of(mode);
      if (e === undefined) return '—';
      return `${formatRate(e.steadyRecordsPerSecond)} = ${pct(e.steadyRecordsPerSecond)} (${pct(e.recordsPerSecond)})${e.tallyMatchesLoop ? '' : ' ✗'}`;
    };
    const vsLocal = (mode: string) => {
      const r = of(mode)?.steadyRatioToLocal;
      return r === undefined || r === null ? '—' : `${(r * 100).toFixed(0)} %`;
    };
    const startup = (mode: string) => {
      const e = of(mode);
      return e === undefined ? '—' : `${e.medianStartupMs.toFixed(0)} ms`;
    };
    lines.push(
      `| ${w.title} | ${Number.isFinite(loop) ? formatRate(loop) : '—'} | ${cell('local')} | ${cell('threads-1')} | ${cell('threads-2')} | ` +
        `${vsLocal('threads-1')} · ${vsLocal('threads-2')} | ${startup('threads-1')} · ${startup('threads-2')} |`,
    );
  }
  const targetLines = [
    '| target | measured | met |',
    '|---|--:|---|',
    ...targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`),
  ];
  return `${lines.join('\n')}\n\nSteady state: records / (first record at the sink → last sink close), start-up and shutdown excluded; its share of the loop, then in parentheses the share counting the whole \`executeJob\` call (thread start-up included); ✗ = result differs from the loop's. Medians of the runs.\n\n${targetLines.join('\n')}`;
}

function evaluateTargets(summaries: { workload: Workload; rows: { mode: Mode; medianRate: number; steadyRate: number }[] }[]) {
  const out: { target: string; measured: string; met: boolean }[] = [];
  for (const { workload, rows } of summaries) {
    const loop = rows.find((r) => r.mode.id === 'loop')?.medianRate ?? NaN;
    if (workload.id === 'stateless') {
      for (const id of ['local', 'threads-1'] as const) {
        const row = rows.find((r) => r.mode.id === id);
        if (!row) continue;
        const ratio = row.medianRate / loop;
        out.push({
          target: `chained stateless ≥ 50% of loop (${row.mode.label})`,
          measured: `${(ratio * 100).toFixed(1)}%`,
          met: ratio >= 0.5,
        });
      }
      // Issue 14: the same chain on a worker thread as fast as on the calling thread.
      const local = rows.find((r) => r.mode.id === 'local');
      const one = rows.find((r) => r.mode.id === 'threads-1');
      const two = rows.find((r) => r.mode.id === 'threads-2');
      if (local && one) {
        for (const [what, key] of [
          ['total', 'medianRate'],
          ['steady', 'steadyRate'],
        ] as const) {
          const ratio = one[key] / local[key];
          out.push({
            target: `chained stateless on one worker ≥ 80% of local mode (${what})`,
            measured: `${(ratio * 100).toFixed(1)}%`,
            met: ratio >= 0.8,
          });
        }
      }
      if (one && two) {
        out.push({
          target: 'chained stateless: threads p=2 not slower than p=1 (total)',
          measured: `${formatRate(two.medianRate)} vs ${formatRate(one.medianRate)}`,
          met: two.medianRate >= one.medianRate,
        });
      }
    } else {
      const row = rows.find((r) => r.mode.id === 'threads-2');
      if (row) {
        out.push({
          target: `keyed exchange across 2 workers ≥ 2 M/s (${workload.id})`,
          measured: formatRate(row.medianRate),
          met: row.medianRate >= 2e6,
        });
      }
    }
  }
  return out;
}

await main();
