// Window Top-N and window deduplication in SQL (Flink's WindowRank and WindowDeduplicate): ROW_NUMBER() per window over a window TVF or a window aggregate, emitted once when the watermark passes the window's end, append-only — exact rows worked out by hand.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

type Row = Record<string, unknown>;
const BASE = Date.UTC(2026, 0, 1);
const ts = (s: number) => new Date(BASE + s * 1000).toISOString().replace('T', ' ').slice(0, 19);
const W = (s: number) => BASE + s * 1000;

// Arrival order; watermark 1 s behind the largest ts. ('c', 9) at 3 arrives at watermark 11: late for [0, 10).
const INPUT: [string | null, number | null, number][] = [
  ['a', 5, 1],
  ['b', 7, 2],
  ['a', 7, 3],
  ['c', 2, 3],
  ['b', null, 4],
  ['a', 3, 3],
  ['c', 7, 6],
  [null, 1, 8],
  ['a', 4, 12],
  ['c', 9, 3],
  ['b', 6, 14],
  ['b', 6, 14],
];

let dir: string;
let env: TableEnvironment;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weir-sql-window-topn-'));
  writeFileSync(join(dir, 'bids.json'), INPUT.map(([k, price, s]) => JSON.stringify({ k, price, ts: ts(s) })).join('\n') + '\n');
  env = TableEnvironment.create({ mode: 'local', parallelism: 1 });
  await env.executeSql(`CREATE TABLE bids (k STRING, price INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
    WITH ('connector' = 'filesystem', 'path' = '${join(dir, 'bids.json')}', 'format' = 'json')`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rows(sql: string): Promise<Row[]> {
  const result = await env.executeSql(sql);
  expect(result.updating).toBe(false);
  const out: Row[] = [];
  for await (const r of result.collect()) out.push(r);
  return out;
}

describe('window Top-N and window deduplication', () => {
  it('Top-2 per TUMBLE window by price: once per window, in rank order, equal prices in arrival order, NULL last, late rows dropped', async () => {
    const got = await rows(`
      SELECT k, price, window_start, rn FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rn
        FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
      ) WHERE rn <= 3`);
    expect(got).toEqual([
      { k: 'b', price: 7, window_start: W(0), rn: 1 },
      { k: 'a', price: 7, window_start: W(0), rn: 2 },
      { k: 'c', price: 7, window_start: W(0), rn: 3 },
      { k: 'b', price: 6, window_start: W(10), rn: 1 },
      { k: 'b', price: 6, window_start: W(10), rn: 2 },
      { k: 'a', price: 4, window_start: W(10), rn: 3 },
    ]);
    // ascending: NULL first (Flink's default order puts NULL lowest); a partition per key
    const asc = await rows(`
      SELECT k, price, rn FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY price) AS rn
        FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
      ) WHERE rn = 1 AND k IN ('a', 'b')`);
    expect(asc).toEqual([
      { k: 'a', price: 3, rn: 1 },
      { k: 'b', price: null, rn: 1 },
      { k: 'a', price: 4, rn: 1 },
      { k: 'b', price: 6, rn: 1 },
    ]);
  });

  it('Top-1 per HOP window over a window aggregate (the keys with the highest total), without the row number', async () => {
    const got = await rows(`
      SELECT window_start, k, total FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY total DESC, k) AS rownum
        FROM (
          SELECT window_start, window_end, k, SUM(price) AS total
          FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))
          WHERE k IS NOT NULL
          GROUP BY window_start, window_end, k
        )
      ) WHERE rownum <= 1`);
    // [-5, 5): a 15, b 7, c 2; [0, 10): a 15, c 9, b 7; [5, 15): b 12, c 7, a 4; [10, 20): b 12, a 4
    expect(got).toEqual([
      { window_start: W(-5), k: 'a', total: 15 },
      { window_start: W(0), k: 'a', total: 15 },
      { window_start: W(5), k: 'b', total: 12 },
      { window_start: W(10), k: 'b', total: 12 },
    ]);
  });

  it('window deduplication keeps the first row of the earliest time (ASC) or the last row of the latest (DESC), ties included', async () => {
    const first = await rows(`
      SELECT k, price, ts FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY ts ASC) AS rn
        FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
      ) WHERE rn <= 1`);
    expect(first).toEqual([
      { k: 'a', price: 5, ts: W(1) },
      { k: 'a', price: 4, ts: W(12) },
    ]);
    // the latest of a in [0, 10) is at 3, twice (7 then 3): the last to arrive is kept; in [10, 20) b's two rows at 14 tie
    const last = await rows(`
      SELECT k, price, ts, rn FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY ts DESC) AS rn
        FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
      ) WHERE rn = 1 AND k IN ('a', 'b')`);
    expect(last).toEqual([
      { k: 'a', price: 3, ts: W(3), rn: 1 },
      { k: 'b', price: null, ts: W(4), rn: 1 },
      { k: 'a', price: 4, ts: W(12), rn: 1 },
      { k: 'b', price: 6, ts: W(14), rn: 1 },
    ]);
  });

  it('plans WindowRank and WindowDeduplicate; a PARTITION BY without both window columns stays a regular (updating) Top-N', async () => {
    const rank = await env.explainSql(`
      SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rn
        FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn <= 2`);
    expect(rank).toContain(
      'WindowRank(rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=2], partitionBy=[window_start, window_end], orderBy=[price DESC]',
    );
    const dedup = await env.explainSql(`
      SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY ts DESC) AS rn
        FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn = 1`);
    expect(dedup).toContain('WindowDeduplicate(keep=[LastRow], partitionBy=[window_start, window_end, k], order=[ts])');
    const regular = await env.executeSql(`
      SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY price DESC) AS rn
        FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn <= 1`);
    expect(regular.updating).toBe(true);
    await regular.materialize();
    await env.executeSql(`CREATE TABLE bids_pt (k STRING, price INT, pt AS PROCTIME())
      WITH ('connector' = 'filesystem', 'path' = '${join(dir, 'bids.json')}', 'format' = 'json')`);
    await expect(
      env.explainSql(`
        SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY n DESC) AS rn
          FROM (SELECT window_start, window_end, k, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE bids_pt, DESCRIPTOR(pt), INTERVAL '10' SECOND))
                GROUP BY window_start, window_end, k)) WHERE rn <= 1`),
    ).rejects.toThrow('not supported yet: window Top-N on processing-time windows');
    expect(
      await env.explainSql(`
      SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY price DESC) AS rn
        FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn <= 1`),
    ).toContain('Rank(rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=1], partitionBy=[window_start]');
  });
});
