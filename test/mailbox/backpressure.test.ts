// Backpressure: a sink 100× slower than its source holds the source back, and no queue exceeds its bound.
import { describe, expect, it } from 'vitest';
import { executeJob, type JobResult } from '../../src/index.ts';
import { progress } from '../fixtures/jobs/slow-sink.ts';

const COUNT = 20_000;
const BATCH = 64;
const CREDITS = 2;

function checkBounds(result: JobResult): void {
  for (const subtask of result.subtasks) {
    if (subtask.mailbox) {
      expect(subtask.mailbox.maxQueued).toBeLessThanOrEqual(subtask.mailbox.bound);
      expect(subtask.mailbox.bound).toBe(CREDITS * subtask.mailbox.channels.length);
      for (const channel of subtask.mailbox.channels) expect(channel.maxQueued).toBeLessThanOrEqual(CREDITS);
    }
    for (const output of subtask.outputs) {
      expect(output.credits).toBe(CREDITS);
      expect(output.maxInFlight).toBeLessThanOrEqual(CREDITS);
      // One source poll (a batch's worth of records) may overfill the current batch by at most one more.
      expect(output.maxBacklog).toBeLessThanOrEqual(2);
    }
  }
}

function checkNothingLost(result: JobResult): void {
  const seen = result.collected.seen as { count: number; sum: number }[];
  expect(seen.reduce((n, s) => n + s.count, 0)).toBe(COUNT);
  expect(seen.reduce((n, s) => n + s.sum, 0)).toBe((COUNT * (COUNT - 1)) / 2);
}

describe('backpressure', () => {
  it('holds the source back across threads and keeps every queue within its bound', async () => {
    const result = await executeJob('test/fixtures/jobs/slow-sink.ts', {
      parallelism: 1,
      batchSize: BATCH,
      credits: CREDITS,
      params: { count: COUNT, sinkParallelism: 2 },
    });
    checkNothingLost(result);
    checkBounds(result);
    const source = result.subtasks.find((s) => s.task.startsWith('Source'));
    expect(source?.backpressureStalls).toBeGreaterThan(10);
    for (const output of source?.outputs ?? []) expect(output.maxInFlight).toBe(CREDITS);
    // One channel crosses threads (encoded), the other stays in the slot.
    expect(source?.outputs.filter((o) => o.bytesEncoded > 0)).toHaveLength(1);
  });

  it('never lets the source run more than the credits ahead of the sink (local mode)', async () => {
    const result = await executeJob('test/fixtures/jobs/slow-sink.ts', {
      mode: 'local',
      parallelism: 1,
      batchSize: BATCH,
      credits: CREDITS,
      params: { count: COUNT, sinkParallelism: 2 },
    });
    checkNothingLost(result);
    checkBounds(result);
    // Per channel: credits in flight, ≤ 2 batches of backlog, one partial batch: (2 + 2 + 1) × 64, two channels.
    const bound = 2 * (CREDITS + 3) * BATCH;
    expect(progress.maxGap).toBeGreaterThan(BATCH);
    expect(progress.maxGap).toBeLessThanOrEqual(bound);
    expect(progress.consumed).toBe(COUNT);
  });
});
