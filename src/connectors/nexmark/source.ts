//! The Nexmark source: a bounded, replayable, parallel weir Source of Nexmark events with event-time timestamps, checkpointed by event number.

import type { ReaderOutput, Source, SourceReader, SourceReaderContext, SourceStatus } from '../../actors/operator.ts';
import type { NexmarkConfig } from './config.ts';
import { NexmarkGenerator } from './generator.ts';
import type { NexmarkEvent } from './model.ts';

/**
 * The event numbers subtask `index` of `parallelism` reads out of `events`: `index`,
 * `index + parallelism`, ... (strided). Every subtask walks the whole event-time range at the same
 * pace, as Beam's parallel generators do, so watermarks advance together and windows close as the
 * job runs; contiguous ranges would hold every window of the later ranges until the first ends.
 */
export function nexmarkSplit(events: number, index: number, parallelism: number): { first: number; step: number; count: number } {
  const count = index < events ? Math.floor((events - 1 - index) / parallelism) + 1 : 0;
  return { first: index, step: parallelism, count };
}

/** Events a previous run emitted: number `n` is done when `n < nexts[n % step]`. */
export interface NexmarkDoneFilter {
  step: number;
  nexts: number[];
}

/**
 * A reader's checkpointed position: it reads `index, index + step, ...` and `next` is the next
 * number it emits. `done` lists what earlier runs at other parallelisms emitted beyond that, so a
 * restore at any parallelism neither repeats nor loses an event.
 */
export interface NexmarkReaderState {
  step: number;
  index: number;
  next: number;
  done: NexmarkDoneFilter[];
}

function isReaderState(s: unknown): s is NexmarkReaderState {
  const r = s as NexmarkReaderState;
  return (
    typeof r === 'object' &&
    r !== null &&
    Number.isInteger(r.step) &&
    Number.isInteger(r.index) &&
    Number.isInteger(r.next) &&
    Array.isArray(r.done)
  );
}

function maxNext(f: NexmarkDoneFilter): number {
  let m = 0;
  for (const v of f.nexts) if (v > m) m = v;
  return m;
}

/**
 * What the states of every subtask of a previous run say is done, newest first: the previous
 * run's own positions, then the filters its readers still carried.
 */
export function nexmarkDoneFilters(states: readonly unknown[]): NexmarkDoneFilter[] {
  if (states.length === 0) return [];
  const ok = states.filter(isReaderState);
  if (ok.length !== states.length) throw new TypeError('nexmark: restored state is not a Nexmark reader state');
  const step = ok[0].step;
  const nexts: number[] = new Array(step).fill(-1);
  for (const s of ok) {
    if (s.step !== step || s.index < 0 || s.index >= step)
      throw new RangeError(`nexmark: restored states mix parallelisms (${s.step} vs ${step})`);
    nexts[s.index] = s.next;
  }
  if (nexts.includes(-1)) throw new RangeError(`nexmark: restored states miss a subtask of ${step}`);
  // Each reader dropped the filters it had passed; another may still need them, so take the union.
  const carried = new Map<string, NexmarkDoneFilter>();
  for (const s of ok) for (const f of s.done) carried.set(`${f.step}:${f.nexts.join(',')}`, f);
  return [{ step, nexts }, ...carried.values()];
}

/**
 * Reads one subtask's share of the Nexmark stream. Its position is the next event number, so a
 * checkpoint stores one number (plus, after a restore at another parallelism, which numbers the
 * previous run had already emitted ahead of it).
 */
export class NexmarkReader implements SourceReader<NexmarkEvent> {
  private readonly generator: NexmarkGenerator;
  private next: number;
  private readonly index: number;
  private readonly step: number;
  private readonly end: number;
  private readonly rate: number;
  private readonly realTime: boolean;
  private done: NexmarkDoneFilter[];
  /** Below this number no filter in {@link done} can apply. */
  private doneUntil: number;
  private emitted = 0;
  private startedAt = 0;
  private pause: Promise<void> | undefined;

  constructor(config: NexmarkConfig, index: number, parallelism: number, restoredStates?: readonly unknown[]) {
    this.generator = new NexmarkGenerator(config);
    const { first, step, count } = nexmarkSplit(this.generator.config.events, index, parallelism);
    this.index = index;
    this.step = step;
    this.end = first + count * step;
    this.next = first;
    this.done = restoredStates ? nexmarkDoneFilters(restoredStates) : [];
    if (this.done.length > 0) {
      // Everything below the newest run's lowest position is done: start at our first number above it.
      const newest = this.done[0];
      let low = Infinity;
      for (const v of newest.nexts) if (v < low) low = v;
      if (low > first) this.next = first + Math.ceil((low - first) / step) * step;
    }
    this.doneUntil = 0;
    this.prune();
    const perSecond = this.generator.config.maxEventsPerSecond;
    this.rate = perSecond > 0 ? perSecond / parallelism : 0;
    this.realTime = this.generator.config.realTime;
  }

  /** The next event number this reader emits: its offset. */
  get position(): number {
    return this.next;
  }

  /** Drops the filters no later number of this reader can fall under. */
  private prune(): void {
    this.done = this.done.filter((f) => maxNext(f) > this.next);
    this.doneUntil = this.done.reduce((m, f) => Math.max(m, maxNext(f)), 0);
  }

  private isDone(n: number): boolean {
    for (const f of this.done) if (n < f.nexts[n % f.step]) return true;
    return false;
  }

  pollNext(output: ReaderOutput<NexmarkEvent>, maxRecords: number): SourceStatus {
    const gen = this.generator;
    const step = this.step;
    let limit = Math.min(this.end, this.next + maxRecords * step);
    if (this.rate > 0) {
      const now = performance.now();
      if (this.startedAt === 0) this.startedAt = now;
      const allowed = Math.floor(((now - this.startedAt) / 1000) * this.rate);
      if (allowed <= this.emitted) {
        const waitMs = Math.max(1, ((this.emitted + 1) / this.rate) * 1000 - (now - this.startedAt));
        this.pause = new Promise((resolve) => setTimeout(resolve, waitMs));
        return 'wait';
      }
      limit = Math.min(limit, this.next + (allowed - this.emitted) * step);
    }
    if (this.realTime && this.next < limit) {
      // Only events whose event time the wall clock has reached.
      const now = Date.now();
      const first = gen.timestamp(this.next);
      if (first > now) {
        this.pause = new Promise((resolve) => setTimeout(resolve, first - now));
        return 'wait';
      }
      let m = this.next;
      while (m < limit && gen.timestamp(m) <= now) m += step;
      limit = m;
    }
    let n = this.next;
    if (this.done.length > 0) {
      for (; n < limit && n < this.doneUntil; n += step) {
        if (this.isDone(n)) continue;
        const event = gen.event(n);
        output.collect(event, event.dateTime);
        this.emitted++;
      }
      this.next = n;
      if (n >= this.doneUntil) this.prune();
    }
    for (; n < limit; n += step) {
      const event = gen.event(n);
      output.collect(event, event.dateTime);
    }
    this.emitted += (n - this.next) / step;
    this.next = n;
    return n >= this.end ? 'end' : 'more';
  }

  available(): Promise<void> {
    return this.pause ?? Promise.resolve();
  }

  snapshotState(): NexmarkReaderState {
    return { step: this.step, index: this.index, next: this.next, done: this.done.map((f) => ({ step: f.step, nexts: f.nexts.slice() })) };
  }
}

/**
 * A bounded source of `config.events` Nexmark events (Flink Nexmark's `NexmarkSource`), each
 * emitted with its event time (`dateTime`) as the record timestamp. Subtasks read strided event
 * numbers ({@link nexmarkSplit}); whatever the parallelism, the job sees the same multiset of
 * events, and a restore at any parallelism resumes exactly where the checkpoint was. Pair it with
 * `WatermarkStrategy.forMonotonousTimestamps()` when `outOfOrderGroupSize` is 1, else with a
 * bounded out-of-orderness of `new NexmarkGenerator(config).maxOutOfOrdernessMs()`.
 */
export function nexmarkSource(config: NexmarkConfig = {}, name = 'Nexmark Source'): Source<NexmarkEvent> {
  new NexmarkGenerator(config); // validate on the main thread, before deploy
  return {
    name,
    createReader: (ctx: SourceReaderContext) => new NexmarkReader(config, ctx.subtaskIndex, ctx.parallelism, ctx.restoredStates),
  };
}
