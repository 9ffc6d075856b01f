// The job client's control calls right after startJob: a savepoint waits for a deploying job (or says it is still deploying), and stop-with-savepoint ends the job well.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, WeirError, executeJob, startJob } from '../../src/index.ts';

const JOB = 'test/fixtures/jobs/slow-deploy.ts';
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-client-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Every key's final sum, from the running sums a job collected (sums only grow). */
function finalSums(sums: { k: number; v: number }[]): number[] {
  const finals: number[] = [];
  for (const { k, v } of sums) finals[k] = Math.max(finals[k] ?? 0, v);
  return finals;
}

describe('stopWithSavepoint immediately after startJob', () => {
  it('waits for the job to run, resolves the result with the savepoint, and the savepoint resumes to the exact result', async () => {
    const dir = tempDir();
    const params = { count: 20_000, rate: 10_000, deployDelayMs: 500 };
    const client = await startJob(JOB, { parallelism: 2, params });
    const savepoint = await client.stopWithSavepoint(dir);
    const result = await client.result;
    expect(result.savepoint).toEqual({ id: savepoint.id, path: savepoint.path });
    expect(savepoint.path).toMatch(new RegExp(`^${dir}/`));

    const resumed = await executeJob(JOB, { parallelism: 2, params: { ...params, rate: 0, deployDelayMs: 0 }, fromSavepoint: savepoint.path });
    const golden = await executeJob(JOB, { parallelism: 2, params: { ...params, rate: 0, deployDelayMs: 0 } });
    // 0+4+8+… per key: the resumed run ends with the uninterrupted run's four final sums.
    type Sum = { k: number; v: number };
    expect(finalSums(resumed.collected.sums as Sum[])).toEqual(finalSums(golden.collected.sums as Sum[]));
    expect(finalSums(golden.collected.sums as Sum[])).toEqual([49_990_000, 49_995_000, 50_000_000, 50_005_000]);
  });

  it('says the job is still deploying when it does not run within the wait', async () => {
    const client = await startJob(JOB, { parallelism: 1, params: { count: 1000, deployDelayMs: 3000 } });
    const error = await client.triggerSavepoint(tempDir(), { waitMs: 200 }).then(
      () => undefined,
      (e: WeirError) => e,
    );
    expect(error).toBeInstanceOf(WeirError);
    expect(error?.code).toBe(ErrorCodes.JOB_NOT_RUNNING);
    expect(error?.message).toContain('is still deploying (waited 200 ms)');
    await client.cancel();
    await expect(client.result).rejects.toMatchObject({ code: ErrorCodes.JOB_CANCELLED });
  });

  it('says savepoints need checkpointing for a job without it', async () => {
    const client = await startJob('test/fixtures/jobs/paced-sum.ts', { parallelism: 1, params: { count: 2000, rate: 2000 } });
    await expect(client.triggerSavepoint(tempDir())).rejects.toThrow(/savepoints need checkpointing/);
    await client.cancel();
    await client.result.catch(() => undefined);
  });
});
