// Failures: a throwing user function and a record that cannot be encoded fail the job fast, named, with workers stopped.
import { describe, expect, it } from 'vitest';
import { ErrorCodes, WeirError, executeJob } from '../../src/index.ts';

const JOB = 'test/fixtures/jobs/failing.ts';

async function failure(promise: Promise<unknown>): Promise<WeirError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WeirError);
    return error as WeirError;
  }
  throw new Error('the job did not fail');
}

describe('a throwing user function', () => {
  for (const mode of ['threads', 'local'] as const) {
    it(`rejects execute() with the operator, subtask and cause within a second (${mode})`, async () => {
      const error = await failure(executeJob(JOB, { mode, parallelism: 2, params: { failAt: 20_000, kind: 'throw' } }));
      const rejectedAt = Date.now();
      expect(error.code).toBe(ErrorCodes.USER_FUNCTION);
      expect(error.domain).toBe('user');
      expect(error.operator).toBe('Explode');
      expect(error.subtask).toBe(0);
      expect(error.message).toContain("operator 'Explode' (subtask 0)");
      expect(error.message).toContain('RangeError: record 20000 is cursed');
      expect((error.cause as Error).name).toBe('RangeError');
      const thrownAt = Number(/thrown at (\d+)/.exec(error.message)?.[1]);
      expect(rejectedAt - thrownAt).toBeLessThan(1000);
    });
  }

  it('leaves no worker thread running after the failure', async () => {
    await failure(executeJob(JOB, { parallelism: 2, params: { failAt: 100, kind: 'throw' } }));
    await new Promise((r) => setTimeout(r, 100));
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Worker')).toEqual([]);
  });
});

describe('a record that cannot be encoded', () => {
  for (const [kind, reason] of [
    ['function', 'contains a function'],
    ['symbol', 'contains a symbol'],
    ['cycle', 'contains a cycle'],
  ] as const) {
    it(`fails with an error naming the operator and the edge (${kind})`, async () => {
      // Record 501 goes round robin to the Counter subtask in the other thread, so it must be encoded.
      const error = await failure(executeJob(JOB, { parallelism: 1, params: { failAt: 501, kind, count: 5000 } }));
      expect(error.code).toBe(ErrorCodes.RECORD_NOT_ENCODABLE);
      expect(error.operator).toBe('Explode');
      expect(error.edge).toBe('Explode -> Counter');
      expect(error.message).toContain("from operator 'Explode' (subtask 0) on edge Explode -> Counter");
      expect(error.message).toContain(reason);
      expect(error.message).toContain('"i":501');
    });
  }
});
