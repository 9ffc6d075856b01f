//! Checkpoint benchmark: checkpoint duration and size, processing pauses and recovery time from a worker kill, for large heap keyed state.
//
//   npm run bench:checkpoints                       100 MB, 300 MB and 1 GB of keyed state (about 5 minutes)
//   npm run bench:checkpoints -- --quick            20 MB, short (about 30 s)
//   npm run bench:checkpoints -- --state-mb 500 --runs 3 --seconds 40
//
// Each run builds N keys × `--value-bytes` of ValueState (a flat string per key) as fast as the
// source can, then sends a rate-limited stream of updates to random keys while checkpoints run
// every `--interval` ms. A sink chained to the keyed operator records the gaps between consecutive
// records per period (max and p99), and the gap around each snapshot (last record before the
// barrier → first record after it). A last table times encoding one subtask's share of the state
// on the main thread, whole or per key group, to show where a snapshot's time goes. After `--kill-after`
// completed checkpoints of the update phase, worker 1 is killed; the run reports the master's
// recovery time and the time from the kill until each restored subtask processes a record again.
// Pauses are reported for the update phase before the kill ("steady") and after the restore.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { Packr } from 'msgpackr';
import { ValueStateDescriptor } from '../src/state/descriptors.ts';
import { HeapKeyedStateBackend } from '../src/state/keyed-backend.ts';
import { DEFAULT_MAX_PARALLELISM } from '../src/state/key-groups.ts';
import { startJob, type CompletedCheckpoint, type JobResult } from '../src/index.ts';
import { reportFile, type PauseReport, type PeriodReport, type RestoreReport, type SnapshotReport } from './jobs/ckpt-state.ts';
import {
  machineInfo,
  machineLine,
  median,
  provenanceLine,
  sourceRevision,
  textTable,
  updateReadmeSection,
  writeResults,
} from './lib/report.ts';

const here = dirname(fileURLToPath(import.meta.url));
const JOB = join(here, 'jobs', 'ckpt-state.ts');

/** Targets of the issue, reported against (this is a benchmark: nothing fails). */
const PAUSE_TARGET_MS = 50;
const RECOVERY_TARGET_MS = 1000;

/** What the command line asked for. */
interface Options {
  quick: boolean;
  /** Also write the summary table into README.md. */
  readme: boolean;
  sizesMb: number[];
  runs: number;
  valueBytes: number;
  rate: number;
  seconds: number;
  intervalMs: number;
  periodMs: number;
  parallelism: number;
  killAfter: number;
  killDelayMs: number;
  kill: boolean;
  checkpointDir: string | undefined;
  breakdown: boolean;
  out: string;
}

/** One checkpoint as the main thread saw it. */
interface CheckpointSeen {
  id: number;
  attempt: number;
  triggerEpochMs: number;
  /** When `onCheckpoint` ran: after the last acknowledgement and storage (if any). */
  completedEpochMs: number;
  durationMs: number;
  bytes: number;
  steady: boolean;
}

/** The measurements of one run. */
interface RunResult {
  stateMb: number;
  keys: number;
  wallMs: number;
  checkpoints: CheckpointSeen[];
  /** Start of the measured update phase: the update phase of the attempt the kill hit (or of the last attempt). */
  windowStartEpochMs: number | undefined;
  killEpochMs: number | undefined;
  /** The attempt (1, 2, …) the kill hit: its restart is `recoveryMs[killAttempt - 1]`. */
  killAttempt: number | undefined;
  /** The checkpoint the kill restored from. */
  restoredFrom: CheckpointSeen | undefined;
  reports: PauseReport[];
  /** Undefined when the job failed. */
  faultTolerance: JobResult['faultTolerance'] | undefined;
  /** Why the job failed, if it did. */
  failure: string | undefined;
}

/** Reads the reports the sink's subtasks appended (a line cut by a kill is skipped). */
function readReports(markerDir: string, parallelism: number): PauseReport[] {
  const reports: PauseReport[] = [];
  for (let s = 0; s < parallelism; s++) {
    const file = reportFile(markerDir, s);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        reports.push(JSON.parse(line) as PauseReport);
      } catch {
        // the last line of a killed writer may be cut
      }
    }
  }
  return reports;
}

/** Summary statistics of one run (every field a number or undefined, so runs can be combined by median). */
interface RunSummary {
  /** Checkpoints of the update phase (full state), before the kill. */
  steadyCheckpoints: number;
  ckptDurationMedianMs?: number;
  ckptDurationMaxMs?: number;
  /** Trigger → onCheckpoint on the main thread (includes storage when a checkpoint dir is set). */
  ckptCompletionMedianMs?: number;
  ckptBytesMedian?: number;
  /** Largest gap around a snapshot, over subtasks and steady checkpoints. */
  snapshotGapMaxMs?: number;
  snapshotGapMedianMs?: number;
  /** Part of the snapshot gap before the sink's snapshot hook (alignment + the keyed operator's synchronous part). */
  snapshotBeforeMedianMs?: number;
  /** Part after it (acknowledgement; copy-on-write copies before the next write). */
  snapshotAfterMedianMs?: number;
  /** Periods of the update phase, before the kill, with a snapshot in them. */
  periodsWith: number;
  withMaxGapMs?: number;
  withMedianMaxGapMs?: number;
  withMedianP99Ms?: number;
  periodsWithout: number;
  withoutMaxGapMs?: number;
  withoutMedianMaxGapMs?: number;
  withoutMedianP99Ms?: number;
  /** Periods after the restore (both subtasks), excluding the first one of each subtask. */
  restoredMaxGapMs?: number;
  restoredMedianP99Ms?: number;
  /** Master: failure detected → new attempt running. */
  recoveryMs?: number;
  /** Kill → restored writer opened (slowest subtask). */
  killToOpenMs?: number;
  /** Kill → first record processed after the restore (slowest subtask). */
  killToFirstRecordMs?: number;
  /** Kill → first record (fastest subtask). */
  killToFirstRecordMinMs?: number;
  /** Records after the restored checkpoint's barrier that were processed again (estimate: rate × time from trigger to kill). */
  replayRecords?: number;
  /** Time the replay takes at the source's rate. */
  replayMs?: number;
  /** Largest JS heap used by one worker thread (MB), and its limit. */
  workerHeapMaxMb?: number;
  restarts: number;
  /** Restarts other than the planned kill's (a worker declared lost for missed heartbeats while it snapshotted). */
  unplannedRestarts: number;
  /** 1 when the job failed (e.g. a worker declared lost while it was blocked in a snapshot). */
  failed: number;
  wallMs: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'state-mb': { type: 'string' },
      runs: { type: 'string' },
      'value-bytes': { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      interval: { type: 'string' },
      'period-ms': { type: 'string' },
      parallelism: { type: 'string' },
      'kill-after': { type: 'string' },
      'kill-delay': { type: 'string' },
      'no-kill': { type: 'boolean', default: false },
      'checkpoint-dir': { type: 'string' },
      'no-breakdown': { type: 'boolean', default: false },
      out: { type: 'string' },
      readme: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: tsx bench/checkpoints.ts [options]
  --quick             20 MB of state, short update phase, 1 run; results to bench/results/checkpoints-quick.json
  --state-mb LIST     state sizes in MB (10^6 bytes of values), comma-separated (default 100,300,1000)
  --runs K            runs per size, medians reported (default 1)
  --value-bytes B     bytes per key's value (default 1000; keys = state / B)
  --rate R            update records/s over all subtasks in the update phase (default 20000)
  --seconds S         length of the update phase at that rate (default 60; --quick 15)
  --interval MS       checkpoint interval (default 3000; --quick 2000)
  --period-ms MS      period of the gap statistics (default 1000)
  --parallelism P     (default 2)
  --kill-after C      kill worker 1 after C completed checkpoints of the update phase (default 2)
  --kill-delay MS     ... this long after the checkpoint completed (default 1000)
  --no-kill           no kill (pauses only)
  --checkpoint-dir D  also write checkpoints to disk (checkpoint storage) under D
  --no-breakdown      skip timing the parts of one subtask's snapshot on the main thread
  --out FILE          where to write the JSON results
  --readme            also write the summary table into README.md (its bench:checkpoints section)`);
    process.exit(0);
  }
  const num = (text: string | undefined, fallback: number, what: string, min = 1): number => {
    if (text === undefined) return fallback;
    const n = Number(text.replace(/_/g, ''));
    if (!Number.isFinite(n) || n < min) throw new RangeError(`${what} must be a number ≥ ${min}, got ${text}`);
    return n;
  };
  const quick = values.quick;
  const sizesMb = values['state-mb'] ? values['state-mb'].split(',').map((s) => num(s, 0, '--state-mb')) : quick ? [20] : [100, 300, 1000];
  return {
    quick,
    sizesMb,
    runs: num(values.runs, 1, '--runs'),
    valueBytes: num(values['value-bytes'], 1000, '--value-bytes', 16),
    rate: num(values.rate, 20_000, '--rate'),
    seconds: num(values.seconds, quick ? 15 : 60, '--seconds'),
    intervalMs: num(values.interval, quick ? 2000 : 3000, '--interval'),
    periodMs: num(values['period-ms'], 1000, '--period-ms', 10),
    parallelism: num(values.parallelism, 2, '--parallelism'),
    readme: values.readme,
    killAfter: num(values['kill-after'], 2, '--kill-after'),
    killDelayMs: num(values['kill-delay'], 1000, '--kill-delay', 0),
    kill: !values['no-kill'],
    checkpointDir: values['checkpoint-dir'],
    breakdown: !values['no-breakdown'],
    out: values.out ?? join(here, 'results', quick ? 'checkpoints-quick.json' : 'checkpoints.json'),
  };
}

/**
 * The main thread holds the decoded checkpoint during a restore (about the state's size again),
 * and each worker its share of the state plus a snapshot's transient arrays: ask for a heap that
 * fits, re-running this script with `--max-old-space-size` in NODE_OPTIONS when the current limit
 * is too small. NODE_OPTIONS, not a command-line flag: the runtime hands the parent's command-line
 * flags to its worker threads, and Node refuses heap flags in a worker's execArgv; worker threads
 * do inherit the limit from NODE_OPTIONS (reported per run as the workers' heap limit).
 */
function ensureHeap(options: Options): void {
  const neededMb = Math.max(4096, Math.ceil(Math.max(...options.sizesMb) * 4));
  const limitMb = v8.getHeapStatistics().heap_size_limit / 2 ** 20;
  if (limitMb >= neededMb * 0.95 || process.env.WEIR_BENCH_REEXEC) return;
  console.log(`heap limit ${limitMb.toFixed(0)} MB < ${neededMb} MB: re-running with NODE_OPTIONS=--max-old-space-size=${neededMb}`);
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${neededMb}`.trim();
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: nodeOptions, WEIR_BENCH_REEXEC: '1' },
  });
  process.exit(child.status ?? 1);
}

function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Reads the source's build-phase end markers; the update phase started when every reader wrote its own. */
function steadyStart(markerDir: string, parallelism: number): number | undefined {
  let latest = 0;
  for (let s = 0; s < parallelism; s++) {
    const file = join(markerDir, `steady-${s}`);
    if (!existsSync(file)) return undefined;
    const at = Number(readFileSync(file, 'utf8'));
    if (!Number.isFinite(at)) return undefined;
    latest = Math.max(latest, at);
  }
  return latest;
}

async function runOnce(options: Options, stateMb: number): Promise<RunResult> {
  const keys = Math.round((stateMb * 1e6) / options.valueBytes);
  const markerDir = mkdtempSync(join(tmpdir(), 'weir-bench-ckpt-'));
  const checkpoints: CheckpointSeen[] = [];
  let steadyAt: number | undefined;
  let steadyCompleted = 0;
  let countedAttempt = 0;
  let windowStart: number | undefined;
  let killEpochMs: number | undefined;
  let killAttempt: number | undefined;
  let restoredFrom: CheckpointSeen | undefined;
  const t0 = performance.now();
  const client = await startJob(JOB, {
    parallelism: options.parallelism,
    checkpointDir: options.checkpointDir,
    params: {
      keys,
      valueBytes: options.valueBytes,
      steady: Math.round(options.rate * options.seconds),
      rate: options.rate,
      interval: options.intervalMs,
      periodMs: options.periodMs,
      markerDir,
    },
    onCheckpoint: (checkpoint: CompletedCheckpoint, attempt, c) => {
      // Re-read each time: a restart (planned or not) starts a new update phase.
      steadyAt = steadyStart(markerDir, options.parallelism);
      const seen: CheckpointSeen = {
        id: checkpoint.id,
        attempt,
        triggerEpochMs: checkpoint.timestamp,
        completedEpochMs: Date.now(),
        durationMs: checkpoint.durationMs,
        bytes: checkpoint.bytes,
        steady: steadyAt !== undefined && checkpoint.timestamp >= steadyAt,
      };
      checkpoints.push(seen);
      process.stdout.write(
        `    checkpoint ${String(seen.id).padStart(3)} (attempt ${attempt}${seen.steady ? ', updates' : ', build'}): ${seen.durationMs.toFixed(0).padStart(6)} ms, ${(seen.bytes / 1e6).toFixed(1)} MB\n`,
      );
      if (attempt !== countedAttempt) {
        countedAttempt = attempt;
        steadyCompleted = 0;
      }
      if (!options.kill || windowStart !== undefined || !seen.steady) return;
      if (++steadyCompleted === options.killAfter) {
        windowStart = steadyAt;
        killAttempt = attempt;
        setTimeout(() => {
          restoredFrom = checkpoints.at(-1);
          killEpochMs = epochNow();
          process.stdout.write(`    kill worker 1 (restores checkpoint ${restoredFrom?.id})\n`);
          void c.killWorker(1).catch((error: unknown) => console.error(`    kill failed: ${(error as Error).message}`));
        }, options.killDelayMs);
      }
    },
  });
  let result: JobResult | undefined;
  let failure: string | undefined;
  try {
    result = await client.result;
  } catch (error) {
    failure = (error as Error).message;
    console.log(`    the job FAILED after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${failure}`);
  }
  const wallMs = performance.now() - t0;
  const reports = readReports(markerDir, options.parallelism);
  rmSync(markerDir, { recursive: true, force: true });
  if (result && options.kill && killEpochMs === undefined) {
    console.log(`    no kill: the update phase ended before ${options.killAfter} of its checkpoints completed (raise --seconds)`);
  }
  return {
    stateMb,
    keys,
    wallMs,
    checkpoints,
    windowStartEpochMs: windowStart ?? steadyAt,
    killEpochMs,
    killAttempt: killEpochMs === undefined ? undefined : killAttempt,
    restoredFrom,
    reports,
    faultTolerance: result?.faultTolerance,
    failure,
  };
}

const maxOf = (xs: number[]) => (xs.length === 0 ? undefined : Math.max(...xs));
const medianOf = (xs: number[]) => (xs.length === 0 ? undefined : median(xs));

function summarize(run: RunResult, options: Options): RunSummary & { workerHeapLimitMb?: number } {
  const killAt = run.killEpochMs ?? Infinity;
  const windowStart = run.windowStartEpochMs ?? Infinity;
  // The measured window: the update phase of the attempt the kill hit, up to the kill.
  const steadyCkpts = run.checkpoints.filter((c) => c.triggerEpochMs >= windowStart && c.triggerEpochMs < killAt);
  const periods = run.reports.filter((r): r is PeriodReport => r.type === 'period');
  const snapshots = run.reports.filter((r): r is SnapshotReport => r.type === 'snapshot');
  const steadyIds = new Set(steadyCkpts.map((c) => c.id));
  const steadySnaps = snapshots.filter((s) => steadyIds.has(s.checkpointId));
  const steadyPeriods = periods.filter((p) => !p.build && p.startEpochMs >= windowStart && p.startEpochMs + options.periodMs <= killAt);
  const withCk = steadyPeriods.filter((p) => p.snapshots.length > 0);
  const withoutCk = steadyPeriods.filter((p) => p.snapshots.length === 0);
  // After the kill: skip each subtask's first period (the restart itself is measured apart).
  const restoredPeriods = periods.filter((p) => p.startEpochMs >= killAt);
  const firstRestored = new Map<number, number>();
  for (const p of restoredPeriods) firstRestored.set(p.subtask, Math.min(firstRestored.get(p.subtask) ?? Infinity, p.startEpochMs));
  const laterRestored = restoredPeriods.filter((p) => p.startEpochMs > (firstRestored.get(p.subtask) ?? Infinity));
  const restores = run.reports.filter((r): r is RestoreReport => r.type === 'restored' && r.atEpochMs > killAt);
  const firsts = run.reports.filter((r): r is RestoreReport => r.type === 'first-record' && r.atEpochMs > killAt);
  const planned = run.killEpochMs === undefined ? 0 : 1;
  const summary: RunSummary & { workerHeapLimitMb?: number } = {
    steadyCheckpoints: steadyCkpts.length,
    ckptDurationMedianMs: medianOf(steadyCkpts.map((c) => c.durationMs)),
    ckptDurationMaxMs: maxOf(steadyCkpts.map((c) => c.durationMs)),
    ckptCompletionMedianMs: medianOf(steadyCkpts.map((c) => c.completedEpochMs - c.triggerEpochMs)),
    ckptBytesMedian: medianOf(steadyCkpts.map((c) => c.bytes)),
    snapshotGapMaxMs: maxOf(steadySnaps.map((s) => s.gapMs)),
    snapshotGapMedianMs: medianOf(steadySnaps.map((s) => s.gapMs)),
    snapshotBeforeMedianMs: medianOf(steadySnaps.map((s) => s.beforeMs)),
    snapshotAfterMedianMs: medianOf(steadySnaps.map((s) => s.afterMs)),
    periodsWith: withCk.length,
    withMaxGapMs: maxOf(withCk.map((p) => p.maxGapMs)),
    withMedianMaxGapMs: medianOf(withCk.map((p) => p.maxGapMs)),
    withMedianP99Ms: medianOf(withCk.map((p) => p.p99GapMs)),
    periodsWithout: withoutCk.length,
    withoutMaxGapMs: maxOf(withoutCk.map((p) => p.maxGapMs)),
    withoutMedianMaxGapMs: medianOf(withoutCk.map((p) => p.maxGapMs)),
    withoutMedianP99Ms: medianOf(withoutCk.map((p) => p.p99GapMs)),
    restoredMaxGapMs: maxOf(laterRestored.map((p) => p.maxGapMs)),
    restoredMedianP99Ms: medianOf(laterRestored.map((p) => p.p99GapMs)),
    recoveryMs: run.killAttempt === undefined ? undefined : run.faultTolerance?.recoveryMs[run.killAttempt - 1],
    workerHeapMaxMb: maxOf(periods.map((p) => p.heapUsedMb)),
    workerHeapLimitMb: maxOf(periods.map((p) => p.heapLimitMb)),
    restarts: run.faultTolerance?.restarts ?? NaN,
    unplannedRestarts: run.faultTolerance ? run.faultTolerance.restarts - planned : NaN,
    failed: run.failure === undefined ? 0 : 1,
    wallMs: run.wallMs,
  };
  if (run.killEpochMs !== undefined) {
    const kill = run.killEpochMs;
    if (restores.length > 0) summary.killToOpenMs = Math.max(...restores.map((r) => r.atEpochMs - kill));
    if (firsts.length > 0) {
      summary.killToFirstRecordMs = Math.max(...firsts.map((r) => r.atEpochMs - kill));
      summary.killToFirstRecordMinMs = Math.min(...firsts.map((r) => r.atEpochMs - kill));
    }
    if (run.restoredFrom) {
      summary.replayMs = kill - run.restoredFrom.triggerEpochMs;
      summary.replayRecords = Math.round((options.rate * summary.replayMs) / 1000);
    }
  }
  return summary;
}

/** Median of each numeric field over runs (fields missing in a run are left out of its median). */
function combine(summaries: RunSummary[]): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  const keys = new Set(summaries.flatMap((s) => Object.keys(s)));
  for (const key of keys) {
    const values = summaries
      .map((s) => (s as unknown as Record<string, number | undefined>)[key])
      .filter((v): v is number => v !== undefined);
    out[key] = values.length === 0 ? undefined : median(values);
  }
  return out;
}

/** What encoding one subtask's share of the state costs, whole or per key group. */
interface SnapshotBreakdown {
  stateMb: number;
  /** Keys of the one subtask measured (its share at the benchmark's parallelism). */
  keys: number;
  encodedMb: number;
  /** `snapshotAllKeyGroups()`: the column-wise copy of the structure (whole-state path). */
  structureMs: number;
  /** Whole-state path (the runtime's encoding before copy-on-write snapshots): one `Packr.pack` of the operator's state, fresh Packr (a new worker's first checkpoint). */
  packColdMs: number;
  /** Whole-state path: the copy of the encoded bytes into a buffer of their own (`new Uint8Array(packed)`). */
  copyMs: number;
  /** Whole-state path again with the same Packr (its buffer grown already), as later checkpoints. */
  packWarmMs: number;
  /** Per-key-group path (what copy-on-write snapshots encode): each key group packed and copied on its own, in all. */
  perKeyGroupMs: number;
  /** ... and the slowest single key group: the least pause of copying one key group before a write to it. */
  maxKeyGroupMs: number;
}

/**
 * Times the ways of encoding one subtask's share of the state (state / parallelism), on the main
 * thread, with the heap backend and msgpackr as the runtime uses them: the whole-state path
 * (`snapshotAllKeyGroups`, one `pack` of everything, a copy — the synchronous snapshot before
 * copy-on-write snapshots, where msgpackr grows one buffer by copies), the same with a warm Packr,
 * and one key group at a time (what copy-on-write snapshots encode, before a write or in steps).
 */
function snapshotBreakdown(stateMb: number, options: Options): SnapshotBreakdown {
  const keys = Math.round((stateMb * 1e6) / options.valueBytes / options.parallelism);
  // Every key group, where a subtask owns 128 / parallelism of them: their number barely changes the cost.
  const backend = new HeapKeyedStateBackend(DEFAULT_MAX_PARALLELISM, { start: 0, end: DEFAULT_MAX_PARALLELISM - 1 });
  const entries = backend.getValueState(new ValueStateDescriptor<{ n: number; pad: string }>('entry'));
  for (let k = 0; k < keys; k++) {
    backend.setCurrentKey(k);
    entries.update({ n: 0, pad: `${k}:`.padEnd(options.valueBytes, 'abcdefghijklmnopqrstuvwxyz0123456789') });
  }
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const d = now - t;
    t = now;
    return d;
  };
  const keyed = backend.snapshotAllKeyGroups();
  const structureMs = lap();
  const packr = new Packr({ useRecords: true });
  const packed = packr.pack({ keyed });
  const packColdMs = lap();
  const copy = new Uint8Array(packed);
  const copyMs = lap();
  packr.pack({ keyed: backend.snapshotAllKeyGroups() });
  const packWarmMs = lap();
  const chunked = new Packr({ useRecords: true });
  let maxKeyGroupMs = 0;
  for (const group of keyed) {
    const start = performance.now();
    void new Uint8Array(chunked.pack(group));
    maxKeyGroupMs = Math.max(maxKeyGroupMs, performance.now() - start);
  }
  const perKeyGroupMs = lap();
  backend.dispose();
  return { stateMb, keys, encodedMb: copy.byteLength / 1e6, structureMs, packColdMs, copyMs, packWarmMs, perKeyGroupMs, maxKeyGroupMs };
}

const ms = (v: number | undefined) => (v === undefined ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const count = (v: number | undefined) => (v === undefined ? '—' : String(Math.round(v)));
const mb = (bytes: number | undefined) => (bytes === undefined ? '—' : (bytes / 1e6).toFixed(1));

async function main(): Promise<void> {
  const options = parseOptions();
  ensureHeap(options);
  const machine = machineInfo();
  const command = `tsx bench/checkpoints.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  const startedAt = new Date();
  const revision = sourceRevision();
  const heapLimitMb = Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20);
  console.log(
    `weir checkpoint benchmark — ${startedAt.toISOString()}${revision ? ` — weir ${revision.commit}${revision.srcDirty ? ' + uncommitted src/ changes' : ''}` : ''}`,
  );
  console.log(machineLine(machine));
  console.log(
    `command: ${command}; main heap limit ${heapLimitMb} MB; p=${options.parallelism}, ${options.valueBytes} B per key, updates at ${options.rate}/s for ${options.seconds} s, checkpoint every ${options.intervalMs} ms, ${options.periodMs} ms periods; median of ${options.runs} run(s)`,
  );

  const json: unknown[] = [];
  const rows: { stateMb: number; s: Record<string, number | undefined>; failures: string[] }[] = [];
  for (const stateMb of options.sizesMb) {
    console.log(`\n${stateMb} MB of keyed state (${Math.round((stateMb * 1e6) / options.valueBytes)} keys × ${options.valueBytes} B)`);
    const runs: RunResult[] = [];
    const summaries: RunSummary[] = [];
    for (let r = 0; r < options.runs; r++) {
      console.log(`  run ${r + 1}/${options.runs}`);
      const run = await runOnce(options, stateMb);
      const summary = summarize(run, options);
      runs.push(run);
      summaries.push(summary);
      console.log(
        `  run ${r + 1}: ${(run.wallMs / 1000).toFixed(1)} s, ${summary.steadyCheckpoints} update-phase checkpoints, median ${ms(summary.ckptDurationMedianMs)} ms, max snapshot gap ${ms(summary.snapshotGapMaxMs)} ms, kill → first record ${ms(summary.killToFirstRecordMs)} ms`,
      );
    }
    const s = combine(summaries);
    rows.push({ stateMb, s, failures: runs.flatMap((r) => (r.failure ? [r.failure] : [])) });
    json.push({
      stateMb,
      keys: runs[0].keys,
      valueBytes: options.valueBytes,
      failures: runs.map((r) => r.failure ?? null),
      median: s,
      runs: runs.map((run, i) => ({
        summary: summaries[i],
        wallMs: Number(run.wallMs.toFixed(0)),
        windowStartEpochMs: run.windowStartEpochMs,
        killEpochMs: run.killEpochMs,
        killAttempt: run.killAttempt,
        restoredFromCheckpoint: run.restoredFrom?.id,
        faultTolerance: run.faultTolerance,
        checkpoints: run.checkpoints.map((c) => ({ ...c, durationMs: Number(c.durationMs.toFixed(1)) })),
        snapshots: run.reports.filter((x) => x.type === 'snapshot'),
        restore: run.reports.filter((x) => x.type === 'restored' || x.type === 'first-record'),
        periods: run.reports
          .filter((x): x is PeriodReport => x.type === 'period')
          .map((p) => ({ ...p, maxGapMs: Number(p.maxGapMs.toFixed(2)), p99GapMs: Number(p.p99GapMs.toFixed(2)) })),
      })),
    });
  }

  console.log('\ncheckpoints of the update phase (whole state), before the kill');
  console.log(
    textTable(
      [
        'state',
        '>keys',
        '>ckpts',
        '>size MB',
        '>duration ms (median)',
        '>duration ms (max)',
        '>trigger → stored ms',
        '>worker heap MB',
        '>unplanned restarts',
      ],
      rows.map(({ stateMb, s }) => [
        `${stateMb} MB`,
        String(Math.round((stateMb * 1e6) / options.valueBytes)),
        count(s.steadyCheckpoints),
        mb(s.ckptBytesMedian),
        ms(s.ckptDurationMedianMs),
        ms(s.ckptDurationMaxMs),
        ms(s.ckptCompletionMedianMs),
        s.workerHeapMaxMb === undefined ? '—' : `${s.workerHeapMaxMb} / ${s.workerHeapLimitMb}`,
        count(s.unplannedRestarts),
      ]),
    ),
  );
  console.log(`\nprocessing gaps at the keyed operator (ms), ${options.periodMs} ms periods of the update phase before the kill`);
  console.log(
    textTable(
      [
        'state',
        '>snapshot gap max',
        '>snapshot gap median',
        '>periods w/ ckpt',
        '>max gap',
        '>median max gap',
        '>median p99',
        '>periods w/o',
        '>max gap ',
        '>median max gap ',
        '>median p99 ',
      ],
      rows.map(({ stateMb, s }) => [
        `${stateMb} MB`,
        ms(s.snapshotGapMaxMs),
        ms(s.snapshotGapMedianMs),
        count(s.periodsWith),
        ms(s.withMaxGapMs),
        ms(s.withMedianMaxGapMs),
        ms(s.withMedianP99Ms),
        count(s.periodsWithout),
        ms(s.withoutMaxGapMs),
        ms(s.withoutMedianMaxGapMs),
        ms(s.withoutMedianP99Ms),
      ]),
    ),
  );
  if (options.kill) {
    console.log('\nrecovery from killing worker 1 (ms)');
    console.log(
      textTable(
        [
          'state',
          '>master recovery',
          '>kill → restored open',
          '>kill → first record (slowest)',
          '>(fastest)',
          '>replay records',
          '>replay ms',
          '>max gap after',
          '>p99 after',
        ],
        rows.map(({ stateMb, s }) => [
          `${stateMb} MB`,
          ms(s.recoveryMs),
          ms(s.killToOpenMs),
          ms(s.killToFirstRecordMs),
          ms(s.killToFirstRecordMinMs),
          s.replayRecords === undefined ? '—' : String(Math.round(s.replayRecords)),
          ms(s.replayMs),
          ms(s.restoredMaxGapMs),
          ms(s.restoredMedianP99Ms),
        ]),
      ),
    );
  }

  for (const { stateMb, failures } of rows) {
    for (const failure of failures) console.log(`\n${stateMb} MB: a run FAILED: ${failure}`);
  }

  const breakdowns: SnapshotBreakdown[] = [];
  if (options.breakdown) {
    console.log(
      `\nencoding one subtask's share of the state (state / ${options.parallelism}), ms, on the main thread: whole state at once vs per key group`,
    );
    for (const stateMb of options.sizesMb) {
      const b = snapshotBreakdown(stateMb, options);
      breakdowns.push(b);
      (globalThis as { gc?: () => void }).gc?.();
    }
    console.log(
      textTable(
        [
          'state',
          '>subtask keys',
          '>encoded MB',
          '>whole: structure',
          '>pack (cold)',
          '>copy',
          '>total',
          '>pack (warm)',
          '>per key group: all',
          '>slowest group',
        ],
        breakdowns.map((b) => [
          `${b.stateMb} MB`,
          String(b.keys),
          b.encodedMb.toFixed(1),
          ms(b.structureMs),
          ms(b.packColdMs),
          ms(b.copyMs),
          ms(b.structureMs + b.packColdMs + b.copyMs),
          ms(b.packWarmMs),
          ms(b.perKeyGroupMs),
          ms(b.maxKeyGroupMs),
        ]),
      ),
    );
  }

  const targets: { target: string; measured: string; met: boolean }[] = [];
  for (const { stateMb, s, failures } of rows) {
    if (failures.length > 0 || (s.unplannedRestarts ?? 0) > 0) {
      targets.push({
        target: `${stateMb} MB: the job runs to its end with no restart but the planned kill`,
        measured:
          failures.length > 0
            ? `failed ${failures.length} of ${options.runs} run(s)`
            : `${count(s.unplannedRestarts)} unplanned restart(s) (median)`,
        met: false,
      });
    }
    if (s.steadyCheckpoints === undefined || s.steadyCheckpoints === 0) {
      targets.push({
        target: `${stateMb} MB: no processing pause over ${PAUSE_TARGET_MS} ms`,
        measured: 'no checkpoint completed',
        met: false,
      });
      continue;
    }
    const worst = Math.max(s.withMaxGapMs ?? 0, s.withoutMaxGapMs ?? 0, s.snapshotGapMaxMs ?? 0);
    targets.push({
      target: `${stateMb} MB: no processing pause over ${PAUSE_TARGET_MS} ms`,
      measured: `${ms(worst)} ms`,
      met: worst <= PAUSE_TARGET_MS,
    });
    if (s.killToFirstRecordMs !== undefined) {
      targets.push({
        target: `${stateMb} MB: processing again within ${RECOVERY_TARGET_MS} ms of a kill (then replay)`,
        measured: `${ms(s.killToFirstRecordMs)} ms (+ replay ${ms(s.replayMs)} ms)`,
        met: s.killToFirstRecordMs <= RECOVERY_TARGET_MS,
      });
    }
  }
  console.log('\ntargets');
  console.log(
    textTable(
      ['target', '>measured', 'met'],
      targets.map((t) => [t.target, t.measured, t.met ? 'yes' : 'NO']),
    ),
  );
  writeResults(
    options.out,
    { benchmark: 'checkpoints', startedAt, command, revision, machine: { ...machine, mainHeapLimitMb: heapLimitMb } },
    { config: { ...options, out: undefined }, results: json, snapshotBreakdown: breakdowns, targets },
  );
  console.log(`results written to ${options.out}`);
  const lines = [
    '| keyed state | checkpoint (median) | longest pause around a snapshot | longest pause in any period | kill → processing again (slowest subtask) | replay |',
    '|---|--:|--:|--:|--:|--:|',
    ...rows.map(({ stateMb, s, failures }) => {
      const worst = Math.max(s.withMaxGapMs ?? 0, s.withoutMaxGapMs ?? 0, s.snapshotGapMaxMs ?? 0);
      const size = stateMb >= 1000 ? `${stateMb / 1000} GB` : `${stateMb} MB`;
      if (failures.length > 0) return `| ${size} | failed ${failures.length} of ${options.runs} run(s) | | | | |`;
      return `| ${size} | ${ms(s.ckptDurationMedianMs)} ms | ${ms(s.snapshotGapMaxMs)} ms | ${ms(worst)} ms | ${s.killToFirstRecordMs === undefined ? '—' : `${ms(s.killToFirstRecordMs)} ms`} | ${s.replayMs === undefined ? '—' : `${ms(s.replayMs)} ms`} |`;
    }),
  ];
  const targetLines = [
    '| target | measured | met |',
    '|---|--:|---|',
    ...targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`),
  ];
  const provenance = provenanceLine({ benchmark: 'checkpoints', startedAt, command, revision, machine }, [
    machine.loadAverage1m,
    machineInfo().loadAverage1m,
  ]);
  const markdown = `${lines.join('\n')}\n\n${targetLines.join('\n')}\n\n${provenance}`;
  console.log(`\n${markdown}`);
  if (options.readme) updateReadmeSection('checkpoints', markdown);
}

await main();
