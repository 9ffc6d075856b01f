// The RocksDB backend maps a prefetched batch's keys once: records set them as current in order, other keys in between (timers) are mapped as they come.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RocksDbKeyedStateBackend, ValueStateDescriptor, assignToKeyGroup, mapKey, sweepRocksDbDirs } from '../../src/state/index.ts';

const DIR = join(tmpdir(), `weir-rocksdb-batch-keys-${process.pid}`);
afterAll(() => sweepRocksDbDirs(DIR, ''));

describe('RocksDB batch keys', () => {
  it('scopes state to each key of a prefetched batch, in order or not, with other keys in between', async () => {
    const b = new RocksDbKeyedStateBackend(128, { start: 0, end: 127 }, 'op', { dir: DIR, dirName: 'batch-keys' });
    await b.ready();
    const v = b.getValueState(new ValueStateDescriptor<number>('v', 0));
    const batch: unknown[] = ['a', 7, 'a', -0, ['x', 1], 'b', 'c'];
    await b.prefetch(batch);
    const order = [0, 1, 'timer', 2, 3, 4, 'timer', 6, 5];
    for (const step of order) {
      const key = step === 'timer' ? 'z' : batch[step as number];
      b.setCurrentKey(key);
      expect(b.getCurrentKey()).toBe(key);
      expect(b.getCurrentKeyGroup()).toBe(assignToKeyGroup(key, 128));
      expect(b.currentMapKey).toBe(mapKey(key));
      v.update((v.value() as number) + 1);
    }
    const counts: Record<string, number> = {};
    for (const key of ['a', 7, 0, ['x', 1], 'b', 'c', 'z']) {
      b.setCurrentKey(key);
      counts[JSON.stringify(key)] = v.value() as number;
    }
    expect(counts).toEqual({ '"a"': 2, '7': 1, '0': 1, '["x",1]': 1, '"b"': 1, '"c"': 1, '"z"': 2 });
    await b.close();
  });
});
