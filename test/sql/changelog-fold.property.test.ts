// Property: for random streams of row versions (ids updated, moved between groups, NULL keys and values), the final table of GROUP BY and Top-N queries — their changelog folded — equals a reference computed in plain TypeScript, on insert-only input and on the updating input of a keep-last deduplication, at parallelism 2.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

type Ev = { seq: number; id: number; k: string | null; v: number | null };
type Row = Record<string, unknown>;

const BASE = Date.UTC(2026, 0, 1);
const ts = (s: number) => new Date(BASE + s * 1000).toISOString().replace('T', ' ').slice(0, 23);

let dir: string;
let file = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-sql-changelog-prop-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const events = fc
  .array(
    fc.record({
      id: fc.integer({ min: 0, max: 5 }),
      k: fc.constantFrom('a', 'b', 'c', null),
      v: fc.option(fc.integer({ min: -3, max: 3 }), { nil: null, freq: 5 }),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((xs) => xs.map((x, seq) => ({ seq, ...x })));

const sorted = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();

/** The last version of each id, in order of first appearance. */
function latest(evs: Ev[]): Ev[] {
  const m = new Map<number, Ev>();
  for (const e of evs) m.set(e.id, e);
  return [...m.values()];
}

function groupBy(evs: Ev[]): Row[] {
  const groups = new Map<string | null, Ev[]>();
  for (const e of evs) groups.set(e.k, [...(groups.get(e.k) ?? []), e]);
  return [...groups].map(([k, es]) => {
    const vs = es.map((e) => e.v).filter((v): v is number => v !== null);
    const sum = vs.reduce((a, b) => a + b, 0);
    const pos = vs.filter((v) => v > 0);
    return {
      k,
      n: es.length,
      nv: vs.length,
      s: vs.length === 0 ? null : sum,
      lo: vs.length === 0 ? null : Math.min(...vs),
      hi: vs.length === 0 ? null : Math.max(...vs),
      dv: new Set(vs).size,
      av: vs.length === 0 ? null : Math.trunc(sum / vs.length),
      pos: pos.length === 0 ? null : pos.reduce((a, b) => a + b, 0),
    };
  });
}

/** Top 2 per k by v descending (NULL last), then `tie` ascending, with the row number. */
function top2(evs: Ev[], tie: 'seq' | 'id'): Row[] {
  const out: Row[] = [];
  const groups = new Map<string | null, Ev[]>();
  for (const e of evs) groups.set(e.k, [...(groups.get(e.k) ?? []), e]);
  for (const [k, es] of groups) {
    const s = [...es].sort((x, y) => {
      if (x.v !== y.v) {
        if (x.v === null) return 1;
        if (y.v === null) return -1;
        return y.v - x.v;
      }
      return x[tie] - y[tie];
    });
    s.slice(0, 2).forEach((e, i) => out.push({ k, [tie]: e[tie], v: e.v, rn: i + 1 }));
  }
  return out;
}

const AGGS = `COUNT(*) AS n, COUNT(v) AS nv, SUM(v) AS s, MIN(v) AS lo, MAX(v) AS hi, COUNT(DISTINCT v) AS dv, AVG(v) AS av,
  SUM(v) FILTER (WHERE v > 0) AS pos`;

async function finalTables(evs: Ev[]): Promise<Record<string, Row[]>> {
  const path = join(dir, `ev-${file++}.json`);
  writeFileSync(path, evs.map((e) => JSON.stringify({ ...e, ts: ts(e.seq) })).join('\n') + '\n');
  const env = TableEnvironment.create({ mode: 'local', parallelism: 2 });
  await env.executeScript(`
    CREATE TABLE ev (seq BIGINT, id BIGINT, k STRING, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
      WITH ('connector' = 'filesystem', 'path' = '${path}', 'format' = 'json');
    CREATE VIEW latest AS
      SELECT seq, id, k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY ts DESC) AS rn FROM ev) WHERE rn = 1;`);
  const queries: Record<string, string> = {
    groupInsertOnly: `SELECT k, ${AGGS} FROM ev GROUP BY k`,
    groupUpdating: `SELECT k, ${AGGS} FROM latest GROUP BY k`,
    topInsertOnly: 'SELECT k, seq, v, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC, seq) AS rn FROM ev) WHERE rn <= 2',
    topUpdating: 'SELECT k, id, v, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC, id ASC) AS rn FROM latest) WHERE rn <= 2',
    having: 'SELECT k, COUNT(*) AS n FROM latest GROUP BY k HAVING COUNT(*) >= 2',
    distinct: 'SELECT DISTINCT k, v FROM latest',
  };
  const out: Record<string, Row[]> = {};
  for (const [name, sql] of Object.entries(queries)) out[name] = (await env.executeSql(sql)).materialize();
  return out;
}

describe('changelogs folded equal a reference', () => {
  it('GROUP BY, HAVING, DISTINCT and Top-N on random versions with NULLs', async () => {
    await fc.assert(
      fc.asyncProperty(events, async (evs) => {
        const got = await finalTables(evs);
        const cur = latest(evs);
        expect(sorted(got.groupInsertOnly)).toEqual(sorted(groupBy(evs)));
        expect(sorted(got.groupUpdating)).toEqual(sorted(groupBy(cur)));
        expect(sorted(got.topInsertOnly)).toEqual(sorted(top2(evs, 'seq')));
        expect(sorted(got.topUpdating)).toEqual(sorted(top2(cur, 'id')));
        expect(sorted(got.having)).toEqual(sorted(groupBy(cur).filter((g) => (g.n as number) >= 2).map((g) => ({ k: g.k, n: g.n }))));
        const distinct = new Map(cur.map((e) => [JSON.stringify([e.k, e.v]), { k: e.k, v: e.v }]));
        expect(sorted(got.distinct)).toEqual(sorted([...distinct.values()]));
      }),
      { numRuns: 40, seed: 20261202, verbose: true },
    );
  }, 240_000);
});
