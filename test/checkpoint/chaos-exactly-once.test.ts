// Chaos suite: failures injected after a completed checkpoint; every key's sequence arrives exactly once and in order, as in a failure-free run.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executeJob, startJob, type JobResult } from '../../src/index.ts';

const KEYS = 16;
const PER_KEY = 2000;
const JOB = 'test/fixtures/jobs/chaos-sequences.ts';

/** Every key's sequence exactly once, in order. */
function checkSequences(result: JobResult): void {
  const byKey = new Map<number, number[]>();
  for (const [key, seq] of result.collected.out as [number, number, number][]) byKey.set(key, [...(byKey.get(key) ?? []), seq]);
  expect([...byKey.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: KEYS }, (_, k) => k));
  for (const [key, seqs] of byKey) {
    const expected = Array.from({ length: PER_KEY }, (_, i) => i);
    if (seqs.length !== PER_KEY || seqs.some((s, i) => s !== i)) {
      throw new Error(`key ${key}: ${seqs.length} records, first out of place at ${seqs.findIndex((s, i) => s !== i)}`);
    }
    expect(seqs).toEqual(expected);
  }
}

const canonical = (result: JobResult) => (result.collected.out as [number, number, number][]).map((r) => r.join(':')).sort();

async function chaos(fault: string, mode: 'threads' | 'local' = 'threads') {
  const faultDir = mkdtempSync(join(tmpdir(), `weir-chaos-${fault}-`));
  let armed = false;
  const client = await startJob(JOB, {
    mode,
    parallelism: 2,
    params: { keys: KEYS, perKey: PER_KEY, fault, faultDir, interval: 50, rate: 40_000 },
    onCheckpoint: (checkpoint, _attempt, c) => {
      // Arm the fault only once a checkpoint has completed.
      if (checkpoint.id >= 2 && !armed) {
        armed = true;
        writeFileSync(join(faultDir, 'armed'), String(checkpoint.id));
        if (fault === 'terminate') void c.killWorker(1).catch(() => undefined);
      }
    },
  });
  return client.result;
}

describe('exactly-once under failures', () => {
  let golden: string[];

  it('a failure-free run gives every sequence once, in order', async () => {
    const result = await executeJob(JOB, { parallelism: 2, params: { keys: KEYS, perKey: PER_KEY } });
    checkSequences(result);
    expect(result.faultTolerance.restarts).toBe(0);
    golden = canonical(result);
  });

  for (const fault of ['throw', 'exit', 'terminate', 'snapshot-throw', 'restore-throw']) {
    it(`recovers from '${fault}' with output identical to the golden run`, async () => {
      const result = await chaos(fault);
      checkSequences(result);
      expect(canonical(result)).toEqual(golden);
      // restore-throw: the injected failure, then the restore that fails once.
      expect(result.faultTolerance.restarts).toBe(fault === 'restore-throw' ? 2 : 1);
      expect(result.faultTolerance.checkpointsCompleted).toBeGreaterThanOrEqual(2);
    });
  }

  it('recovers in local mode too', async () => {
    const result = await chaos('throw', 'local');
    checkSequences(result);
    expect(result.faultTolerance.restarts).toBe(1);
  });
});
