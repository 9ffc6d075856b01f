// Property: for random changelogs of two tables (inserts, updates that move rows between join keys, deletes, NULL keys and values, few keys so that updates collide), the final tables of regular joins between them — INNER, LEFT, FULL, with a residual condition, and a GROUP BY over a LEFT join — their changelogs folded, equal a reference computed in plain TypeScript from the two tables' final contents, at parallelism 2.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

/** One change to a table: upsert row `id` (insert or update) with these values, or delete it. */
type Op = { left: boolean; id: number; k: string | null; x: number | null; del: boolean };
/** A table row: `x` is v on the left, w on the right. */
type Rec = { id: number; k: string | null; x: number | null };
type Row = Record<string, unknown>;

let dir: string;
let file = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-sql-join-prop-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const changes = fc.array(
  fc.record({
    left: fc.boolean(),
    id: fc.integer({ min: 0, max: 3 }),
    k: fc.constantFrom('a', 'b', null),
    x: fc.option(fc.integer({ min: -2, max: 2 }), { nil: null, freq: 5 }),
    // a quarter of the changes are deletes
    del: fc.integer({ min: 0, max: 3 }).map((d) => d === 0),
  }),
  { minLength: 1, maxLength: 30 },
);

/**
 * One side's changes as Debezium JSON events (c, u with its before image, d; a delete of an absent row is dropped)
 * and the side's final table.
 */
function debezium(side: Op[], col: 'v' | 'w'): { lines: string[]; table: Rec[] } {
  const cur = new Map<number, Rec>();
  const image = (r: Rec) => ({ id: r.id, k: r.k, [col]: r.x });
  const lines: string[] = [];
  for (const o of side) {
    const before = cur.get(o.id);
    if (o.del) {
      if (before === undefined) continue;
      cur.delete(o.id);
      lines.push(JSON.stringify({ before: image(before), after: null, op: 'd' }));
      continue;
    }
    const after = { id: o.id, k: o.k, x: o.x };
    cur.set(o.id, after);
    lines.push(JSON.stringify({ before: before === undefined ? null : image(before), after: image(after), op: before === undefined ? 'c' : 'u' }));
  }
  return { lines, table: [...cur.values()] };
}

const sorted = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();

/** The rows of `L <type> JOIN R ON L.k = R.k [AND L.v <= R.w]` as (lid, v, k, rid, w). */
function joinRef(l: Rec[], r: Rec[], type: 'INNER' | 'LEFT' | 'FULL', residual: boolean): Row[] {
  const matches = (a: Rec, b: Rec) => a.k !== null && a.k === b.k && (!residual || (a.x !== null && b.x !== null && a.x <= b.x));
  const row = (a: Rec | null, b: Rec | null): Row => ({ lid: a?.id ?? null, v: a?.x ?? null, k: a?.k ?? b?.k ?? null, rid: b?.id ?? null, w: b?.x ?? null });
  const out: Row[] = [];
  for (const a of l) {
    const bs = r.filter((b) => matches(a, b));
    for (const b of bs) out.push(row(a, b));
    if (bs.length === 0 && type !== 'INNER') out.push(row(a, null));
  }
  if (type === 'FULL') for (const b of r) if (!l.some((a) => matches(a, b))) out.push(row(null, b));
  return out;
}

/** GROUP BY L.k over the LEFT join: rows, matched rows, SUM(v), SUM(w), MAX(w). */
function groupRef(l: Rec[], r: Rec[]): Row[] {
  const groups = new Map<string | null, Row[]>();
  for (const j of joinRef(l, r, 'LEFT', false)) groups.set(j.k as string | null, [...(groups.get(j.k as string | null) ?? []), j]);
  const sum = (xs: unknown[]) => {
    const ns = xs.filter((x): x is number => x !== null);
    return ns.length === 0 ? null : ns.reduce((a, b) => a + b, 0);
  };
  return [...groups].map(([k, js]) => {
    const ws = js.map((j) => j.w).filter((w): w is number => w !== null);
    return {
      k,
      n: js.length,
      nr: js.filter((j) => j.rid !== null).length,
      sv: sum(js.map((j) => j.v)),
      sw: sum(js.map((j) => j.w)),
      hi: ws.length === 0 ? null : Math.max(...ws),
    };
  });
}

async function finalTables(lLines: string[], rLines: string[]): Promise<Record<string, Row[]>> {
  const lPath = join(dir, `l-${file}.json`);
  const rPath = join(dir, `r-${file++}.json`);
  writeFileSync(lPath, lLines.map((l) => `${l}\n`).join(''));
  writeFileSync(rPath, rLines.map((l) => `${l}\n`).join(''));
  const env = TableEnvironment.create({ mode: 'local', parallelism: 2 });
  await env.executeScript(`
    CREATE TABLE l (id BIGINT, k STRING, v BIGINT, PRIMARY KEY (id) NOT ENFORCED)
      WITH ('connector' = 'filesystem', 'path' = '${lPath}', 'format' = 'debezium-json');
    CREATE TABLE r (id BIGINT, k STRING, w BIGINT, PRIMARY KEY (id) NOT ENFORCED)
      WITH ('connector' = 'filesystem', 'path' = '${rPath}', 'format' = 'debezium-json');`);
  const cols = 'l.id AS lid, l.v, COALESCE(l.k, r.k) AS k, r.id AS rid, r.w';
  const queries: Record<string, string> = {
    inner: `SELECT ${cols} FROM l JOIN r ON l.k = r.k`,
    left: `SELECT ${cols} FROM l LEFT JOIN r ON l.k = r.k`,
    full: `SELECT ${cols} FROM l FULL OUTER JOIN r ON l.k = r.k`,
    leftResidual: `SELECT ${cols} FROM l LEFT JOIN r ON l.k = r.k AND l.v <= r.w`,
    fullResidual: `SELECT ${cols} FROM l FULL JOIN r ON l.k = r.k AND l.v <= r.w`,
    groupOverJoin: `SELECT l.k, COUNT(*) AS n, COUNT(r.id) AS nr, SUM(l.v) AS sv, SUM(r.w) AS sw, MAX(r.w) AS hi
      FROM l LEFT JOIN r ON l.k = r.k GROUP BY l.k`,
  };
  const out: Record<string, Row[]> = {};
  for (const [name, sql] of Object.entries(queries)) out[name] = (await env.executeSql(sql)).materialize();
  return out;
}

describe('regular joins of two changelogs, folded, equal a reference', () => {
  it('INNER, LEFT, FULL (with and without a residual condition) and a GROUP BY over a LEFT join', async () => {
    await fc.assert(
      fc.asyncProperty(changes, async (cs) => {
        const l = debezium(cs.filter((c) => c.left), 'v');
        const r = debezium(cs.filter((c) => !c.left), 'w');
        const got = await finalTables(l.lines, r.lines);
        expect(sorted(got.inner)).toEqual(sorted(joinRef(l.table, r.table, 'INNER', false)));
        expect(sorted(got.left)).toEqual(sorted(joinRef(l.table, r.table, 'LEFT', false)));
        expect(sorted(got.full)).toEqual(sorted(joinRef(l.table, r.table, 'FULL', false)));
        expect(sorted(got.leftResidual)).toEqual(sorted(joinRef(l.table, r.table, 'LEFT', true)));
        expect(sorted(got.fullResidual)).toEqual(sorted(joinRef(l.table, r.table, 'FULL', true)));
        expect(sorted(got.groupOverJoin)).toEqual(sorted(groupRef(l.table, r.table)));
      }),
      { numRuns: 8, seed: 20261202, verbose: true },
    );
  }, 240_000);
});
