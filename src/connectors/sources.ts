//! Bounded built-in sources: a collection, a number sequence, and an index-driven generator.

import type { Source, SourceOutput, SourceReader, SourceReaderContext, SourceStatus } from '../actors/operator.ts';

/** The share `[start, end)` of `count` items that subtask `index` of `parallelism` reads. */
export function splitRange(count: number, index: number, parallelism: number): { start: number; end: number } {
  return { start: Math.floor((index * count) / parallelism), end: Math.floor(((index + 1) * count) / parallelism) };
}

class IndexReader<T> implements SourceReader<T> {
  private next: number;
  private readonly startedAt = performance.now();
  private pause: Promise<void> | undefined;
  constructor(
    start: number,
    private readonly end: number,
    private readonly produce: (index: number, output: SourceOutput<T>) => void,
    /** Records per second for this reader, or 0 for as fast as possible. */
    private readonly rate = 0,
    private readonly first = start,
  ) {
    this.next = start;
  }
  pollNext(output: SourceOutput<T>, maxRecords: number): SourceStatus {
    let limit = Math.min(this.end, this.next + maxRecords);
    if (this.rate > 0) {
      const allowed = this.first + Math.floor(((performance.now() - this.startedAt) / 1000) * this.rate);
      if (allowed <= this.next) {
        const waitMs = Math.max(1, ((this.next + 1 - this.first) / this.rate) * 1000 - (performance.now() - this.startedAt));
        this.pause = new Promise((resolve) => setTimeout(resolve, waitMs));
        return 'wait';
      }
      limit = Math.min(limit, allowed);
    }
    const produce = this.produce;
    let i = this.next;
    for (; i < limit; i++) produce(i, output);
    this.next = i;
    return i >= this.end ? 'end' : 'more';
  }
  available(): Promise<void> {
    return this.pause ?? Promise.resolve();
  }
}

/** A bounded, non-parallel source of the given items, in order (Flink's `fromCollection`). */
export function collectionSource<T>(items: readonly T[], name = 'Collection Source'): Source<T> {
  const data = items.slice();
  return {
    name,
    maxParallelism: 1,
    createReader: () => new IndexReader<T>(0, data.length, (i, out) => out.collect(data[i])),
  };
}

/** The numbers `from..to` (inclusive), split across subtasks in contiguous ranges (Flink's `fromSequence`). */
export function sequenceSource(from: number, to: number, name = 'Sequence Source'): Source<number> {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw new TypeError(`fromSequence needs safe integers, got ${from}..${to}`);
  if (to < from) throw new RangeError(`fromSequence: 'to' (${to}) is before 'from' (${from})`);
  const count = to - from + 1;
  return {
    name,
    createReader: (ctx: SourceReaderContext) => {
      const { start, end } = splitRange(count, ctx.subtaskIndex, ctx.parallelism);
      return new IndexReader<number>(start, end, (i, out) => out.collect(from + i));
    },
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
      const { start, end } = splitRange(count, ctx.subtaskIndex, ctx.parallelism);
      const rate = options.recordsPerSecond ? options.recordsPerSecond / ctx.parallelism : 0;
      const produce = timestamp
        ? (i: number, out: SourceOutput<T>) => {
            const value = generate(i);
            out.collect(value, timestamp(i, value));
          }
        : (i: number, out: SourceOutput<T>) => out.collect(generate(i));
      return new IndexReader<T>(start, end, produce, rate);
    },
  };
}
