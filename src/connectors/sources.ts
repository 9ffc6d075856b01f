//! Bounded built-in sources: a collection, a number sequence, and an index-driven generator.

import type { Source, SourceOutput, SourceReader, SourceReaderContext, SourceStatus } from '../actors/operator.ts';

/** The share `[start, end)` of `count` items that subtask `index` of `parallelism` reads. */
export function splitRange(count: number, index: number, parallelism: number): { start: number; end: number } {
  return { start: Math.floor((index * count) / parallelism), end: Math.floor(((index + 1) * count) / parallelism) };
}

/** A remaining index range `[next, end)` of an index-driven source: its split state. */
export type IndexRange = [next: number, end: number];

/**
 * Reads index ranges (splits) one after the other; its checkpoint state is the remaining ranges,
 * so a restore resumes exactly where the barrier was, at any parallelism.
 */
class IndexReader<T> implements SourceReader<T> {
  private readonly startedAt = performance.now();
  private pause: Promise<void> | undefined;
  private emitted = 0;
  constructor(
    private readonly ranges: IndexRange[],
    private readonly produce: (index: number, output: SourceOutput<T>) => void,
    /** Records per second for this reader, or 0 for as fast as possible. */
    private readonly rate = 0,
    /** How samples name this reader's input (`generator 1/2`). */
    readonly mainSplitName?: string,
  ) {}
  pollNext(output: SourceOutput<T>, maxRecords: number): SourceStatus {
    let budget = maxRecords;
    if (this.rate > 0) {
      const allowed = Math.floor(((performance.now() - this.startedAt) / 1000) * this.rate) - this.emitted;
      if (allowed <= 0) {
        const waitMs = Math.max(1, ((this.emitted + 1) / this.rate) * 1000 - (performance.now() - this.startedAt));
        this.pause = new Promise((resolve) => setTimeout(resolve, waitMs));
        return 'wait';
      }
      budget = Math.min(budget, allowed);
    }
    const produce = this.produce;
    while (budget > 0 && this.ranges.length > 0) {
      const range = this.ranges[0];
      const limit = Math.min(range[1], range[0] + budget);
      let i = range[0];
      for (; i < limit; i++) produce(i, output);
      budget -= i - range[0];
      this.emitted += i - range[0];
      range[0] = i;
      if (i >= range[1]) this.ranges.shift();
    }
    return this.ranges.length === 0 ? 'end' : 'more';
  }
  available(): Promise<void> {
    return this.pause ?? Promise.resolve();
  }
  snapshotState(): IndexRange[] {
    return this.ranges.map((r) => [r[0], r[1]]);
  }
}

/**
 * The ranges subtask `index` of `parallelism` reads: its contiguous share of `[0, count)` on a
 * fresh start; after a restore, every remaining range of the old readers whose last index lies in
 * that share. A range shrinks only from its front, so its last index never changes: at the same
 * parallelism every reader gets back exactly its own ranges, whichever reader has finished. That
 * matters for unaligned checkpoints: a reader's unshipped batches are restored on its own output
 * channels, and its next records must follow them on those channels (dealt to another reader,
 * they would overtake them on another channel). After a rescale, each range goes to the reader
 * whose share holds its end, and stays there.
 */
export function rangesFor(count: number, context: SourceReaderContext): IndexRange[] {
  const restored = context.restoredStates;
  const { start, end } = splitRange(count, context.subtaskIndex, context.parallelism);
  if (restored === undefined) return start < end ? [[start, end]] : [];
  // A range past `count` (a job that now counts fewer) goes to the last reader rather than nowhere.
  const last = context.subtaskIndex === context.parallelism - 1;
  const mine = (r: IndexRange) => {
    const at = Math.max(0, r[1] - 1);
    return (at >= start && at < end) || (last && at >= count);
  };
  return (restored as IndexRange[][])
    .flat()
    .filter((r) => r[0] < r[1] && mine(r))
    .sort((a, b) => a[0] - b[0])
    .map((r) => [r[0], r[1]]);
}

/** A bounded, non-parallel source of the given items, in order (Flink's `fromCollection`). */
export function collectionSource<T>(items: readonly T[], name = 'Collection Source'): Source<T> {
  const data = items.slice();
  return {
    name,
    maxParallelism: 1,
    createReader: (ctx: SourceReaderContext) => new IndexReader<T>(rangesFor(data.length, ctx), (i, out) => out.collect(data[i])),
  };
}

/** The numbers `from..to` (inclusive), split across subtasks in contiguous ranges (Flink's `fromSequence`). */
export function sequenceSource(from: number, to: number, name = 'Sequence Source'): Source<number> {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw new TypeError(`fromSequence needs safe integers, got ${from}..${to}`);
  if (to < from) throw new RangeError(`fromSequence: 'to' (${to}) is before 'from' (${from})`);
  const count = to - from + 1;
  return {
    name,
    createReader: (ctx: SourceReaderContext) => new IndexReader<number>(rangesFor(count, ctx), (i, out) => out.collect(from + i)),
  };
}

/** Options of {@link generatorSource}. */
export interface GeneratorSourceOptions<T> {
  /** How many records in all (across subtasks). */
  count: number;
  /** Builds record number `index` (0-based); must be deterministic for replay. */
  generate: (index: number) => T;
  /** Event-time timestamp of record `index`, if records carry one. */
  timestamp?: (index: number, value: T) => number;
  /** Records per second over all subtasks; unlimited when absent. */
  recordsPerSecond?: number;
  /** Operator name. */
  name?: string;
}

/**
 * A bounded generator (Flink's DataGeneratorSource): record `i` is `generate(i)`; subtasks take
 * contiguous index ranges, so the source is deterministic and replayable by index.
 */
export function generatorSource<T>(options: GeneratorSourceOptions<T>): Source<T> {
  const { count, generate, timestamp } = options;
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`generator count must be a non-negative integer, got ${count}`);
  return {
    name: options.name ?? 'Generator Source',
    createReader: (ctx: SourceReaderContext) => {
      const rate = options.recordsPerSecond ? options.recordsPerSecond / ctx.parallelism : 0;
      const produce = timestamp
        ? (i: number, out: SourceOutput<T>) => {
            const value = generate(i);
            out.collect(value, timestamp(i, value));
          }
        : (i: number, out: SourceOutput<T>) => out.collect(generate(i));
      return new IndexReader<T>(rangesFor(count, ctx), produce, rate, `generator ${ctx.subtaskIndex}/${ctx.parallelism}`);
    },
  };
}
