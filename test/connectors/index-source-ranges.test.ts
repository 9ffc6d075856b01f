// Index-driven sources (generator, sequence, collection): which remaining ranges each reader plays after a restore.
import { describe, expect, it } from 'vitest';
import { rangesFor, type IndexRange } from '../../src/connectors/sources.ts';

const at = (subtaskIndex: number, parallelism: number, restoredStates?: IndexRange[][]) => ({
  operatorName: 'Sequences',
  subtaskIndex,
  parallelism,
  restoredStates,
});

describe('rangesFor', () => {
  it('gives each reader its contiguous share on a fresh start', () => {
    expect([0, 1, 2].map((s) => rangesFor(10, at(s, 3)))).toEqual([[[0, 3]], [[3, 6]], [[6, 10]]]);
  });

  it('gives a reader back its own range at the same parallelism when another reader has finished', () => {
    // Reader 0 finished; reader 1 is at 1500 of [1000, 2000). Dealt round robin, reader 0 got it,
    // and its records overtook reader 1's restored in-flight batches on another channel.
    const restored: IndexRange[][] = [[], [[1500, 2000]]];
    expect(rangesFor(2000, at(0, 2, restored))).toEqual([]);
    expect(rangesFor(2000, at(1, 2, restored))).toEqual([[1500, 2000]]);
  });

  it('keeps every reader on its own ranges across restores at the same parallelism', () => {
    // Shares of 150 over 4: [0, 37), [37, 75), [75, 112), [112, 150); reader 1 has finished.
    const restored: IndexRange[][] = [[[20, 37]], [], [[111, 112]], [[120, 150]]];
    expect([0, 1, 2, 3].map((s) => rangesFor(150, at(s, 4, restored)))).toEqual([[[20, 37]], [], [[111, 112]], [[120, 150]]]);
  });

  it('deals ranges by their end after a rescale, and every remaining index is played once', () => {
    const restored: IndexRange[][] = [[[10, 50]], [[60, 100]]];
    const four = [0, 1, 2, 3].map((s) => rangesFor(100, at(s, 4, restored)));
    expect(four).toEqual([[], [[10, 50]], [], [[60, 100]]]);
    const one = rangesFor(100, at(0, 1, restored));
    expect(one).toEqual([
      [10, 50],
      [60, 100],
    ]);
  });

  it('gives a range past the count to the last reader rather than dropping it', () => {
    expect(rangesFor(100, at(1, 2, [[[150, 200]]]))).toEqual([[150, 200]]);
    expect(rangesFor(100, at(0, 2, [[[150, 200]]]))).toEqual([]);
  });
});
