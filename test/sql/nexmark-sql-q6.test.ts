// Nexmark q6 from bench/nexmark/sql (an interval join, a window per auction, then AVG OVER the seller's last 11 auctions), through the planner and the SQL job module, against a plain TypeScript reading of the same SQL over the generator's events, on two worker threads (Flink 2.3 gives the same at p=1: test/sql-oracle).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NexmarkGenerator } from '../../src/connectors/nexmark/generator.ts';
import type { Auction, Bid } from '../../src/connectors/nexmark/model.ts';
import { parseScript, textOf } from '../../src/sql/parser.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

type Row = Record<string, unknown>;
const SQL_DIR = join('bench', 'nexmark', 'sql');
const EVENTS = 8_000;

/** The generator's events as ddl.sql's table declares them, cut to 8,000 events (1,000/s, seed 0). */
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

/**
 * q6 read plainly: per auction, the highest bid with `B.dateTime BETWEEN A.dateTime AND A.dateTime + 10 s` and
 * `B.dateTime <= A.expires` (auctions without such a bid have no final price); per seller, in the order of the
 * auctions' dateTime (the 1 ms window's rowtime), the average of the current final price and the 10 before it,
 * truncated (AVG of BIGINT).
 */
function expected(): Row[] {
  const { auctions, bids } = events();
  const byAuction = new Map<number, Bid[]>();
  for (const b of bids) byAuction.set(b.auction, [...(byAuction.get(b.auction) ?? []), b]);
  const finals = new Map<number, { at: number; final: number }[]>();
  for (const a of auctions) {
    const ok = (byAuction.get(a.id) ?? []).filter(
      (b) => b.dateTime >= a.dateTime && b.dateTime <= a.dateTime + 10_000 && b.dateTime <= a.expires,
    );
    if (ok.length === 0) continue;
    finals.set(a.seller, [...(finals.get(a.seller) ?? []), { at: a.dateTime, final: Math.max(...ok.map((b) => b.price)) }]);
  }
  const rows: Row[] = [];
  for (const [seller, list] of finals) {
    list.sort((x, y) => x.at - y.at);
    list.forEach((_, i) => {
      const frame = list.slice(Math.max(0, i - 10), i + 1);
      rows.push({ seller, EXPR$1: Math.trunc(frame.reduce((s, x) => s + x.final, 0) / frame.length) });
    });
  }
  return rows;
}

async function q6(mode: 'local' | 'threads', parallelism: number): Promise<Row[]> {
  const env = TableEnvironment.create({ mode, parallelism });
  await env.executeScript(readFileSync(join(SQL_DIR, 'ddl.sql'), 'utf8').replace(/'events\.num' = '\d+'/, `'events.num' = '${EVENTS}'`));
  const script = readFileSync(join(SQL_DIR, 'q6.sql'), 'utf8');
  const insert = parseScript(script).find((s) => s.kind === 'insert');
  if (insert?.kind !== 'insert') throw new Error('q6.sql has no INSERT');
  const result = await env.executeSql(textOf(script, insert.query.loc));
  expect(result.updating).toBe(false);
  return result.materialize();
}

const sorted = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();

describe('Nexmark q6 in SQL', () => {
  it('gives each closed auction once, with the average final price of its seller’s last 11 auctions (append-only)', async () => {
    const want = expected();
    // auctions last less than the 4 s watermark delay, so no final price is late for its window
    const { auctions } = events();
    expect(Math.max(...auctions.map((a) => a.expires - a.dateTime))).toBeLessThan(4000);
    expect(want.length).toBe(293);
    // hot sellers have more than 11 closed auctions: the frame drops its oldest row
    const perSeller = new Map<unknown, number>();
    for (const r of want) perSeller.set(r.seller, (perSeller.get(r.seller) ?? 0) + 1);
    expect(Math.max(...perSeller.values())).toBeGreaterThan(11);
    // two subtasks: each seller's frame is built where its partition lives (the oracle runs it at p=1)
    expect(sorted(await q6('threads', 2))).toEqual(sorted(want));
  }, 120_000);
});
