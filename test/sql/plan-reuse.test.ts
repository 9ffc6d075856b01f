// Sub-plan reuse: a view or table read twice in one query is planned (and read) once, as Flink's reuse-sub-plan does; a self-join reads one node on both sides; SET 'table.optimizer.reuse-sub-plan-enabled' = 'false' plans every read apart.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseScript, textOf } from '../../src/sql/parser.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

const dir = mkdtempSync(join(tmpdir(), 'weir-sql-reuse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function nexmarkPlanSources(q: string, reuse: boolean): Promise<number> {
  const env = TableEnvironment.create({ mode: 'local' });
  if (!reuse) await env.executeSql("SET 'table.optimizer.reuse-sub-plan-enabled' = 'false'");
  await env.executeScript(readFileSync(join('bench', 'nexmark', 'sql', 'ddl.sql'), 'utf8'));
  const script = readFileSync(join('bench', 'nexmark', 'sql', `${q}.sql`), 'utf8');
  const insert = parseScript(script).find((s) => s.kind === 'insert');
  if (insert?.kind !== 'insert') throw new Error('no INSERT');
  const plan = await env.sqlQuery(textOf(script, insert.query.loc)).explain();
  return new Set(
    plan
      .split('\n')
      .filter((l) => l.includes('TableSourceScan'))
      .map((l) => /uid=(\S+)/.exec(l)?.[1]),
  ).size;
}

describe('sub-plan reuse', () => {
  it('Nexmark q3, q5, q7 and q8 read the nexmark table once', async () => {
    for (const q of ['q3', 'q5', 'q7', 'q8']) expect(await nexmarkPlanSources(q, true)).toBe(1);
    expect(await nexmarkPlanSources('q5', false)).toBe(2);
  });

  it('a self-join reads one source on both sides, locally and on two threads', async () => {
    writeFileSync(join(dir, 'o.csv'), '1,10\n2,10\n3,20\n,30\n');
    for (const [mode, p] of [
      ['local', 1],
      ['threads', 2],
    ] as const) {
      const env = TableEnvironment.create({ mode, parallelism: p });
      await env.executeSql(
        `CREATE TABLE o (id INT, c INT) WITH ('connector' = 'filesystem', 'path' = '${join(dir, 'o.csv')}', 'format' = 'csv')`,
      );
      const t = env.sqlQuery('SELECT a.id, b.id FROM o a JOIN o b ON a.c = b.c');
      expect((await t.explain()).split('\n').filter((l) => l.includes('uid=select/0-source'))).toHaveLength(2);
      const out: string[] = [];
      for await (const r of (await t.execute()).collect()) out.push(JSON.stringify(r));
      expect(out.sort()).toEqual(
        [
          { id: 1, id0: 1 },
          { id: 1, id0: 2 },
          { id: 2, id0: 1 },
          { id: 2, id0: 2 },
          { id: 3, id0: 3 },
          { id: null, id0: null },
        ]
          .map((x) => JSON.stringify(x))
          .sort(),
      );
    }
  });
});
