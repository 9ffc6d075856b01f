// Barrier alignment: exactly-once blocks each channel after its barrier until all delivered it; at-least-once only counts; newer barriers abort older ones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BarrierAligner, type Barrier } from '../../src/checkpoint/barrier-aligner.ts';
import { StreamExecutionEnvironment, executeJob } from '../../src/index.ts';

const barrier = (id: number): Barrier => ({ id, timestamp: id * 10, kind: 'checkpoint' });

function recorder(channels: number, mode: 'exactly-once' | 'at-least-once') {
  const log: string[] = [];
  const blocked = new Set<number>();
  const aligner = new BarrierAligner(channels, mode, {
    block: (c) => {
      blocked.add(c);
      log.push(`block ${c}`);
    },
    unblockAll: () => {
      blocked.clear();
      log.push('unblock');
    },
    aligned: (b) => log.push(`aligned ${b.id}`),
    aborted: (id, reason) => log.push(`aborted ${id}: ${reason}`),
  });
  return { aligner, log, blocked };
}

describe('barrier alignment', () => {
  it('exactly-once: blocks each channel after its barrier and snapshots when all have it', () => {
    const { aligner, log, blocked } = recorder(3, 'exactly-once');
    aligner.onBarrier(1, barrier(1));
    expect([...blocked]).toEqual([1]);
    aligner.onBarrier(0, barrier(1));
    expect(aligner.current.name).toBe('aligning');
    aligner.onBarrier(2, barrier(1));
    expect(log).toEqual(['block 1', 'block 0', 'block 2', 'unblock', 'aligned 1']);
    expect(aligner.current.name).toBe('idle');
    expect(blocked.size).toBe(0);
  });

  it('at-least-once: never blocks, still snapshots once every channel delivered the barrier', () => {
    const { aligner, log } = recorder(2, 'at-least-once');
    aligner.onBarrier(0, barrier(1));
    aligner.onBarrier(1, barrier(1));
    expect(log).toEqual(['aligned 1']);
  });

  it('a newer barrier aborts the alignment in progress, and stale barriers are ignored', () => {
    const { aligner, log } = recorder(2, 'exactly-once');
    aligner.onBarrier(0, barrier(1));
    aligner.onBarrier(0, barrier(2));
    aligner.onBarrier(1, barrier(1));
    aligner.onBarrier(1, barrier(2));
    expect(log).toEqual([
      'block 0',
      'unblock',
      'aborted 1: checkpoint 1 was overtaken by checkpoint 2 before alignment completed',
      'block 0',
      'block 1',
      'unblock',
      'aligned 2',
    ]);
  });

  it('an ended channel counts as having delivered every later barrier', () => {
    const { aligner, log } = recorder(2, 'exactly-once');
    aligner.onBarrier(0, barrier(1));
    aligner.onEndOfChannel(1);
    expect(log).toEqual(['block 0', 'unblock', 'aligned 1']);
  });

  it('randomised: every checkpoint is aligned at most once, in increasing order, and blocks are always released (seeded)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.tuple(fc.nat(4), fc.integer({ min: 1, max: 6 })), { maxLength: 60 }),
        (channels, events) => {
          const { aligner, log, blocked } = recorder(channels, 'exactly-once');
          const perChannel = Array.from({ length: channels }, () => 0);
          for (const [c, id] of events) {
            const ch = c % channels;
            // A channel delivers barriers in increasing id order, as a producer emits them.
            if (id <= perChannel[ch]) continue;
            perChannel[ch] = id;
            aligner.onBarrier(ch, barrier(id));
          }
          const aligned = log.filter((l) => l.startsWith('aligned')).map((l) => Number(l.split(' ')[1]));
          expect(aligned).toEqual([...new Set(aligned)].sort((a, b) => a - b));
          if (aligner.current.name === 'idle') expect(blocked.size).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('checkpointing modes end to end', () => {
  it('at-least-once mode completes checkpoints without aligning and gives the same result', async () => {
    const env = new StreamExecutionEnvironment({ parallelism: 2 });
    env.enableCheckpointing(20, 'at-least-once');
    env
      .fromSequence(1, 20_000)
      .rebalance()
      .keyBy((n) => n % 7)
      .sum()
      .collect('sums', { exactlyOnce: true });
    const result = await env.execute();
    const sums = result.collected.sums as number[];
    expect(sums).toHaveLength(20_000);
    // The largest running sum is the sum of all numbers of the biggest key class.
    const expected = Array.from({ length: 7 }, (_, k) => {
      let total = 0;
      for (let n = 1; n <= 20_000; n++) if (n % 7 === k) total += n;
      return total;
    });
    for (const e of expected) expect(sums).toContain(e);
    expect(result.faultTolerance.checkpointsCompleted).toBeGreaterThanOrEqual(1);
  });

  it('checkpoints complete on worker threads with exactly-once alignment across a keyed exchange', async () => {
    const result = await executeJob('test/fixtures/jobs/chaos-sequences.ts', {
      parallelism: 2,
      params: { keys: 4, perKey: 3000, rate: 30_000, interval: 30 },
    });
    expect(result.faultTolerance.checkpointsCompleted).toBeGreaterThanOrEqual(3);
    expect(result.collected.out).toHaveLength(12_000);
  });
});
