// Nexmark q3, q9 and q4 (joins and timers over keyed state) as weir jobs agree with the hand-written loops, locally and on two threads.
import { describe, expect, it } from 'vitest';
import { type Q4Out, type Q9Out } from '../../bench/nexmark/lib.ts';
import { expectSameAsLoop, jobOutput, loopOutput } from './queries-helpers.ts';

/** Per category: how many updates and the final average (sum / count of the winning prices). */
function averagesByCategory(winners: readonly Q9Out[]): Map<number, { updates: number; final: number }> {
  const sums = new Map<number, { sum: number; count: number }>();
  for (const t of winners) {
    const s = sums.get(t[1]) ?? { sum: 0, count: 0 };
    s.sum += t[2];
    s.count++;
    sums.set(t[1], s);
  }
  return new Map([...sums].map(([c, s]) => [c, { updates: s.count, final: s.sum / s.count }]));
}

describe('Nexmark join and timer queries', () => {
  it('q3 local item suggestion (incremental join)', async () => {
    await expectSameAsLoop('q3');
  });

  it('q9 winning bids (timers at expiry)', async () => {
    await expectSameAsLoop('q9');
  });

  it('q4 average price per category: same updates per category, ending at the same average', async () => {
    // The sequence of running averages depends on the order winning bids of one category reach
    // the average (timers of equal time fire in key order, and subtasks interleave): compare per-category counts and final averages.
    const expected = averagesByCategory(loopOutput('q9') as Q9Out[]);
    const loop = loopOutput('q4') as Q4Out[];
    for (const [mode, p] of [
      ['local', 1],
      ['threads', 2],
    ] as const) {
      const out = (await jobOutput('q4', mode, p)) as Q4Out[];
      expect(out.length).toBe(loop.length);
      for (const [category, { updates, final }] of expected) {
        const mine = out.filter((t) => t[0] === category).map((t) => t[1]);
        expect(mine.length).toBe(updates);
        expect(mine.some((v) => Math.abs(v - final) < 1e-6)).toBe(true);
      }
    }
  });
});
