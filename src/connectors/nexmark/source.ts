//! The Nexmark source: a bounded, replayable, parallel weir Source of Nexmark events with event-time timestamps.

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

/**
 * Reads one subtask's share of the Nexmark stream. Its position is the next event number, so a
 * checkpoint stores one number and a restart resumes exactly there.
 */
export class NexmarkReader implements SourceReader<NexmarkEvent> {
  private readonly generator: NexmarkGenerator;
  private next: number;
  private readonly step: number;
  private readonly end: number;
  private readonly rate: number;
  private readonly first: number;
  private startedAt = 0;
  private pause: Promise<void> | undefined;

  constructor(config: NexmarkConfig, index: number, parallelism: number, startAt?: number) {
    this.generator = new NexmarkGenerator(config);
    const { first, step, count } = nexmarkSplit(this.generator.config.events, index, parallelism);
    this.first = first;
    this.step = step;
    this.end = first + count * step;
    this.next = startAt ?? first;
    if ((this.next - first) % step !== 0)
      throw new RangeError(`nexmark: event ${startAt} is not read by subtask ${index} of ${parallelism}`);
    const perSecond = this.generator.config.maxEventsPerSecond;
    this.rate = perSecond > 0 ? perSecond / parallelism : 0;
  }

  /** The next event number this reader emits: its offset. */
  get position(): number {
    return this.next;
  }

  pollNext(output: ReaderOutput<NexmarkEvent>, maxRecords: number): SourceStatus {
    const gen = this.generator;
    const step = this.step;
    let limit = Math.min(this.end, this.next + maxRecords * step);
    if (this.rate > 0) {
      const now = performance.now();
      if (this.startedAt === 0) this.startedAt = now;
      const done = (this.next - this.first) / step;
      const allowed = Math.floor(((now - this.startedAt) / 1000) * this.rate);
      if (allowed <= done) {
        const waitMs = Math.max(1, ((done + 1) / this.rate) * 1000 - (now - this.startedAt));
        this.pause = new Promise((resolve) => setTimeout(resolve, waitMs));
        return 'wait';
      }
      limit = Math.min(limit, this.first + allowed * step);
    }
    let n = this.next;
    for (; n < limit; n += step) {
      const event = gen.event(n);
      output.collect(event, event.dateTime);
    }
    this.next = n;
    return n >= this.end ? 'end' : 'more';
  }

  available(): Promise<void> {
    return this.pause ?? Promise.resolve();
  }
}

/**
 * A bounded source of `config.events` Nexmark events (Flink Nexmark's `NexmarkSource`), each
 * emitted with its event time (`dateTime`) as the record timestamp. Subtasks read strided event
 * numbers ({@link nexmarkSplit}); whatever the parallelism, the job sees the same multiset of
 * events. Pair it with `WatermarkStrategy.forMonotonousTimestamps()` when `outOfOrderGroupSize`
 * is 1, else with a bounded out-of-orderness of `new NexmarkGenerator(config).maxOutOfOrdernessMs()`.
 */
export function nexmarkSource(config: NexmarkConfig = {}, name = 'Nexmark Source'): Source<NexmarkEvent> {
  new NexmarkGenerator(config); // validate on the main thread, before deploy
  return {
    name,
    createReader: (ctx: SourceReaderContext) => new NexmarkReader(config, ctx.subtaskIndex, ctx.parallelism),
  };
}
