// The sliding-window example: orders and revenue per customer in every 1 h window sliding by 15 min equal a plain loop's.
import { describe, expect, it } from 'vitest';
import { executeJob, type JobParams } from '../../src/index.ts';
import { orderAt, orderStreamConfig } from '../../examples/revenue-pipeline.ts';
import { SLIDING_SIZE, SLIDING_SLIDE, type RollingRevenue } from '../../examples/sliding-window.ts';

const JOB = 'examples/sliding-window.ts';
// No delayed orders: disorder stays within the watermark's bound, so no order is late.
const PARAMS: JobParams = { orders: 40_000, hours: 3, customers: 200, delayed: 0, output: 'collect' };

/** Every window a paid order falls in, filled by a plain loop: starts at multiples of the slide within the size. */
function expectedWindows(): RollingRevenue[] {
  const config = orderStreamConfig(PARAMS);
  const windows = new Map<string, RollingRevenue>();
  for (let i = 0; i < config.orders; i++) {
    const o = orderAt(i, config);
    if (o.amount <= 0) continue;
    const lastStart = Math.floor(o.ts / SLIDING_SLIDE) * SLIDING_SLIDE;
    for (let start = lastStart; start > o.ts - SLIDING_SIZE; start -= SLIDING_SLIDE) {
      const key = `${o.customerId}@${start}`;
      const w = windows.get(key);
      if (w) {
        w.orders++;
        w.revenue += o.amount;
      } else
        windows.set(key, { customerId: o.customerId, windowStart: start, windowEnd: start + SLIDING_SIZE, orders: 1, revenue: o.amount });
    }
  }
  return sorted([...windows.values()]);
}

const sorted = (rows: RollingRevenue[]) =>
  [...rows].sort((a, b) => a.windowStart - b.windowStart || (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));

describe('sliding-window example', () => {
  const expected = expectedWindows();

  it('puts each paid order in four windows, the first and last hours in partial ones', () => {
    const config = orderStreamConfig(PARAMS);
    let paid = 0;
    for (let i = 0; i < config.orders; i++) if (orderAt(i, config).amount > 0) paid++;
    expect(SLIDING_SIZE / SLIDING_SLIDE).toBe(4);
    expect(expected.reduce((n, w) => n + w.orders, 0)).toBe(4 * paid);
    expect(expected[0].windowStart).toBe(config.start - SLIDING_SIZE + SLIDING_SLIDE);
  });

  for (const [mode, parallelism] of [
    ['threads', 1],
    ['threads', 2],
    ['local', 2],
  ] as const) {
    it(`emits every customer's hour-long windows every 15 minutes (${mode}, p=${parallelism})`, async () => {
      const result = await executeJob(JOB, { mode, parallelism, params: PARAMS });
      expect(sorted(result.collected.rolling as RollingRevenue[])).toEqual(expected);
    });
  }
});
