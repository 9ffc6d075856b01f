//! Checkpoint benchmark job: build N keys of fixed-size ValueState, then a rate-limited stream of updates; a chained sink measures processing gaps and reports them live.

import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';
import {
  KeyedProcessFunction,
  RestartStrategies,
  ValueStateDescriptor,
  defineJob,
  type Collector,
  type KeyedProcessContext,
  type OperatorContext,
  type Sink,
  type SinkWriter,
  type Source,
  type SourceOutput,
  type SourceReader,
  type SourceReaderContext,
  type SourceStatus,
  type ValueState,
} from '../../src/index.ts';

/**
 * File (in the run's `markerDir`) where subtask `subtask` appends its reports, one JSON object a
 * line. A file, not a collect sink: reports must survive a killed or failed attempt (the job
 * master drops what a dead attempt sends), and the runtime under test must not carry its own
 * measurements.
 */
export function reportFile(markerDir: string, subtask: number): string {
  return join(markerDir, `reports-${subtask}.jsonl`);
}

/** Gap statistics of one period of one subtask, as the sink reports them. */
export interface PeriodReport {
  type: 'period';
  subtask: number;
  /** Whether this subtask's writer was restored from a checkpoint (the attempt after a kill). */
  restored: boolean;
  /** Period start, epoch ms (`performance.timeOrigin + performance.now()`, comparable across threads). */
  startEpochMs: number;
  /** Records processed in the period. */
  records: number;
  /** Largest gap between two consecutive records that ended in this period, ms. */
  maxGapMs: number;
  /** 99th percentile of those gaps, ms. */
  p99GapMs: number;
  /** Whether any of the period's records were still in the build phase (index < keys). */
  build: boolean;
  /** Checkpoint ids whose snapshot gap (last record before → first record after this subtask's snapshot) ended in the period. */
  snapshots: number[];
  /** Used JS heap of this worker thread at the period's end, MB. */
  heapUsedMb: number;
  /** This worker thread's heap limit, MB (worker threads inherit `--max-old-space-size`). */
  heapLimitMb: number;
}

/** The gap around one snapshot: last record before it → snapshot hook → first record after it. */
export interface SnapshotReport {
  type: 'snapshot';
  subtask: number;
  restored: boolean;
  checkpointId: number;
  /** Epoch ms of the sink's snapshot hook (called right after the keyed operator's synchronous snapshot part, in the same chain). */
  atEpochMs: number;
  /** Last record before the barrier → sink snapshot hook (alignment + the keyed operator's synchronous snapshot part), ms. */
  beforeMs: number;
  /** Sink snapshot hook → first record after it (acknowledgement, and copy-on-write copies before the next write), ms. */
  afterMs: number;
  /** The whole gap in processing around the snapshot, ms. */
  gapMs: number;
}

/** A restored writer's first record: how long after the kill processing resumed. */
export interface RestoreReport {
  type: 'restored' | 'first-record';
  subtask: number;
  atEpochMs: number;
  /** Source index of the record (first-record only). */
  index?: number;
}

/** Everything the sink reports. */
export type PauseReport = PeriodReport | SnapshotReport | RestoreReport;

/** Epoch ms with sub-millisecond resolution, comparable across threads. */
function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A deterministic scramble of an index onto `[0, keys)` (steady-phase updates hit keys uniformly). */
export function updateKey(index: number, keys: number): number {
  let h = Math.imul(index ^ (index >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return ((h ^ (h >>> 16)) >>> 0) % keys;
}

/** Record `index`'s key: the build phase creates key `index`, the steady phase updates scrambled keys. */
export function keyOfIndex(index: number, keys: number): number {
  return index < keys ? index : updateKey(index, keys);
}

/** A flat, per-key distinct string of `bytes` one-byte characters. */
function makePad(key: number, bytes: number): string {
  return `${key}:`.padEnd(bytes, 'abcdefghijklmnopqrstuvwxyz0123456789');
}

/** A reader's remaining work: `[buildNext, buildEnd, steadyNext, steadyEnd]`. */
type PhaseState = [number, number, number, number];

/**
 * Emits this subtask's share of the build indices `[0, keys)` as fast as it can, then its share
 * of the steady indices `[keys, keys + steady)` at `rate` records/s (over all subtasks). The
 * state is the four positions, so a restore resumes at the barrier. Each reader instance writes
 * `steady-<subtask>` (epoch ms) into `markerDir` when it reaches the update phase, so that the
 * benchmark knows when the build phase of the current attempt ended.
 */
class PhaseReader implements SourceReader<number> {
  private steadyStartedAt = -1;
  private steadyEmitted = 0;
  private pause: Promise<void> | undefined;
  private marked = false;
  constructor(
    private readonly state: PhaseState,
    private readonly rate: number,
    private readonly markerDir: string,
    private readonly subtask: number,
  ) {}
  pollNext(output: SourceOutput<number>, maxRecords: number): SourceStatus {
    const s = this.state;
    let budget = maxRecords;
    while (budget > 0 && s[0] < s[1]) {
      output.collect(s[0]++);
      budget--;
    }
    if (s[0] < s[1]) return 'more';
    if (s[2] >= s[3]) return 'end';
    if (budget === 0) return 'more';
    const now = performance.now();
    if (this.steadyStartedAt < 0) {
      this.steadyStartedAt = now;
      if (!this.marked) {
        this.marked = true;
        // Every reader instance writes it: after a restart from scratch the update phase starts again.
        writeFileSync(join(this.markerDir, `steady-${this.subtask}`), String(epochNow()));
      }
    }
    if (this.rate > 0) {
      const allowed = Math.floor(((now - this.steadyStartedAt) / 1000) * this.rate) - this.steadyEmitted;
      if (allowed <= 0) {
        const waitMs = Math.max(1, ((this.steadyEmitted + 1) / this.rate) * 1000 - (now - this.steadyStartedAt));
        this.pause = new Promise((resolve) => setTimeout(resolve, waitMs));
        return 'wait';
      }
      budget = Math.min(budget, allowed);
    }
    const end = Math.min(s[3], s[2] + budget);
    this.steadyEmitted += end - s[2];
    while (s[2] < end) output.collect(s[2]++);
    return s[2] >= s[3] ? 'end' : 'more';
  }
  available(): Promise<void> {
    return this.pause ?? Promise.resolve();
  }
  snapshotState(): PhaseState {
    return [...this.state];
  }
}

function share(from: number, count: number, index: number, parallelism: number): [number, number] {
  return [from + Math.floor((index * count) / parallelism), from + Math.floor(((index + 1) * count) / parallelism)];
}

/** The build-then-steady source (see {@link PhaseReader}). */
function phaseSource(keys: number, steady: number, rate: number, markerDir: string): Source<number> {
  return {
    name: 'Phases',
    createReader: (ctx: SourceReaderContext) => {
      const restored = ctx.restoredStates as PhaseState[] | undefined;
      let state: PhaseState;
      if (restored) {
        if (restored.length !== ctx.parallelism) throw new Error('ckpt-state: restore at another parallelism is not supported');
        state = [...restored[ctx.subtaskIndex]];
      } else {
        state = [...share(0, keys, ctx.subtaskIndex, ctx.parallelism), ...share(keys, steady, ctx.subtaskIndex, ctx.parallelism)];
      }
      return new PhaseReader(state, rate / ctx.parallelism, markerDir, ctx.subtaskIndex);
    },
  };
}

/** A value of the benchmark's keyed state: a counter and the fixed-size payload that makes the state big. */
interface Entry {
  n: number;
  pad: string;
}

/** Creates each key's entry in the build phase and bumps its counter on every update; emits the record's index. */
class StateUpdater extends KeyedProcessFunction<number, number, number> {
  private entry!: ValueState<Entry>;
  constructor(private readonly valueBytes: number) {
    super();
  }
  override open(): void {
    this.entry = this.getRuntimeContext().getState(new ValueStateDescriptor<Entry>('entry'));
  }
  processElement(index: number, ctx: KeyedProcessContext<number>, out: Collector<number>): void {
    const old = this.entry.value();
    if (old === undefined || old === null) this.entry.update({ n: 0, pad: makePad(ctx.getCurrentKey(), this.valueBytes) });
    else this.entry.update({ n: old.n + 1, pad: old.pad });
    out.collect(index);
  }
}

/** The 99th percentile of the first `n` values of `gaps` (sorted in place). */
function p99(gaps: Float64Array, n: number): number {
  if (n === 0) return 0;
  const sorted = gaps.subarray(0, n).sort();
  return sorted[Math.min(n - 1, Math.floor(n * 0.99))];
}

/**
 * The measuring sink, chained to the keyed operator (so `write` runs inside its `processElement`):
 * gaps between consecutive records per period, the gap around each snapshot, and after a restore
 * the time of the first record. Reports are appended to {@link reportFile} as they happen.
 */
function pauseSink(keys: number, periodMs: number, markerDir: string): Sink<number> {
  return {
    name: 'Pause Meter',
    createWriter: (ctx: OperatorContext): SinkWriter<number> => {
      const subtask = ctx.subtaskIndex;
      const file = reportFile(markerDir, subtask);
      const send = (report: PauseReport) => appendFileSync(file, `${JSON.stringify(report)}\n`);
      let restored = false;
      let awaitingFirst = false;
      let lastAt = -1;
      let period = -1;
      let gaps = new Float64Array(1 << 16);
      let n = 0;
      let records = 0;
      let maxGap = 0;
      let build = false;
      let snapshots: number[] = [];
      let pending: { id: number; prevAt: number; snapAt: number } | undefined;
      const closePeriod = () => {
        if (period < 0) return;
        const heap = v8.getHeapStatistics();
        send({
          type: 'period',
          subtask,
          restored,
          startEpochMs: period * periodMs,
          records,
          maxGapMs: maxGap,
          p99GapMs: p99(gaps, n),
          build,
          snapshots,
          heapUsedMb: Math.round(heap.used_heap_size / 1e6),
          heapLimitMb: Math.round(heap.heap_size_limit / 2 ** 20),
        });
        n = 0;
        records = 0;
        maxGap = 0;
        build = false;
        snapshots = [];
      };
      return {
        open(states) {
          restored = states !== undefined;
          awaitingFirst = restored;
          if (restored) send({ type: 'restored', subtask, atEpochMs: epochNow() });
        },
        write(index) {
          const now = performance.now();
          const epoch = performance.timeOrigin + now;
          if (awaitingFirst) {
            awaitingFirst = false;
            send({ type: 'first-record', subtask, atEpochMs: epoch, index });
          }
          const p = Math.floor(epoch / periodMs);
          if (p !== period) {
            closePeriod();
            period = p;
          }
          if (lastAt >= 0) {
            const gap = now - lastAt;
            if (n === gaps.length) {
              const bigger = new Float64Array(gaps.length * 2);
              bigger.set(gaps);
              gaps = bigger;
            }
            gaps[n++] = gap;
            if (gap > maxGap) maxGap = gap;
          }
          if (pending) {
            // The period in which the gap around a snapshot ends is the one "with a checkpoint".
            snapshots.push(pending.id);
            send({
              type: 'snapshot',
              subtask,
              restored,
              checkpointId: pending.id,
              atEpochMs: performance.timeOrigin + pending.snapAt,
              beforeMs: pending.prevAt < 0 ? 0 : pending.snapAt - pending.prevAt,
              afterMs: now - pending.snapAt,
              gapMs: pending.prevAt < 0 ? now - pending.snapAt : now - pending.prevAt,
            });
            pending = undefined;
          }
          records++;
          if (index < keys) build = true;
          lastAt = now;
        },
        snapshotState(checkpointId) {
          const now = performance.now();
          pending = { id: checkpointId, prevAt: lastAt, snapAt: now };
          // Some state, so that a restored writer knows it was restored.
          return checkpointId;
        },
        endInput: closePeriod,
      };
    },
  };
}

/**
 * Params: `keys`, `valueBytes` (payload per key), `steady` (update records after the build),
 * `rate` (steady records/s over all subtasks), `interval` (checkpoint ms), `periodMs` (gap
 * statistics period), `markerDir` (where the source marks the end of the build phase and the sink
 * writes its reports), `restarts` (fixed-delay attempts, default 2).
 */
export default defineJob((env, params) => {
  const keys = Number(params.keys ?? 100_000);
  const valueBytes = Number(params.valueBytes ?? 1000);
  const steady = Number(params.steady ?? 200_000);
  const rate = Number(params.rate ?? 20_000);
  const periodMs = Number(params.periodMs ?? 1000);
  const markerDir = String(params.markerDir ?? '');
  if (!markerDir) throw new RangeError('ckpt-state needs the markerDir param (where reports are written)');
  env.enableCheckpointing(Number(params.interval ?? 3000));
  env.setRestartStrategy(RestartStrategies.fixedDelay(Number(params.restarts ?? 2), 10));
  env
    .fromSource(phaseSource(keys, steady, rate, markerDir))
    .keyBy((i) => keyOfIndex(i, keys))
    .process(new StateUpdater(valueBytes))
    .name('State Updater')
    .sinkTo(pauseSink(keys, periodMs, markerDir));
});
