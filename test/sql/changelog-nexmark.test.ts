// Nexmark in SQL with updating operators: q9's Top-1 per auction and q4's average over it, without q9's join, on 40k generated events (p=1 local, p=2 threads) against a plain TypeScript reference; q4 and q9 with their joins are in nexmark-sql-updating.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

type Row = Record<string, unknown>;
const DDL = readFileSync(join('bench', 'nexmark', 'sql', 'ddl.sql'), 'utf8');

async function env(mode: 'local' | 'threads', parallelism: number): Promise<TableEnvironment> {
  const e = TableEnvironment.create({ mode, parallelism });
  await e.executeScript(DDL);
  return e;
}

const sorted = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();

/** Per auction the best bid: highest price, then earliest (q9's ORDER BY B.price DESC, B.dateTime ASC). */
function best(bids: Row[]): Map<number, Row> {
  const m = new Map<number, Row>();
  for (const b of bids) {
    const cur = m.get(b.auction as number);
    if (
      cur === undefined ||
      (b.price as number) > (cur.price as number) ||
      (b.price === cur.price && (b.dateTime as number) < (cur.dateTime as number))
    )
      m.set(b.auction as number, b);
  }
  return m;
}

const TOP1 = `SELECT auction, price, dateTime FROM (
    SELECT auction, price, dateTime, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC, dateTime ASC) AS rownum FROM bid
  ) WHERE rownum <= 1`;

describe('Nexmark with updating SQL operators (no joins)', () => {
  it("q9's Top-1 per auction and q4's AVG over it equal a reference, at p=1 and on two threads", async () => {
    const bids = (await (await env('local', 1)).executeSql('SELECT auction, price, dateTime FROM bid')).rows;
    expect(bids.length).toBeGreaterThan(30_000);
    const winners = [...best(bids).values()];
    const groups = new Map<number, number[]>();
    for (const w of winners) {
      const g = (w.auction as number) % 10;
      groups.set(g, [...(groups.get(g) ?? []), w.price as number]);
    }
    const averages = [...groups].map(([g, ps]) => ({ g, n: ps.length, average: Math.trunc(ps.reduce((a, b) => a + b, 0) / ps.length) }));
    for (const [mode, p] of [
      ['local', 1],
      ['threads', 2],
    ] as const) {
      const e = await env(mode, p);
      const top = await e.executeSql(TOP1);
      expect(top.updating).toBe(true);
      expect(sorted(top.materialize())).toEqual(sorted(winners));
      const avg = await e.executeSql(`SELECT MOD(auction, 10) AS g, COUNT(*) AS n, AVG(price) AS average FROM (${TOP1}) GROUP BY MOD(auction, 10)`);
      expect(sorted(avg.materialize())).toEqual(sorted(averages));
    }
  });

  // q4 and q9 themselves, with their join: nexmark-sql-updating.test.ts.
});
