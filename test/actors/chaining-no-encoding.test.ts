// Chaining: operators joined by forward edges of equal parallelism run in one actor and exchange no encoded bytes.
import { describe, expect, it } from 'vitest';
import { executeJob } from '../../src/index.ts';

const COUNT = 100_000;
const KEPT = COUNT - Math.floor(COUNT / 3);

describe('operator chaining', () => {
  it('runs source, map, filter and sink as one chain with zero encoded bytes', async () => {
    const result = await executeJob('test/fixtures/jobs/chain.ts', { parallelism: 2, params: { count: COUNT } });
    const tasks = new Set(result.subtasks.map((s) => s.task));
    expect([...tasks]).toEqual(['Source: Sequence Source -> Map -> Filter -> Count (count)']);
    for (const s of result.subtasks) {
      expect(s.bytesEncoded).toBe(0);
      expect(s.outputs).toHaveLength(0);
    }
    const counts = result.collected.count as { count: number }[];
    expect(counts.reduce((n, c) => n + c.count, 0)).toBe(KEPT);
  });

  it('encodes once a rebalance splits the chain across threads', async () => {
    const result = await executeJob('test/fixtures/jobs/chain.ts', { parallelism: 2, params: { count: COUNT, rebalance: true } });
    expect(new Set(result.subtasks.map((s) => s.task)).size).toBe(2);
    const encoded = result.subtasks.reduce((n, s) => n + s.bytesEncoded, 0);
    expect(encoded).toBeGreaterThan(KEPT);
    const counts = result.collected.count as { count: number }[];
    expect(counts.reduce((n, c) => n + c.count, 0)).toBe(KEPT);
  });
});
