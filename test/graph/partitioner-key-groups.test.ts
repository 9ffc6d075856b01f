// Key groups: hash codes and key-group assignment equal Apache Flink's, and keyBy routes every key to the subtask the formula names.
import { describe, expect, it } from 'vitest';
import { assignKeyToParallelOperator, assignToKeyGroup, executeJob, keyGroupRangeForSubtask } from '../../src/index.ts';
import { keyHashCode } from '../../src/state/key-groups.ts';
import { keyAt } from '../fixtures/jobs/key-routing.ts';

// Printed by org.apache.flink.runtime.state.KeyGroupRangeAssignment of flink-runtime 2.2.0 on this
// machine: key, Java hashCode(), key group (max 128), subtask (max 128, parallelism 3), key group (max 1000).
const FLINK_VECTORS: [unknown, number, number, number, number][] = [
  ['hello', 99162322, 35, 0, 179],
  ['', 0, 94, 2, 54],
  ['w0', 3737, 33, 0, 961],
  ['Flink', 67968320, 127, 2, 71],
  ['weir', 3645559, 4, 0, 908],
  ['a much longer key with spaces', 2141477059, 121, 2, 297],
  [0, 0, 94, 2, 54],
  [1, 1, 86, 2, 478],
  [-1, -1, 80, 1, 648],
  [42, 42, 29, 0, 565],
  [2147483647, 2147483647, 62, 1, 534],
  [-2147483648, -2147483648, 108, 2, 732],
  [3000000000, -1294967296, 22, 0, 262],
  [-5000000000, 705032702, 23, 0, 279],
  [1.5, 1073217536, 65, 1, 177],
  [-0.25, -1076887552, 74, 1, 682],
  [true, 1231, 77, 1, 765],
  [false, 1237, 3, 0, 891],
];

describe('key groups', () => {
  it.each(FLINK_VECTORS)('assigns %j like Flink', (key, hash, group128, subtask3, group1000) => {
    expect(keyHashCode(key)).toBe(hash);
    expect(assignToKeyGroup(key, 128)).toBe(group128);
    expect(assignKeyToParallelOperator(key, 128, 3)).toBe(subtask3);
    expect(assignToKeyGroup(key, 1000)).toBe(group1000);
  });

  it('splits key groups into contiguous ranges that cover all groups exactly once', () => {
    for (const [maxP, p] of [
      [128, 1],
      [128, 3],
      [128, 7],
      [1000, 13],
      [5, 5],
    ]) {
      let next = 0;
      for (let s = 0; s < p; s++) {
        const range = keyGroupRangeForSubtask(maxP, p, s);
        expect(range.start).toBe(next);
        for (let g = range.start; g <= range.end; g++) expect(Math.floor((g * p) / maxP)).toBe(s);
        next = range.end + 1;
      }
      expect(next).toBe(maxP);
    }
  });

  for (const [parallelism, mode] of [
    [3, 'threads'],
    [4, 'local'],
  ] as const) {
    it(`routes every key to exactly the subtask its key group names (parallelism ${parallelism}, ${mode})`, async () => {
      const keys = 10_000;
      const result = await executeJob('test/fixtures/jobs/key-routing.ts', { mode, parallelism, params: { keys } });
      const seen = new Map<unknown, Set<number>>();
      for (const [key, subtask] of result.collected.routes as [unknown, number][]) {
        const set = seen.get(key) ?? new Set();
        set.add(subtask);
        seen.set(key, set);
      }
      expect(seen.size).toBe(keys);
      expect(result.collected.routes.length).toBe(2 * keys);
      const used = new Set<number>();
      for (let i = 0; i < keys; i++) {
        const key = keyAt(i);
        const subtasks = [...(seen.get(key) ?? [])];
        expect(subtasks).toEqual([assignKeyToParallelOperator(key, 128, parallelism)]);
        used.add(subtasks[0]);
      }
      expect(used.size).toBe(parallelism);
    });
  }
});
