//! One run of bench/rocksdb.ts in a process of its own (so its peak RSS is its own): the large-state example on one backend; prints a JSON line.

import { executeJob, type CompletedCheckpoint, type WeirError } from '../../src/index.ts';

const [backend, keys, rounds, hot, cacheKeys, heapMb, checkpointMs] = process.argv.slice(2);
const checkpoints: { durationMs: number; bytes: number }[] = [];
const started = performance.now();
let outcome: Record<string, unknown>;
try {
  const result = await executeJob(new URL('../../examples/large-state.ts', import.meta.url).href, {
    parallelism: 1,
    params: {
      keys: Number(keys),
      rounds: Number(rounds),
      hot: Number(hot),
      ...(Number(checkpointMs) > 0 ? { checkpointMs: Number(checkpointMs) } : {}),
    },
    stateBackend: backend === 'rocksdb' ? { kind: 'rocksdb', cacheKeys: Number(cacheKeys) } : { kind: 'heap' },
    workerMaxHeapMb: Number(heapMb) > 0 ? Number(heapMb) : undefined,
    onCheckpoint: (c: CompletedCheckpoint) => void checkpoints.push({ durationMs: c.durationMs, bytes: c.bytes }),
  });
  outcome = { ok: true, totals: result.collected.totals };
} catch (error) {
  outcome = { ok: false, code: (error as WeirError).code, message: (error as Error).message };
}
const ms = performance.now() - started;
console.log(JSON.stringify({ ...outcome, ms, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024), checkpoints }));
