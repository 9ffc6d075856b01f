// The keyed backend the state unit tests run against: the heap backend, or RocksDB when WEIR_STATE_BACKEND=rocksdb (the suite's RocksDB project).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import {
  HeapKeyedStateBackend,
  RocksDbKeyedStateBackend,
  type HeapKeyedStateBackendOptions,
  type KeyGroupRange,
} from '../../src/state/index.ts';

const DIR = join(tmpdir(), `weir-rocksdb-unit-${process.pid}`);

/** Which backend {@link backendUnderTest} makes. */
export const BACKEND_UNDER_TEST = process.env.WEIR_STATE_BACKEND === 'rocksdb' ? 'rocksdb' : 'heap';

/**
 * A fresh keyed backend. The RocksDB one has a cache larger than these tests' keys: fresh keys
 * are never on disk, so state is used synchronously without a prefetch, as on the heap; the
 * differential test covers the way through disk. Made inside a test, and closed (its database
 * and folder gone) when that test finishes: test files share one process, so a file-level hook of
 * this module would run for the first file that loaded it only.
 */
export function backendUnderTest(
  maxParallelism: number,
  range: KeyGroupRange,
  operatorName: string,
  options: HeapKeyedStateBackendOptions = {},
): HeapKeyedStateBackend {
  if (BACKEND_UNDER_TEST === 'heap') return new HeapKeyedStateBackend(maxParallelism, range, operatorName, options);
  const b = new RocksDbKeyedStateBackend(maxParallelism, range, operatorName, { ...options, dir: DIR, dirName: operatorName });
  // close() removes the database's folder; the per-file temp cleanup takes the empty parent.
  onTestFinished(() => b.close());
  return b;
}
