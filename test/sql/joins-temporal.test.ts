// Event-time temporal joins (FOR SYSTEM_TIME AS OF) against a versioned table read from a changelog stream: out-of-order probes and versions, deletes, INNER and LEFT, the planner's errors; and the ChangelogNormalize an upsert changelog gets.
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../src/api/job.ts';
import { executeJob } from '../../src/scheduler/execute.ts';
import { parseScript } from '../../src/sql/parser.ts';
import { Catalog, Planner, createTable } from '../../src/sql/planner.ts';
import { ROW_KIND, type JoinNode } from '../../src/sql/plan.ts';
import { Schema, StreamTableEnvironment } from '../../src/sql/stream-table-environment.ts';
import { scriptedSource, type Step } from '../fixtures/scripted-source.ts';
import { TemporalJoin } from '../../src/sql/ops/temporal-join.ts';
import type { RuntimeContext } from '../../src/actors/operator.ts';

type Row = Record<string, unknown>;
const S = 1000;

/** An order (probe) row or a rate (versioned) row with its kind; times in seconds. */
type In = ['O', id: string, cur: string, seconds: number] | ['R', kind: string, cur: string, rate: number | null, seconds: number];

/** Orders and rates (currency PRIMARY KEY), each with rowtime `ts` and a 3 s watermark delay; `sql` over `orders` and `rates`. */
async function run(rows: In[], sql: string, mode: 'all' | 'upsert' = 'all', changelog = false): Promise<Row[]> {
  const steps: Step[] = rows.flatMap((x) => [
    {
      value:
        x[0] === 'O'
          ? { side: 'O', id: x[1], cur: x[2], t: x[3] * S }
          : { side: 'R', [ROW_KIND]: x[1], cur: x[2], rate: x[3], t: x[4] * S },
    },
    { run: () => {} },
  ]);
  const job = defineJob(async (env) => {
    const tEnv = StreamTableEnvironment.create(env);
    const input = env.fromSource(scriptedSource(steps)) as unknown as { filter(f: (r: Row) => boolean): never };
    const time = (b: ReturnType<typeof Schema.newBuilder>) =>
      b.column('t', 'BIGINT').columnByExpression('ts', 'TO_TIMESTAMP_LTZ(t, 3)').watermark('ts', "ts - INTERVAL '3' SECOND");
    tEnv.createTemporaryView(
      'orders',
      input.filter((r) => r.side === 'O'),
      time(Schema.newBuilder().column('id', 'STRING').column('cur', 'STRING')).build(),
    );
    const rates = tEnv.fromChangelogStream(
      input.filter((r) => r.side === 'R'),
      time(Schema.newBuilder().column('cur', 'STRING').column('rate', 'DOUBLE')).primaryKey('cur').build(),
      mode,
    );
    const query = tEnv.sqlQuery(sql.replace('rates', String(rates)));
    (changelog ? await tEnv.toChangelogStream(query) : await tEnv.toDataStream(query)).collect('out');
  });
  const result = await executeJob(job, { mode: 'local', bufferTimeoutMs: 0 });
  return (result.collected.out ?? []) as Row[];
}

const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();

// EUR has versions 1.10 from 1 s, 1.15 from 3 s (arriving after the one from 5 s), 1.20 from 5 s;
// USD 1.00 from 1 s, deleted at 6 s; GBP never. o2 and o6 come after later probes.
const SCRIPT: In[] = [
  ['R', '+I', 'EUR', 1.1, 1],
  ['R', '+I', 'USD', 1.0, 1],
  ['O', 'o1', 'EUR', 2],
  ['O', 'o5', 'GBP', 3],
  ['R', '-U', 'EUR', 1.1, 1],
  ['R', '+U', 'EUR', 1.2, 5],
  ['O', 'o3', 'EUR', 6],
  ['O', 'o2', 'EUR', 4],
  ['R', '+U', 'EUR', 1.15, 3],
  ['O', 'o4', 'USD', 7],
  ['R', '-D', 'USD', 1.0, 6],
  ['O', 'o6', 'EUR', 5],
];

const JOIN = (type: string) =>
  `SELECT o.id, o.cur, r.rate, o.ts FROM orders AS o ${type} JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.cur = r.cur`;

describe('event-time temporal join', () => {
  it('INNER: each order joins the version valid at its time, out-of-order probes and versions included', async () => {
    const out = await run(SCRIPT, JOIN(''));
    expect(sorted(out.map((r) => [r.id, r.cur, r.rate]))).toEqual(
      sorted([
        ['o1', 'EUR', 1.1],
        ['o2', 'EUR', 1.15],
        ['o3', 'EUR', 1.2],
        ['o6', 'EUR', 1.2],
      ]),
    );
    // insert-only output, the left rowtime kept
    expect(out.every((r) => r[ROW_KIND] === undefined && typeof r.ts === 'number')).toBe(true);
  });

  it('LEFT: an order with no version, or after its key was deleted, is padded with NULLs', async () => {
    const out = await run(SCRIPT, JOIN('LEFT'));
    expect(sorted(out.map((r) => [r.id, r.cur, r.rate]))).toEqual(
      sorted([
        ['o1', 'EUR', 1.1],
        ['o2', 'EUR', 1.15],
        ['o3', 'EUR', 1.2],
        ['o6', 'EUR', 1.2],
        ['o4', 'USD', null],
        ['o5', 'GBP', null],
      ]),
    );
  });

  it('a residual condition on the versioned side rejects the version (LEFT pads) without falling back to an older one', async () => {
    const out = await run(SCRIPT, `${JOIN('LEFT')} AND r.rate < 1.18`);
    expect(sorted(out.map((r) => [r.id, r.rate]))).toEqual(
      sorted([
        ['o1', 1.1],
        ['o2', 1.15],
        ['o3', null],
        ['o6', null],
        ['o4', null],
        ['o5', null],
      ]),
    );
  });
});

describe('upsert changelog streams (ChangelogNormalize)', () => {
  it('an upsert is +I for a new key, -U/+U with the old row after, nothing when unchanged; a delete is -D with the old row, nothing for an unknown key', async () => {
    const out = await run(
      [
        ['R', '+U', 'EUR', 1.1, 1],
        ['R', '+U', 'EUR', 1.2, 2],
        ['R', '+U', 'EUR', 1.2, 2],
        ['R', '-D', 'GBP', null, 3],
        ['R', '+I', 'USD', 1.0, 3],
        ['R', '-D', 'EUR', null, 4],
      ],
      'SELECT cur, rate, t FROM rates',
      'upsert',
      true,
    );
    expect(out.map((r) => `${String(r[ROW_KIND] ?? '+I')} ${String(r.cur)} ${String(r.rate)} ${String(r.t)}`)).toEqual([
      '+I EUR 1.1 1000',
      '-U EUR 1.1 1000',
      '+U EUR 1.2 2000',
      '+I USD 1 3000',
      '-D EUR 1.2 2000',
    ]);
  });
});

const DDL = `
  CREATE TABLE orders (id STRING, cur STRING, ts TIMESTAMP(3), pt AS PROCTIME(), WATERMARK FOR ts AS ts) WITH ('connector' = 'filesystem', 'path' = '/dev/null', 'format' = 'csv');
  CREATE TABLE rates (cur STRING, rate DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts, PRIMARY KEY (cur) NOT ENFORCED) WITH ('connector' = 'filesystem', 'path' = '/dev/null', 'format' = 'csv');
  CREATE TABLE nokey (cur STRING, rate DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'filesystem', 'path' = '/dev/null', 'format' = 'csv');
  CREATE TABLE notime (cur STRING, rate DOUBLE, PRIMARY KEY (cur) NOT ENFORCED) WITH ('connector' = 'filesystem', 'path' = '/dev/null', 'format' = 'csv');
  CREATE TABLE upserts (cur STRING, rate DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts, PRIMARY KEY (cur) NOT ENFORCED)
    WITH ('connector' = 'upsert-kafka', 'topic' = 't', 'properties.bootstrap.servers' = 'localhost:1', 'key.format' = 'json', 'value.format' = 'json');`;

function plan(sql: string) {
  const catalog = new Catalog();
  for (const s of parseScript(DDL)) if (s.kind === 'create-table') createTable(catalog, s, DDL);
  const [q] = parseScript(sql);
  if (q.kind !== 'query') throw new Error('not a query');
  return new Planner(catalog).planSelect(q.query, sql);
}

describe('temporal join planning', () => {
  it('plans a temporal join node keyed by the equi-keys, with both rowtimes', () => {
    const join = plan('SELECT o.id, r.rate FROM orders o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON r.cur = o.cur').nodes.find(
      (n) => n.kind === 'join',
    ) as JoinNode;
    expect([join.strategy, join.joinType, join.temporal, join.leftKeys.length]).toEqual([
      'temporal',
      'INNER',
      { leftTime: 'ts', rightTime: 'ts' },
      1,
    ]);
  });

  it.each([
    ['SELECT * FROM orders o JOIN nokey FOR SYSTEM_TIME AS OF o.ts AS r ON o.cur = r.cur', 'requires primary key in versioned table'],
    ['SELECT * FROM orders o JOIN notime FOR SYSTEM_TIME AS OF o.ts AS r ON o.cur = r.cur', 'no row time attribute can be found'],
    ['SELECT * FROM orders o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.id = r.rate', 'must be included in the equivalence condition'],
    ['SELECT * FROM orders o FULL JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.cur = r.cur', 'temporal joins are INNER or LEFT'],
    [
      "SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE upserts, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, window_end",
      'ChangelogNormalize(key=[cur])',
    ],
  ])('refuses %s', (sql, message) => {
    expect(() => plan(sql)).toThrow(message);
  });
});

describe('temporal join state', () => {
  it('keeps probes until the watermark passes them and drops the versions no later probe can choose', () => {
    const node = plan('SELECT o.id, r.rate FROM orders o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.cur = r.cur').nodes.find(
      (n) => n.kind === 'join',
    ) as JoinNode;
    const maps = new Map<string, Map<unknown, unknown>>();
    const mapOf = (name: string) => maps.get(name) ?? (maps.set(name, new Map()).get(name) as Map<unknown, unknown>);
    const fn = new TemporalJoin(node);
    fn.setRuntimeContext({
      getMapState: (d: { name: string }) => ({
        get: (k: unknown) => mapOf(d.name).get(k),
        put: (k: unknown, v: unknown) => void mapOf(d.name).set(k, v),
        remove: (k: unknown) => void mapOf(d.name).delete(k),
        entries: () => mapOf(d.name).entries(),
      }),
    } as unknown as RuntimeContext);
    fn.open();
    let watermark = Number.NEGATIVE_INFINITY;
    const timers: number[] = [];
    const ctx = {
      getCurrentKey: () => '["EUR"]',
      currentWatermark: () => watermark,
      timerService: () => ({ registerEventTimeTimer: (t: number) => timers.push(t) }),
    } as never;
    const out: Row[] = [];
    const collector = { collect: (r: Row) => out.push(r) } as never;
    const at = (wm: number) => {
      watermark = wm;
      fn.onTimer(wm, ctx, collector);
    };
    const times = (name: string) => [...mapOf(name).keys()].sort();
    for (const [rate, t] of [
      [1.1, 1],
      [1.15, 3],
      [1.2, 5],
    ])
      fn.processElement2({ cur: 'EUR', rate, ts: t * S }, ctx);
    fn.processElement1({ id: 'o1', cur: 'EUR', ts: 4 * S }, ctx, collector);
    expect(out).toEqual([]);
    expect(timers).toEqual([1 * S, 3 * S, 5 * S, 4 * S]);
    at(4 * S);
    expect(out.map((r) => [r.id, r.rate])).toEqual([['o1', 1.15]]);
    expect([times('probes'), times('versions')]).toEqual([[], [3 * S, 5 * S]]);
    at(6 * S);
    expect(times('versions')).toEqual([5 * S]);
    fn.processElement2({ cur: 'EUR', rate: 1.2, ts: 7 * S, [ROW_KIND]: '-D' }, ctx);
    fn.processElement2({ cur: 'EUR', rate: 1.2, ts: 5 * S, [ROW_KIND]: '-U' }, ctx);
    expect(times('versions')).toEqual([5 * S, 7 * S]);
    at(8 * S);
    // the key deleted before the watermark: nothing left for it
    expect(times('versions')).toEqual([]);
  });
});
