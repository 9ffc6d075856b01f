// Under the simulation, periodic watermarks and processing-time timers run on the virtual clock: event-time results stay fixed across seeds, processing-time ones follow the seed and replay exactly.
import { expect, it } from 'vitest';
import { SIMULATION_EPOCH, simulateJob, type SimulationResult } from '../../src/testing/index.ts';
import { EVENTS, KEYS, expectedWindows } from './fixtures/clock-and-windows.ts';

const JOB = 'test/testing/fixtures/clock-and-windows.ts';
const windows = (r: SimulationResult) => (r.outputs.windows as [string, number][]).map(([k, n]) => `${k}:${n}`).sort();
const timers = (r: SimulationResult) => r.outputs.timers as [string, number, number][];

it('event-time windows under periodic watermarks give the same counts under every seed', async () => {
  for (let seed = 0; seed < 5; seed++) {
    const r = await simulateJob(JOB, { seed, parallelism: 2 });
    expect(r.error).toBeUndefined();
    expect(windows(r)).toEqual(expectedWindows());
    // The 5 ms watermark interval is a processing-time timer of the virtual clock.
    expect(r.trace.some((l) => l.endsWith('timer: processing-time'))).toBe(true);
  }
});

it('processing-time timers fire at virtual times, and what they see depends on the seed alone', async () => {
  const seen = new Set<string>();
  for (let seed = 0; seed < 5; seed++) {
    const r = await simulateJob(JOB, { seed, parallelism: 2 });
    const fired = timers(r);
    expect(fired.map(([k]) => k).sort()).toEqual(Array.from({ length: KEYS }, (_, i) => `k${i}`));
    for (const [, time, count] of fired) {
      // Virtual time: 20 ms after a first event, counted from the simulation's epoch, not the machine's clock.
      expect(time).toBeGreaterThanOrEqual(SIMULATION_EPOCH + 20);
      expect(time).toBeLessThanOrEqual(SIMULATION_EPOCH + r.virtualMs);
      expect(count).toBeGreaterThanOrEqual(1);
      expect(count).toBeLessThanOrEqual(EVENTS / KEYS);
    }
    seen.add(JSON.stringify(fired.slice().sort()));
    const again = await simulateJob(JOB, { seed, parallelism: 2 });
    expect(JSON.stringify(timers(again))).toBe(JSON.stringify(fired));
  }
  // How far a key's count got when its timer fired is an interleaving of records and time: it varies with the seed.
  expect(seen.size).toBeGreaterThan(1);
});
