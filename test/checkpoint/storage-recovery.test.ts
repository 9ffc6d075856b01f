// Checkpoint storage recovery: damaged or partial checkpoints are skipped with a message naming the file, interrupted writes are never restored, retention keeps the last N.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, WeirError } from '../../src/core/errors.ts';
import { CheckpointStorage } from '../../src/checkpoint/storage.ts';

let root: string;
let jobDir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'weir-storage-'));
  jobDir = join(root, 'job');
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const snapshot = (id: number) => ({
  id,
  timestamp: 1000 + id,
  job: 'fp',
  info: { id },
  entries: [
    { name: 'op/0', data: { counts: Array.from({ length: 200 }, (_, i) => [`k${i}`, i * id]) } },
    { name: 'op/1', data: { counts: [['z', id]] } },
  ],
});

async function twoCheckpoints(): Promise<CheckpointStorage> {
  const storage = new CheckpointStorage(jobDir, { retain: 3 });
  await storage.write(snapshot(1));
  await storage.write(snapshot(2));
  return storage;
}

async function expectFallbackTo1(storage: CheckpointStorage, reason: RegExp | string): Promise<void> {
  const latest = await storage.latest();
  expect(latest?.checkpoint.id).toBe(1);
  expect(latest?.checkpoint.info).toEqual({ id: 1 });
  expect(latest?.skipped).toHaveLength(1);
  expect(latest?.skipped[0].path).toBe(join(jobDir, 'chk-2'));
  if (typeof reason === 'string') expect(latest?.skipped[0].reason).toContain(reason);
  else expect(latest?.skipped[0].reason).toMatch(reason);
}

describe('latest() over damaged checkpoints', () => {
  it('falls back to the previous checkpoint when one byte of a state file is flipped', async () => {
    const storage = await twoCheckpoints();
    const file = join(jobDir, 'chk-2', 'state-00000.msgpack');
    const bytes = readFileSync(file);
    bytes[100] ^= 0x10;
    writeFileSync(file, bytes);
    await expectFallbackTo1(storage, new RegExp(`state file ${file} fails its sha256 checksum`));
  });

  it('falls back when a state file is truncated', async () => {
    const storage = await twoCheckpoints();
    const file = join(jobDir, 'chk-2', 'state-00001.msgpack');
    truncateSync(file, 3);
    await expectFallbackTo1(storage, `state file ${file} has 3 bytes, the metadata says`);
  });

  it('falls back when a state file is missing', async () => {
    const storage = await twoCheckpoints();
    const file = join(jobDir, 'chk-2', 'state-00000.msgpack');
    rmSync(file);
    await expectFallbackTo1(storage, `state file ${file} is missing`);
  });

  it('falls back when the metadata is deleted', async () => {
    const storage = await twoCheckpoints();
    rmSync(join(jobDir, 'chk-2', '_metadata'));
    await expectFallbackTo1(storage, `metadata file ${join(jobDir, 'chk-2', '_metadata')} is missing`);
  });

  it('falls back when the metadata is not JSON, or was edited', async () => {
    const storage = await twoCheckpoints();
    const metadata = join(jobDir, 'chk-2', '_metadata');
    const text = readFileSync(metadata, 'utf8');
    writeFileSync(metadata, text.slice(0, 40));
    await expectFallbackTo1(storage, `metadata file ${metadata} is not valid JSON`);
    // Still valid JSON, but a size was changed by hand (or a bit flipped in a digit).
    writeFileSync(metadata, text.replace('"timestamp": 1002', '"timestamp": 1003'));
    await expectFallbackTo1(storage, `metadata file ${metadata} fails its checksum`);
  });

  it('refuses metadata of a newer format version', async () => {
    const storage = await twoCheckpoints();
    const metadata = join(jobDir, 'chk-2', '_metadata');
    writeFileSync(metadata, readFileSync(metadata, 'utf8').replace('"version": 1', '"version": 99'));
    await expectFallbackTo1(storage, 'has format version 99; this weir reads up to version 1');
  });

  it('never restores an interrupted write: a leftover in-progress folder is reported and passed over', async () => {
    const storage = await twoCheckpoints();
    // A crash before the rename: the temporary folder is complete on disk, but never renamed.
    const other = new CheckpointStorage(join(root, 'elsewhere'));
    const { path } = await other.write(snapshot(3));
    const leftover = join(jobDir, '.chk-3.inprogress-0badf00d');
    mkdirSync(leftover);
    for (const name of readdirSync(path)) writeFileSync(join(leftover, name), readFileSync(join(path, name)));
    const latest = await storage.latest();
    expect(latest?.checkpoint.id).toBe(2);
    expect(latest?.skipped).toEqual([
      {
        path: leftover,
        id: 3,
        reason: expect.stringContaining(`${leftover} is the incomplete folder of an interrupted write of checkpoint 3`),
        committed: false,
      },
    ]);
    expect(await storage.list()).toEqual([
      { id: 1, path: join(jobDir, 'chk-1') },
      { id: 2, path: join(jobDir, 'chk-2') },
    ]);
    expect(await storage.discardInProgress()).toEqual([leftover]);
    expect((await storage.latest())?.skipped).toEqual([]);
  });

  it('reports every damaged checkpoint, newest first, while falling back further', async () => {
    const storage = new CheckpointStorage(jobDir, { retain: 3 });
    for (const id of [1, 2, 3]) await storage.write(snapshot(id));
    rmSync(join(jobDir, 'chk-3', '_metadata'));
    truncateSync(join(jobDir, 'chk-2', 'state-00000.msgpack'), 0);
    const latest = await storage.latest();
    expect(latest?.checkpoint.id).toBe(1);
    expect(latest?.skipped.map((s) => s.path)).toEqual([join(jobDir, 'chk-3'), join(jobDir, 'chk-2')]);
  });

  it('throws rather than start from scratch when every checkpoint is damaged', async () => {
    const storage = await twoCheckpoints();
    rmSync(join(jobDir, 'chk-1', 'state-00001.msgpack'));
    rmSync(join(jobDir, 'chk-2', '_metadata'));
    const error = (await storage.latest().catch((e: unknown) => e)) as WeirError;
    expect(error).toBeInstanceOf(WeirError);
    expect(error.code).toBe(ErrorCodes.STATE_RESTORE);
    expect(error.message).toContain(join(jobDir, 'chk-1', 'state-00001.msgpack'));
    expect(error.message).toContain(join(jobDir, 'chk-2', '_metadata'));
  });

  it('returns undefined for a job without checkpoints, even with leftovers', async () => {
    const storage = new CheckpointStorage(jobDir);
    expect(await storage.latest()).toBeUndefined();
    mkdirSync(join(jobDir, '.chk-1.inprogress-abcd'), { recursive: true });
    expect(await storage.latest()).toBeUndefined();
  });

  it('does not take a folder renamed by hand for another checkpoint', async () => {
    const storage = await twoCheckpoints();
    rmSync(join(jobDir, 'chk-1'), { recursive: true });
    const { renameSync } = await import('node:fs');
    renameSync(join(jobDir, 'chk-2'), join(jobDir, 'chk-5'));
    await expect(storage.latest()).rejects.toThrow(/describes checkpoint 2, but the folder is named for 5/);
  });
});

describe('retention', () => {
  it('keeps the last N completed checkpoints', async () => {
    const storage = new CheckpointStorage(jobDir, { retain: 2 });
    const discarded: string[][] = [];
    for (let id = 1; id <= 5; id++) discarded.push((await storage.write(snapshot(id))).discarded);
    expect(readdirSync(jobDir).sort()).toEqual(['chk-4', 'chk-5']);
    expect(discarded).toEqual([[], [], [join(jobDir, 'chk-1')], [join(jobDir, 'chk-2')], [join(jobDir, 'chk-3')]]);
  });

  it('deletes nothing while a newer checkpoint fails to be written', async () => {
    const storage = new CheckpointStorage(jobDir, { retain: 1 });
    await storage.write(snapshot(1));
    await expect(storage.write({ ...snapshot(2), entries: [{ name: 'bad', data: new Map() }] })).rejects.toThrow(/Map/);
    expect(readdirSync(jobDir)).toEqual(['chk-1']);
    expect((await storage.latest())?.checkpoint.id).toBe(1);
  });

  it('never deletes the checkpoint just written, even when an older id completes last', async () => {
    const storage = new CheckpointStorage(jobDir, { retain: 1 });
    await storage.write(snapshot(6));
    const late = await storage.write(snapshot(5));
    expect(late.discarded).toEqual([]);
    expect(readdirSync(jobDir).sort()).toEqual(['chk-5', 'chk-6']);
    await storage.write(snapshot(7));
    expect(readdirSync(jobDir)).toEqual(['chk-7']);
  });

  it('rejects a retention below one', () => {
    expect(() => new CheckpointStorage(jobDir, { retain: 0 })).toThrow(/positive integer/);
  });
});
