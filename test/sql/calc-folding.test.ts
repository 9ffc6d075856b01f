// Adjacent calcs (a view over a view, an INSERT's column rename) run as one operator: the inner calc's expressions are written into the outer one where no expression would run twice, otherwise the two functions are composed; either way the rows equal the unfolded meaning, filters included.
import { describe, expect, it } from 'vitest';
import type { CalcNode } from '../../src/sql/plan.ts';
import { substituteCalc } from '../../src/sql/runtime.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

const calc = (id: number, input: number, projection: [string, string][], filter?: string): CalcNode => ({
  kind: 'calc',
  id,
  uid: `c${id}`,
  input,
  filter: filter === undefined ? undefined : { code: filter },
  projection: projection.map(([name, code]) => ({ name, expr: { code } })),
  fields: projection.map(([name]) => ({ name, type: { kind: 'BIGINT', nullable: true } })),
});

async function rows(env: TableEnvironment, sql: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const r of (await env.sqlQuery(sql).execute()).collect()) out.push(r);
  return out;
}

describe('folding adjacent calcs', () => {
  it('writes cheap inner expressions into the outer calc and keeps both filters, inner first', () => {
    const inner = calc(1, 0, [['a', 'r["x"]'], ['b', '$.field(r["row"], "y")'], ['unused', '$.now()']], '$.gt(r["x"], 1)');
    const outer = calc(2, 1, [['s', '$.add(r["a"], r["a"])'], ['b', 'r["b"]']], '$.lt(r["b"], 9)');
    expect(substituteCalc(inner, outer)).toEqual({
      ...outer,
      input: 0,
      filter: { code: '(($.gt(r["x"], 1)) === true && ($.lt(($.field(r["row"], "y")), 9)) === true)' },
      projection: [
        { name: 's', expr: { code: '$.add((r["x"]), (r["x"]))' } },
        { name: 'b', expr: { code: '($.field(r["row"], "y"))' } },
      ],
    });
  });

  it('does not fold when an expression that is not cheap would run twice, or when the whole row is read', () => {
    const inner = calc(1, 0, [['d', '$.mul(r["x"], 2)']]);
    expect(substituteCalc(inner, calc(2, 1, [['e', '$.add(r["d"], r["d"])']]))).toBeUndefined();
    expect(substituteCalc(inner, calc(2, 1, [['e', 'r["d"]']]))?.projection).toEqual([{ name: 'e', expr: { code: '($.mul(r["x"], 2))' } }]);
    expect(substituteCalc(inner, calc(2, 1, [['e', '$.rowOf(r)']]))).toBeUndefined();
    // a string literal that looks like a column reference is left alone
    expect(substituteCalc(inner, calc(2, 1, [['e', '$.concat("r[\\"d\\"]", r["d"])']]))?.projection[0].expr.code).toBe(
      '$.concat("r[\\"d\\"]", ($.mul(r["x"], 2)))',
    );
  });

  it('gives the same rows through views over views, on both the folded and the composed path', async () => {
    const env = TableEnvironment.create({ mode: 'local' });
    await env.executeSql(
      "CREATE TABLE t (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '8', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '8')",
    );
    await env.executeSql("CREATE VIEW v1 AS SELECT id, id * 3 AS d, CASE WHEN id % 2 = 0 THEN 'even' ELSE 'odd' END AS parity FROM t WHERE id > 2");
    // folded: each inner column read once
    await env.executeSql('CREATE VIEW v2 AS SELECT d AS tripled, parity FROM v1 WHERE parity = \'even\'');
    const folded = await rows(env, 'SELECT tripled FROM v2 WHERE tripled < 20');
    expect(folded.map((r) => r.tripled).sort((a, b) => Number(a) - Number(b))).toEqual([12, 18]);
    // composed: d (not cheap) read three times
    const composed = await rows(env, 'SELECT d + d AS twice, parity FROM v1 WHERE d < 20 AND d <> 12');
    expect(composed.sort((a, b) => Number(a.twice) - Number(b.twice))).toEqual([
      { twice: 18, parity: 'odd' },
      { twice: 30, parity: 'odd' },
      { twice: 36, parity: 'even' },
    ]);
  });
});
