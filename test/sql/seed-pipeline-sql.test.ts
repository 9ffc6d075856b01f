// The seed's Customer Revenue Pipeline as Flink SQL through `weir sql -f`: CSV orders with a 30 s watermark bound → hourly revenue per customer in CSV, exact against an independent computation; out-of-order rows within the bound count, late rows are dropped and counted.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sqlMain } from '../../src/cli/sql.ts';

const HOUR = 3_600_000;
const BOUND = 30_000;
const START = Date.UTC(2026, 0, 1, 8);

interface Order {
  id: number;
  customer: string;
  amount: number;
  ts: number;
}

/** A deterministic pseudo-random stream (mulberry32), printed seed included in failures via the test name. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Orders over six hours in file order: time moves forward in steps, most orders carry a jitter of
 * up to 25 s back (within the 30 s bound), refunds are negative, and `lateEvery`-th orders are
 * stamped 2 to 20 minutes back (behind the watermark when their hour has closed).
 */
function orders(seed: number, count: number, lateEvery: number): Order[] {
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
function expected(rows: readonly Order[]): { revenue: Map<string, number>; late: number } {
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

const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 23);

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function runSeed(
  rows: readonly Order[],
  parallelism: number,
): Promise<{ code: number; out: string; err: string; revenue: Map<string, number> }> {
  dir = mkdtempSync(join(tmpdir(), 'weir-sql-seed-'));
  const input = join(dir, 'orders.csv');
  const output = join(dir, 'revenue');
  writeFileSync(input, rows.map((o) => `${o.id},${o.customer},${o.amount},${iso(o.ts)}`).join('\n') + '\n');
  const script = join(dir, 'revenue.sql');
  writeFileSync(
    script,
    `-- The seed pipeline: its two statements, with WITH options for CSV files.
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount BIGINT,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '30' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');

CREATE TABLE hourly_revenue (
  customer STRING,
  window_start TIMESTAMP(3),
  revenue BIGINT
) WITH ('connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');

INSERT INTO hourly_revenue
SELECT customer, window_start, SUM(amount) AS revenue
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' HOUR))
WHERE amount > 0
GROUP BY customer, window_start, window_end;
`,
  );
  let out = '';
  let err = '';
  const code = await sqlMain(['-f', script, '-p', String(parallelism)], { out: (t) => (out += t), err: (t) => (err += t) });
  const revenue = new Map<string, number>();
  if (code === 0) {
    for (const f of readdirSync(output).filter((n) => !n.startsWith('.') && !n.startsWith('_'))) {
      for (const line of readFileSync(join(output, f), 'utf8')
        .split('\n')
        .filter((l) => l !== '')) {
        const [customer, start, value] = line.split(',');
        const key = `${customer},${start}`;
        expect(revenue.has(key)).toBe(false);
        revenue.set(key, Number(value));
      }
    }
  }
  return { code, out, err, revenue };
}

describe('the seed pipeline in SQL through weir sql -f', () => {
  it('gives the exact hourly revenue per customer and counts the late rows (p=1, seed 13)', async () => {
    const rows = orders(13, 3000, 97);
    const want = expected(rows);
    // the data has what the test is about: rows out of order within the bound, and late rows
    expect(rows.some((o, i) => i > 0 && o.ts < rows[i - 1].ts && rows[i - 1].ts - o.ts < BOUND)).toBe(true);
    expect(want.late).toBeGreaterThan(5);
    const { code, out, err, revenue } = await runSeed(rows, 1);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(`late rows dropped: ${want.late}\n`);
    expect(new Map([...revenue].sort())).toEqual(new Map([...want.revenue].sort()));
  });

  it('gives the same revenue on two worker threads when no row is late (seed 29)', async () => {
    const rows = orders(29, 3000, 0);
    const want = expected(rows);
    expect(want.late).toBe(0);
    const { code, out, revenue } = await runSeed(rows, 2);
    expect(code).toBe(0);
    expect(out).toContain('late rows dropped: 0\n');
    expect(out).toContain('2 slot(s)');
    expect(new Map([...revenue].sort())).toEqual(new Map([...want.revenue].sort()));
  });
});
