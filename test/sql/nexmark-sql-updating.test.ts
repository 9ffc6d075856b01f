// Nexmark q4 and q9 from bench/nexmark/sql (a regular join, then a GROUP BY with retractions or a Top-1 per auction), through the planner and the SQL job module, against a plain TypeScript reading of the same SQL over the generator's events, locally at p=1 and on two worker threads. (The DataStream jobs of q4/q9 follow Beam's definition, a different query: a winning bid must reach the reserve and fall in [dateTime, expires), and q4 there is a running DOUBLE average; the SQL files are Flink Nexmark's.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NexmarkGenerator } from '../../src/connectors/nexmark/generator.ts';
import type { Auction, Bid } from '../../src/connectors/nexmark/model.ts';
import { parseScript, textOf } from '../../src/sql/parser.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

type Row = Record<string, unknown>;
const SQL_DIR = join('bench', 'nexmark', 'sql');
const EVENTS = 40_000;

/** The generator's events as ddl.sql's table declares them (40,000 events at 1,000/s, seed 0). */
function events(): { auctions: Auction[]; bids: Bid[] } {
  const g = new NexmarkGenerator({ events: EVENTS, eventsPerSecond: 1000 });
  const auctions: Auction[] = [];
  const bids: Bid[] = [];
  for (let n = 0; n < EVENTS; n++) {
    const e = g.event(n);
    if (e.kind === 'auction') auctions.push(e);
    else if (e.kind === 'bid') bids.push(e);
  }
  return { auctions, bids };
}

/** Per auction, the bids `B.auction = A.id AND B.dateTime BETWEEN A.dateTime AND A.expires`. */
function joined(): { auction: Auction; bids: Bid[] }[] {
  const { auctions, bids } = events();
  const byAuction = new Map<number, Bid[]>();
  for (const b of bids) byAuction.set(b.auction, [...(byAuction.get(b.auction) ?? []), b]);
  return auctions.map((a) => ({
    auction: a,
    bids: (byAuction.get(a.id) ?? []).filter((b) => b.dateTime >= a.dateTime && b.dateTime <= a.expires),
  }));
}

/** The final table of query `q`'s INSERT … SELECT, run as a SELECT (its changelog folded). */
async function finalTable(q: string, mode: 'local' | 'threads', parallelism: number): Promise<Row[]> {
  const env = TableEnvironment.create({ mode, parallelism });
  await env.executeScript(readFileSync(join(SQL_DIR, 'ddl.sql'), 'utf8'));
  const script = readFileSync(join(SQL_DIR, `${q}.sql`), 'utf8');
  const insert = parseScript(script).find((s) => s.kind === 'insert');
  if (insert?.kind !== 'insert') throw new Error(`${q}.sql has no INSERT`);
  const result = await env.executeSql(textOf(script, insert.query.loc));
  expect(result.updating).toBe(true);
  return result.materialize();
}

const sorted = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();

describe('Nexmark SQL queries with updating results', () => {
  it('q9: the best bid of each auction while it was open (Top-1 by price, then the earliest), the final table', async () => {
    const expected: Row[] = [];
    let ties = 0;
    for (const { auction: a, bids } of joined()) {
      if (bids.length === 0) continue;
      const best = bids.reduce((x, b) => (b.price > x.price || (b.price === x.price && b.dateTime < x.dateTime) ? b : x));
      ties += bids.filter((b) => b !== best && b.price === best.price && b.dateTime === best.dateTime).length;
      const { kind: _a, ...auction } = a;
      expected.push({ ...auction, auction: best.auction, bidder: best.bidder, price: best.price, bid_dateTime: best.dateTime, bid_extra: best.extra });
    }
    // no two best bids tie on both sort keys, so the winner is one row whatever the arrival order
    expect(ties).toBe(0);
    expect(expected.length).toBeGreaterThan(1000);
    for (const [mode, p] of [
      ['local', 1],
      ['threads', 2],
    ] as const) {
      expect(sorted(await finalTable('q9', mode, p)), `${mode} p=${p}`).toEqual(sorted(expected));
    }
  }, 120_000);

  it('q4: the average final price per category (MAX per auction, then AVG of BIGINT, truncated as Flink), the final table', async () => {
    const finals = new Map<number, number[]>();
    for (const { auction: a, bids } of joined()) {
      if (bids.length === 0) continue;
      const final = Math.max(...bids.map((b) => b.price));
      finals.set(a.category, [...(finals.get(a.category) ?? []), final]);
    }
    const expected = [...finals].map(([category, fs]) => ({ category, EXPR$1: Math.trunc(fs.reduce((x, y) => x + y, 0) / fs.length) }));
    expect(expected.length).toBe(5);
    for (const [mode, p] of [
      ['local', 1],
      ['threads', 2],
    ] as const) {
      expect(sorted(await finalTable('q4', mode, p)), `${mode} p=${p}`).toEqual(sorted(expected));
    }
  }, 120_000);
});
