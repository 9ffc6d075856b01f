// RocksDB in running jobs: state larger than a worker's heap completes exactly where the heap backend fails with a clear error; savepoints move between backends and parallelisms; the CLI option; no directories left behind.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, WeirError, executeJob, startJob, type StateBackendConfig } from '../../src/index.ts';
import { expectedTotals } from '../../examples/large-state.ts';

const LARGE = 'examples/large-state.ts';
const COUNTS = 'test/fixtures/jobs/savepoint-counts.ts';

type Totals = { subtask: number; keys: number; events: number }[];
const sum = (t: Totals) => ({ keys: t.reduce((a, x) => a + x.keys, 0), events: t.reduce((a, x) => a + x.events, 0) });

describe('state larger than the heap', () => {
  // 600,000 keys: more than a 24 MB worker heap holds as Maps (the heap backend fails below; it
  // completes 100,000 keys under the same cap). bench/rocksdb.ts runs 50 M keys.
  const keys = 600_000;
  const HEAP_MB = 24;

  it('completes a keyed count over 600,000 keys in RocksDB with exact totals, the worker heap capped at 24 MB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-rocksdb-large-'));
    const result = await executeJob(LARGE, {
      parallelism: 1,
      params: { keys, rounds: 2 },
      workerMaxHeapMb: HEAP_MB,
      stateBackend: { kind: 'rocksdb', dir, cacheKeys: 10_000 },
    });
    expect(sum(result.collected.totals as Totals)).toEqual(expectedTotals({ keys, rounds: 2, hot: 0 }));
    // Every working directory is gone when the job ends.
    expect(readdirSync(dir)).toEqual([]);
    // 1.2 M keyed updates through disk on one thread: its wall time grows with the machine's load (it ran past 60 s at load 10–15).
  }, 180_000);

  it('fails on the heap backend under the same cap with an out-of-memory error naming the backend and suggesting RocksDB', async () => {
    const error = (await executeJob(LARGE, {
      parallelism: 1,
      params: { keys, rounds: 2 },
      workerMaxHeapMb: HEAP_MB,
      stateBackend: { kind: 'heap' },
    }).catch((e: unknown) => e)) as WeirError;
    expect(error).toBeInstanceOf(WeirError);
    expect(error.code).toBe(ErrorCodes.OUT_OF_MEMORY);
    expect(error.message).toContain(`JS heap limit of ${HEAP_MB} MB`);
    expect(error.message).toContain('heap state backend');
    expect(error.message).toContain("env.setStateBackend('rocksdb')");
  });
});

/** Runs the counting job until its second checkpoint, then stops it with a savepoint. */
async function savepointOf(parallelism: number, dir: string, stateBackend: StateBackendConfig, restore?: string): Promise<string> {
  let resolveStop!: (p: Promise<string>) => void;
  const stopped = new Promise<Promise<string>>((r) => (resolveStop = r));
  let seen = 0;
  const client = await startJob(COUNTS, {
    parallelism,
    stateBackend,
    params: { keys: 10, count: 6000, rate: 4000 },
    fromSavepoint: restore,
    onCheckpoint: (_c, _a, c) => {
      if (++seen === 2) resolveStop(c.stopWithSavepoint(dir).then((s) => s.path as string));
    },
  });
  const path = await await stopped;
  expect((await client.result).savepoint?.path).toBe(path);
  return path;
}

function finals(counts: unknown[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const [k, c] of counts as [number, number][]) out.set(k, Math.max(out.get(k) ?? 0, c));
  return out;
}

describe('savepoints across backends', () => {
  it('heap at p=2 → RocksDB at p=3 → heap at p=1 ends with the counts of an uninterrupted run', async () => {
    const golden = await executeJob(COUNTS, { parallelism: 2, params: { keys: 10, count: 6000, rate: 0 } });
    const dir = mkdtempSync(join(tmpdir(), 'weir-savepoints-x-'));
    const rocksdb: StateBackendConfig = { kind: 'rocksdb', cacheKeys: 3 };
    const fromHeap = await savepointOf(2, dir, { kind: 'heap' });
    const fromRocks = await savepointOf(3, dir, rocksdb, fromHeap);
    const last = await executeJob(COUNTS, {
      parallelism: 1,
      params: { keys: 10, count: 6000 },
      fromSavepoint: fromRocks,
      stateBackend: { kind: 'heap' },
    });
    expect(finals(last.collected.counts)).toEqual(finals(golden.collected.counts));
    // Every count after the savepoint continues it: no key starts over.
    expect(Math.min(...(last.collected.counts as [number, number][]).map(([, c]) => c))).toBeGreaterThan(1);
  });

  it('RocksDB at p=2 → heap at p=3 → RocksDB at p=1 ends with the counts of an uninterrupted run', async () => {
    const golden = await executeJob(COUNTS, { parallelism: 2, params: { keys: 10, count: 6000, rate: 0 } });
    const dir = mkdtempSync(join(tmpdir(), 'weir-savepoints-y-'));
    const rocksdb: StateBackendConfig = { kind: 'rocksdb', cacheKeys: 3 };
    const first = await savepointOf(2, dir, rocksdb);
    const second = await savepointOf(3, dir, { kind: 'heap' }, first);
    const last = await executeJob(COUNTS, {
      parallelism: 1,
      params: { keys: 10, count: 6000 },
      fromSavepoint: second,
      stateBackend: rocksdb,
    });
    expect(finals(last.collected.counts)).toEqual(finals(golden.collected.counts));
    expect(Math.min(...(last.collected.counts as [number, number][]).map(([, c]) => c))).toBeGreaterThan(1);
  });
});

describe('weir run --state-backend rocksdb', () => {
  it('runs a job with its keyed state in RocksDB under --state-dir and removes the directory it used', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-cli-rocksdb-'));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        'bin/weir.js',
        'run',
        LARGE,
        '-p',
        '2',
        '--state-backend',
        'rocksdb',
        '--state-dir',
        dir,
        '--state-cache-keys',
        '500',
        '--param',
        'keys=20000',
        '--json',
      ],
      { cwd: process.cwd(), timeout: 120_000 },
    );
    const result = JSON.parse(stdout) as { collected: { totals: Totals } };
    expect(sum(result.collected.totals)).toEqual({ keys: 20_000, events: 40_000 });
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('refuses an unknown backend, naming the option', async () => {
    const error = (await promisify(execFile)(process.execPath, ['bin/weir.js', 'run', LARGE, '--state-backend', 'leveldb']).catch(
      (e: unknown) => e,
    )) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(2);
    expect(error.stderr).toContain("--state-backend must be heap or rocksdb, got 'leveldb'");
  });
});
