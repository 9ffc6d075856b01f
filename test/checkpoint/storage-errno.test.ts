// Checkpoint storage names the file system's errno, marks what no restart can cure non-retriable, and never loops creating folders.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointStorage } from '../../src/checkpoint/storage.ts';
import { injectStorageFault } from '../../src/checkpoint/storage-files.ts';
import { ErrorCodes, WeirError } from '../../src/core/errors.ts';

const dirs: string[] = [];
afterEach(() => {
  injectStorageFault(undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as WeirError,
  );

const snapshot = (id: number) => ({ id, timestamp: 1, job: 'j', entries: [{ name: 'a/0', data: { n: id } }] });

describe('checkpoint storage errors', () => {
  it('reports the errno of the level that failed under /proc instead of looping (fs.mkdir recursive spins there)', async () => {
    const error = await failure(new CheckpointStorage('/proc/weir-test/job/run').prepare());
    expect(error).toBeInstanceOf(WeirError);
    expect(error?.code).toBe(ErrorCodes.CHECKPOINT_STORAGE);
    expect(error?.message).toContain("ENOENT: no such file or directory, mkdir '/proc/weir-test'");
  });

  it('marks a folder the kernel refuses even to root (EPERM under /sys) non-retriable', async () => {
    const error = await failure(new CheckpointStorage('/sys/weir-test/job').prepare());
    expect(error?.retriable).toBe(false);
    expect(error?.message).toMatch(
      /^cannot create the checkpoint folder \/sys\/weir-test\/job: EPERM: .* \(EPERM: the checkpoint folder is not writable; restarting cannot help\)$/,
    );
  });

  it('fails a write on a full disk as non-retriable, naming ENOSPC, and leaves no temporary folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-enospc-'));
    dirs.push(dir);
    const storage = new CheckpointStorage(dir);
    await storage.write(snapshot(1));
    injectStorageFault('ENOSPC');
    const error = await failure(storage.write(snapshot(2)));
    expect(error?.retriable).toBe(false);
    expect(error?.message).toContain(`cannot write checkpoint 2 to ${join(dir, 'chk-2')}: ENOSPC`);
    expect(error?.message).toContain('(ENOSPC: the checkpoint folder is full; restarting cannot help)');
    injectStorageFault(undefined);
    expect((await storage.list()).map((c) => c.id)).toEqual([1]);
    expect(await storage.discardInProgress()).toEqual([]);
  });

  it('keeps other write errors retriable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-eio-'));
    dirs.push(dir);
    injectStorageFault('EIO');
    const error = await failure(new CheckpointStorage(dir).write(snapshot(1)));
    expect(error?.code).toBe(ErrorCodes.CHECKPOINT_STORAGE);
    expect(error?.retriable).toBe(true);
  });
});
