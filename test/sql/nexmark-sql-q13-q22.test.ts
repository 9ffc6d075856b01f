// Nexmark q13–q22 from bench/nexmark/sql, through the SQL planner and the SQL job module, give the DataStream jobs' final tables (the exact rows; for the updating queries q15–q19 the changelog folded, against the job's upsert output reduced to its last row per key), on 10,000 events: locally at p=1, and q13 (the lookup join), q14 (the user function, imported on each worker) and q19 on two worker threads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonical, upsertFinal, type QueryName } from '../../bench/nexmark/lib.ts';
import { parseScript, textOf } from '../../src/sql/parser.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';
import { jobOutput } from '../nexmark/queries-helpers.ts';

const SQL_DIR = join('bench', 'nexmark', 'sql');
const EVENTS = 10_000;
const PARAMS = { events: EVENTS, rate: 1_000, seed: 0 };
type Row = Record<string, unknown>;

/** The final table of query `q`'s INSERT … SELECT (setup statements first), run as a SELECT over ddl.sql's tables at 10,000 events. */
async function sqlFinal(q: QueryName, mode: 'local' | 'threads', parallelism: number): Promise<Row[]> {
  const env = TableEnvironment.create({ mode, parallelism });
  await env.executeScript(readFileSync(join(SQL_DIR, 'ddl.sql'), 'utf8').replace(/'events\.num' = '\d+'/, `'events.num' = '${EVENTS}'`));
  const script = readFileSync(join(SQL_DIR, `${q}.sql`), 'utf8');
  const statements = parseScript(script);
  const insert = statements[statements.length - 1];
  if (insert?.kind !== 'insert') throw new Error(`${q}.sql does not end in an INSERT`);
  for (const s of statements.slice(0, -1)) await env.executeSql(textOf(script, s.loc));
  const result = await env.executeSql(textOf(script, insert.query.loc));
  expect(result.lateRowsDropped ?? 0).toBe(0);
  return result.materialize();
}

const counts = (r: Row, from: string[]) => from.map((c) => r[c]);
const RANKED = ['total_bids', 'rank1_bids', 'rank2_bids', 'rank3_bids'];
const DISTINCT = [
  'total_bidders',
  'rank1_bidders',
  'rank2_bidders',
  'rank3_bidders',
  'total_auctions',
  'rank1_auctions',
  'rank2_auctions',
  'rank3_auctions',
];
const bidOf = (r: Row, dateTime = 'dateTime', extra = 'extra') => ({
  kind: 'bid',
  auction: r.auction,
  bidder: r.bidder,
  price: r.price,
  channel: r.channel,
  url: r.url,
  dateTime: r[dateTime],
  extra: r[extra],
});

/** SQL rows in the DataStream job's output shape. */
const SHAPES: Partial<Record<QueryName, (r: Row) => unknown>> = {
  q13: (r) => [r.auction, r.bidder, r.price, r.dateTime, r.value],
  q14: (r) => [r.auction, r.bidder, r.price, r.bidTimeType, r.dateTime, r.extra, r.c_counts],
  q15: (r) => [r.day, ...counts(r, RANKED), ...counts(r, DISTINCT)],
  q16: (r) => [r.channel, r.day, r.minute, ...counts(r, RANKED), ...counts(r, DISTINCT)],
  q17: (r) => [r.auction, r.day, ...counts(r, RANKED), r.min_price, r.max_price, r.avg_price, r.sum_price],
  q18: (r) => bidOf(r),
  q19: (r) => [bidOf(r), r.rank_number],
  // the query's own column names (as Flink derives them: B.dateTime, A.dateTime → dateTime, dateTime0), not the sink's
  q20: (r) => [
    bidOf(r),
    {
      kind: 'auction',
      id: r.auction,
      itemName: r.itemName,
      description: r.description,
      initialBid: r.initialBid,
      reserve: r.reserve,
      dateTime: r.dateTime0,
      expires: r.expires,
      seller: r.seller,
      category: r.category,
      extra: r.extra0,
    },
  ],
  q21: (r) => [r.auction, r.bidder, r.price, r.channel, r.channel_id],
  q22: (r) => [r.auction, r.bidder, r.price, r.channel, r.dir1, r.dir2, r.dir3],
};

/** The DataStream job's final table: its records, or for an upsert output the last record per key. */
async function expectedTable(q: QueryName): Promise<unknown[]> {
  return upsertFinal(q, await jobOutput(q, 'local', 1, PARAMS));
}

describe('Nexmark q13–q22 in SQL equal the DataStream jobs', () => {
  for (const q of ['q13', 'q14', 'q15', 'q16', 'q17', 'q18', 'q19', 'q20', 'q21', 'q22'] as const) {
    const parallel = (['q13', 'q14', 'q19'] as string[]).includes(q);
    it(`${q}: the same final table, local p=1${parallel ? ' and threads p=2' : ''}`, async () => {
      const expected = canonical(await expectedTable(q));
      expect(expected.length).toBeGreaterThan(q === 'q15' ? 0 : 100); // q15: one day of events, one row
      const shape = SHAPES[q] as (r: Row) => unknown;
      expect(canonical((await sqlFinal(q, 'local', 1)).map(shape))).toEqual(expected);
      if (parallel) expect(canonical((await sqlFinal(q, 'threads', 2)).map(shape))).toEqual(expected);
    }, 60_000);
  }
});
