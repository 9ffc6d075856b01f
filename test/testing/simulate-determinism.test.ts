// simulateJob: the same seed gives the same run byte for byte; other seeds interleave differently and a correct job's result stays the same; bad options are refused by name.
import { describe, expect, it } from 'vitest';
import { simulateJob, type SimulationResult } from '../../src/testing/index.ts';
import { WeirError, defineJob } from '../../src/index.ts';
import { expectedCents } from './fixtures/rates-join.ts';

const CHAOS = 'test/fixtures/jobs/chaos-sequences.ts';
const RATES = 'test/testing/fixtures/rates-join.ts';
const chaosParams = { keys: 4, perKey: 60, interval: 10 };

/** Every key's sequence once, in order: `key:seq:seq` sorted. */
function expectedSequences(keys: number, perKey: number): string[] {
  const lines: string[] = [];
  for (let k = 0; k < keys; k++) for (let s = 0; s < perKey; s++) lines.push(`${k}:${s}:${s}`);
  return lines.sort();
}
const sequences = (r: SimulationResult) => (r.outputs.out as number[][]).map((t) => t.join(':')).sort();
const byId = (r: SimulationResult) => (r.outputs.cents as [number, number][]).slice().sort((a, b) => a[0] - b[0]);

describe('the same seed', () => {
  it('gives an identical trace and identical outputs, in order', async () => {
    const a = await simulateJob(CHAOS, { seed: 7, parallelism: 2, params: chaosParams });
    const b = await simulateJob(CHAOS, { seed: 7, parallelism: 2, params: chaosParams });
    expect(a.error).toBeUndefined();
    expect(a.trace.length).toBeGreaterThan(50);
    expect(JSON.stringify(b.trace)).toBe(JSON.stringify(a.trace));
    expect(JSON.stringify(b.outputs)).toBe(JSON.stringify(a.outputs));
    expect(JSON.stringify(b.checkpoints)).toBe(JSON.stringify(a.checkpoints));
    expect(b.steps).toBe(a.steps);
    expect(b.virtualMs).toBe(a.virtualMs);
    expect(a.checkpoints.length).toBeGreaterThan(0);
  });

  it('gives the same run with faults and restarts too', async () => {
    const options = {
      seed: 11,
      parallelism: 2,
      params: chaosParams,
      faults: [{ kind: 'kill', task: 'Checker', subtask: 1, atRecord: 30 } as const],
    };
    const a = await simulateJob(CHAOS, options);
    const b = await simulateJob(CHAOS, options);
    expect(a.restarts).toHaveLength(1);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});

describe('different seeds', () => {
  it('interleave differently but give a correct job the same result', async () => {
    const traces = new Set<string>();
    const orders = new Set<string>();
    for (let seed = 1; seed <= 6; seed++) {
      const r = await simulateJob(RATES, { seed, parallelism: 2, params: {} });
      expect(r.error).toBeUndefined();
      traces.add(JSON.stringify(r.trace));
      orders.add(JSON.stringify(r.outputs.cents));
      expect(byId(r)).toEqual(expectedCents());
    }
    expect(traces.size).toBe(6);
    // The order the sink saw differs between seeds (two Convert subtasks feed one collect sink).
    expect(orders.size).toBeGreaterThan(1);
  });

  it('give the chaos job every sequence exactly once, in order, under any seed', async () => {
    const traces = new Set<string>();
    for (let seed = 20; seed < 25; seed++) {
      const r = await simulateJob(CHAOS, { seed, parallelism: 2, params: chaosParams });
      expect(r.error).toBeUndefined();
      expect(sequences(r)).toEqual(expectedSequences(4, 60));
      traces.add(JSON.stringify(r.trace));
    }
    expect(traces.size).toBe(5);
  });
});

describe('the virtual clock', () => {
  it('drives checkpoint intervals and buffer timeouts: timers show in the trace at virtual times', async () => {
    const r = await simulateJob(CHAOS, { seed: 3, parallelism: 1, params: chaosParams, bufferTimeoutMs: 5 });
    const intervals = r.trace.filter((l) => l.endsWith('timer: checkpoint interval'));
    expect(intervals.length).toBeGreaterThan(0);
    // Periodic triggers come at multiples of the 10 ms interval after the start (the coordinator starts at t=0).
    for (const line of intervals) expect(Number(/^t=(\d+) /.exec(line)?.[1]) % 10).toBe(0);
    expect(r.trace.some((l) => l.endsWith('timer: buffer timeout'))).toBe(true);
    expect(r.virtualMs).toBeGreaterThan(0);
  });

  it('keeps checkpoints, faults and restarts but no steps or timers in the trace with traceSteps: false', async () => {
    const r = await simulateJob(CHAOS, {
      seed: 11,
      parallelism: 2,
      params: chaosParams,
      traceSteps: false,
      faults: [{ kind: 'kill', task: 'Checker', subtask: 1, atRecord: 30 }],
    });
    expect(r.trace.some((l) => / run .* record\(s\)$| timer: /.test(l))).toBe(false);
    expect(r.trace.filter((l) => /^t=\d+ fault 0: killed at record 30: Checker/.test(l))).toHaveLength(1);
    expect(r.trace.filter((l) => /attempt 1 failed in 'Checker/.test(l))).toHaveLength(1);
    expect(r.trace.some((l) => /checkpoint \d+ completed/.test(l))).toBe(true);
  });

  it('steps are bounded by records: no step runs more records than maxRecordsPerStep', async () => {
    const r = await simulateJob(CHAOS, { seed: 5, parallelism: 2, params: chaosParams, maxRecordsPerStep: 3 });
    const counts = r.trace.flatMap((l) => /run .* (\d+) record\(s\)$/.exec(l)?.[1] ?? []).map(Number);
    expect(counts.length).toBeGreaterThan(100);
    expect(Math.max(...counts)).toBe(3);
    expect(r.choices.maxRecordsPerStep).toBe(3);
  });
});

describe('bad options', () => {
  it('refuses a seed that is not a non-negative integer', async () => {
    await expect(simulateJob(CHAOS, { seed: -1 })).rejects.toThrow(/seed must be a non-negative integer, got -1/);
    await expect(simulateJob(CHAOS, { seed: 1.5 })).rejects.toBeInstanceOf(WeirError);
  });

  it('refuses a fault with no kill point, naming it', async () => {
    await expect(simulateJob(CHAOS, { seed: 1, faults: [{ kind: 'kill', task: 'Checker' } as never] })).rejects.toThrow(
      /faults\[0\] .*a kill needs atRecord, or checkpoint and phase/,
    );
  });

  it('takes a job definition as well as a module, and refuses one that chose RocksDB', async () => {
    const sums = (rocksdb: boolean) =>
      defineJob((env) => {
        if (rocksdb) env.setStateBackend('rocksdb');
        env
          .fromSequence(1, 20)
          .keyBy((n) => n % 3)
          .reduce((a, b) => a + b)
          .collect('sums');
      });
    const heap = await simulateJob(sums(false), { seed: 2, parallelism: 2 });
    expect(heap.error).toBeUndefined();
    // A rolling sum per key n mod 3 (in whatever order the two source subtasks deliver): 20 sums, each key's total the largest.
    const out = (heap.outputs.sums as number[]).slice().sort((x, y) => y - x);
    expect(out).toHaveLength(20);
    expect(out.slice(0, 3)).toEqual([77, 70, 63]);
    await expect(simulateJob(sums(true), { seed: 2, parallelism: 2 })).rejects.toThrow(
      /simulateJob runs jobs on the heap state backend only .* the job chose RocksDB itself/,
    );
  });

  it('refuses a fault naming a task the job does not have, listing its subtasks', async () => {
    await expect(
      simulateJob(CHAOS, { seed: 1, parallelism: 2, params: chaosParams, faults: [{ kind: 'kill', task: 'Nope', atRecord: 3 }] }),
    ).rejects.toThrow(
      /faults\[0\] names task 'Nope', which the job does not have; its subtasks: 'Source: Sequences' \(0\.\.1\), 'Checker -> Collect Sink \(out\)' \(0\.\.1\)/,
    );
  });
});
