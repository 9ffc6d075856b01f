//! A sink that only counts: each subtask reports one tally to the caller at close, never the records.

import type { Sink, SinkWriter } from '../../src/index.ts';
import type { SinkTally } from './workloads.ts';

/** Id under which count sinks report in `JobResult.collected`. */
export const TALLY_ID = 'tally';

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across threads. */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A sink whose writers count records and fold `checksumOf(record)` into a wrapping 32-bit sum,
 * so the work cannot be optimised away, and report one {@link SinkTally} per subtask at close
 * through the collect channel (`JobResult.collected.tally`), with the times of its first record
 * and of its close (for the steady-state rate: first record in to last record out).
 */
export function countSink<T>(checksumOf: (value: T) => number): Sink<T> {
  return {
    name: 'Count Sink',
    // The context type is not exported from weir's public API; take it from Sink's signature.
    createWriter: (ctx: Parameters<Sink<T>['createWriter']>[0]): SinkWriter<T> => {
      let count = 0;
      let checksum = 0;
      let firstAt = 0;
      return {
        write(value) {
          if (count === 0) firstAt = wallClock();
          count++;
          checksum = (checksum + checksumOf(value)) | 0;
        },
        close() {
          const tally: SinkTally = { count, checksum, firstAt: count > 0 ? firstAt : undefined, lastAt: wallClock() };
          ctx.reporter.collect(TALLY_ID, ctx.subtaskIndex, [tally]);
        },
      };
    },
  };
}

/** Across sink subtasks' tallies: the earliest first record and the latest close (undefined where none reported one). */
export function tallySpan(tallies: readonly SinkTally[]): { firstAt?: number; lastAt?: number } {
  const firsts = tallies.flatMap((t) => (t.firstAt === undefined ? [] : [t.firstAt]));
  const lasts = tallies.flatMap((t) => (t.lastAt === undefined ? [] : [t.lastAt]));
  return { firstAt: firsts.length > 0 ? Math.min(...firsts) : undefined, lastAt: lasts.length > 0 ? Math.max(...lasts) : undefined };
}
