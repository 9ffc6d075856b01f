// Regular SQL joins: the changelog an outer join emits, row by row, as Flink's StreamingJoinOperator emits it (the planned join node driven directly); inner and outer joins end to end on CSV tables (NULL keys never match, residual conditions, comma joins with WHERE, three-way joins, SELECT * name clashes) locally and on two threads; the refusals.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeContext } from '../../src/actors/operator.ts';
import { parseScript } from '../../src/sql/parser.ts';
import { Catalog, Planner, createTable } from '../../src/sql/planner.ts';
import { ROW_KIND, type JoinNode } from '../../src/sql/plan.ts';
import { RegularJoin } from '../../src/sql/ops/joins.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';
import { defineJob } from '../../src/api/job.ts';
import { executeJob } from '../../src/scheduler/execute.ts';
import { Schema, StreamTableEnvironment } from '../../src/sql/stream-table-environment.ts';
import { ManualProcessingTimeService } from '../../src/time/index.ts';
import { scriptedSource } from '../fixtures/scripted-source.ts';

type Row = Record<string, unknown>;

const DDL = `
  CREATE TABLE L (k INT, a STRING) WITH ('connector' = 'filesystem', 'path' = '/dev/null', 'format' = 'csv');
  CREATE TABLE R (k INT, b STRING) WITH ('connector' = 'filesystem', 'path' = '/dev/null', 'format' = 'csv');`;

/** The join node the planner makes of `sql` over the tables L (k, a) and R (k, b). */
function joinNodeOf(sql: string, config: Record<string, string> = {}): JoinNode {
  const catalog = new Catalog();
  for (const s of parseScript(DDL)) if (s.kind === 'create-table') createTable(catalog, s, DDL);
  const [q] = parseScript(sql);
  if (q.kind !== 'query') throw new Error('not a query');
  const plan = new Planner(catalog, config).planSelect(q.query, sql);
  const node = plan.nodes.find((n) => n.kind === 'join');
  if (node?.kind !== 'join') throw new Error('no join node');
  return node;
}

/**
 * Drives the join function of `node` as its operator does: one key at a time, map state per key.
 * Returns the rows it emits, printed as Flink prints changelog rows (`+I[k, a, k0, b]`).
 */
function harness(node: JoinNode) {
  const fn = new RegularJoin(node);
  const states = new Map<string, Map<string, Map<unknown, unknown>>>();
  let key = '';
  const mapOf = (name: string) => {
    let byKey = states.get(name);
    if (byKey === undefined) states.set(name, (byKey = new Map()));
    let m = byKey.get(key);
    if (m === undefined) byKey.set(key, (m = new Map()));
    return m;
  };
  const context = {
    getMapState: (d: { name: string }) => ({
      get: (k: unknown) => mapOf(d.name).get(k),
      put: (k: unknown, v: unknown) => void mapOf(d.name).set(k, v),
      remove: (k: unknown) => void mapOf(d.name).delete(k),
      contains: (k: unknown) => mapOf(d.name).has(k),
      entries: () => mapOf(d.name).entries(),
      keys: () => mapOf(d.name).keys(),
      values: () => mapOf(d.name).values(),
      isEmpty: () => mapOf(d.name).size === 0,
      clear: () => mapOf(d.name).clear(),
    }),
  } as unknown as RuntimeContext;
  fn.setRuntimeContext(context);
  fn.open();
  const out: string[] = [];
  const collector = {
    collect: (r: Row) => {
      const kind = (r[ROW_KIND] as string | undefined) ?? '+I';
      out.push(`${kind}[${node.fields.map((f) => String(r[f.name])).join(', ')}]`);
    },
  };
  const ctx = { getCurrentKey: () => key } as never;
  const send = (side: 'L' | 'R', kind: string, k: number | null, v: string) => {
    key = JSON.stringify([k]);
    const row: Row = side === 'L' ? { k, a: v } : { k, b: v };
    if (kind !== '+I') row[ROW_KIND] = kind;
    if (side === 'L') fn.processElement1(row, ctx, collector);
    else fn.processElement2(row, ctx, collector);
  };
  return {
    left: (k: number | null, a: string, kind = '+I') => send('L', kind, k, a),
    right: (k: number | null, b: string, kind = '+I') => send('R', kind, k, b),
    /** The rows emitted since the last call. */
    take: () => out.splice(0),
  };
}

describe('outer join changelogs, row by row as Flink emits them', () => {
  it('LEFT JOIN: +I padded, then -D padded and +I joined on the first match; a second match only adds; retractions undo in reverse', () => {
    const node = joinNodeOf('SELECT * FROM L LEFT JOIN R ON L.k = R.k');
    expect(node).toMatchObject({ strategy: 'regular', joinType: 'LEFT', updating: true });
    const h = harness(node);
    h.left(1, 'a1');
    expect(h.take()).toEqual(['+I[1, a1, null, null]']);
    h.right(1, 'b1');
    expect(h.take()).toEqual(['-D[1, a1, null, null]', '+I[1, a1, 1, b1]']);
    h.right(1, 'b2');
    expect(h.take()).toEqual(['+I[1, a1, 1, b2]']);
    h.right(2, 'b3'); // no left row: an inner side emits nothing alone
    expect(h.take()).toEqual([]);
    h.left(2, 'a2');
    expect(h.take()).toEqual(['+I[2, a2, 2, b3]']);
    // right side retractions: the inner side keeps its row kind; the last one brings the padded row back
    h.right(1, 'b1', '-D');
    expect(h.take()).toEqual(['-D[1, a1, 1, b1]']);
    h.right(1, 'b2', '-U');
    expect(h.take()).toEqual(['-U[1, a1, 1, b2]', '+I[1, a1, null, null]']);
    // a left retraction: -D of what it last showed
    h.left(1, 'a1', '-D');
    expect(h.take()).toEqual(['-D[1, a1, null, null]']);
    h.left(2, 'a2', '-U');
    expect(h.take()).toEqual(['-D[2, a2, 2, b3]']);
  });

  it('RIGHT JOIN mirrors LEFT JOIN', () => {
    const h = harness(joinNodeOf('SELECT * FROM L RIGHT JOIN R ON L.k = R.k'));
    h.right(1, 'b1');
    h.left(1, 'a1');
    h.left(1, 'a1', '-D');
    expect(h.take()).toEqual([
      '+I[null, null, 1, b1]',
      '-D[null, null, 1, b1]',
      '+I[1, a1, 1, b1]',
      '-D[1, a1, 1, b1]',
      '+I[null, null, 1, b1]',
    ]);
  });

  it('FULL JOIN: both sides padded until they match; a duplicate row counts twice', () => {
    const h = harness(joinNodeOf('SELECT * FROM L FULL OUTER JOIN R ON L.k = R.k'));
    h.left(1, 'a1');
    h.left(1, 'a1');
    expect(h.take()).toEqual(['+I[1, a1, null, null]', '+I[1, a1, null, null]']);
    h.right(1, 'b1');
    // as Flink, copy by copy: each padded row retracted, then joined
    expect(h.take()).toEqual(['-D[1, a1, null, null]', '+I[1, a1, 1, b1]', '-D[1, a1, null, null]', '+I[1, a1, 1, b1]']);
    h.left(1, 'a1', '-D');
    expect(h.take()).toEqual(['-D[1, a1, 1, b1]']);
    h.left(1, 'a1', '-D');
    expect(h.take()).toEqual(['-D[1, a1, 1, b1]', '+I[null, null, 1, b1]']);
    h.right(1, 'b1', '-D');
    expect(h.take()).toEqual(['-D[null, null, 1, b1]']);
  });

  it('NULL keys never match: outer rows stay padded, inner rows vanish', () => {
    const h = harness(joinNodeOf('SELECT * FROM L FULL JOIN R ON L.k = R.k'));
    h.left(null, 'a');
    h.right(null, 'b');
    expect(h.take()).toEqual(['+I[null, a, null, null]', '+I[null, null, null, b]']);
    const inner = harness(joinNodeOf('SELECT * FROM L JOIN R ON L.k = R.k'));
    inner.left(null, 'a');
    inner.right(null, 'b');
    expect(inner.take()).toEqual([]);
  });

  it('a residual condition decides matches: LEFT JOIN … ON L.k = R.k AND L.a < R.b', () => {
    const h = harness(joinNodeOf('SELECT * FROM L LEFT JOIN R ON L.k = R.k AND L.a < R.b'));
    h.left(1, 'm');
    h.right(1, 'a'); // 'm' < 'a' is false: no match
    h.right(1, 'z');
    expect(h.take()).toEqual(['+I[1, m, null, null]', '-D[1, m, null, null]', '+I[1, m, 1, z]']);
  });

  it('an inner join forwards the row kinds of an updating input', () => {
    const node = joinNodeOf('SELECT * FROM L JOIN R ON L.k = R.k');
    const h = harness({ ...node, leftUpdating: true, updating: true });
    h.right(1, 'b');
    h.left(1, 'a', '+I');
    h.left(1, 'a', '-U');
    h.left(1, 'c', '+U');
    expect(h.take()).toEqual(['+I[1, a, 1, b]', '-U[1, a, 1, b]', '+U[1, c, 1, b]']);
  });

  it('plans table.exec.state.ttl into the join: state unused that long is dropped', () => {
    expect(joinNodeOf('SELECT * FROM L JOIN R ON L.k = R.k', { 'table.exec.state.ttl': '1 h' }).stateTtl).toBe(3_600_000);
    expect(joinNodeOf('SELECT * FROM L JOIN R ON L.k = R.k', { 'table.exec.state.ttl': '0' }).stateTtl).toBeUndefined();
    expect(() => joinNodeOf('SELECT * FROM L JOIN R ON L.k = R.k', { 'table.exec.state.ttl': 'soon' })).toThrow(
      "'table.exec.state.ttl' must be a duration like '1 h', '30 min' or '10 s', got 'soon'",
    );
  });
});

describe('table.exec.state.ttl', () => {
  /** L(k=1, 'old') at clock 0, then the clock moves on by `gapMs`, then R(k=1) and L(k=1, 'new'). */
  async function joined(ttl: string | undefined, gapMs: number): Promise<string[]> {
    const clock = new ManualProcessingTimeService(0);
    const job = defineJob(async (env) => {
      const tEnv = StreamTableEnvironment.create(env);
      if (ttl !== undefined) tEnv.executeSql(`SET 'table.exec.state.ttl' = '${ttl}'`);
      const input = env.fromSource(
        scriptedSource([
          { value: { side: 'L', k: 1, v: 'old' } },
          { run: () => clock.advanceTo(gapMs) },
          { value: { side: 'R', k: 1, v: 'r' } },
          { run: () => {} },
          { value: { side: 'L', k: 1, v: 'new' } },
        ]),
      ) as unknown as { filter(f: (r: Row) => boolean): never };
      const schema = () => Schema.newBuilder().column('k', 'INT').column('v', 'STRING').build();
      const l = tEnv.fromDataStream(
        input.filter((r) => r.side === 'L'),
        schema(),
      );
      const r = tEnv.fromDataStream(
        input.filter((r) => r.side === 'R'),
        schema(),
      );
      (await tEnv.toDataStream(tEnv.sqlQuery(`SELECT L.v AS lv, R.v AS rv FROM ${l} L JOIN ${r} R ON L.k = R.k`)))
        .map((x: Row) => `${String(x.lv)}-${String(x.rv)}`)
        .collect('out');
    });
    const result = await executeJob(job, { mode: 'local', processingTime: clock, bufferTimeoutMs: 0 });
    return ((result.collected.out ?? []) as string[]).slice().sort();
  }

  it('drops join state unused for longer than the TTL (processing time), as Flink', async () => {
    expect(await joined(undefined, 2 * 3_600_000)).toEqual(['new-r', 'old-r']);
    expect(await joined('1 h', 30 * 60_000)).toEqual(['new-r', 'old-r']);
    expect(await joined('1 h', 2 * 3_600_000)).toEqual(['new-r']);
  });
});

describe('regular joins end to end', () => {
  let dir: string;
  const csv = (name: string, lines: string[]) => {
    const path = join(dir, `${name}.csv`);
    writeFileSync(path, lines.join('\n') + '\n');
    return path;
  };
  const ddl = () => `
    CREATE TABLE orders (id INT, customer INT, amount BIGINT)
      WITH ('connector' = 'filesystem', 'path' = '${csv('orders', ['1,10,5', '2,10,7', '3,20,1', '4,,9', '5,30,2'])}', 'format' = 'csv');
    CREATE TABLE customers (id INT, name STRING, city INT)
      WITH ('connector' = 'filesystem', 'path' = '${csv('customers', ['10,ann,1', '20,bob,2', ',nobody,1', '40,dan,3'])}', 'format' = 'csv');
    CREATE TABLE cities (id INT, city STRING)
      WITH ('connector' = 'filesystem', 'path' = '${csv('cities', ['1,oslo', '2,rome', '3,lima'])}', 'format' = 'csv');`;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sql-joins-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function rows(sql: string, mode: 'local' | 'threads' = 'local', parallelism = 1): Promise<Row[]> {
    const env = TableEnvironment.create({ mode, parallelism });
    await env.executeScript(ddl());
    const result = await env.sqlQuery(sql).execute();
    const out: Row[] = [];
    for await (const r of result.collect()) out.push(r);
    return out;
  }
  const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();

  /** The table a changelog ends as: +I/+U add a row, -U/-D remove one. */
  function finalTable(changelog: Row[]): string[] {
    const table = new Map<string, number>();
    for (const r of changelog) {
      const { [ROW_KIND]: kind, ...row } = r;
      const k = JSON.stringify(row);
      const n = (table.get(k) ?? 0) + (kind === '-U' || kind === '-D' ? -1 : 1);
      if (n === 0) table.delete(k);
      else table.set(k, n);
    }
    expect([...table.values()].every((n) => n > 0)).toBe(true);
    return [...table.entries()].flatMap(([k, n]) => Array<string>(n).fill(k)).sort();
  }

  it('INNER JOIN: exact rows, NULL keys never match, output insert-only', async () => {
    const got = await rows('SELECT o.id, c.name, o.amount FROM orders AS o JOIN customers AS c ON o.customer = c.id');
    expect(got.every((r) => !(ROW_KIND in r))).toBe(true);
    expect(sorted(got)).toEqual(
      sorted([
        { id: 1, name: 'ann', amount: 5 },
        { id: 2, name: 'ann', amount: 7 },
        { id: 3, name: 'bob', amount: 1 },
      ]),
    );
  });

  it('FROM a, b WHERE: equi-keys and filters taken from WHERE; a residual condition over both sides', async () => {
    const got = await rows(
      'SELECT o.id, c.name FROM orders o, customers c WHERE o.customer = c.id AND o.amount > 4 AND c.city + 4 < o.amount',
    );
    expect(sorted(got)).toEqual(sorted([{ id: 2, name: 'ann' }]));
  });

  it('three tables, SELECT * with clashing names as Flink names them (id, id0, …), on two threads', async () => {
    const sql = `SELECT * FROM orders o JOIN customers c ON o.customer = c.id JOIN cities t ON c.city = t.id WHERE o.amount < 7`;
    const expected = sorted([
      { id: 1, customer: 10, amount: 5, id0: 10, name: 'ann', city: 1, id1: 1, city0: 'oslo' },
      { id: 3, customer: 20, amount: 1, id0: 20, name: 'bob', city: 2, id1: 2, city0: 'rome' },
    ]);
    expect(sorted(await rows(sql))).toEqual(expected);
    expect(sorted(await rows(sql, 'threads', 2))).toEqual(expected);
  });

  it('LEFT, RIGHT and FULL JOIN: the changelog ends as the outer join table, locally and on two threads', async () => {
    const pad = (o: Row | null, c: Row | null) => ({ oid: o?.id ?? null, cid: c?.id ?? null, name: c?.name ?? null });
    const sel = (type: string) => `SELECT o.id AS oid, c.id AS cid, c.name FROM orders o ${type} JOIN customers c ON o.customer = c.id`;
    const ann = { id: 10, name: 'ann' };
    const bob = { id: 20, name: 'bob' };
    const matched = [pad({ id: 1 }, ann), pad({ id: 2 }, ann), pad({ id: 3 }, bob)];
    const leftOnly = [pad({ id: 4 }, null), pad({ id: 5 }, null)];
    const rightOnly = [pad(null, { id: null, name: 'nobody' }), pad(null, { id: 40, name: 'dan' })];
    for (const [mode, p] of [
      ['local', 1],
      ['threads', 2],
    ] as const) {
      expect(finalTable(await rows(sel('LEFT'), mode, p))).toEqual(sorted([...matched, ...leftOnly]));
      expect(finalTable(await rows(sel('RIGHT'), mode, p))).toEqual(sorted([...matched, ...rightOnly]));
      expect(finalTable(await rows(sel('FULL OUTER'), mode, p))).toEqual(sorted([...matched, ...leftOnly, ...rightOnly]));
    }
  });

  it('a join of a LEFT JOIN (an updating input) retracts what its input retracts', async () => {
    // the padded customer rows reach the cities join too, and must be retracted there when their orders come
    const sql = `SELECT x.oid, x.name, t.city FROM (
        SELECT o.id AS oid, c.name, c.city AS cityId FROM customers c LEFT JOIN orders o ON o.customer = c.id
      ) x JOIN cities t ON x.cityId = t.id`;
    const expected = sorted([
      { oid: 1, name: 'ann', city: 'oslo' },
      { oid: 2, name: 'ann', city: 'oslo' },
      { oid: 3, name: 'bob', city: 'rome' },
      { oid: null, name: 'nobody', city: 'oslo' },
      { oid: null, name: 'dan', city: 'lima' },
    ]);
    expect(finalTable(await rows(sql))).toEqual(expected);
    expect(finalTable(await rows(sql, 'threads', 2))).toEqual(expected);
  });

  it('refuses joins it cannot run, by name', async () => {
    const env = TableEnvironment.create({ mode: 'local' });
    await env.executeScript(ddl());
    await expect(env.explainSql('SELECT * FROM orders o JOIN customers c ON o.amount > c.city')).rejects.toThrow(
      'not supported yet: joins without an equality condition (INNER JOIN needs a condition like a.x = b.y)',
    );
    await expect(env.explainSql('SELECT * FROM orders, customers')).rejects.toThrow(
      'not supported yet: joins without an equality condition (FROM a, b needs a condition like a.x = b.y)',
    );
    await expect(env.explainSql('SELECT * FROM orders CROSS JOIN customers')).rejects.toThrow(
      'not supported yet: CROSS JOIN (a join without an equality condition)',
    );
    await expect(env.explainSql('SELECT * FROM orders o JOIN customers c ON o.customer = c.name')).rejects.toThrow(
      "type error in 'o.customer = c.name': cannot compare INT with STRING",
    );
    await env.executeSql(
      `CREATE TABLE out_t (id INT, name STRING) WITH ('connector' = 'filesystem', 'path' = '${join(dir, 'out')}', 'format' = 'csv')`,
    );
    await expect(
      env.explainSql('INSERT INTO out_t SELECT o.id, c.name FROM orders o LEFT JOIN customers c ON o.customer = c.id'),
    ).rejects.toThrow("Table sink 'out_t' doesn't support consuming update changes which is produced by node");
    await expect(env.explainSql('SELECT id FROM orders o JOIN customers c ON o.customer = c.id')).rejects.toThrow(
      "column 'id' is ambiguous in 'id'",
    );
  });
});
