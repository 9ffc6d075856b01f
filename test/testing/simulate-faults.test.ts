// Every fault point of simulateJob (kill at a record count, at each checkpoint phase, a failed checkpoint, a rescale from a savepoint) leaves a correct job with its failure-free output.
import { describe, expect, it } from 'vitest';
import { simulateJob, type SimulatedFault, type SimulationResult } from '../../src/testing/index.ts';

const CHAOS = 'test/fixtures/jobs/chaos-sequences.ts';
const KEYS = 4;
const PER_KEY = 100;
const SEEDS = [1, 2, 3, 4];

/** Every key's sequence once, in order (`key:seq:seq`, sorted): the failure-free output. */
function goldenFor(perKey: number): string[] {
  const lines: string[] = [];
  for (let k = 0; k < KEYS; k++) for (let s = 0; s < perKey; s++) lines.push(`${k}:${s}:${s}`);
  return lines.sort();
}
const golden = goldenFor(PER_KEY);
const sequences = (r: SimulationResult) => (r.outputs.out as number[][]).map((t) => t.join(':')).sort();

const faults: [string, SimulatedFault][] = [
  ['a kill of a keyed subtask at its 40th record', { kind: 'kill', task: 'Checker', subtask: 1, atRecord: 40 }],
  ['a kill of a source at its 30th record', { kind: 'kill', task: 'Sequences', subtask: 0, atRecord: 30 }],
  ['a kill before the snapshot of checkpoint 2', { kind: 'kill', task: 'Checker', subtask: 0, checkpoint: 2, phase: 'before-snapshot' }],
  ['a kill right after acknowledging checkpoint 2', { kind: 'kill', task: 'Checker', subtask: 1, checkpoint: 2, phase: 'after-ack' }],
  [
    'a kill after checkpoint 2 completed, before its commit',
    { kind: 'kill', task: 'Checker', subtask: 0, checkpoint: 2, phase: 'before-commit' },
  ],
  ['a declined checkpoint 2', { kind: 'fail-checkpoint', checkpoint: 2 }],
];

describe.each(['aligned', 'unaligned'])('%s checkpoints', (barriers) => {
  const params = { keys: KEYS, perKey: PER_KEY, interval: 10, unaligned: barriers === 'unaligned' };

  for (const [name, fault] of faults) {
    it(`${name} ends with the failure-free output`, async () => {
      let fired = 0;
      let inFlight = 0;
      for (const seed of SEEDS) {
        const r = await simulateJob(CHAOS, { seed, parallelism: 2, params, faults: [fault] });
        inFlight += r.checkpoints.filter((c) => c.inFlight).length;
        const where = `seed ${seed}: ${r.error ?? ''}`;
        expect(r.error, where).toBeUndefined();
        expect(sequences(r), where).toEqual(golden);
        if (r.faultsFired.length === 1) {
          fired++;
          // One failure, one restart from the last completed checkpoint, and checkpoints after it.
          expect(r.restarts, where).toHaveLength(1);
          expect(r.restarts[0].next, where).toMatch(/^restart from (checkpoint \d+|the start)$/);
          expect(
            r.checkpoints.some((c) => c.attempt === 2),
            where,
          ).toBe(true);
        } else expect(r.restarts, where).toHaveLength(0);
      }
      // The fault point is reached under (nearly) every seed; a run that ended first proves nothing.
      expect(fired).toBeGreaterThanOrEqual(SEEDS.length - 1);
      // Unaligned checkpoints really carried in-flight data (aligned ones never do).
      expect(inFlight > 0).toBe(barriers === 'unaligned');
    });
  }

  for (const parallelism of [3, 1]) {
    it(`a stop with a savepoint after checkpoint 1 and a restart from it at parallelism ${parallelism} ends with the failure-free output`, async () => {
      let fired = 0;
      for (const seed of SEEDS) {
        // A longer input: the stop with a savepoint must come before the input ends (then there is nothing to rescale).
        const longer = { ...params, perKey: 2 * PER_KEY };
        const r = await simulateJob(CHAOS, {
          seed,
          parallelism: 2,
          params: longer,
          faults: [{ kind: 'rescale', checkpoint: 1, parallelism }],
        });
        const where = `seed ${seed}: ${r.error ?? ''}`;
        expect(r.error, where).toBeUndefined();
        expect(sequences(r), where).toEqual(goldenFor(2 * PER_KEY));
        if (r.faultsFired.length === 1) {
          fired++;
          expect(
            r.trace.some((l) => new RegExp(`rescale: run 2 starts from savepoint \\d+ at parallelism ${parallelism}$`).test(l)),
            where,
          ).toBe(true);
          const savepoint = r.checkpoints.find((c) => c.kind === 'savepoint');
          expect(savepoint?.run, where).toBe(1);
          expect(
            r.trace.some((l) => l.includes(`run 2 attempt 1 deployed: ${2 * parallelism} subtask(s)`)),
            where,
          ).toBe(true);
        }
      }
      expect(fired).toBeGreaterThanOrEqual(SEEDS.length - 1);
    });
  }
});
