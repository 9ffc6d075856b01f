// The simulated path depends on no wall time: a clock that jumps wildly gives the same run, and no real timer is armed while a job is simulated.
import { afterEach, expect, it, vi } from 'vitest';
import { simulateJob, type SimulationResult } from '../../src/testing/index.ts';

const CHAOS = 'test/fixtures/jobs/chaos-sequences.ts';
const options = {
  seed: 9,
  parallelism: 2,
  params: { keys: 4, perKey: 80, interval: 5, unaligned: true, alignedTimeout: 3 },
  faults: [{ kind: 'kill', task: 'Checker', subtask: 1, atRecord: 50 } as const],
};
const run = (r: SimulationResult) =>
  JSON.stringify({ trace: r.trace, outputs: r.outputs, checkpoints: r.checkpoints, restarts: r.restarts });

afterEach(() => {
  vi.restoreAllMocks();
});

it('gives the same run when Date.now and performance.now jump by seconds at every call', async () => {
  const steady = await simulateJob(CHAOS, options);
  expect(steady.error).toBeUndefined();
  expect(steady.restarts).toHaveLength(1);
  let wall = Date.now();
  let mono = performance.now();
  let dateCalls = 0;
  let monoCalls = 0;
  // Each look at a wall clock costs 1.5 s: any deadline, timeout or rate on the path would show.
  vi.spyOn(Date, 'now').mockImplementation(() => (dateCalls++, (wall += 1500)));
  vi.spyOn(performance, 'now').mockImplementation(() => (monoCalls++, (mono += 1500)));
  const jumpy = await simulateJob(CHAOS, options);
  vi.restoreAllMocks();
  expect(run(jumpy)).toBe(run(steady));
  // The clocks were read (samples, the collect sink's transaction names), just never decided anything.
  expect(dateCalls + monoCalls).toBeGreaterThan(0);
});

it('arms no real timer while a job is simulated: time is the virtual clock', async () => {
  const timeouts = vi.spyOn(globalThis, 'setTimeout');
  const intervals = vi.spyOn(globalThis, 'setInterval');
  const immediates = vi.spyOn(globalThis, 'setImmediate');
  const r = await simulateJob(CHAOS, options);
  const timeoutCalls = timeouts.mock.calls.length;
  const intervalCalls = intervals.mock.calls.length;
  // setImmediate is the simulator's own turn: one before each step, and the one that sees the job end.
  const foreign = immediates.mock.calls.length - r.steps;
  vi.restoreAllMocks();
  expect(r.error).toBeUndefined();
  expect(r.trace.some((l) => l.includes('timer: checkpoint interval'))).toBe(true);
  expect(timeoutCalls).toBe(0);
  expect(intervalCalls).toBe(0);
  expect(foreign).toBe(1);
});
