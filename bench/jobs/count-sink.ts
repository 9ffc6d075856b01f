//! A sink that only counts: each subtask reports one tally to the caller at close, never the records.

import type { Sink, SinkWriter } from '../../src/index.ts';
import type { SinkTally } from './workloads.ts';

/** Id under which count sinks report in `JobResult.collected`. */
export const TALLY_ID = 'tally';

/**
 * A sink whose writers count records and fold `checksumOf(record)` into a wrapping 32-bit sum,
 * so the work cannot be optimised away, and report one {@link SinkTally} per subtask at close
 * through the collect channel (`JobResult.collected.tally`).
 */
export function countSink<T>(checksumOf: (value: T) => number): Sink<T> {
  return {
    name: 'Count Sink',
    // The context type is not exported from weir's public API; take it from Sink's signature.
    createWriter: (ctx: Parameters<Sink<T>['createWriter']>[0]): SinkWriter<T> => {
      let count = 0;
      let checksum = 0;
      return {
        write(value) {
          count++;
          checksum = (checksum + checksumOf(value)) | 0;
        },
        close() {
          const tally: SinkTally = { count, checksum };
          ctx.reporter.collect(TALLY_ID, ctx.subtaskIndex, [tally]);
        },
      };
    },
  };
}
