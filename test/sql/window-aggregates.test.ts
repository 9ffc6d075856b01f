// Windowed SQL aggregates on a small CSV table: window TVFs TUMBLE, HOP, CUMULATE; group windows TUMBLE and SESSION with their _START/_END/_ROWTIME; COUNT, COUNT(DISTINCT), SUM, AVG, MIN, MAX, FILTER, HAVING; projections, CASE, UNION ALL and WITH — each checked against values worked out by hand.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

const S = 1000;
const BASE = Date.UTC(2026, 0, 1);
const at = (s: number) => BASE + s * S;
const ts = (s: number) => new Date(at(s)).toISOString().replace('T', ' ').slice(0, 23);

let dir: string;
let env: TableEnvironment;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weir-sql-windows-'));
  const rows: [string, number | '', number][] = [
    ['a', 1, 1],
    ['b', 5, 2],
    ['a', 3, 4],
    ['a', '', 6],
    ['b', 2, 7],
    ['a', 3, 11],
    ['b', 10, 25],
  ];
  writeFileSync(join(dir, 'events.csv'), rows.map(([k, v, s]) => `${k},${v},${ts(s)}`).join('\n') + '\n');
  env = TableEnvironment.create({ mode: 'local', parallelism: 1 });
  await env.executeSql(`CREATE TABLE events (k STRING, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
    WITH ('connector' = 'filesystem', 'path' = '${join(dir, 'events.csv')}', 'format' = 'csv')`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  const result = await env.executeSql(sql);
  const out: Record<string, unknown>[] = [];
  for await (const r of result.collect()) out.push(r);
  return out.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
}

const sorted = (xs: Record<string, unknown>[]) => xs.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));

describe('windowed aggregates in SQL', () => {
  it('TUMBLE TVF: COUNT, COUNT(col), COUNT(DISTINCT), SUM, AVG (BIGINT truncates), MIN, MAX and FILTER, with NULLs', async () => {
    const got = await rows(`
      SELECT k, window_start AS ws, COUNT(*) AS n, COUNT(v) AS nv, COUNT(DISTINCT v) AS dv, SUM(v) AS s, AVG(v) AS av,
             MIN(v) AS lo, MAX(v) AS hi, SUM(v) FILTER (WHERE v > 2) AS big
      FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND))
      GROUP BY k, window_start, window_end`);
    const row = (
      k: string,
      w: number,
      n: number,
      nv: number,
      dv: number,
      s: number | null,
      av: number | null,
      lo: number | null,
      hi: number | null,
      big: number | null,
    ) => ({
      k,
      ws: at(w),
      n,
      nv,
      dv,
      s,
      av,
      lo,
      hi,
      big,
    });
    expect(got).toEqual(
      sorted([
        row('a', 0, 2, 2, 2, 4, 2, 1, 3, 3),
        row('b', 0, 1, 1, 1, 5, 5, 5, 5, 5),
        row('a', 5, 1, 0, 0, null, null, null, null, null),
        row('b', 5, 1, 1, 1, 2, 2, 2, 2, null),
        row('a', 10, 1, 1, 1, 3, 3, 3, 3, 3),
        row('b', 25, 1, 1, 1, 10, 10, 10, 10, 10),
      ]),
    );
  });

  it('HOP TVF without keys, with HAVING', async () => {
    const got = await rows(`
      SELECT window_start AS ws, window_end AS we, COUNT(*) AS n
      FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))
      GROUP BY window_start, window_end HAVING COUNT(*) > 1`);
    expect(got).toEqual(
      sorted([
        { ws: at(-5), we: at(5), n: 3 },
        { ws: at(0), we: at(10), n: 5 },
        { ws: at(5), we: at(15), n: 3 },
      ]),
    );
  });

  it('CUMULATE TVF: every step of each window, SUM over NULLs', async () => {
    const got = await rows(`
      SELECT window_start AS ws, window_end AS we, SUM(v) AS s, COUNT(*) AS n
      FROM TABLE(CUMULATE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))
      GROUP BY window_start, window_end`);
    expect(got).toEqual(
      sorted([
        { ws: at(0), we: at(5), s: 9, n: 3 },
        { ws: at(0), we: at(10), s: 11, n: 5 },
        { ws: at(10), we: at(15), s: 3, n: 1 },
        { ws: at(10), we: at(20), s: 3, n: 1 },
        { ws: at(20), we: at(30), s: 10, n: 1 },
      ]),
    );
  });

  it('group windows: SESSION with SESSION_START/_END/_ROWTIME, TUMBLE with TUMBLE_START/_END', async () => {
    const sessions = await rows(`
      SELECT k, COUNT(*) AS n, SESSION_START(ts, INTERVAL '3' SECOND) AS s, SESSION_END(ts, INTERVAL '3' SECOND) AS e,
             SESSION_ROWTIME(ts, INTERVAL '3' SECOND) AS rt
      FROM events GROUP BY k, SESSION(ts, INTERVAL '3' SECOND)`);
    const sess = (k: string, n: number, s: number, e: number) => ({ k, n, s: at(s), e: at(e), rt: at(e) - 1 });
    expect(sessions).toEqual(
      sorted([sess('a', 3, 1, 9), sess('a', 1, 11, 14), sess('b', 1, 2, 5), sess('b', 1, 7, 10), sess('b', 1, 25, 28)]),
    );
    const tumbles = await rows(`
      SELECT TUMBLE_START(ts, INTERVAL '10' SECOND) AS s, TUMBLE_END(ts, INTERVAL '10' SECOND) AS e, MAX(v) AS hi
      FROM events WHERE k = 'b' GROUP BY TUMBLE(ts, INTERVAL '10' SECOND)`);
    expect(tumbles).toEqual(
      sorted([
        { s: at(0), e: at(10), hi: 5 },
        { s: at(20), e: at(30), hi: 10 },
      ]),
    );
  });

  it('cascades windows: window_time of a window aggregate is the rowtime of the next one', async () => {
    await env.executeSql(`CREATE VIEW per5 AS
      SELECT k, window_time, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND))
      GROUP BY k, window_start, window_end, window_time`);
    const got = await rows(`
      SELECT k, window_start AS ws, SUM(n) AS n FROM TABLE(TUMBLE(TABLE per5, DESCRIPTOR(window_time), INTERVAL '10' SECOND))
      GROUP BY k, window_start, window_end`);
    expect(got).toEqual(
      sorted([
        { k: 'a', ws: at(0), n: 3 },
        { k: 'a', ws: at(10), n: 1 },
        { k: 'b', ws: at(0), n: 2 },
        { k: 'b', ws: at(20), n: 1 },
      ]),
    );
  });

  it('projection with CASE, WHERE with NULLs, UNION ALL and WITH', async () => {
    const got = await rows(`
      WITH big AS (SELECT k, v FROM events WHERE v > 9)
      SELECT k, CASE WHEN v IS NULL THEN -1 ELSE v * 2 END AS w FROM events WHERE k = 'a'
      UNION ALL
      SELECT k, v FROM big`);
    expect(got).toEqual(
      sorted([
        { k: 'a', w: 2 },
        { k: 'a', w: 6 },
        { k: 'a', w: -1 },
        { k: 'a', w: 6 },
        { k: 'b', w: 10 },
      ]),
    );
    // v > 2 is NULL for the NULL row: WHERE keeps only TRUE
    expect(await rows(`SELECT v FROM events WHERE NOT (v > 2)`)).toEqual(sorted([{ v: 1 }, { v: 2 }]));
  });

  it('SHOW TABLES, DESCRIBE with the rowtime attribute, and EXPLAIN with stable uids', async () => {
    expect((await env.executeSql('SHOW TABLES')).rows).toEqual([{ 'table name': 'events' }, { 'table name': 'per5' }]);
    const described = (await env.executeSql('DESCRIBE events')).rows.map((r) => `${r.name} ${r.type}`);
    expect(described).toEqual(['k STRING', 'v BIGINT', 'ts TIMESTAMP(3) *ROWTIME*']);
    const q = `SELECT k, COUNT(*) FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY k, window_start, window_end`;
    const plan = String((await env.executeSql(`EXPLAIN ${q}`)).rows[0].plan);
    expect(plan.split('\n').map((l) => l.replace(/\(.*\)/, '(…)'))).toEqual([
      'Sink(…)  uid=select/2-sink',
      '   +- WindowAggregate(…)  uid=select/1-window-agg',
      '      +- TableSourceScan(…)  uid=select/0-source',
    ]);
    expect(await env.explainSql(q)).toBe(plan);
  });
});
