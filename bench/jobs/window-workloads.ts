//! The events and window shapes of the window benchmark, shared by its hand-written loop and its weir job.

import type { ReaderOutput, Source, SourceReaderContext, SourceStatus } from '../../src/index.ts';
import { mix32 } from './workloads.ts';

/** A generated event: a key and an event time (ms). */
export interface KeyedEvent {
  key: number;
  ts: number;
}

/** A window count as weir's `WindowedStream.count()` emits it. */
export interface WindowCount {
  key: number;
  start: number;
  end: number;
  count: number;
}

/** Which windows, of what size (ms); `slide` only for sliding windows; for sessions `size` is the gap. */
export interface WindowShape {
  kind: 'tumbling' | 'sliding' | 'session';
  size: number;
  slide: number;
}

/** Event time advances 1 ms per record: a 10 s window holds 10,000 records. */
export const MS_PER_RECORD = 1;
/** Events trail their nominal time by less than this, so with it as the watermark bound none is late. */
export const OUT_OF_ORDERNESS_MS = 500;

/**
 * The benchmark's shapes: 10 s tumbling, 10 s sliding by 2 s (five windows per event), and
 * sessions with a 1 s gap (over 1,000 keys a key's events come about 1 s apart: sessions of a few
 * events, most records extending their key's session, some merging two).
 */
export const SHAPES: Readonly<Record<WindowShape['kind'], WindowShape>> = {
  tumbling: { kind: 'tumbling', size: 10_000, slide: 10_000 },
  sliding: { kind: 'sliding', size: 10_000, slide: 2_000 },
  session: { kind: 'session', size: 1_000, slide: 0 },
};

/** Event `i` over `keys` keys: uniform keys, timestamps up to 499 ms out of order. */
export function generateEvent(i: number, keys: number): KeyedEvent {
  const h = mix32(i);
  return { key: h % keys, ts: Math.max(0, i * MS_PER_RECORD - ((h >>> 12) % OUT_OF_ORDERNESS_MS)) };
}

/** What the count sink folds into its checksum: key, window and count together, so a wrong window or count shows. */
export function windowCountChecksum(w: WindowCount): number {
  return (Math.imul(w.key + 1, 0x9e3779b1) ^ Math.imul(w.start, 0x85ebca6b) ^ w.end) + w.count;
}

/**
 * The events as a source whose subtask `k` of `p` reads events `k, k + p, …`, so parallel readers
 * advance through event time side by side (weir's `generatorSource` gives each a contiguous
 * range, which puts them far apart in event time: the watermark waits for the earliest range and
 * every later window stays in state until it ends). Not checkpointed.
 */
export function interleavedEvents(records: number, keys: number): Source<KeyedEvent> {
  return {
    name: 'Events',
    createReader: ({ subtaskIndex, parallelism }: SourceReaderContext) => {
      let next = subtaskIndex;
      return {
        pollNext(output: ReaderOutput<KeyedEvent>, maxRecords: number): SourceStatus {
          for (let n = 0; n < maxRecords && next < records; n++, next += parallelism) output.collect(generateEvent(next, keys));
          return next >= records ? 'end' : 'more';
        },
      };
    },
  };
}
