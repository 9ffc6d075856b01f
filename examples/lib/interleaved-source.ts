// A bounded generator source whose parallel readers interleave record numbers, so event time advances on all of them together.
import type { ReaderOutput, Source, SourceReader, SourceReaderContext, SourceStatus } from '../../src/index.ts';

/** Options of {@link interleavedGeneratorSource}. */
export interface InterleavedGeneratorOptions<T> {
  /** Records in all, across subtasks. */
  count: number;
  /** Builds record number `index`; must be deterministic, since every thread builds its own. */
  generate: (index: number) => T;
  /** Operator name. */
  name?: string;
}

/**
 * Like weir's `generatorSource`, but subtask `k` of `p` reads records `k, k + p, k + 2p, …`
 * instead of a contiguous range. When record numbers follow event time, contiguous ranges put
 * the subtasks hours apart: the downstream watermark (the minimum over inputs) then waits for the
 * slowest range and windows pile up in state. Interleaving keeps the readers side by side in
 * event time, as partitions of a live topic are. Each reader's position is part of checkpoints; a
 * restore must keep the parallelism, since strided positions do not split another way.
 */
export function interleavedGeneratorSource<T>(options: InterleavedGeneratorOptions<T>): Source<T> {
  const { count, generate } = options;
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  return {
    name: options.name ?? 'Interleaved Generator',
    createReader: ({ subtaskIndex, parallelism, restoredStates }: SourceReaderContext): SourceReader<T> => {
      let next = subtaskIndex;
      if (restoredStates !== undefined && restoredStates.length > 0) {
        const states = restoredStates as InterleavedPosition[];
        const mine = states.find((s) => s.subtask === subtaskIndex);
        if (states.length !== parallelism || mine === undefined || mine.parallelism !== parallelism) {
          throw new Error(`an interleaved generator restores only at the parallelism it was checkpointed at (${states[0]?.parallelism})`);
        }
        next = mine.next;
      }
      return {
        pollNext(output: ReaderOutput<T>, maxRecords: number): SourceStatus {
          for (let n = 0; n < maxRecords && next < count; n++, next += parallelism) output.collect(generate(next));
          return next >= count ? 'end' : 'more';
        },
        snapshotState: (): InterleavedPosition => ({ subtask: subtaskIndex, parallelism, next }),
      };
    },
  };
}

/** A reader's position in checkpoints: the next record number it reads. */
interface InterleavedPosition {
  subtask: number;
  parallelism: number;
  next: number;
}
