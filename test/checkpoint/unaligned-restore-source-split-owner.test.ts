// An unaligned checkpoint restored after one source reader had finished: the other reader's remaining range stays on its own subtask, behind its in-flight batches, so no record is skipped.
import { expect, it } from 'vitest';
import { startJob, type CompletedCheckpoint } from '../../src/index.ts';
import { operatorsOf } from '../../src/scheduler/restore.ts';
import { FAST_KEY, SLOW_KEY } from '../fixtures/jobs/split-owner-sequences.ts';

const JOB = 'test/fixtures/jobs/split-owner-sequences.ts';
const PER_KEY = 4000;

/**
 * Whether a checkpoint is the dangerous kind: source reader 0 has no range left, reader 1 has
 * one, and reader 1's outputs held at least two unshipped batches (its output channel state).
 */
function readerZeroDoneReaderOneInFlight(checkpoint: CompletedCheckpoint): boolean {
  for (const subtasks of operatorsOf(checkpoint.states).values()) {
    const [zero, one] = subtasks;
    if (!Array.isArray(zero?.function) || !Array.isArray(one?.function)) continue;
    const unshipped = (one.channels?.outputs ?? []).reduce((n, c) => n + c.batches.length, 0);
    return zero.function.length === 0 && one.function.length > 0 && unshipped >= 2;
  }
  return false;
}

it('restoring an unaligned checkpoint after one source reader finished replays every record once, in order', async () => {
  let killedAfter: number | undefined;
  const client = await startJob(JOB, {
    parallelism: 2,
    params: { unaligned: true, perKey: PER_KEY, slowMicros: 100, interval: 20, restarts: 1 },
    onCheckpoint: (checkpoint, attempt, c) => {
      if (attempt !== 1 || killedAfter !== undefined || !readerZeroDoneReaderOneInFlight(checkpoint)) return;
      killedAfter = checkpoint.id;
      void c.killWorker(0).catch(() => undefined);
    },
  });
  const result = await client.result;
  // The job really restored from such a checkpoint.
  expect(killedAfter).toBeDefined();
  expect(result.faultTolerance.restarts).toBe(1);
  const byKey = new Map<number, number[]>();
  for (const [key, seq] of result.collected.out as [number, number][]) byKey.set(key, [...(byKey.get(key) ?? []), seq]);
  const sequence = Array.from({ length: PER_KEY }, (_, i) => i);
  expect([...byKey.keys()].sort((a, b) => a - b)).toEqual([FAST_KEY, SLOW_KEY].sort((a, b) => a - b));
  expect(byKey.get(FAST_KEY)).toEqual(sequence);
  expect(byKey.get(SLOW_KEY)).toEqual(sequence);
});
