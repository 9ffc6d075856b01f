// Time-based SQL joins on scripted rows with out-of-order and late rows: interval joins (inclusive and exclusive bounds, rowtime kept, output watermark held back by the bounds so a window or OVER after the join counts every on-time pair), window joins of window aggregates (inner and outer, fired by the watermark), window properties kept through renames and cascading window aggregates; how Flink's planner classifies each join.
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../src/api/job.ts';
import { executeJob } from '../../src/scheduler/execute.ts';
import { parseScript } from '../../src/sql/parser.ts';
import { Catalog, Planner, createTable } from '../../src/sql/planner.ts';
import type { JoinNode, SqlPlan } from '../../src/sql/plan.ts';
import { intervalJoinWatermarkDelay } from '../../src/sql/ops/joins.ts';
import { Schema, StreamTableEnvironment } from '../../src/sql/stream-table-environment.ts';
import { scriptedSource, type Step } from '../fixtures/scripted-source.ts';

type Row = Record<string, unknown>;
const S = 1000;

/** A row of the left (L) or right (R) table: key, value, event time in seconds. */
type In = [side: 'L' | 'R', k: number | null, v: string, seconds: number];

/**
 * Runs `sql` (over tables L and R, each k INT, v STRING, ts rowtime with a 1 s watermark delay)
 * on rows played in order, each reaching the operators before the next is played.
 */
async function run(rows: In[], sql: (l: string, r: string) => string): Promise<Row[]> {
  const steps: Step[] = rows.flatMap(([side, k, v, s]) => [{ value: { side, k, v, t: s * S } }, { run: () => {} }]);
  const job = defineJob(async (env) => {
    const tEnv = StreamTableEnvironment.create(env);
    const input = env.fromSource(scriptedSource(steps)) as unknown as { filter(f: (r: Row) => boolean): never };
    const schema = () =>
      Schema.newBuilder()
        .column('k', 'INT')
        .column('v', 'STRING')
        .column('t', 'BIGINT')
        .columnByExpression('ts', 'TO_TIMESTAMP_LTZ(t, 3)')
        .watermark('ts', "ts - INTERVAL '1' SECOND")
        .build();
    const l = tEnv.fromDataStream(
      input.filter((r) => r.side === 'L'),
      schema(),
    );
    const r = tEnv.fromDataStream(
      input.filter((r) => r.side === 'R'),
      schema(),
    );
    (await tEnv.toDataStream(tEnv.sqlQuery(sql(String(l), String(r))))).collect('out');
  });
  const result = await executeJob(job, { mode: 'local', bufferTimeoutMs: 0 });
  return (result.collected.out ?? []) as Row[];
}

const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();

const DDL = `
  CREATE TABLE L (k INT, v STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'filesystem', 'path' = '/dev/null', 'format' = 'csv');
  CREATE TABLE R (k INT, v STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'filesystem', 'path' = '/dev/null', 'format' = 'csv');
  CREATE TABLE P (k INT, pt AS PROCTIME()) WITH ('connector' = 'filesystem', 'path' = '/dev/null', 'format' = 'csv');`;

function planOf(sql: string): SqlPlan {
  const catalog = new Catalog();
  for (const s of parseScript(DDL)) if (s.kind === 'create-table') createTable(catalog, s, DDL);
  const [q] = parseScript(sql);
  if (q.kind !== 'query') throw new Error('not a query');
  return new Planner(catalog).planSelect(q.query, sql);
}
const joinOf = (plan: SqlPlan) => plan.nodes.find((n): n is JoinNode => n.kind === 'join') as JoinNode;

const WINDOWED = (t: string) =>
  `SELECT k, window_start AS ws, window_end AS we, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE ${t}, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY k, window_start, window_end`;

describe('interval joins', () => {
  // L1 at 10 s; right rows at 8 (d = −2), 9.5 (d = −0.5), 11 (d = +1), 12 (d = +2) and another key; NULL keys; a late pair
  const rows: In[] = [
    ['L', 1, 'l1', 10],
    ['R', 1, 'r1', 8],
    ['R', 1, 'r3', 9.5],
    ['R', 1, 'r2', 11],
    ['R', 2, 'r4', 10],
    ['R', 1, 'r5', 12],
    ['L', null, 'lnull', 10],
    ['R', null, 'rnull', 10],
    ['L', 1, 'l3', 30],
    ['R', 1, 'r7', 31],
    ['L', 1, 'late-l', 20], // behind the watermark (29): its partners are gone
    ['R', 1, 'late-r', 21],
  ];

  it('BETWEEN bounds are inclusive: every right row within [L.ts − 2 s, L.ts + 1 s] of the same key, once', async () => {
    const got = await run(
      rows,
      (l, r) =>
        `SELECT L.v AS lv, R.v AS rv FROM ${l} L, ${r} R WHERE L.k = R.k AND R.ts BETWEEN L.ts - INTERVAL '2' SECOND AND L.ts + INTERVAL '1' SECOND`,
    );
    expect(sorted(got)).toEqual(
      sorted([
        { lv: 'l1', rv: 'r1' },
        { lv: 'l1', rv: 'r3' },
        { lv: 'l1', rv: 'r2' },
        { lv: 'l3', rv: 'r7' },
      ]),
    );
  });

  it('< and > bounds are exclusive', async () => {
    const got = await run(
      rows,
      (l, r) =>
        `SELECT L.v AS lv, R.v AS rv FROM ${l} L JOIN ${r} R ON L.k = R.k AND R.ts > L.ts - INTERVAL '2' SECOND AND R.ts < L.ts + INTERVAL '1' SECOND`,
    );
    expect(sorted(got)).toEqual(sorted([{ lv: 'l1', rv: 'r3' }]));
  });

  it('is planned for rowtime bounds on both sides, keeps both rowtime attributes, and is insert-only', () => {
    const plan = planOf(`SELECT * FROM L JOIN R ON L.k = R.k AND L.ts BETWEEN R.ts - INTERVAL '10' SECOND AND R.ts`);
    const j = joinOf(plan);
    // L.ts ∈ [R.ts − 10 s, R.ts]  ⇔  R.ts − L.ts ∈ [0, 10 s]
    expect(j).toMatchObject({ strategy: 'interval', interval: { leftTime: 'ts', rightTime: 'ts', lower: 0, upper: 10_000 } });
    expect(j.updating).toBeUndefined();
    expect(j.fields.map((f) => `${f.name} ${f.type.time ?? ''}`)).toEqual(['k ', 'v ', 'ts rowtime', 'k0 ', 'v0 ', 'ts0 rowtime']);
    // one bound only is not an interval join (Flink makes it a regular join, which loses the time attributes)
    const one = joinOf(planOf(`SELECT * FROM L JOIN R ON L.k = R.k AND L.ts > R.ts`));
    expect(one.strategy).toBe('regular');
    expect(one.fields.some((f) => f.type.time !== undefined)).toBe(false);
    // Nexmark q7's bound is on a window aggregate's window_end, which is no time attribute: a regular join, as in Flink
    const q7 = joinOf(
      planOf(`SELECT L.v FROM L JOIN (SELECT MAX(k) AS mk, window_end AS dt FROM TABLE(TUMBLE(TABLE R, DESCRIPTOR(ts), INTERVAL '10' SECOND))
        GROUP BY window_start, window_end) B ON L.k = B.mk WHERE L.ts BETWEEN B.dt - INTERVAL '10' SECOND AND B.dt`),
    );
    expect(q7.strategy).toBe('regular');
  });

  it('LEFT and FULL interval joins: a row that never matched comes padded with NULLs when the watermark passes its last chance', async () => {
    const sql = (type: string) => (l: string, r: string) =>
      `SELECT L.v AS lv, R.v AS rv FROM ${l} L ${type} JOIN ${r} R ON L.k = R.k AND R.ts BETWEEN L.ts - INTERVAL '2' SECOND AND L.ts + INTERVAL '1' SECOND`;
    const matched = [
      { lv: 'l1', rv: 'r1' },
      { lv: 'l1', rv: 'r3' },
      { lv: 'l1', rv: 'r2' },
      { lv: 'l3', rv: 'r7' },
    ];
    const leftOnly = ['lnull', 'late-l'].map((lv) => ({ lv, rv: null }));
    const rightOnly = ['r4', 'r5', 'rnull', 'late-r'].map((rv) => ({ lv: null, rv }));
    const left = await run(rows, sql('LEFT'));
    expect(left.every((r) => !('$kind' in r))).toBe(true);
    expect(sorted(left)).toEqual(sorted([...matched, ...leftOnly]));
    expect(sorted(await run(rows, sql('FULL OUTER')))).toEqual(sorted([...matched, ...leftOnly, ...rightOnly]));
  });

  it('a row behind the watermark still joins the rows in state, as Flink SQL does (it drops none)', async () => {
    const got = await run(
      [
        ['L', 1, 'l', 30],
        ['R', 1, 'r', 40], // watermark 29 s
        ['R', 1, 'late', 28.5], // behind the watermark, and L at 30 s is in state until the watermark reaches 31 s
      ],
      (l, r) =>
        `SELECT L.v AS lv, R.v AS rv FROM ${l} L JOIN ${r} R ON L.k = R.k AND R.ts BETWEEN L.ts - INTERVAL '2' SECOND AND L.ts + INTERVAL '1' SECOND`,
    );
    expect(sorted(got)).toEqual(sorted([{ lv: 'l', rv: 'late' }]));
  });

  it('an equality of the two rowtimes is an interval join of width 0; bounds on processing time are refused by name', () => {
    expect(joinOf(planOf('SELECT * FROM L JOIN R ON L.k = R.k AND L.ts = R.ts')).interval).toMatchObject({ lower: 0, upper: 0 });
    expect(() => planOf("SELECT * FROM P a JOIN P b ON a.k = b.k AND a.pt BETWEEN b.pt - INTERVAL '1' SECOND AND b.pt")).toThrow(
      'not supported yet: interval joins on processing time (PROCTIME() bounds)',
    );
  });
});

describe('the watermark after an interval join', () => {
  // R.ts ∈ [L.ts, L.ts + 5 s]: the join passes the watermark on 5 s behind its input's. L(1) at 8 s meets R(1) at
  // 11.5 s, on time, after rows of key 2 have taken the join's watermark to 11 s: a watermark not held back would have
  // closed [0 s, 10 s) (and passed 8 s) before the pair came, and the pair would be dropped as late.
  const rows: In[] = [
    ['L', 1, 'l8', 8],
    ['R', 2, 'r12', 12],
    ['L', 2, 'l13', 13], // the join's input watermark: min(12 s, 11 s) = 11 s
    ['R', 1, 'r11.5', 11.5], // on time (R's watermark is 11 s); pairs with l8
    ['R', 2, 'r15', 15], // pairs with l13
  ];
  const joined = (l: string, r: string) =>
    `SELECT L.k, L.ts, R.v FROM ${l} L, ${r} R WHERE L.k = R.k AND R.ts BETWEEN L.ts AND L.ts + INTERVAL '5' SECOND`;

  it('is held back by the bounds: a window aggregate on the left time counts a pair the watermark would have passed', async () => {
    const got = await run(
      rows,
      (l, r) =>
        `SELECT k, TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, COUNT(*) AS n, MAX(v) AS vs FROM (${joined(l, r)}) GROUP BY k, TUMBLE(ts, INTERVAL '10' SECOND)`,
    );
    expect(sorted(got)).toEqual(
      sorted([
        { k: 1, ws: 0, n: 1, vs: 'r11.5' },
        { k: 2, ws: 10 * S, n: 1, vs: 'r15' },
      ]),
    );
  });

  it('an OVER aggregate on the left time gets every pair, in time order', async () => {
    const got = await run(rows, (l, r) => `SELECT v, COUNT(*) OVER (ORDER BY ts) AS n FROM (${joined(l, r)})`);
    expect(got).toEqual([
      { v: 'r11.5', n: 1 },
      { v: 'r15', n: 2 },
    ]);
  });

  it('the delay is the larger distance the bounds allow either way, exclusive bounds moved by 1 ms (as Flink)', () => {
    const iv = { leftTime: 'ts', rightTime: 'ts' };
    expect(intervalJoinWatermarkDelay({ ...iv, lower: 0, lowerInclusive: true, upper: 5000, upperInclusive: true })).toBe(5000);
    expect(intervalJoinWatermarkDelay({ ...iv, lower: -2000, lowerInclusive: false, upper: 1000, upperInclusive: false })).toBe(1999);
    expect(intervalJoinWatermarkDelay({ ...iv, lower: 1000, lowerInclusive: true, upper: 12_000, upperInclusive: true })).toBe(12_000);
    expect(intervalJoinWatermarkDelay({ ...iv, lower: -3000, lowerInclusive: true, upper: -1000, upperInclusive: true })).toBe(3000);
    expect(intervalJoinWatermarkDelay({ ...iv, lower: 0, lowerInclusive: true, upper: 0, upperInclusive: true })).toBe(0);
  });
});

describe('window joins and window properties', () => {
  // windows [0, 10), [10, 20), [20, 30); the right row at 11.5 s comes after one at 12 s (out of order, not late: watermark 11 s)
  const rows: In[] = [
    ['L', 1, 'a', 1],
    ['R', 1, 'b', 2],
    ['L', 2, 'c', 3],
    ['R', 1, 'f', 4],
    ['R', 3, 'g', 5],
    ['L', null, 'h', 6],
    ['R', null, 'i', 7],
    ['R', 1, 'd', 12],
    ['L', 1, 'e', 12],
    ['R', 1, 'o', 11.5],
    ['L', 1, 'j', 25],
    ['R', 1, 'k', 26],
    ['R', 1, 'late', 9], // behind the watermark (25 s) for [0, 10): dropped by the window aggregate
  ];
  const w = (s: number) => s * S;

  it('INNER: one row per key and window that both sides have, when the watermark passes the window end', async () => {
    const got = await run(
      rows,
      (l, r) => `SELECT a.k, a.ws, a.we, a.n AS nl, b.n AS nr FROM (${WINDOWED(l)}) a JOIN (${WINDOWED(r)}) b
        ON a.k = b.k AND a.ws = b.ws AND a.we = b.we`,
    );
    expect(sorted(got)).toEqual(
      sorted([
        { k: 1, ws: w(0), we: w(10), nl: 1, nr: 2 },
        { k: 1, ws: w(10), we: w(20), nl: 1, nr: 2 },
        { k: 1, ws: w(20), we: w(30), nl: 1, nr: 1 },
      ]),
    );
  });

  it('FULL OUTER: unmatched windows padded with NULLs, NULL keys never match, still insert-only', async () => {
    const got = await run(
      rows,
      (l, r) => `SELECT a.k AS lk, b.k AS rk, a.ws AS lws, b.ws AS rws FROM (${WINDOWED(l)}) a FULL JOIN (${WINDOWED(r)}) b
        ON a.k = b.k AND a.ws = b.ws AND a.we = b.we`,
    );
    expect(got.every((r) => !('$kind' in r))).toBe(true);
    expect(sorted(got)).toEqual(
      sorted([
        { lk: 1, rk: 1, lws: w(0), rws: w(0) },
        { lk: 2, rk: null, lws: w(0), rws: null },
        { lk: null, rk: 3, lws: null, rws: w(0) },
        { lk: null, rk: null, lws: w(0), rws: null },
        { lk: null, rk: null, lws: null, rws: w(0) },
        { lk: 1, rk: 1, lws: w(10), rws: w(10) },
        { lk: 1, rk: 1, lws: w(20), rws: w(20) },
      ]),
    );
  });

  it('window TVFs joined directly (a window join, as in Flink docs): every pair of a key and window; a row late for its window is dropped', async () => {
    const tvf = (t: string) => `SELECT * FROM TABLE(TUMBLE(TABLE ${t}, DESCRIPTOR(ts), INTERVAL '10' SECOND))`;
    const got = await run(
      rows,
      (l, r) => `SELECT a.v AS lv, b.v AS rv, a.window_start AS ws, b.window_time AS wt FROM (${tvf(l)}) a JOIN (${tvf(r)}) b
        ON a.k = b.k AND a.window_start = b.window_start AND a.window_end = b.window_end`,
    );
    expect(sorted(got)).toEqual(
      sorted([
        { lv: 'a', rv: 'b', ws: w(0), wt: w(10) - 1 },
        { lv: 'a', rv: 'f', ws: w(0), wt: w(10) - 1 },
        { lv: 'e', rv: 'd', ws: w(10), wt: w(20) - 1 },
        { lv: 'e', rv: 'o', ws: w(10), wt: w(20) - 1 },
        { lv: 'j', rv: 'k', ws: w(20), wt: w(30) - 1 },
      ]),
    );
  });

  it('a window TVF alone gives each row once per window, with window_start, window_end and window_time (the rowtime)', async () => {
    const got = await run(
      [
        ['L', 1, 'a', 1],
        ['L', 2, 'b', 7],
      ],
      (l) =>
        `SELECT v, window_start, window_end, window_time FROM TABLE(HOP(TABLE ${l}, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))`,
    );
    expect(sorted(got)).toEqual(
      sorted([
        { v: 'a', window_start: w(-5), window_end: w(5), window_time: w(5) - 1 },
        { v: 'a', window_start: w(0), window_end: w(10), window_time: w(10) - 1 },
        { v: 'b', window_start: w(0), window_end: w(10), window_time: w(10) - 1 },
        { v: 'b', window_start: w(5), window_end: w(15), window_time: w(15) - 1 },
      ]),
    );
    const plan = planOf(`SELECT * FROM TABLE(TUMBLE(TABLE L, DESCRIPTOR(ts), INTERVAL '10' SECOND))`);
    expect(plan.nodes.find((n) => n.kind === 'sink')?.fields.map((f) => `${f.name} ${f.type.time ?? ''}`)).toEqual([
      'k ',
      'v ',
      'ts ',
      'window_start ',
      'window_end ',
      'window_time rowtime',
    ]);
  });

  it('a GROUP BY over renamed window_start and window_end of a window aggregate is a cascading window aggregate', async () => {
    const got = await run(
      rows,
      (l) => `SELECT s, e, MAX(n) AS top, COUNT(*) AS keys FROM (SELECT n, ws AS s, we AS e FROM (${WINDOWED(l)})) GROUP BY s, e`,
    );
    expect(sorted(got)).toEqual(
      sorted([
        { s: w(0), e: w(10), top: 1, keys: 3 },
        { s: w(10), e: w(20), top: 1, keys: 1 },
        { s: w(20), e: w(30), top: 1, keys: 1 },
      ]),
    );
  });

  it('HOP window counts do not grow from one window to the next (regression: merge() was handed a pane’s stored accumulator)', async () => {
    const got = await run(
      [
        ['L', 1, 'a', 1],
        ['L', 1, 'b', 3],
        ['L', 1, 'c', 30],
      ],
      (l) => `SELECT window_end AS we, COUNT(*) AS n FROM TABLE(HOP(TABLE ${l}, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '4' SECOND))
        GROUP BY window_start, window_end`,
    );
    expect(sorted(got)).toEqual(
      sorted([
        { we: w(2), n: 1 },
        { we: w(4), n: 2 },
        { we: w(6), n: 1 },
        { we: w(32), n: 1 },
        { we: w(34), n: 1 },
      ]),
    );
  });

  it('is planned only when both window_start and window_end are equal; windows must be the same', () => {
    const both = joinOf(
      planOf(`SELECT * FROM (${WINDOWED('L')}) a JOIN (${WINDOWED('R')}) b ON a.k = b.k AND a.ws = b.ws AND a.we = b.we`),
    );
    expect(both).toMatchObject({ strategy: 'window', leftKeys: [{ code: 'r["k"]' }], window: { leftStart: 'ws', leftEnd: 'we' } });
    const startOnly = joinOf(planOf(`SELECT * FROM (${WINDOWED('L')}) a JOIN (${WINDOWED('R')}) b ON a.k = b.k AND a.ws = b.ws`));
    expect(startOnly.strategy).toBe('regular');
    const other = WINDOWED('R').replace("INTERVAL '10' SECOND", "INTERVAL '5' SECOND");
    expect(() => planOf(`SELECT * FROM (${WINDOWED('L')}) a JOIN (${other}) b ON a.ws = b.ws AND a.we = b.we`)).toThrow(
      'a window join needs the same windows on both sides',
    );
    // a join of two window TVFs is a window join too
    const tvf = joinOf(
      planOf(
        `SELECT * FROM TABLE(TUMBLE(TABLE L, DESCRIPTOR(ts), INTERVAL '10' SECOND)) a JOIN TABLE(TUMBLE(TABLE R, DESCRIPTOR(ts), INTERVAL '10' SECOND)) b ON a.window_start = b.window_start AND a.window_end = b.window_end AND a.k = b.k`,
      ),
    );
    expect(tvf).toMatchObject({ strategy: 'window', window: { leftStart: 'window_start', rightStart: 'window_start' } });
  });
});
