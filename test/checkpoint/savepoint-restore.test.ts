// Savepoints and retained checkpoints: restore at other parallelisms, mapping state by uid, corrupted checkpoints, and restart limits.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, WeirError, executeJob, startJob, type JobResult } from '../../src/index.ts';

const JOB = 'test/fixtures/jobs/savepoint-counts.ts';
const KEYS = 10;
const COUNT = 6000;
const params = (extra: Record<string, string | number> = {}) => ({ keys: KEYS, count: COUNT, ...extra });

const sorted = (rs: unknown[]) => (rs as [number, number][]).map((r) => r.join(':')).sort();

/** Runs until the `after`-th checkpoint completes, then stops with a savepoint; returns its path and what was committed. */
async function runUntilSavepoint(
  parallelism: number,
  dir: string,
  restore?: string,
  after = 2,
): Promise<{ path: string; committed: unknown[] }> {
  let resolveStop!: (p: Promise<string>) => void;
  const stopped = new Promise<Promise<string>>((r) => (resolveStop = r));
  let seen = 0;
  const client = await startJob(JOB, {
    parallelism,
    // Slow enough (about 1.5 s) that the savepoint is taken long before the input ends.
    params: params({ rate: 4000 }),
    fromSavepoint: restore,
    onCheckpoint: (_c, _a, c) => {
      if (++seen === after) resolveStop(c.stopWithSavepoint(dir).then((s) => s.path as string));
    },
  });
  const path = await await stopped;
  // Stopped with a savepoint, the job ends well: its result names the savepoint.
  expect((await client.result).savepoint?.path).toBe(path);
  return { path, committed: [] };
}

describe('savepoints', () => {
  it('restore at parallelism 2 → 3 → 1 gives the same final counts as an uninterrupted run', async () => {
    const golden = await executeJob(JOB, { parallelism: 2, params: params({ rate: 0 }) });
    expect(golden.collected.counts).toHaveLength(COUNT);
    const dir = mkdtempSync(join(tmpdir(), 'weir-savepoints-'));
    const first = await runUntilSavepoint(2, dir);
    const second = await runUntilSavepoint(3, dir, first.path);
    const last = await executeJob(JOB, { parallelism: 1, params: params(), fromSavepoint: second.path });
    // The last run continues every key's count where the savepoint left it.
    const finals = new Map<number, number>();
    for (const [k, c] of last.collected.counts as [number, number][]) finals.set(k, Math.max(finals.get(k) ?? 0, c));
    const goldenFinals = new Map<number, number>();
    for (const [k, c] of golden.collected.counts as [number, number][]) goldenFinals.set(k, Math.max(goldenFinals.get(k) ?? 0, c));
    expect(finals).toEqual(goldenFinals);
    // And it emitted exactly the counts the savepoint had not reached yet.
    const lastCounts = last.collected.counts as [number, number][];
    const byKey = new Map<number, number[]>();
    for (const [k, c] of lastCounts) byKey.set(k, [...(byKey.get(k) ?? []), c]);
    for (const [k, counts] of byKey) {
      const first = counts[0];
      expect(counts).toEqual(Array.from({ length: counts.length }, (_, i) => first + i));
      expect(counts[counts.length - 1]).toBe(goldenFinals.get(k));
    }
    expect(readdirSync(dir).filter((d) => d.startsWith('savepoint-'))).toHaveLength(2);
  });

  it('stop with a savepoint delivers what the savepoint committed to an exactly-once collect sink; the resumed run delivers the rest, once', async () => {
    const SEQ = 'test/fixtures/jobs/chaos-sequences.ts';
    const seqParams = { keys: 8, perKey: 2000, interval: 100 };
    const dir = mkdtempSync(join(tmpdir(), 'weir-savepoints-collect-'));
    let stopping: Promise<unknown> | undefined;
    const client = await startJob(SEQ, {
      parallelism: 2,
      params: { ...seqParams, rate: 8000 },
      onCheckpoint: (c, _a, control) => {
        if (c.id === 3 && stopping === undefined) stopping = control.stopWithSavepoint(dir);
      },
    });
    const first = await client.result;
    const path = first.savepoint?.path as string;
    expect(path).toBeDefined();
    const before = first.collected.out as [number, number][];
    // The savepoint committed output: the stopped run's result carries it.
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(8 * 2000);
    const rest = await executeJob(SEQ, { parallelism: 2, params: { ...seqParams, rate: 0 }, fromSavepoint: path });
    const all = [...before, ...(rest.collected.out as [number, number][])].map(([k, s]) => `${k}:${s}`);
    const expected: string[] = [];
    for (let k = 0; k < 8; k++) for (let s = 0; s < 2000; s++) expected.push(`${k}:${s}`);
    expect(all.length).toBe(expected.length);
    expect(all.sort()).toEqual(expected.sort());
  });

  it('restores after an operator is added with a new uid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-savepoints-'));
    const { path } = await runUntilSavepoint(2, dir);
    const result = await executeJob(JOB, { parallelism: 2, params: params({ variant: 'added' }), fromSavepoint: path });
    const finals = new Map<number, number>();
    for (const [k, c] of result.collected.counts as [number, number][]) finals.set(k, Math.max(finals.get(k) ?? 0, c));
    expect([...finals.values()]).toEqual(Array(KEYS).fill(COUNT / KEYS));
  });

  it('refuses to drop state without allowNonRestoredState, and drops it with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-savepoints-'));
    const { path } = await runUntilSavepoint(2, dir);
    const error = (await executeJob(JOB, { parallelism: 2, params: params({ variant: 'renamed' }), fromSavepoint: path }).catch(
      (e: unknown) => e,
    )) as WeirError;
    expect(error.code).toBe(ErrorCodes.STATE_RESTORE);
    expect(error.message).toContain("operator 'count' (Count) is in the savepoint");
    expect(error.message).toContain('allowNonRestoredState');
    const result = await executeJob(JOB, {
      parallelism: 2,
      params: params({ variant: 'renamed' }),
      fromSavepoint: path,
      allowNonRestoredState: true,
    });
    // Counting starts again from zero for the renamed operator (its old state was dropped).
    const finals = new Map<number, number>();
    for (const [k, c] of result.collected.counts as [number, number][]) finals.set(k, Math.max(finals.get(k) ?? 0, c));
    expect([...finals.values()].every((v) => v < COUNT / KEYS)).toBe(true);
  });

  it('fails clearly for a savepoint folder that is not one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-not-a-savepoint-'));
    const error = (await executeJob(JOB, { params: params(), fromSavepoint: dir }).catch((e: unknown) => e)) as WeirError;
    expect(error).toBeInstanceOf(WeirError);
    expect(error.message).toContain(dir);
  });
});

describe('retained checkpoints', () => {
  it('a corrupted latest checkpoint is skipped on restore, naming the file, and the previous one is used', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-checkpoints-'));
    const faultDir = mkdtempSync(join(tmpdir(), 'weir-faults-'));
    let killed = false;
    let damaged: { file: string; bytes: Buffer } | undefined;
    const result: JobResult = await executeJob('test/fixtures/jobs/chaos-sequences.ts', {
      parallelism: 2,
      checkpointDir: dir,
      // About a second of input, so the job is still running when the kill lands.
      params: { keys: 8, perKey: 4000, fault: 'none', faultDir, interval: 50, rate: 30_000 },
      // The damaged checkpoint may have committed before the worker dies: replaying it is accepted here.
      allowReplayOfCommitted: true,
      onCheckpoint: (checkpoint, attempt, client) => {
        if (checkpoint.id < 3 || attempt !== 1) return;
        // Only the newest checkpoint is damaged, whichever it is when the kill lands (checkpoints
        // go on completing while the worker dies): mend the one before, damage this one.
        if (damaged) {
          try {
            writeFileSync(damaged.file, damaged.bytes);
          } catch {
            // retention removed it already
          }
        }
        // Flip a byte in the newest checkpoint's first state file.
        const chk = join(client.checkpointPath as string, `chk-${checkpoint.id}`);
        const file = join(chk, readdirSync(chk).find((f) => f.startsWith('state-')) as string);
        const bytes = readFileSync(file);
        damaged = { file, bytes: Buffer.from(bytes) };
        bytes[bytes.length >> 1] ^= 0xff;
        writeFileSync(file, bytes);
        if (killed) return;
        killed = true;
        // Fail right away, so a damaged checkpoint is the newest when the job restores.
        void client.killWorker(0).catch(() => undefined);
      },
    });
    expect(result.faultTolerance.restarts).toBe(1);
    expect(result.faultTolerance.skippedCheckpoints).toHaveLength(1);
    expect(result.faultTolerance.skippedCheckpoints[0]).toMatch(/chk-\d+.*state-\d+\.msgpack/);
    // State restored from the previous checkpoint is consistent: every sequence is complete
    // (records committed between the two checkpoints may appear twice: at-least-once there).
    const byKey = new Map<number, Set<number>>();
    for (const [k, s] of result.collected.out as [number, number][]) byKey.set(k, (byKey.get(k) ?? new Set()).add(s));
    for (const seqs of byKey.values()) expect(seqs.size).toBe(4000);
  });
});

describe('restart strategy', () => {
  it('stops a restart loop after the limit and fails with the cause', async () => {
    const error = (await executeJob('test/fixtures/jobs/always-failing.ts', { parallelism: 1, params: { attempts: 2 } }).catch(
      (e: unknown) => e,
    )) as WeirError;
    expect(error.code).toBe(ErrorCodes.USER_FUNCTION);
    expect(error.message).toContain('always broken');
    expect(error.message).toContain('gave up after 2 restart(s): fixed-delay restart strategy: 2 restart(s) used up');
  });
});
