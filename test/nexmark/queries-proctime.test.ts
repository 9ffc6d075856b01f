// Nexmark q12 (processing-time windows) as a weir job. Windows are cut by the wall clock and, as in
// Flink, the window still open at the end of input is dropped (processing-time timers do not fire at
// end of input), so the sum of the counts is at most the number of bids, not equal to it. Checked
// exactly: window bounds, at most a second partial record per bidder and window, no bid counted twice, and with a paced
// source running over four windows (2 s windows: the query's windowMs param), more than one window fires.
import { describe, expect, it } from 'vitest';
import type { Q12Out } from '../../bench/nexmark/lib.ts';
import { jobOutput, loopOutput } from './queries-helpers.ts';

const bidsIn = (params: Record<string, number>) => loopOutput('q0', params).length;

function expectWellFormed(out: Q12Out[], bids: number, windowMs = 10_000): void {
  for (const [, n, start, end] of out) {
    expect(n).toBeGreaterThan(0);
    expect(end - start).toBe(windowMs);
    expect(start % windowMs).toBe(0);
  }
  // One record per bidder and window, except that a bid arriving in the millisecond its window
  // fires opens the window again and fires it at once (as Flink's ProcessingTimeTrigger does):
  // so no bid is counted twice, but a (bidder, window) may have a second, partial record.
  const perWindow = new Map<string, number>();
  for (const [bidder, , start] of out) perWindow.set(`${bidder}@${start}`, (perWindow.get(`${bidder}@${start}`) ?? 0) + 1);
  expect(Math.max(0, ...perWindow.values())).toBeLessThanOrEqual(2);
  expect(out.reduce((s, t) => s + t[1], 0)).toBeLessThanOrEqual(bids);
}

describe('Nexmark q12 processing-time windows', () => {
  it('gives well-formed windows, locally and on two threads', async () => {
    const params = { events: 40_000, seed: 0 };
    const bids = bidsIn(params);
    expectWellFormed((await jobOutput('q12', 'local', 1, params)) as Q12Out[], bids);
    expectWellFormed((await jobOutput('q12', 'threads', 2, params)) as Q12Out[], bids);
    expectWellFormed(loopOutput('q12', params) as Q12Out[], bids);
  });

  it('fires more than one window with a paced source (2 s windows, 840 events at 100/s: 8.4 s)', async () => {
    const params = { events: 840, pace: 100, seed: 0, windowMs: 2_000 };
    const bids = bidsIn(params);
    const out = (await jobOutput('q12', 'threads', 2, params)) as Q12Out[];
    expectWellFormed(out, bids, 2_000);
    // at least two window ends fall inside any 8.4 s; the first fired window may have started before the job
    expect(new Set(out.map((t) => t[2])).size).toBeGreaterThan(1);
    // a whole 2 s window in the middle holds ~200 events, 92% of them bids
    const perWindow = new Map<number, number>();
    for (const t of out) perWindow.set(t[2], (perWindow.get(t[2]) ?? 0) + t[1]);
    expect(Math.max(...perWindow.values())).toBeGreaterThan(100);
  });
});
