// RocksDB when a restore fails: the job fails once, through its result, after its databases are closed; nothing rejects later (no unhandled "RocksDB open failed").
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WeirError, executeJob, loadCheckpoint, writeSavepoint } from '../../src/index.ts';
import { HeapKeyedStateBackend, RocksDbKeyedStateBackend, ValueStateDescriptor, assignToKeyGroup } from '../../src/state/index.ts';

const COUNTS = 'test/fixtures/jobs/savepoint-counts.ts';
const KEYS = 10;
const ALL = { start: 0, end: 127 };

let unhandled: unknown[] = [];
const record = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', record);
});
afterEach(() => {
  process.off('unhandledRejection', record);
});

/**
 * Lets native work queued before now finish and its rejections be reported: a database opened and
 * closed here goes through libuv's thread pool after the earlier opens, then one turn of the loop.
 */
async function settleNativeWork(dir: string): Promise<void> {
  const probe = new RocksDbKeyedStateBackend(128, ALL, 'probe', { dir, dirName: 'probe' });
  await probe.ready();
  await probe.close();
  await new Promise((resolve) => setImmediate(resolve));
}

describe('a failed restore with the RocksDB backend', () => {
  it('rejects the job once with the restore error, its databases already closed, and nothing rejects after', async () => {
    // Written at 64 key groups; the job has 128. Handed over as states (restoreFrom), the savepoint
    // skips the folder's plan check, so the keyed backends refuse it while the job deploys.
    const { path } = await writeSavepoint({
      dir: mkdtempSync(join(tmpdir(), 'weir-rocksdb-restore-sp-')),
      maxParallelism: 64,
      operators: [
        { uid: 'count', keyedState: { count: { kind: 'value', entries: Array.from({ length: KEYS }, (_, k) => [k, k] as const) } } },
      ],
    });
    const stored = await loadCheckpoint(path);
    const states = new Map(stored.entries.map((e) => [e.name, e.data as Uint8Array]));
    const dir = mkdtempSync(join(tmpdir(), 'weir-rocksdb-restore-'));
    const failures: string[] = [];
    const error = (await executeJob(COUNTS, {
      onEvent: (event) => {
        if (event.kind === 'attempt-failed') failures.push(`${event.next.action}: ${event.error.message}`);
      },
      mode: 'local',
      parallelism: 2,
      params: { keys: KEYS, count: 600, rate: 0 },
      restoreFrom: { id: stored.id, states },
      stateBackend: { kind: 'rocksdb', dir },
    }).catch((e: unknown) => e)) as WeirError;
    expect(error).toBeInstanceOf(WeirError);
    expect(error.message).toMatch(
      /^state 'count' of operator 'Count': key \d+ does not belong to key group \d+ \(is maxParallelism 128 the one of the snapshot\?\)$/,
    );
    expect(failures).toEqual([`give-up: ${error.message}`]);
    // The subtasks deployed before the failing one had their databases closed and removed first.
    expect(readdirSync(dir)).toEqual([]);
    await settleNativeWork(dir);
    expect(unhandled).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('dispose waits for a database still opening, and a failed open of a disposed backend is dropped', async () => {
    // A key group of restored state, so a write waits on the open as at deploy.
    const heap = new HeapKeyedStateBackend(128, ALL, 'Count');
    const count = heap.getValueState(new ValueStateDescriptor<number>('count', 0));
    heap.setCurrentKey(7);
    count.update(3);
    const kg = assignToKeyGroup(7, 128);
    const snapshot = heap.snapshotKeyGroup(kg);

    const dir = mkdtempSync(join(tmpdir(), 'weir-rocksdb-dispose-'));
    const opening = new RocksDbKeyedStateBackend(128, ALL, 'Count', { dir, dirName: 'opening' });
    opening.restoreKeyGroup(kg, snapshot);
    await opening.dispose();
    expect(readdirSync(dir)).toEqual([]);

    // Its directory removed under it while it opens (what a sweep at the job's end did): the open fails, nobody needs it.
    const swept = new RocksDbKeyedStateBackend(128, ALL, 'Count', { dir, dirName: 'swept' });
    swept.restoreKeyGroup(kg, snapshot);
    for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
    await swept.dispose();
    await settleNativeWork(dir);
    expect(unhandled).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });
});
