// Checkpoint storage round trips: realistic entries come back equal, the folder holds exactly the documented files, savepoints live apart, concurrent writes stay whole.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpack } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, WeirError } from '../../src/core/errors.ts';
import { CheckpointStorage, loadCheckpoint } from '../../src/checkpoint/storage.ts';
import { CHECKPOINT_FORMAT_VERSION, checkPlainData, metadataChecksum, type StateEntry } from '../../src/checkpoint/storage-format.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'weir-storage-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Entries shaped like what the runtime hands over: keyed snapshots per key group, operator state, source offsets. */
function realisticEntries(scale = 1): StateEntry[] {
  const keyed = Array.from({ length: 4 }, (_, kg) => ({
    version: 1,
    keyGroup: kg,
    states: [
      {
        name: 'count',
        kind: 'value',
        ttl: false,
        keys: Array.from({ length: 50 * scale }, (_, i) => `user-${kg}-${i}`),
        values: Array.from({ length: 50 * scale }, (_, i) => i * 3),
      },
      {
        name: 'seen',
        kind: 'map',
        ttl: true,
        keys: [1, 2n, 'k'],
        namespaces: [null, { start: 0, end: 10_000 }, null],
        values: [[['a', { nested: [1, 2, { deep: true }] }]], [[7, null]], [['x', undefined]]],
        timestamps: [[1], [2], [3]],
      },
    ],
  }));
  return [
    { name: 'window-op/0/keyed', data: keyed },
    {
      name: 'window-op/0/operator',
      data: {
        version: 1,
        lists: [{ name: 'buffer', mode: 'split', elements: [1.5, -0, 'é漢字', new Uint8Array([0, 255])] }],
        broadcast: [],
      },
    },
    { name: 'source/0/reader', data: { offsets: { 'topic-0': 12345678901234n, 'topic-1': 0 }, at: new Date(1_700_000_000_000) } },
    { name: 'empty', data: null },
  ];
}

describe('checkpoint storage round trip', () => {
  it('reads back nested entries, bigints, dates, bytes and undefined exactly as written', async () => {
    const storage = new CheckpointStorage(join(root, 'job'));
    const entries = realisticEntries();
    const result = await storage.write({
      id: 7,
      timestamp: 1000,
      job: 'job-fingerprint-abc',
      info: { parallelism: 2, sources: ['s1'] },
      entries,
    });
    expect(result.path).toBe(join(root, 'job', 'chk-7'));
    expect(result.kind).toBe('checkpoint');
    expect(result.bytes).toBeGreaterThan(0);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);

    const latest = await storage.latest();
    expect(latest?.path).toBe(result.path);
    expect(latest?.skipped).toEqual([]);
    const cp = latest!.checkpoint;
    expect(cp).toMatchObject({
      id: 7,
      kind: 'checkpoint',
      job: 'job-fingerprint-abc',
      timestamp: 1000,
      info: { parallelism: 2, sources: ['s1'] },
    });
    expect(cp.bytes).toBe(result.bytes);
    expect(cp.entries.map((e) => e.name)).toEqual(entries.map((e) => e.name));
    const [keyed, operator, source, empty] = cp.entries.map((e) => e.data) as any[];
    expect(keyed).toEqual(entries[0].data);
    expect(keyed[0].states[1].keys[1]).toBe(2n);
    expect(keyed[0].states[1].values[2][0]).toEqual(['x', undefined]);
    expect(Array.from(operator.lists[0].elements[3])).toEqual([0, 255]);
    // msgpack has no negative zero: -0 reads back as 0 (documented).
    expect(operator.lists[0].elements.slice(0, 3)).toEqual([1.5, 0, 'é漢字']);
    expect(source.offsets['topic-0']).toBe(12345678901234n);
    expect(source.at).toEqual(new Date(1_700_000_000_000));
    expect(empty).toBeNull();
  });

  it('writes one standard MessagePack file per entry and a checksummed JSON _metadata', async () => {
    const storage = new CheckpointStorage(join(root, 'job'));
    const { path } = await storage.write({
      id: 3,
      timestamp: 5,
      job: 'j',
      entries: [
        { name: 'a', data: { x: [1, 2] } },
        { name: 'b', data: 'text' },
      ],
    });
    expect(readdirSync(path).sort()).toEqual(['_metadata', 'state-00000.msgpack', 'state-00001.msgpack']);
    const metadata = JSON.parse(readFileSync(join(path, '_metadata'), 'utf8'));
    expect(metadata).toMatchObject({
      format: 'weir-checkpoint',
      version: CHECKPOINT_FORMAT_VERSION,
      id: 3,
      kind: 'checkpoint',
      job: 'j',
      timestamp: 5,
      encoding: 'msgpack',
      info: null,
    });
    expect(metadata.files).toEqual([
      { name: 'a', file: 'state-00000.msgpack', bytes: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      { name: 'b', file: 'state-00001.msgpack', bytes: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    expect(metadata.checksum).toBe(metadataChecksum(metadata));
    // Any MessagePack reader can decode a state file.
    expect(unpack(readFileSync(join(path, 'state-00000.msgpack')))).toEqual({ x: [1, 2] });
  });

  it('stores a checkpoint without entries', async () => {
    const storage = new CheckpointStorage(join(root, 'job'));
    await storage.write({ id: 1, timestamp: 1, job: 'j', entries: [] });
    expect((await storage.latest())?.checkpoint.entries).toEqual([]);
  });

  it('refuses state that msgpack would change silently, naming the entry and the path', async () => {
    const storage = new CheckpointStorage(join(root, 'job'));
    const attempt = (data: unknown) => storage.write({ id: 1, timestamp: 1, job: 'j', entries: [{ name: 'op/0', data }] });
    await expect(attempt({ counts: new Map([[1, 'a']]) })).rejects.toThrow(/'op\/0'.*\.counts is a Map/);
    await expect(attempt([new Set([1])])).rejects.toThrow(/\[0\] is a Set/);
    await expect(attempt({ f: () => 1 })).rejects.toThrow(/\.f is a function/);
    class Point {
      x = 1;
    }
    await expect(attempt({ p: new Point() })).rejects.toThrow(/\.p is an instance of Point/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(attempt(cyclic)).rejects.toThrow(/nested more than/);
    const error = await attempt(new Float64Array(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeirError);
    expect((error as WeirError).code).toBe(ErrorCodes.STATE_ACCESS);
    // Nothing half-written is left behind.
    expect(readdirSync(join(root, 'job'))).toEqual([]);
    expect(checkPlainData({ a: [1, 'x', null, undefined, 3n, new Date(0), Buffer.from('x'), Object.create(null)] })).toBeUndefined();
  });

  it('refuses a second checkpoint with the same id and keeps the first intact', async () => {
    const storage = new CheckpointStorage(join(root, 'job'));
    await storage.write({ id: 4, timestamp: 1, job: 'j', entries: [{ name: 'a', data: 1 }] });
    await expect(storage.write({ id: 4, timestamp: 2, job: 'j', entries: [{ name: 'a', data: 2 }] })).rejects.toThrow(
      /checkpoint 4 already exists/,
    );
    expect((await storage.latest())?.checkpoint.entries[0].data).toBe(1);
    expect(readdirSync(join(root, 'job'))).toEqual(['chk-4']);
  });

  it('writes concurrent checkpoints of different ids whole', async () => {
    const storage = new CheckpointStorage(join(root, 'job'), { retain: 10 });
    const ids = [1, 2, 3, 4, 5, 6, 7, 8];
    await Promise.all(
      ids.map((id) =>
        storage.write({ id, timestamp: id, job: 'j', entries: realisticEntries(20).map((e) => ({ ...e, name: `${e.name}#${id}` })) }),
      ),
    );
    expect((await storage.list()).map((c) => c.id)).toEqual(ids);
    for (const id of ids) {
      const cp = await storage.load(join(root, 'job', `chk-${id}`));
      expect(cp.entries[0].name).toBe(`window-op/0/keyed#${id}`);
      expect(cp.entries[0].data).toEqual(realisticEntries(20)[0].data);
    }
    expect(readdirSync(join(root, 'job')).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('lets the event loop run while a large checkpoint is written', async () => {
    const storage = new CheckpointStorage(join(root, 'job'), { checkPlainData: false });
    const entries = Array.from({ length: 8 }, (_, i) => ({ name: `kg-${i}`, data: Buffer.alloc(6 << 20, i) }));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const written = storage.write({ id: 1, timestamp: 1, job: 'j', entries });
    await written;
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    const cp = await storage.load((await written).path);
    expect((cp.entries[7].data as Buffer).equals(entries[7].data)).toBe(true);
  });
});

describe('savepoints', () => {
  it('are written under the given directory, loaded by path, and kept by retention', async () => {
    const storage = new CheckpointStorage(join(root, 'job'), { retain: 1 });
    const target = join(root, 'savepoints');
    const sp = await storage.writeSavepoint(
      { id: 9, timestamp: 3, job: 'j', info: { reason: 'upgrade' }, entries: realisticEntries() },
      target,
    );
    expect(sp.kind).toBe('savepoint');
    expect(sp.path).toMatch(/savepoints\/savepoint-9-[0-9a-f]+$/);
    for (let id = 10; id < 14; id++) await storage.write({ id, timestamp: id, job: 'j', entries: [] });
    const loaded = await loadCheckpoint(sp.path);
    expect(loaded).toMatchObject({ id: 9, kind: 'savepoint', job: 'j', info: { reason: 'upgrade' } });
    expect(loaded.entries.map((e) => e.name)).toEqual(realisticEntries().map((e) => e.name));
    expect(loaded.entries[0]).toEqual(realisticEntries()[0]);
    // Pointing at the _metadata file works too.
    expect((await storage.load(join(sp.path, '_metadata'))).id).toBe(9);
    expect(readdirSync(target)).toHaveLength(1);
  });

  it('fail to load with an error naming the damaged file', async () => {
    const storage = new CheckpointStorage(join(root, 'job'));
    const sp = await storage.writeSavepoint({ id: 2, timestamp: 3, job: 'j', entries: realisticEntries() }, join(root, 'sp'));
    const file = join(sp.path, 'state-00001.msgpack');
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(file, bytes);
    const error = (await storage.load(sp.path).catch((e: unknown) => e)) as WeirError;
    expect(error).toBeInstanceOf(WeirError);
    expect(error.code).toBe(ErrorCodes.STATE_RESTORE);
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/sha256 checksum/);
  });

  it('fail to load when the metadata is missing', async () => {
    const storage = new CheckpointStorage(join(root, 'job'));
    const sp = await storage.writeSavepoint({ id: 2, timestamp: 3, job: 'j', entries: [] }, join(root, 'sp'));
    rmSync(join(sp.path, '_metadata'));
    await expect(storage.load(sp.path)).rejects.toThrow(`metadata file ${join(sp.path, '_metadata')} is missing`);
  });

  it('are deleted by deleteSavepoint, which refuses folders that are not savepoints', async () => {
    const storage = new CheckpointStorage(join(root, 'job'));
    const sp = await storage.writeSavepoint({ id: 2, timestamp: 3, job: 'j', entries: realisticEntries() }, join(root, 'sp'));
    await storage.deleteSavepoint(sp.path);
    expect(readdirSync(join(root, 'sp'))).toEqual([]);

    await mkdir(join(root, 'my-data'));
    await expect(storage.deleteSavepoint(join(root, 'my-data'))).rejects.toThrow(/not a savepoint folder/);
    const other = await storage.writeSavepoint({ id: 3, timestamp: 3, job: 'j', entries: [] }, join(root, 'sp'));
    writeFileSync(join(other.path, 'notes.txt'), 'mine');
    await expect(storage.deleteSavepoint(other.path)).rejects.toThrow(/files weir did not write: notes.txt/);
    expect(readdirSync(other.path)).toContain('notes.txt');
  });
});
