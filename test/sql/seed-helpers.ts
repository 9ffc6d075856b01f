// The seed pipeline's test data: generated orders with rows out of order within the 30 s bound and late rows, and the independent computation of hourly revenue per customer.

import { mulberry32 as random } from '../fixtures/random.ts';

export const HOUR = 3_600_000;
export const BOUND = 30_000;
export const START = Date.UTC(2026, 0, 1, 8);

export interface Order {
  id: number;
  customer: string;
  amount: number;
  ts: number;
}

/**
 * Orders over six hours in file order: time moves forward in steps, most orders carry a jitter of
 * up to 25 s back (within the 30 s bound), refunds are negative, and `lateEvery`-th orders are
 * stamped 2 to 20 minutes back (behind the watermark when their hour has closed).
 */
export function orders(seed: number, count: number, lateEvery: number): Order[] {
  const rnd = random(seed);
  const out: Order[] = [];
  let now = START;
  for (let id = 1; id <= count; id++) {
    now += Math.floor(rnd() * 20_000);
    let ts = now - Math.floor(rnd() * 25_000);
    if (lateEvery > 0 && id % lateEvery === 0) ts = now - 120_000 - Math.floor(rnd() * 18 * 60_000);
    const amount = rnd() < 0.05 ? -Math.floor(rnd() * 5000) : Math.floor(rnd() * 10_000);
    out.push({ id, customer: `c${Math.floor(rnd() * 7)}`, amount, ts });
  }
  return out;
}

/**
 * The independent computation, as Flink's semantics define it at parallelism 1: the watermark
 * after a row is max(ts so far) − 30 s; a paid row (amount > 0) is late when its hour's last
 * millisecond is at or behind the watermark it arrives at; the others sum per customer and hour.
 */
export function expected(rows: readonly Order[]): { revenue: Map<string, number>; late: number } {
  const revenue = new Map<string, number>();
  let maxTs = Number.NEGATIVE_INFINITY;
  let late = 0;
  for (const o of rows) {
    const watermark = maxTs - BOUND;
    maxTs = Math.max(maxTs, o.ts);
    if (o.amount <= 0) continue;
    const start = o.ts - (o.ts % HOUR);
    if (start + HOUR - 1 <= watermark) {
      late++;
      continue;
    }
    const key = `${o.customer},${new Date(start).toISOString().replace('T', ' ').slice(0, 23)}`;
    revenue.set(key, (revenue.get(key) ?? 0) + o.amount);
  }
  return { revenue, late };
}

export const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 23);
