// The CountFn example: per-key counts in ValueState run 1..n in order, and n is a plain loop's count, on threads and locally.
import { describe, expect, it } from 'vitest';
import { executeJob } from '../../src/index.ts';
import { pageViewAt, type KeyCount } from '../../examples/count-fn.ts';

const JOB = 'examples/count-fn.ts';
const EVENTS = 100_000;
const USERS = 2_000;

/** Events per user, counted by a plain loop over the same page views. */
function expectedCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < EVENTS; i++) {
    const { userId } = pageViewAt(i, USERS);
    counts.set(userId, (counts.get(userId) ?? 0) + 1);
  }
  return counts;
}

/** Checks each key's emitted counts are 1, 2, …, n in order and returns n per key. */
function finalCounts(collected: KeyCount[]): Map<string, number> {
  const latest = new Map<string, number>();
  for (const { key, count } of collected) {
    expect(count, `count of ${key}`).toBe((latest.get(key) ?? 0) + 1);
    latest.set(key, count);
  }
  return latest;
}

describe('CountFn example', () => {
  const expected = expectedCounts();

  for (const [mode, parallelism] of [
    ['threads', 1],
    ['threads', 2],
    ['local', 2],
  ] as const) {
    it(`counts every event of every key exactly once (${mode}, p=${parallelism})`, async () => {
      const result = await executeJob(JOB, { mode, parallelism, params: { events: EVENTS, users: USERS, output: 'collect' } });
      const collected = result.collected.counts as KeyCount[];
      expect(collected).toHaveLength(EVENTS);
      expect(finalCounts(collected)).toEqual(expected);
      expect(result.operators['CountFn'].subtasks).toBe(parallelism);
    });
  }
});
