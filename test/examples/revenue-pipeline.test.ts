// The revenue pipeline example: hourly revenue and late orders equal a plain loop's, at parallelism 1 and 2, on threads and locally.
import { describe, expect, it, vi } from 'vitest';
import { executeJob, type JobParams } from '../../src/index.ts';
import {
  MAX_OUT_OF_ORDERNESS,
  WINDOW_SIZE,
  isDelayed,
  orderAt,
  orderStreamConfig,
  type CustomerRevenue,
  type Order,
} from '../../examples/revenue-pipeline.ts';

const JOB = 'examples/revenue-pipeline.ts';

/** What the pipeline should emit, computed by a plain loop over the same orders in source order. */
function expected(params: JobParams): { revenue: CustomerRevenue[]; late: Order[] } {
  const config = orderStreamConfig(params);
  const sums = new Map<string, CustomerRevenue>();
  const late: Order[] = [];
  let maxSeen = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < config.orders; i++) {
    const order = orderAt(i, config);
    if (order.amount > 0) {
      const windowStart = Math.floor(order.ts / WINDOW_SIZE) * WINDOW_SIZE;
      const windowEnd = windowStart + WINDOW_SIZE;
      // The watermark before this order: the highest timestamp so far (refunds included: the
      // watermark is made at the source, before the filter) minus the bound, minus 1.
      const watermark = maxSeen - MAX_OUT_OF_ORDERNESS - 1;
      if (windowEnd - 1 <= watermark) late.push(order);
      else {
        const key = `${order.customerId}@${windowStart}`;
        const row = sums.get(key);
        if (row) row.revenue += order.amount;
        else sums.set(key, { customerId: order.customerId, windowStart, windowEnd, revenue: order.amount });
      }
    }
    if (order.ts > maxSeen) maxSeen = order.ts;
  }
  return { revenue: sortRevenue([...sums.values()]), late: sortLate(late) };
}

const sortRevenue = (rows: CustomerRevenue[]) =>
  [...rows].sort((a, b) => a.windowStart - b.windowStart || (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
const sortLate = (orders: Order[]) => [...orders].sort((a, b) => a.orderId - b.orderId);

// Every order within 30 s of the latest before it: nothing is late, whatever the watermark timing.
const ON_TIME: JobParams = { orders: 60_000, hours: 6, customers: 300, delayed: 0, output: 'collect' };
// 2 % of orders 30 s to 15 min behind; a watermark after every order makes lateness exact.
const WITH_LATE: JobParams = { orders: 60_000, hours: 6, customers: 300, delayed: 20, watermarks: 'per-record', output: 'collect' };

const RUNS = [
  { mode: 'threads', parallelism: 1 },
  { mode: 'threads', parallelism: 2 },
  { mode: 'local', parallelism: 1 },
  { mode: 'local', parallelism: 2 },
] as const;

describe('revenue pipeline example', () => {
  it('generates orders whose only disorder beyond 30 s comes from the delayed ones', () => {
    for (const params of [ON_TIME, WITH_LATE]) {
      const config = orderStreamConfig(params);
      let maxSeen = Number.NEGATIVE_INFINITY;
      let refunds = 0;
      let free = 0;
      for (let i = 0; i < config.orders; i++) {
        const o = orderAt(i, config);
        if (!isDelayed(i, config)) expect(o.ts, `order ${i}`).toBeGreaterThanOrEqual(maxSeen - MAX_OUT_OF_ORDERNESS);
        if (o.amount < 0) refunds++;
        if (o.amount === 0) free++;
        maxSeen = Math.max(maxSeen, o.ts);
      }
      expect(refunds).toBeGreaterThan(config.orders * 0.02);
      expect(free).toBeGreaterThan(config.orders * 0.005);
    }
  });

  it('has late orders to find, and delayed orders that still make their window', () => {
    const { late } = expected(WITH_LATE);
    const config = orderStreamConfig(WITH_LATE);
    let delayedPaid = 0;
    for (let i = 0; i < config.orders; i++) if (isDelayed(i, config) && orderAt(i, config).amount > 0) delayedPaid++;
    expect(late.length).toBeGreaterThan(50);
    expect(delayedPaid).toBeGreaterThan(late.length * 2);
    expect(expected(ON_TIME).late).toEqual([]);
  });

  const onTime = expected(ON_TIME);
  const withLate = expected(WITH_LATE);

  for (const { mode, parallelism } of RUNS) {
    it(`sums every paid order into its customer's hour (${mode}, p=${parallelism}, periodic watermarks, nothing late)`, async () => {
      const result = await executeJob(JOB, { mode, parallelism, params: ON_TIME });
      expect(result.mode).toBe(mode);
      expect(sortRevenue(result.collected.revenue as CustomerRevenue[])).toEqual(onTime.revenue);
      expect(result.collected.late ?? []).toEqual([]);
    });

    it(`leaves out exactly the late orders and sends them to the side output (${mode}, p=${parallelism}, per-record watermarks)`, async () => {
      const result = await executeJob(JOB, { mode, parallelism, params: WITH_LATE });
      expect(result.operators['Hourly Revenue'].subtasks).toBe(parallelism);
      expect(sortRevenue(result.collected.revenue as CustomerRevenue[])).toEqual(withLate.revenue);
      expect(sortLate(result.collected.late as Order[])).toEqual(withLate.late);
    });
  }

  it('prints a summary with one line per hour and the late orders', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await executeJob(JOB, { mode: 'local', parallelism: 2, params: { ...WITH_LATE, output: 'summary' } });
      const text = log.mock.calls.map((c) => c.join(' ')).join('\n');
      for (let h = 0; h < 6; h++) expect(text).toContain(`2025-01-06 0${h}:00`);
      expect(text).toContain(`late orders (their hour had closed; side output 'late-orders'): ${withLate.late.length},`);
    } finally {
      log.mockRestore();
    }
  });
});
