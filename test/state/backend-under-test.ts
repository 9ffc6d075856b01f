// The keyed backend the state unit tests run against: the heap backend, or RocksDB when WEIR_STATE_BACKEND=rocksdb (the suite's RocksDB project).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import {
  HeapKeyedStateBackend,
  RocksDbKeyedStateBackend,
  sweepRocksDbDirs,
  type HeapKeyedStateBackendOptions,
  type KeyGroupRange,
} from '../../src/state/index.ts';

const DIR = join(tmpdir(), `weir-rocksdb-unit-${process.pid}`);
const opened: RocksDbKeyedStateBackend[] = [];

afterAll(async () => {
  for (const b of opened.splice(0)) await b.close();
  sweepRocksDbDirs(DIR, '');
});

/** Which backend {@link backendUnderTest} makes. */
export const BACKEND_UNDER_TEST = process.env.WEIR_STATE_BACKEND === 'rocksdb' ? 'rocksdb' : 'heap';

/**
 * A fresh keyed backend. The RocksDB one has a cache larger than these tests' keys: fresh keys
 * are never on disk, so state is used synchronously without a prefetch, as on the heap; the
 * differential test covers the way through disk.
 */
export function backendUnderTest(
  maxParallelism: number,
  range: KeyGroupRange,
  operatorName: string,
  options: HeapKeyedStateBackendOptions = {},
): HeapKeyedStateBackend {
  if (BACKEND_UNDER_TEST === 'heap') return new HeapKeyedStateBackend(maxParallelism, range, operatorName, options);
  const b = new RocksDbKeyedStateBackend(maxParallelism, range, operatorName, { ...options, dir: DIR, dirName: operatorName });
  opened.push(b);
  return b;
}
