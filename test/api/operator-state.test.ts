// Operator list state from user functions: checkpointed with the job, redistributed when a savepoint restores at another parallelism.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startJob, executeJob, type WeirError } from '../../src/index.ts';
import { operatorsOf } from '../../src/scheduler/restore.ts';

describe('operator list state', () => {
  it('is in savepoints and redistributed at another parallelism, keeping every count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-opstate-'));
    let seen = 0;
    let savepoint!: Promise<{ path?: string; states: ReadonlyMap<string, Uint8Array> }>;
    const client = await startJob('test/fixtures/jobs/operator-state.ts', {
      parallelism: 3,
      params: { count: 5000, rate: 10_000 },
      onCheckpoint: (_c, _a, c) => {
        if (++seen === 3) savepoint = c.stopWithSavepoint(dir);
      },
    });
    const ended = await client.result;
    const taken = await savepoint;
    expect(ended.savepoint?.path).toBe(taken.path);
    // The savepoint holds one tally slot per old subtask, adding up to what the sources had read.
    const tally = operatorsOf(taken.states).get('tally') ?? [];
    expect(tally).toHaveLength(3);
    const counted = tally.reduce((n, s) => n + ((s?.operator?.lists[0]?.elements[0] as number) ?? 0), 0);
    expect(counted).toBeGreaterThan(0);
    expect(counted).toBeLessThan(5000);

    const resumed = await executeJob('test/fixtures/jobs/operator-state.ts', {
      parallelism: 2,
      params: { count: 5000, rate: 0 },
      fromSavepoint: taken.path,
    });
    // The 3 old tally slots were dealt to the 2 new subtasks, which count on from them: their
    // final tallies add up to every record of the job.
    const finals = new Map<number, number>();
    // (Records the savepoint held as pending are committed again by the new job: they carry old
    // subtask indexes and smaller tallies, so they never raise a new subtask's final tally.)
    for (const [, count, subtask] of resumed.collected.out as [number, number, number][])
      finals.set(subtask, Math.max(finals.get(subtask) ?? 0, count));
    expect((finals.get(0) ?? 0) + (finals.get(1) ?? 0)).toBe(5000);
  });
});
