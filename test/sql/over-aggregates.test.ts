// SQL OVER aggregates (Flink's OverAggregate): ROWS and RANGE frames, bounded and unbounded, on event time (rows held until the watermark, late rows dropped by Flink's rules) and processing time, the named WINDOW clause, and the errors of what Flink refuses — exact rows worked out by hand.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob } from '../../src/api/job.ts';
import { executeJob } from '../../src/scheduler/execute.ts';
import { Schema, StreamTableEnvironment } from '../../src/sql/stream-table-environment.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';
import { ManualProcessingTimeService } from '../../src/time/index.ts';
import { scriptedSource } from '../fixtures/scripted-source.ts';

type Row = Record<string, unknown>;
const BASE = Date.UTC(2026, 0, 1);
const ts = (s: number) => new Date(BASE + s * 1000).toISOString().replace('T', ' ').slice(0, 19);

// Arrival order; the watermark is 1 s behind the largest ts so far, emitted after each row.
// b@2 arrives at watermark 2, a(v5)@4 and b@5 at watermark 5, a(v6)@5 at watermark 7: behind it.
const INPUT: [string | null, number | null, number][] = [
  ['a', 1, 1],
  ['a', 2, 3],
  ['b', 10, 2],
  ['a', 3, 3],
  ['a', 4, 6],
  ['b', 20, 5],
  ['a', 5, 4],
  ['b', null, 8],
  [null, 100, 8],
  ['a', 6, 5],
  ['a', 7, 9],
];

let dir: string;
let env: TableEnvironment;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weir-sql-over-'));
  writeFileSync(join(dir, 'ev.json'), INPUT.map(([k, v, s]) => JSON.stringify({ k, v, ts: ts(s) })).join('\n') + '\n');
  env = TableEnvironment.create({ mode: 'local', parallelism: 1 });
  await env.executeSql(`CREATE TABLE ev (k STRING, v INT, ts TIMESTAMP(3), pt AS PROCTIME(), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
    WITH ('connector' = 'filesystem', 'path' = '${join(dir, 'ev.json')}', 'format' = 'json')`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rows(sql: string): Promise<Row[]> {
  const result = await env.executeSql(sql);
  expect(result.updating).toBe(false);
  const out: Row[] = [];
  for await (const r of result.collect()) out.push(r);
  return out;
}

const sorted = (xs: Row[]) => [...xs].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
const row = (k: string | null, v: number | null, s: number, total: number | null, n: number) => ({ k, v, s, total, n });

describe('OVER aggregates in SQL', () => {
  it('ROWS BETWEEN 1 PRECEDING: each row once, in timestamp order per partition, ties in arrival order; a late row is kept until its partition passed its time', async () => {
    const got = await rows(`
      SELECT k, v, SECOND(ts) AS s, SUM(v) OVER w AS total, COUNT(v) OVER w AS n
      FROM ev WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)`);
    // a(v6)@5 is dropped: a had processed 6 already; b@2, a(v5)@4 and b@5 were behind the watermark but not their partition's time
    expect(sorted(got)).toEqual(
      sorted([
        row('a', 1, 1, 1, 1),
        row('a', 2, 3, 3, 2),
        row('a', 3, 3, 5, 2),
        row('a', 5, 4, 8, 2),
        row('a', 4, 6, 9, 2),
        row('a', 7, 9, 11, 2),
        row('b', 10, 2, 10, 1),
        row('b', 20, 5, 30, 2),
        row('b', null, 8, 20, 1),
        row(null, 100, 8, 100, 1),
      ]),
    );
    // per partition the rows come out in timestamp order
    expect(got.filter((r) => r.k === 'a').map((r) => r.v)).toEqual([1, 2, 3, 5, 4, 7]);
  });

  it('RANGE BETWEEN INTERVAL 2 SECOND PRECEDING: peers share one result, the frame includes its lower bound', async () => {
    const got = await rows(`
      SELECT k, v, SECOND(ts) AS s,
        SUM(v) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '2' SECOND PRECEDING AND CURRENT ROW) AS total,
        COUNT(*) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '2' SECOND PRECEDING AND CURRENT ROW) AS n
      FROM ev`);
    expect(sorted(got)).toEqual(
      sorted([
        row('a', 1, 1, 1, 1),
        row('a', 2, 3, 6, 3),
        row('a', 3, 3, 6, 3),
        row('a', 5, 4, 10, 3),
        row('a', 4, 6, 9, 2),
        row('a', 7, 9, 7, 1),
        row('b', 10, 2, 10, 1),
        row('b', 20, 5, 20, 1),
        row('b', null, 8, null, 1),
        row(null, 100, 8, 100, 1),
      ]),
    );
  });

  it('UNBOUNDED PRECEDING: rows at or behind the watermark are dropped; RANGE (the default frame) gives peers one result, ROWS one each', async () => {
    const range = await rows(
      `SELECT k, v, SECOND(ts) AS s, SUM(v) OVER (PARTITION BY k ORDER BY ts) AS total, COUNT(*) OVER (PARTITION BY k ORDER BY ts) AS n FROM ev`,
    );
    expect(sorted(range)).toEqual(
      sorted([
        row('a', 1, 1, 1, 1),
        row('a', 2, 3, 6, 3),
        row('a', 3, 3, 6, 3),
        row('a', 4, 6, 10, 4),
        row('a', 7, 9, 17, 5),
        row('b', null, 8, null, 1),
        row(null, 100, 8, 100, 1),
      ]),
    );
    const rowsFrame = await rows(`
      SELECT k, v, SECOND(ts) AS s, SUM(v) OVER w AS total, COUNT(*) OVER w AS n
      FROM ev WHERE k = 'a' WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`);
    expect(rowsFrame).toEqual([
      row('a', 1, 1, 1, 1),
      row('a', 2, 3, 3, 2),
      row('a', 3, 3, 6, 3),
      row('a', 4, 6, 10, 4),
      row('a', 7, 9, 17, 5),
    ]);
  });

  it('AVG (INT truncates), MIN, MAX and an OVER call inside an expression; SELECT * leaves the results out; ts stays a time attribute', async () => {
    const got = await rows(`
      SELECT k, v, AVG(v) OVER w AS av, MIN(v) OVER w AS lo, MAX(v) OVER w * 10 AS hi10
      FROM ev WHERE k = 'b' WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)`);
    expect(got).toEqual([
      { k: 'b', v: 10, av: 10, lo: 10, hi10: 100 },
      { k: 'b', v: 20, av: 15, lo: 10, hi10: 200 },
      { k: 'b', v: null, av: 20, lo: 20, hi10: 200 },
    ]);
    const plan = await env.explainSql(`SELECT *, COUNT(*) OVER (ORDER BY ts) AS n FROM ev`);
    expect(plan).toContain('OverAggregate(partitionBy=[], orderBy=[ts ASC], window=[RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW]');
    const star = await rows(`SELECT * FROM (SELECT k, ts, COUNT(*) OVER (PARTITION BY k ORDER BY ts) AS n FROM ev) WHERE k IS NULL`);
    expect(star).toEqual([{ k: null, ts: BASE + 8000, n: 1 }]);
    // the OVER output keeps ts as the rowtime: a window aggregate can follow (1 + 3 + 3 + 4 + 5 for a, 1 for b, 1 for NULL)
    await env.executeSql(`CREATE TEMPORARY VIEW counted AS SELECT k, ts, COUNT(*) OVER (PARTITION BY k ORDER BY ts) AS n FROM ev`);
    const windowed = await rows(
      `SELECT window_start, SUM(n) AS total FROM TABLE(TUMBLE(TABLE counted, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end`,
    );
    expect(windowed).toEqual([{ window_start: BASE, total: 18 }]);
  });

  it('processing time: ROWS and UNBOUNDED frames take each row as it arrives', async () => {
    const got = await rows(`
      SELECT k, v, COUNT(*) OVER (PARTITION BY k ORDER BY pt ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS n3,
        SUM(v) OVER (PARTITION BY k ORDER BY pt ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s3
      FROM ev WHERE k = 'a'`);
    expect(got).toEqual([
      { k: 'a', v: 1, n3: 1, s3: 1 },
      { k: 'a', v: 2, n3: 2, s3: 3 },
      { k: 'a', v: 3, n3: 3, s3: 6 },
      { k: 'a', v: 4, n3: 3, s3: 9 },
      { k: 'a', v: 5, n3: 3, s3: 12 },
      { k: 'a', v: 6, n3: 3, s3: 15 },
      { k: 'a', v: 7, n3: 3, s3: 18 },
    ]);
    const running = await rows(`SELECT k, COUNT(*) OVER (PARTITION BY k ORDER BY pt) AS n FROM ev WHERE k = 'b'`);
    expect(running).toEqual([
      { k: 'b', n: 1 },
      { k: 'b', n: 2 },
      { k: 'b', n: 3 },
    ]);
  });

  it('processing time, bounded RANGE: the rows of one millisecond are peers, processed when the clock passes it; the frame retracts older rows', async () => {
    const clock = new ManualProcessingTimeService(1_000);
    const job = defineJob(async (env) => {
      const tEnv = StreamTableEnvironment.create(env);
      const input = env.fromSource(
        scriptedSource([
          { value: { k: 'a', v: 1 } },
          { value: { k: 'b', v: 2 } },
          { value: { k: 'a', v: 5 } },
          { run: () => clock.advanceTo(1_500) },
          { value: { k: 'a', v: 3 } },
          { run: () => clock.advanceTo(2_400) },
          { value: { k: 'a', v: 4 } },
          { run: () => clock.advanceTo(2_700) },
          { value: { k: 'a', v: 6 } },
        ]),
      ) as never;
      const t = tEnv.fromDataStream(input, Schema.newBuilder().column('k', 'STRING').column('v', 'INT').build());
      const b = tEnv.sqlQuery(`SELECT *, PROCTIME() AS pt FROM ${t}`);
      const over = tEnv.sqlQuery(`
        SELECT k, v, COUNT(*) OVER w AS n, SUM(v) OVER w AS total
        FROM ${b} WINDOW w AS (PARTITION BY k ORDER BY pt RANGE BETWEEN INTERVAL '1' SECOND PRECEDING AND CURRENT ROW)`);
      (await tEnv.toDataStream(over)).map((r) => `${String(r.k)}${String(r.v)} n=${String(r.n)} total=${String(r.total)}`).collect('over');
    });
    const result = await executeJob(job, { mode: 'local', processingTime: clock, bufferTimeoutMs: 0 });
    // a1, a5 (and b2) at 1000 come out when the clock passes 1000; a3 at 1500 sees them; a4 at 2400 has lost them (older
    // than 1400) but sees a3; a6 at 2700 waits for a clock that the job's end never brings (as Flink's processing-time timers)
    expect(result.collected.over as string[]).toEqual([
      'a1 n=2 total=6',
      'a5 n=2 total=6',
      'b2 n=1 total=2',
      'a3 n=3 total=9',
      'a4 n=2 total=7',
    ]);
  });

  it('refuses what Flink refuses, naming the problem', async () => {
    const err = (sql: string) =>
      env.explainSql(sql).then(
        () => 'planned',
        (e: Error) => e.message,
      );
    expect(await err('SELECT SUM(v) OVER (PARTITION BY k ORDER BY v ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM ev')).toMatch(
      /OVER windows' ordering in stream mode must be defined on a time attribute .* got 'v'/,
    );
    expect(await err('SELECT SUM(v) OVER (PARTITION BY k ORDER BY ts DESC) FROM ev')).toMatch(/ORDER BY ts DESC/);
    expect(await err('SELECT SUM(v) OVER (PARTITION BY k) FROM ev')).toMatch(/OVER needs ORDER BY on exactly one time attribute/);
    expect(
      await err(
        'SELECT SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), COUNT(*) OVER (PARTITION BY k ORDER BY ts) FROM ev',
      ),
    ).toMatch(/OVER windows that differ in one SELECT/);
    expect(await err('SELECT SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM ev')).toMatch(
      /only \.\.\. AND CURRENT ROW/,
    );
    expect(
      await err(`SELECT SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN INTERVAL '1' SECOND PRECEDING AND CURRENT ROW) FROM ev`),
    ).toMatch(/ROWS BETWEEN n PRECEDING needs a non-negative integer n/);
    expect(await err(`SELECT SUM(v) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) FROM ev`)).toMatch(
      /needs an INTERVAL, got '2'/,
    );
    expect(await err('SELECT SUM(v) OVER w2 FROM ev WINDOW w AS (ORDER BY ts)')).toMatch(/window 'w2' not found/);
    expect(
      await err('SELECT k, SUM(n) OVER (PARTITION BY k ORDER BY ts) FROM (SELECT k, COUNT(*) AS n, MAX(ts) AS ts FROM ev GROUP BY k)'),
    ).toMatch(/OVER windows' ordering in stream mode must be defined on a time attribute/);
    expect(await err('SELECT k, COUNT(*), SUM(v) OVER (ORDER BY ts) FROM ev GROUP BY k')).toMatch(
      /OVER aggregates in a SELECT with GROUP BY/,
    );
  });
});
