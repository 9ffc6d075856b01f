// The seed's Customer Revenue Pipeline as Flink SQL through `weir sql -f`: CSV orders with a 30 s watermark bound → hourly revenue per customer in CSV, exact against an independent computation; out-of-order rows within the bound count, late rows are dropped and counted.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sqlMain } from '../../src/cli/sql.ts';
import { BOUND, expected, iso, orders, type Order } from './seed-helpers.ts';

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
