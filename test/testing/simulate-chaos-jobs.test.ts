// The chaos suite's job (test/checkpoint/chaos-exactly-once.test.ts) under the simulator: its own injected failures, aligned and unaligned, end with every sequence exactly once and in order.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulateJob, type SimulationResult } from '../../src/testing/index.ts';

const JOB = 'test/fixtures/jobs/chaos-sequences.ts';
const KEYS = 4;
// Each of the two checkers sees 1000 records: the job's own faults fire at a checker's 500th or 1000th once armed.
const PER_KEY = 500;

/** Every key's sequence exactly once, in order, as the chaos suite checks it. */
function checkSequences(result: SimulationResult): void {
  const byKey = new Map<number, number[]>();
  for (const [key, seq, count] of result.outputs.out as [number, number, number][]) {
    expect(count).toBe(seq);
    byKey.set(key, [...(byKey.get(key) ?? []), seq]);
  }
  expect([...byKey.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: KEYS }, (_, k) => k));
  for (const seqs of byKey.values()) expect(seqs).toEqual(Array.from({ length: PER_KEY }, (_, i) => i));
}

/** Runs the chaos job with its fault armed once checkpoint 2 completed, as the suite does. */
async function chaos(fault: string, barriers: string, seed: number): Promise<SimulationResult> {
  const faultDir = mkdtempSync(join(tmpdir(), `weir-sim-chaos-${fault}-`));
  try {
    return await simulateJob(JOB, {
      seed,
      parallelism: 2,
      params: { keys: KEYS, perKey: PER_KEY, fault, faultDir, interval: 2, unaligned: barriers === 'unaligned' },
      onCheckpoint: (checkpoint) => {
        if (checkpoint.id === 2) writeFileSync(join(faultDir, 'armed'), '2');
      },
    });
  } finally {
    rmSync(faultDir, { recursive: true, force: true });
  }
}

describe.each(['aligned', 'unaligned'])('the chaos job under the simulator, %s checkpoints', (barriers) => {
  // 'exit', 'hang' and 'terminate' end or block a worker thread: the threads runtime's faults, not the simulator's.
  for (const [fault, restarts] of [
    ['none', 0],
    ['throw', 1],
    ['snapshot-throw', 1],
    // The injected failure, then the restore that fails once.
    ['restore-throw', 2],
  ] as const) {
    it(`recovers from '${fault}' with every sequence exactly once, in order`, async () => {
      for (const seed of [1, 2]) {
        const result = await chaos(fault, barriers, seed);
        expect(result.error, `seed ${seed}`).toBeUndefined();
        checkSequences(result);
        expect(result.restarts.length, `seed ${seed}: ${JSON.stringify(result.restarts)}`).toBe(restarts);
        if (fault === 'throw') expect(result.restarts[0].error).toContain('chaos: injected failure');
        if (fault === 'restore-throw') expect(result.restarts[1].error).toContain('chaos: restore failed once');
      }
    });
  }
});
