// The checkpoint coordinator's settings: timeout, minimum pause, max concurrent checkpoints, tolerable failures, and completion order.
import { describe, expect, it } from 'vitest';
import type { Barrier } from '../../src/checkpoint/barrier-aligner.ts';
import { CheckpointCoordinator, type CheckpointCoordinatorConfig, type CompletedCheckpoint } from '../../src/checkpoint/coordinator.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fake job of two tasks; the test decides when they acknowledge. */
function fakeJob(config: Partial<CheckpointCoordinatorConfig>) {
  const triggered: Barrier[] = [];
  const stored: number[] = [];
  const notified: number[] = [];
  const aborted: number[] = [];
  const failures: string[] = [];
  const coordinator = new CheckpointCoordinator(
    { intervalMs: 0, timeoutMs: 10_000, minPauseMs: 0, maxConcurrent: 1, tolerableFailures: 0, ...config },
    ['0/0', '1/0'],
    {
      trigger: (b) => void triggered.push(b),
      store: async (c: CompletedCheckpoint) => void stored.push(c.id),
      notifyComplete: async (id) => void notified.push(id),
      abort: (id) => void aborted.push(id),
      failJob: (reason) => void failures.push(reason),
    },
  );
  const ack = (task: string, id: number) => coordinator.acknowledge(task, id, { op: new Uint8Array([id]) }, 0);
  return { coordinator, triggered, stored, notified, aborted, failures, ack };
}

describe('checkpoint coordinator', () => {
  it('completes when every task acknowledged: stores, then notifies, then settles', async () => {
    const job = fakeJob({});
    const outcome = job.coordinator.trigger();
    job.ack('0/0', 1);
    expect(job.stored).toEqual([]);
    job.ack('1/0', 1);
    const result = await outcome;
    expect(result.status).toBe('completed');
    expect(job.stored).toEqual([1]);
    expect(job.notified).toEqual([1]);
    expect(job.coordinator.latest?.states.get('op/0')).toEqual(new Uint8Array([1]));
  });

  it('aborts a checkpoint that is not complete within the timeout', async () => {
    const job = fakeJob({ timeoutMs: 30, tolerableFailures: 5 });
    const outcome = job.coordinator.trigger();
    job.ack('0/0', 1);
    expect(await outcome).toEqual({ status: 'aborted', id: 1, reason: 'checkpoint 1 expired after 30 ms' });
    expect(job.aborted).toEqual([1]);
    expect(job.failures).toEqual([]);
  });

  it('fails the job after more failed checkpoints in a row than tolerated', async () => {
    const job = fakeJob({ tolerableFailures: 1 });
    const first = job.coordinator.trigger();
    job.coordinator.decline('0/0', 1, 'disk full');
    expect((await first).status).toBe('declined');
    expect(job.failures).toEqual([]);
    const second = job.coordinator.trigger();
    job.coordinator.decline('1/0', 2, 'disk full');
    await second;
    expect(job.failures).toHaveLength(1);
    expect(job.failures[0]).toContain('2 checkpoints failed in a row (tolerable: 1)');
  });

  it('triggers periodically, never more than maxConcurrent at once, and waits the minimum pause after one ends', async () => {
    const job = fakeJob({ intervalMs: 10, maxConcurrent: 1, minPauseMs: 80 });
    job.coordinator.start();
    await sleep(60);
    // The first checkpoint is still open: no second one while it runs.
    expect(job.triggered.map((b) => b.id)).toEqual([1]);
    job.ack('0/0', 1);
    job.ack('1/0', 1);
    await sleep(40);
    // Completed, but the minimum pause has not passed yet.
    expect(job.triggered).toHaveLength(1);
    await sleep(120);
    expect(job.triggered.length).toBeGreaterThanOrEqual(2);
    job.coordinator.stop();
  });

  it('subsumes older checkpoints when a newer one completes, and ignores late acknowledgements', async () => {
    const job = fakeJob({ maxConcurrent: 2 });
    const older = job.coordinator.trigger();
    const newer = job.coordinator.trigger();
    job.ack('0/0', 2);
    job.ack('1/0', 2);
    expect((await newer).status).toBe('completed');
    expect(await older).toEqual({ status: 'aborted', id: 1, reason: 'subsumed by checkpoint 2' });
    job.ack('0/0', 1);
    expect(job.stored).toEqual([2]);
  });
});
