// The metrics registry: rates over the last interval with Flink's names, a bounded history, the final sample of an ended job.
import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../src/index.ts';
import { computeRates } from '../../src/observe/registry.ts';
import { JOB_ID, NOW, fakeJob, ordersSample } from './rest-fixtures.ts';

describe('MetricsRegistry', () => {
  it('computes per-subtask rates between two samples and keeps the cumulative counts', async () => {
    const registry = new MetricsRegistry({ intervalMs: 3_600_000 });
    const job = fakeJob();
    registry.addJob(job);
    expect(registry.jobs()).toEqual([job]);
    expect(registry.job(JOB_ID)).toBe(job);
    await registry.sampleNow(JOB_ID);
    // The first sample has no interval: every rate is 0.
    expect(registry.rates(JOB_ID)?.subtasks.every((r) => r.numRecordsInPerSecond === 0 && r.busyTimeMsPerSecond === 0)).toBe(true);
    job.current = ordersSample({ now: NOW + 2000, scale: 3 });
    for (const s of job.current.subtasks) s.at = NOW + 2000;
    await registry.sampleNow(JOB_ID);
    const rates = registry.rates(JOB_ID);
    expect(rates?.at).toBe(NOW + 2000);
    expect(rates?.subtasks.map((r) => [r.vertex, r.subtask])).toEqual([
      [0, 0],
      [1, 0],
      [1, 1],
      [2, 0],
      [2, 1],
    ]);
    // Source out 1000 → 3000 in 2 s; busy 100 → 300 ms, back-pressured 100 → 300 ms in 2 s.
    expect(rates?.subtasks[0]).toEqual({
      vertex: 0,
      subtask: 0,
      numRecordsIn: 0,
      numRecordsOut: 3000,
      numRecordsInPerSecond: 0,
      numRecordsOutPerSecond: 1000,
      busyTimeMsPerSecond: 100,
      idleTimeMsPerSecond: 800,
      backPressuredTimeMsPerSecond: 100,
      currentInputWatermark: Number.NEGATIVE_INFINITY,
      currentOutputWatermark: ordersSample().subtasks[0].currentOutputWatermark,
    });
    expect(registry.latest(JOB_ID)).toBe(job.current);
    expect(registry.history(JOB_ID).map((h) => h.at)).toEqual([NOW, NOW + 2000]);
    registry.close();
  });

  it("keeps a subtask's last rates while its thread is too busy to answer (a repeated sample), then averages over the whole span", () => {
    const first = ordersSample();
    const second = ordersSample({ scale: 2, now: NOW + 1000 });
    const rates = computeRates(second, first);
    const source = (r: ReturnType<typeof computeRates>) => r.subtasks.find((s) => s.vertex === 0)!;
    expect(source(rates).numRecordsOutPerSecond).toBe(1000);
    // the source's slot did not answer: the job sample repeats its subtask sample (same `at`)
    const third = ordersSample({ scale: 3, now: NOW + 2000 });
    third.subtasks[0] = second.subtasks[0];
    const busy = computeRates(third, second, rates);
    expect(source(busy)).toBe(source(rates));
    expect(busy.subtasks.find((s) => s.vertex === 1)!.numRecordsInPerSecond).toBe(500);
    // it answers again: 2,000 records over the 2 s since its last real sample
    const fourth = ordersSample({ scale: 4, now: NOW + 3000 });
    expect(source(computeRates(fourth, third, busy)).numRecordsOutPerSecond).toBe(1000);
  });

  it('never reports negative rates after a restart resets the counters', async () => {
    const registry = new MetricsRegistry({ intervalMs: 3_600_000 });
    const job = fakeJob(undefined, ordersSample({ scale: 5 }));
    registry.addJob(job);
    await registry.sampleNow(JOB_ID);
    job.current = ordersSample({ now: NOW + 1000, scale: 1 });
    for (const s of job.current.subtasks) s.at = NOW + 1000;
    await registry.sampleNow(JOB_ID);
    expect(registry.rates(JOB_ID)?.subtasks.every((r) => r.numRecordsOutPerSecond === 0 && r.busyTimeMsPerSecond === 0)).toBe(true);
    registry.close();
  });

  it('keeps at most historySize points, oldest first', async () => {
    const registry = new MetricsRegistry({ intervalMs: 3_600_000, historySize: 3 });
    const job = fakeJob();
    registry.addJob(job);
    for (let i = 0; i < 5; i++) {
      job.current = ordersSample({ now: NOW + i * 1000 });
      await registry.sampleNow(JOB_ID);
    }
    expect(registry.history(JOB_ID).map((h) => h.at - NOW)).toEqual([2000, 3000, 4000]);
    registry.close();
  });

  it('samples on its interval, takes a final sample when the job ends, and stops', async () => {
    const registry = new MetricsRegistry({ intervalMs: 20 });
    const job = fakeJob();
    let calls = 0;
    const sample = job.sample;
    job.sample = () => {
      calls++;
      return sample();
    };
    registry.addJob(job);
    while (calls < 3) await new Promise((r) => setTimeout(r, 5));
    job.current = { ...ordersSample({ now: NOW + 60_000 }), status: 'FINISHED' };
    job.finish();
    await job.result;
    while (registry.latest(JOB_ID)?.status !== 'FINISHED') await new Promise((r) => setTimeout(r, 5));
    const after = calls;
    await new Promise((r) => setTimeout(r, 80));
    expect(calls).toBe(after);
    registry.close();
  });

  it('keeps the previous sample when the job cannot answer', async () => {
    const registry = new MetricsRegistry({ intervalMs: 3_600_000 });
    const job = fakeJob();
    registry.addJob(job);
    await registry.sampleNow(JOB_ID);
    job.sample = () => Promise.reject(new Error('slot gone'));
    expect(await registry.sampleNow(JOB_ID)).toBe(registry.latest(JOB_ID));
    expect(registry.latest(JOB_ID)?.now).toBe(NOW);
    expect(registry.rates('nope')).toBeUndefined();
    expect(registry.history('nope')).toEqual([]);
    registry.close();
  });
});
