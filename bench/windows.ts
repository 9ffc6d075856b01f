//! Window benchmark: keyed tumbling, sliding and session event-time window counts under a hand-written loop, weir local mode and weir threads at parallelism 1 and 2.
//
//   npm run bench:windows                     full run (several minutes on a quiet 2-core machine: sessions are the slow part)
//   npm run bench:windows -- --quick          smoke run (seconds)
//   npm run bench:windows -- --records 2000000 --keys 100 --workloads sliding --runs 3
//
// Both sides compute the same windows from the same events: 1 event per ms of event time, up to
// 499 ms out of order, watermark = highest timestamp − 500 ms − 1 (so no event is late), 10 s
// tumbling windows, 10 s windows sliding by 2 s, or sessions with a 1 s gap, a count per key and
// window. The loop keeps open windows in Maps and fires each when its own per-record watermark
// passes the window's end, as a streaming program written by hand would (sessions: per key its
// open sessions, merged as records bridge them, and a heap of session ends). weir's two source readers take alternate events, so
// they move through event time together (`--split range` gives each a contiguous half instead).
// Records/s are taken from the wall time of the whole `executeJob` call (thread start-up
// included) and, beside it, in the steady state (first window result at the sink → last sink
// close: start-up and shutdown excluded, the same way for every mode), the median of `--runs` runs, interleaved across modes so that noise from other
// processes spreads over all of them.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { executeJob, type JobResult } from '../src/index.ts';
import { TALLY_ID, tallySpan, wallClock } from './jobs/count-sink.ts';
import { OUT_OF_ORDERNESS_MS, SHAPES, generateEvent, windowCountChecksum, type WindowShape } from './jobs/window-workloads.ts';
import { combineTallies, type SinkTally } from './jobs/workloads.ts';
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

/** A workload: one window shape over the generated events. */
interface Workload {
  id: WindowShape['kind'];
  title: string;
  records: number;
  keys: number;
  params: Record<string, string | number>;
}

/** One measured run. */
interface Run {
  wallMs: number;
  /** Deploy-to-end time reported by weir (the loop's wall time for the loop). */
  jobMs: number;
  /** From the first window result at a sink to the last sink's close (the loop: its wall time). */
  steadyMs: number;
  /** From the call to the first window result at a sink (0 for the loop). */
  startupMs: number;
  /** Process CPU time (all threads) over wall time, in %. */
  cpuPercent: number;
  tally: SinkTally;
  /** Window results emitted (the tally's count). */
  windows: number;
}

/**
 * The hand-written baseline: per event, add 1 to the event's key in each of its windows (one
 * Map of key → count per open window); after each event, fire every window whose end − 1 the
 * watermark has reached, in start order, folding each (key, window, count) into the tally.
 */
function windowLoop(records: number, keys: number, shape: WindowShape): SinkTally {
  const { size, slide } = shape;
  const open = new Map<number, Map<number, number>>();
  let oldest = Number.POSITIVE_INFINITY;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  let count = 0;
  let checksum = 0;
  const fire = (start: number) => {
    const counts = open.get(start);
    if (counts === undefined) return;
    open.delete(start);
    const end = start + size;
    for (const [key, n] of counts) {
      count++;
      checksum = (checksum + windowCountChecksum({ key, start, end, count: n })) | 0;
    }
  };
  for (let i = 0; i < records; i++) {
    const event = generateEvent(i, keys);
    const ts = event.ts;
    const last = ts - (ts % slide);
    for (let start = last; start > ts - size; start -= slide) {
      let counts = open.get(start);
      if (counts === undefined) {
        counts = new Map();
        open.set(start, counts);
        if (start < oldest) oldest = start;
      }
      counts.set(event.key, (counts.get(event.key) ?? 0) + 1);
    }
    if (ts > maxTimestamp) {
      maxTimestamp = ts;
      const watermark = maxTimestamp - OUT_OF_ORDERNESS_MS - 1;
      while (oldest + size - 1 <= watermark) {
        fire(oldest);
        oldest += slide;
      }
    }
  }
  for (const start of [...open.keys()].sort((a, b) => a - b)) fire(start);
  return { count, checksum };
}

/**
 * The hand-written baseline for sessions: per key its open sessions (disjoint, as `[start, end,
 * count]`); a record's window `[ts, ts + gap)` merges with every session it touches; a binary heap
 * of `(end, key)` fires sessions whose end − 1 the watermark reached (entries of sessions that grew
 * or merged since are skipped when they come up).
 */
function sessionLoop(records: number, keys: number, gap: number): SinkTally {
  const open = new Map<number, number[][]>();
  const heapEnds: number[] = [];
  const heapKeys: number[] = [];
  const push = (end: number, key: number) => {
    let i = heapEnds.length;
    heapEnds.push(end);
    heapKeys.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heapEnds[p] <= end) break;
      heapEnds[i] = heapEnds[p];
      heapKeys[i] = heapKeys[p];
      i = p;
    }
    heapEnds[i] = end;
    heapKeys[i] = key;
  };
  const pop = () => {
    const lastEnd = heapEnds.pop() as number;
    const lastKey = heapKeys.pop() as number;
    const n = heapEnds.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && heapEnds[c + 1] < heapEnds[c]) c++;
      if (heapEnds[c] >= lastEnd) break;
      heapEnds[i] = heapEnds[c];
      heapKeys[i] = heapKeys[c];
      i = c;
    }
    heapEnds[i] = lastEnd;
    heapKeys[i] = lastKey;
  };
  let count = 0;
  let checksum = 0;
  const fireUpTo = (watermark: number) => {
    while (heapEnds.length > 0 && heapEnds[0] - 1 <= watermark) {
      const end = heapEnds[0];
      const key = heapKeys[0];
      pop();
      const sessions = open.get(key);
      if (sessions === undefined) continue;
      const i = sessions.findIndex((s) => s[1] === end);
      if (i < 0) continue;
      const [start, , n] = sessions[i];
      sessions.splice(i, 1);
      if (sessions.length === 0) open.delete(key);
      count++;
      checksum = (checksum + windowCountChecksum({ key, start, end, count: n })) | 0;
    }
  };
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < records; i++) {
    const event = generateEvent(i, keys);
    const ts = event.ts;
    let start = ts;
    let end = ts + gap;
    let n = 1;
    let sessions = open.get(event.key);
    if (sessions === undefined) open.set(event.key, (sessions = []));
    for (let j = sessions.length - 1; j >= 0; j--) {
      const s = sessions[j];
      if (s[0] <= end && s[1] >= start) {
        start = Math.min(start, s[0]);
        end = Math.max(end, s[1]);
        n += s[2];
        sessions.splice(j, 1);
      }
    }
    sessions.push([start, end, n]);
    push(end, event.key);
    if (ts > maxTimestamp) {
      maxTimestamp = ts;
      fireUpTo(maxTimestamp - OUT_OF_ORDERNESS_MS - 1);
    }
  }
  fireUpTo(Number.POSITIVE_INFINITY);
  return { count, checksum };
}

/** What the README table reads of one workload × mode. */
interface SummaryRow {
  workload: string;
  mode: string;
  rate: number;
  steadyRate: number;
  loopRate: number;
  localSteady: number;
  startupMs: number;
  ok: boolean;
}

/** One row per workload: the loop, then each weir mode's steady rate and share of the loop (total in parentheses), threads against local. */
function markdownSummary(rows: readonly SummaryRow[]): string {
  const pct = (a: number, b: number) => (Number.isFinite(a / b) ? `${((a / b) * 100).toFixed(0)} %` : '—');
  const lines = [
    '| windows | loop | weir local | weir threads p=1 | weir threads p=2 | threads p=1 · p=2 vs local (steady) | start-up p=1 · p=2 |',
    '|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const workload of [...new Set(rows.map((r) => r.workload))]) {
    const of = (mode: string) => rows.find((r) => r.workload === workload && r.mode === mode);
    const loop = of('loop');
    const cell = (mode: string) => {
      const r = of(mode);
      if (r === undefined) return '—';
      return `${formatRate(r.steadyRate)} = ${pct(r.steadyRate, r.loopRate)} (${pct(r.rate, r.loopRate)})${r.ok ? '' : ' ✗'}`;
    };
    const t1 = of('threads-1');
    const t2 = of('threads-2');
    lines.push(
      `| ${workload} | ${loop ? formatRate(loop.rate) : '—'} | ${cell('local')} | ${cell('threads-1')} | ${cell('threads-2')} | ` +
        `${t1 ? pct(t1.steadyRate, t1.localSteady) : '—'} · ${t2 ? pct(t2.steadyRate, t2.localSteady) : '—'} | ` +
        `${t1 ? `${t1.startupMs.toFixed(0)} ms` : '—'} · ${t2 ? `${t2.startupMs.toFixed(0)} ms` : '—'} |`,
    );
  }
  return `${lines.join('\n')}\n\nSteady state: events / (first window result at the sink → last sink close), start-up and shutdown excluded; the share of the loop, then in parentheses the share counting the whole \`executeJob\` call (thread start-up included); ✗ = windows differ from the loop's. Medians of the runs.`;
}

function talliesOf(result: JobResult): SinkTally[] {
  return (result.collected[TALLY_ID] ?? []) as SinkTally[];
}

async function measure(workload: Workload, mode: Mode): Promise<Run> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const called = wallClock();
  let tally: SinkTally;
  let jobMs: number;
  let firstAt = called;
  let lastAt: number | undefined;
  if (mode.id === 'loop') {
    const shape = SHAPES[workload.id];
    tally =
      shape.kind === 'session'
        ? sessionLoop(workload.records, workload.keys, shape.size)
        : windowLoop(workload.records, workload.keys, shape);
    jobMs = performance.now() - t0;
  } else {
    const result = await executeJob(join(here, 'jobs', 'window-count.ts'), {
      mode: mode.id === 'local' ? 'local' : 'threads',
      parallelism: mode.parallelism,
      params: workload.params,
    });
    const tallies = talliesOf(result);
    tally = combineTallies(tallies);
    const span = tallySpan(tallies);
    firstAt = span.firstAt ?? firstAt;
    lastAt = span.lastAt;
    jobMs = result.durationMs;
  }
  const wallMs = performance.now() - t0;
  lastAt ??= called + wallMs;
  const cpu = process.cpuUsage(cpu0);
  return {
    wallMs,
    jobMs,
    steadyMs: lastAt - firstAt,
    startupMs: firstAt - called,
    cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    tally,
    windows: tally.count,
  };
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      keys: { type: 'string' },
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      modes: { type: 'string' },
      workloads: { type: 'string' },
      split: { type: 'string' },
      out: { type: 'string' },
      readme: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: tsx bench/windows.ts [options]
  --records N         events per workload (default 2M; --quick: 200k)
  --keys N            distinct keys (default 1000)
  --runs K            runs per measurement, median reported (default 3; --quick: 1)
  --quick             smoke run: small counts, one run, results to bench/results/windows-quick.json
  --modes LIST        comma-separated subset of ${MODES.map((m) => m.id).join(',')}
  --workloads LIST    comma-separated subset of tumbling,sliding,session
  --split HOW         how weir's parallel readers share the events: interleaved (default; side by side
                      in event time, as partitions of a live topic) or range (generatorSource's
                      contiguous ranges, far apart in event time)
  --out FILE          where to write the JSON results
  --readme            also write the summary table into README.md (its bench:windows section)`);
    process.exit(0);
  }
  const count = (text: string | undefined, fallback: number, what: string): number => {
    if (text === undefined) return fallback;
    const n = Number(text.replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer, got ${text}`);
    return n;
  };
  const quick = values.quick;
  const records = count(values.records, quick ? 200_000 : 2_000_000, '--records');
  const keys = count(values.keys, 1_000, '--keys');
  const runs = count(values.runs, quick ? 1 : 3, '--runs');
  const modes = (values.modes?.split(',') ?? MODES.map((m) => m.id)).map((id) => {
    const mode = MODES.find((m) => m.id === id);
    if (!mode) throw new RangeError(`unknown mode '${id}'; known: ${MODES.map((m) => m.id).join(', ')}`);
    return mode;
  });
  if (!modes.some((m) => m.id === 'loop')) modes.unshift(MODES[0]); // ratios and the result check need the baseline
  const workloads = (values.workloads?.split(',') ?? ['tumbling', 'sliding', 'session']).map((id) => {
    if (id !== 'tumbling' && id !== 'sliding' && id !== 'session')
      throw new RangeError(`unknown workload '${id}'; known: tumbling, sliding, session`);
    return id;
  });
  const split = values.split ?? 'interleaved';
  if (split !== 'interleaved' && split !== 'range') throw new RangeError(`--split must be interleaved or range, got ${split}`);
  const out = values.out ?? join(here, 'results', quick ? 'windows-quick.json' : 'windows.json');
  return { quick, records, keys, runs, modes, workloads, split, out, readme: values.readme };
}

function describeShape(shape: WindowShape): string {
  if (shape.kind === 'session') return `session (gap ${shape.size / 1000} s)`;
  return shape.kind === 'tumbling' ? `${shape.size / 1000} s tumbling` : `${shape.size / 1000} s sliding by ${shape.slide / 1000} s`;
}

function sameTally(a: SinkTally, b: SinkTally): boolean {
  return a.count === b.count && a.checksum === b.checksum;
}

async function main(): Promise<void> {
  const options = parseOptions();
  const machine = machineInfo();
  const command = `tsx bench/windows.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  const startedAt = new Date();
  const revision = sourceRevision();
  console.log(
    `weir window benchmark — ${startedAt.toISOString()}${revision ? ` — weir ${revision.commit}${revision.srcDirty ? ' + uncommitted src/ changes' : ''}` : ''}`,
  );
  console.log(machineLine(machine));
  console.log(
    `command: ${command}; median of ${options.runs} run(s), runs interleaved across modes; rate = events / wall time of the whole run (thread start-up included)`,
  );

  const workloads: Workload[] = options.workloads.map((id) => ({
    id,
    title: `keyed ${describeShape(SHAPES[id])} event-time window count (.window().count()), ${formatCount(options.records)} events over ${formatCount(options.keys)} keys, watermark bound ${OUT_OF_ORDERNESS_MS} ms, ${options.split} source split`,
    records: options.records,
    keys: options.keys,
    params: { records: options.records, keys: options.keys, shape: id, split: options.split },
  }));
  const json: unknown[] = [];
  const summary: SummaryRow[] = [];
  let mismatches = 0;
  for (const workload of workloads) {
    console.log(`\n${workload.title}`);
    const runs = new Map<string, Run[]>(options.modes.map((m) => [m.id, []]));
    for (let r = 0; r < options.runs; r++) {
      for (const mode of options.modes) {
        const run = await measure(workload, mode);
        (runs.get(mode.id) as Run[]).push(run);
        process.stdout.write(
          `  run ${r + 1}/${options.runs} ${mode.id.padEnd(9)} ${run.wallMs.toFixed(0).padStart(6)} ms  ${formatRate(workload.records / (run.wallMs / 1000)).padStart(10)}  steady ${formatRate(workload.records / (run.steadyMs / 1000)).padStart(10)}  start-up ${run.startupMs.toFixed(0).padStart(5)} ms\n`,
        );
      }
    }
    const expected = (runs.get('loop') as Run[])[0].tally;
    const loopRate = workload.records / (median((runs.get('loop') as Run[]).map((x) => x.wallMs)) / 1000);
    const localSteady = runs.has('local')
      ? workload.records / (median((runs.get('local') as Run[]).map((x) => x.steadyMs)) / 1000)
      : Number.NaN;
    const rows: string[][] = [];
    for (const mode of options.modes) {
      const list = runs.get(mode.id) as Run[];
      const wall = median(list.map((x) => x.wallMs));
      const rate = workload.records / (wall / 1000);
      const jobRate = workload.records / (median(list.map((x) => x.jobMs)) / 1000);
      const mismatched = list.filter((x) => !sameTally(x.tally, expected));
      mismatches += mismatched.length;
      const steadyRate = workload.records / (median(list.map((x) => x.steadyMs)) / 1000);
      const startupMs = median(list.map((x) => x.startupMs));
      summary.push({
        workload: workload.id,
        mode: mode.id,
        rate,
        steadyRate,
        loopRate,
        localSteady,
        startupMs,
        ok: mismatched.length === 0,
      });
      rows.push([
        mode.label,
        wall.toFixed(0),
        formatRate(rate),
        formatRate(jobRate),
        `${((rate / loopRate) * 100).toFixed(1)}%`,
        formatRate(steadyRate),
        `${((steadyRate / loopRate) * 100).toFixed(1)}%`,
        Number.isNaN(localSteady) || mode.id === 'loop' ? '—' : `${((steadyRate / localSteady) * 100).toFixed(1)}%`,
        startupMs.toFixed(0),
        `${median(list.map((x) => x.cpuPercent)).toFixed(0)}%`,
        list.map((x) => x.wallMs.toFixed(0)).join(' '),
        mismatched.length === 0 ? `ok (${formatCount(list[0].windows)} windows)` : `MISMATCH ×${mismatched.length}`,
      ]);
      json.push({
        workload: workload.id,
        shape: SHAPES[workload.id],
        mode: mode.id,
        parallelism: mode.parallelism,
        records: workload.records,
        keys: workload.keys,
        params: workload.params,
        wallMs: list.map((x) => Number(x.wallMs.toFixed(1))),
        jobMs: list.map((x) => Number(x.jobMs.toFixed(1))),
        cpuPercent: list.map((x) => Number(x.cpuPercent.toFixed(0))),
        medianWallMs: Number(wall.toFixed(1)),
        recordsPerSecond: Math.round(rate),
        steadyRecordsPerSecond: Math.round(steadyRate),
        steadyMs: list.map((x) => Number(x.steadyMs.toFixed(1))),
        startupMs: list.map((x) => Number(x.startupMs.toFixed(1))),
        jobRecordsPerSecond: Math.round(jobRate),
        ratioToLoop: Number((rate / loopRate).toFixed(4)),
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
          '>events/s',
          '>events/s (job)',
          '>vs loop',
          '>steady events/s',
          '>steady vs loop',
          '>steady vs local',
          '>start-up ms',
          '>cpu',
          '>runs (ms)',
          'output = loop',
        ],
        rows,
      ),
    );
  }

  writeResults(
    options.out,
    { benchmark: 'windows', startedAt, command, revision, machine: machine },
    {
      config: {
        runs: options.runs,
        records: options.records,
        keys: options.keys,
        outOfOrdernessMs: OUT_OF_ORDERNESS_MS,
        split: options.split,
        shapes: SHAPES,
        rate: 'events / median wall time of executeJob (thread start-up included)',
        steadyRate: 'events / median time from the first window result at a sink to the last sink close (start-up and shutdown excluded)',
      },
      results: json,
    },
  );
  console.log(`results written to ${options.out}`);
  const table = markdownSummary(summary);
  const provenance = provenanceLine({ benchmark: 'windows', startedAt, command, revision, machine }, [
    machine.loadAverage1m,
    machineInfo().loadAverage1m,
  ]);
  console.log(`\n${table}\n\n${provenance}`);
  if (options.readme) updateReadmeSection('windows', `${table}\n\n${provenance}`);
  if (mismatches > 0) {
    console.error(`${mismatches} run(s) produced windows different from the loop's`);
    process.exitCode = 1;
  }
}

await main();
