// A job leaves the temp folder as it found it: RocksDB working folders (of live and of killed workers) and their parent, and nothing else.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { startJob } from '../../src/index.ts';

describe('temp files of a job', () => {
  for (const backend of ['heap', 'rocksdb'] as const) {
    it(`are all gone when a checkpointed job on worker threads ends, after a worker was killed (${backend})`, async () => {
      const before = readdirSync(tmpdir()).sort();
      let killed = false;
      const client = await startJob('test/fixtures/jobs/paced-sum.ts', {
        parallelism: 2,
        params: { count: 6000, rate: 6000 },
        checkpointIntervalMs: 100,
        stateBackend: backend === 'rocksdb' ? { kind: 'rocksdb', cacheKeys: 2 } : { kind: 'heap' },
        onCheckpoint: (c, _attempt, job) => {
          if (c.id === 2 && !killed) {
            killed = true;
            void job.killWorker(1);
          }
        },
      });
      const result = await client.result;
      expect(killed).toBe(true);
      expect(result.faultTolerance.restarts).toBe(1);
      expect(result.collected.sums).toContainEqual(Array.from({ length: 1500 }, (_, i) => i * 4 + 3).reduce((a, b) => a + b, 0));
      expect(readdirSync(tmpdir()).sort()).toEqual(before);
    });
  }
});
