// Merging window set: persisted as numbers changed in place, and the earlier form (pairs of window keys) still read.
import { describe, expect, it } from 'vitest';
import { EventTimeSessionWindows, MergingWindowSet, TimeWindow } from '../../src/windows/index.ts';

const sessions = EventTimeSessionWindows.withGap(10);
const noMerge = () => {
  throw new Error('no merge expected');
};

describe('merging window set persistence', () => {
  it('persists each live window and its state window as four numbers, growing a window in place', () => {
    const set = new MergingWindowSet(sessions, undefined);
    set.addWindow(new TimeWindow(0, 10), noMerge);
    set.addWindow(new TimeWindow(100, 110), noMerge);
    const persisted = set.persisted;
    expect(persisted).toEqual([0, 10, 0, 10, 100, 110, 100, 110]);
    const merges: string[] = [];
    const grown = set.addWindow(new TimeWindow(5, 15), (result, merged, state) =>
      merges.push(`${result.toString()} <- ${merged.map((w) => w.toString()).join()} @ ${state.toString()}`),
    );
    expect(grown).toEqual(new TimeWindow(0, 15));
    expect(merges).toEqual(['TimeWindow{start=0, end=15} <- TimeWindow{start=0, end=10} @ TimeWindow{start=0, end=10}']);
    expect(set.persisted).toBe(persisted);
    expect(persisted).toEqual([0, 15, 0, 10, 100, 110, 100, 110]);
    // A window inside a live one leaves the set unchanged.
    set.changed = false;
    expect(set.addWindow(new TimeWindow(101, 109), noMerge)).toEqual(new TimeWindow(100, 110));
    expect(set.absorbed).toBe(true);
    expect(set.changed).toBe(false);
    // Bridging both merges them into the first one's state window.
    const bridged = set.addWindow(new TimeWindow(12, 100), (result, merged, state, mergedState) =>
      merges.push(`${result.toString()} <- ${merged.length} @ ${state.toString()} + ${mergedState.map((w) => w.toString()).join()}`),
    );
    expect(bridged).toEqual(new TimeWindow(0, 110));
    expect(merges[1]).toBe('TimeWindow{start=0, end=110} <- 2 @ TimeWindow{start=0, end=10} + TimeWindow{start=100, end=110}');
    expect(set.persisted).toEqual([0, 110, 0, 10]);
    const restored = new MergingWindowSet(sessions, set.persist());
    expect(restored.getStateWindow(new TimeWindow(0, 110))).toEqual(new TimeWindow(0, 10));
    expect(restored.changed).toBe(false);
  });

  it('reads the earlier form, pairs of window keys, and writes the numbers back with the next change', () => {
    const set = new MergingWindowSet(sessions, [
      ['0:25', '0:10'],
      ['40:50', '40:50'],
    ]);
    expect(set.getStateWindow(new TimeWindow(0, 25))).toEqual(new TimeWindow(0, 10));
    expect(set.getStateWindow(new TimeWindow(40, 50))).toEqual(new TimeWindow(40, 50));
    expect(set.changed).toBe(true);
    expect(set.persisted).toEqual([0, 25, 0, 10, 40, 50, 40, 50]);
  });
});
