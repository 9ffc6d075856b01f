// Checkpoints belong to their run; a fallback never silently replays committed output; full or read-only storage fails at once; failed runs leave no in-progress parts.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeJobEvent, type JobEvent } from '../../src/actors/job-master.ts';
import { injectStorageFault } from '../../src/checkpoint/storage-files.ts';
import { ErrorCodes, WeirError, executeJob, startJob, type JobResult } from '../../src/index.ts';
import type { JobClient } from '../../src/scheduler/execute.ts';

const FILE_JOB = 'test/fixtures/jobs/chaos-file-sink.ts';
const COLLECT_JOB = 'test/fixtures/jobs/chaos-sequences.ts';

const dirs: string[] = [];
const temp = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `weir-${name}-`));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  injectStorageFault(undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every file under `dir` with the sha256 of its content and its mtime. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[path] = `${createHash('sha256').update(readFileSync(path)).digest('hex')} ${statSync(path).mtimeMs}`;
  }
  return out;
}

/** The file sink's committed lines, counted. */
function lines(out: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of readdirSync(out))
    if (!name.startsWith('.'))
      for (const line of readFileSync(join(out, name), 'utf8').split('\n')) if (line !== '') counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

/** Lost and duplicated records of the file sink's output against keys × perKey. */
function exactness(out: string, keys: number, perKey: number) {
  const counts = lines(out);
  let lost = 0;
  for (let key = 0; key < keys; key++) for (let seq = 0; seq < perKey; seq++) if (!counts.has(JSON.stringify({ key, seq }))) lost++;
  return { lost, duplicated: [...counts.values()].filter((c) => c > 1).length };
}

/** Flips a byte in the middle of a checkpoint's first state file. */
function corrupt(chk: string): void {
  const file = join(chk, readdirSync(chk).find((f) => f.startsWith('state-')) as string);
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(file, bytes);
}

describe('checkpoints belong to their run', () => {
  it('a rerun with the same checkpoint folder neither restores, collides with nor deletes the first run’s checkpoints', async () => {
    const checkpointDir = temp('reruns');
    const params = (out: string) => ({ keys: 4, perKey: 1000, interval: 50, rate: 8_000, out });
    const first = await startJob(FILE_JOB, { parallelism: 2, checkpointDir, params: params(temp('rerun-out-1')) });
    await first.result;
    const before = tree(checkpointDir);
    expect(Object.keys(before).some((p) => p.includes('chk-'))).toBe(true);

    const out = temp('rerun-out-2');
    const events: JobEvent[] = [];
    const second = await startJob(FILE_JOB, { parallelism: 2, checkpointDir, params: params(out), onEvent: (e) => events.push(e) });
    const result = await second.result;
    expect(second.checkpointPath).not.toBe(first.checkpointPath);
    expect(second.checkpointPath?.startsWith(join(checkpointDir, 'weir_job', 'run-'))).toBe(true);
    expect(events[0]).toEqual({ kind: 'checkpoint-folder', path: second.checkpointPath });
    expect(result.faultTolerance).toMatchObject({ restarts: 0, checkpointsFailed: 0, skippedCheckpoints: [] });
    expect(exactness(out, 4, 1000)).toEqual({ lost: 0, duplicated: 0 });
    // The first run's folder: same files, same bytes, not touched.
    const after = tree(checkpointDir);
    for (const [path, stamp] of Object.entries(before)) expect(after[path], path).toBe(stamp);
    expect(readdirSync(join(checkpointDir, 'weir_job')).filter((n) => n.startsWith('run-'))).toHaveLength(2);
  }, 60_000);
});

describe('the end of a run', () => {
  it('the result waits for checkpoint writes still in flight: nothing is written into the folder after it resolves', async () => {
    const checkpointDir = temp('late-writes');
    let writing = 0;
    let written = 0;
    const client = await startJob(FILE_JOB, {
      parallelism: 2,
      checkpointDir,
      params: { keys: 4, perKey: 500, interval: 50, rate: 8_000, out: temp('late-writes-out') },
      // A slow store: the last checkpoints are still being written when the subtasks finish.
      storeCheckpoint: async () => {
        writing++;
        await new Promise((r) => setTimeout(r, 300));
        written++;
      },
    });
    await client.result;
    expect(writing).toBeGreaterThan(0);
    expect(written).toBe(writing);
    const leftovers = readdirSync(client.checkpointPath as string).filter((n) => n.startsWith('.'));
    expect(leftovers).toEqual([]);
  }, 60_000);
});

describe('resuming', () => {
  it('restores from a run folder given as the savepoint, and resume after a finished run starts from scratch, saying why', async () => {
    const checkpointDir = temp('resume-runs');
    const out = temp('resume-runs-out');
    const params = { keys: 4, perKey: 3000, interval: 50, rate: 6_000, out };
    let cancelled = false;
    const first = await startJob(FILE_JOB, {
      parallelism: 2,
      checkpointDir,
      params,
      onCheckpointCommitted: (id, _attempt, c) => {
        if (id < 3 || cancelled) return;
        cancelled = true;
        void c.cancel();
      },
    });
    expect(((await first.result.catch((e: unknown) => e)) as WeirError).code).toBe(ErrorCodes.JOB_CANCELLED);

    const events: JobEvent[] = [];
    const second = await startJob(FILE_JOB, {
      parallelism: 2,
      checkpointDir,
      params,
      fromSavepoint: first.checkpointPath,
      onEvent: (e) => events.push(e),
    });
    await second.result;
    const resumed = events.find((e) => e.kind === 'resumed');
    expect(resumed && describeJobEvent(resumed)).toMatch(new RegExp(`^resuming from checkpoint \\d+ at ${first.checkpointPath}/chk-\\d+$`));
    expect(exactness(out, 4, 3000)).toEqual({ lost: 0, duplicated: 0 });

    const fresh: JobEvent[] = [];
    const third = await startJob(FILE_JOB, {
      parallelism: 2,
      checkpointDir,
      params: { ...params, out: temp('resume-runs-out-3') },
      resume: checkpointDir,
      onEvent: (e) => fresh.push(e),
    });
    await third.result;
    expect(fresh.map(describeJobEvent)[0]).toBe(
      `starting from scratch: the newest run of job 'weir job' in ${checkpointDir} finished (${second.checkpointPath}); nothing to resume`,
    );
  }, 60_000);
});

describe('a fallback past a committed checkpoint', () => {
  /**
   * Runs a job that, once checkpoint 3's commits went through on the first attempt, damages it
   * (and any newer one of that attempt) and kills a worker: the restore must fall back to chk-2.
   */
  async function damagedAfterCommit(
    job: string,
    params: Record<string, string | number>,
    extra: { allowReplayOfCommitted?: boolean } = {},
  ) {
    const checkpointDir = temp('fallback');
    const events: JobEvent[] = [];
    let killed = false;
    const client: JobClient = await startJob(job, {
      parallelism: 2,
      checkpointDir,
      // Checkpoints 300 ms apart: the kill lands before checkpoint 4 would subsume chk-2.
      params: { keys: 8, perKey: 1500, interval: 300, rate: 6_000, ...params },
      ...extra,
      onEvent: (e) => events.push(e),
      onCheckpointCommitted: (id, attempt, c) => {
        if (attempt !== 1 || id < 3) return;
        corrupt(join(c.checkpointPath as string, `chk-${id}`));
        if (killed) return;
        killed = true;
        void c.killWorker(0).catch(() => undefined);
      },
    });
    const outcome = await client.result.then(
      (result: JobResult) => ({ result, error: undefined }),
      (error: unknown) => ({ result: undefined, error: error as WeirError }),
    );
    return { ...outcome, events, path: client.checkpointPath as string };
  }

  it('is refused by default, naming both checkpoints and the sink', async () => {
    const { error, events, path } = await damagedAfterCommit(COLLECT_JOB, { fault: 'none' });
    expect(error).toBeInstanceOf(WeirError);
    expect(error?.code).toBe(ErrorCodes.STATE_RESTORE);
    expect(error?.message).toContain(`the newest checkpoint ${join(path, 'chk-3')} is damaged`);
    expect(error?.message).toContain(`restoring the older ${join(path, 'chk-2')} makes sink(s) 'Collect Sink (out)' write again`);
    expect(error?.message).toContain('--allow-replay-of-committed');
    const failures = events.filter((e) => e.kind === 'attempt-failed').map(describeJobEvent);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^attempt 1 failed .*; not restarting: the newest checkpoint .*chk-3 is damaged/);
  }, 60_000);

  it('goes ahead with allowReplayOfCommitted, saying so, and replays what checkpoint 3 had committed', async () => {
    const { result, events } = await damagedAfterCommit(COLLECT_JOB, { fault: 'none' }, { allowReplayOfCommitted: true });
    expect(result?.faultTolerance.restarts).toBe(1);
    const warnings = events.filter((e) => e.kind === 'warning').map(describeJobEvent);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^warning: the newest checkpoint .*chk-3 is damaged .*accepted \(allowReplayOfCommitted\), that output appears twice$/,
    );
    // Every sequence complete; what chk-3 committed came twice (at-least-once, knowingly).
    const seen = new Map<string, number>();
    for (const [k, s] of result?.collected.out as [number, number][]) seen.set(`${k}:${s}`, (seen.get(`${k}:${s}`) ?? 0) + 1);
    expect(seen.size).toBe(8 * 1500);
    expect([...seen.values()].some((c) => c > 1)).toBe(true);
  }, 60_000);

  it('is exact with the exactly-once file sink, which rewinds what was committed after the restored checkpoint', async () => {
    const out = temp('fallback-out');
    const { result, error, events } = await damagedAfterCommit(FILE_JOB, { out });
    expect(error).toBeUndefined();
    expect(result?.faultTolerance.restarts).toBe(1);
    expect(result?.faultTolerance.skippedCheckpoints.length).toBeGreaterThanOrEqual(1);
    expect(events.filter((e) => e.kind === 'warning')).toEqual([]);
    expect(exactness(out, 8, 1500)).toEqual({ lost: 0, duplicated: 0 });
  }, 60_000);
});

describe('checkpoint storage that no restart can cure', () => {
  it('fails at once with EROFS when the checkpoint folder is read-only (injected: tests run as root)', async () => {
    injectStorageFault('EROFS');
    const events: JobEvent[] = [];
    const error = (await executeJob(FILE_JOB, {
      parallelism: 2,
      checkpointDir: temp('erofs'),
      params: { keys: 2, perKey: 200, interval: 50, out: temp('erofs-out') },
      onEvent: (e) => events.push(e),
    }).catch((e: unknown) => e)) as WeirError;
    expect(error.code).toBe(ErrorCodes.CHECKPOINT_STORAGE);
    expect(error.retriable).toBe(false);
    expect(error.message).toMatch(
      /cannot create the checkpoint folder .*EROFS.*\(EROFS: the checkpoint folder is not writable; restarting cannot help\)/,
    );
    expect(events.filter((e) => e.kind === 'attempt-failed')).toHaveLength(1);
  }, 60_000);

  it('fails at once with ENOSPC when the disk fills mid-run, and leaves no in-progress part files', async () => {
    const out = temp('enospc-out');
    const events: JobEvent[] = [];
    const error = (await executeJob(FILE_JOB, {
      parallelism: 2,
      checkpointDir: temp('enospc'),
      params: { keys: 4, perKey: 3000, interval: 50, rate: 4_000, out },
      onEvent: (e) => events.push(e),
      onCheckpoint: (checkpoint) => {
        if (checkpoint.id === 2) injectStorageFault('ENOSPC');
      },
    }).catch((e: unknown) => e)) as WeirError;
    expect(error.code).toBe(ErrorCodes.CHECKPOINT_STORAGE);
    expect(error.message).toContain('(ENOSPC: the checkpoint folder is full; restarting cannot help)');
    const failures = events.filter((e) => e.kind === 'attempt-failed').map(describeJobEvent);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(
      /^attempt 1 failed \[WEIR_CHECKPOINT_STORAGE\]: .*ENOSPC.*; not restarting: a restart cannot fix this error$/,
    );
    expect(readdirSync(out).filter((n) => n.endsWith('.inprogress'))).toEqual([]);
  }, 60_000);
});

describe('a cancelled run', () => {
  it('leaves no in-progress part files in the output folder', async () => {
    const out = temp('cancel-out');
    let cancelled = false;
    const client = await startJob(FILE_JOB, {
      parallelism: 2,
      params: { keys: 4, perKey: 5000, interval: 50, rate: 4_000, out },
      onCheckpointCommitted: (id, _attempt, c) => {
        if (id < 3 || cancelled) return;
        cancelled = true;
        void c.cancel();
      },
    });
    const error = (await client.result.catch((e: unknown) => e)) as WeirError;
    expect(error.code).toBe(ErrorCodes.JOB_CANCELLED);
    const names = readdirSync(out);
    expect(names.filter((n) => !n.startsWith('.')).length).toBeGreaterThan(0);
    expect(names.filter((n) => n.endsWith('.inprogress'))).toEqual([]);
  }, 60_000);
});
