// Nexmark q0, q1, q2, q3, q5, q7, q8 and q11 from bench/nexmark/sql, through the SQL planner and the SQL job module, give the existing DataStream jobs' results (count, checksum and the exact rows), locally at p=1 and on two worker threads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Summarizer, canonical, summarizerFor, type QueryName } from '../../bench/nexmark/lib.ts';
import { parseScript, textOf } from '../../src/sql/parser.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';
import { jobOutput } from '../nexmark/queries-helpers.ts';

const SQL_DIR = join('bench', 'nexmark', 'sql');
type Row = Record<string, unknown>;

/** The rows of query `q`'s INSERT … SELECT, run as a SELECT over the ddl.sql tables (40k events at 1,000/s, seed 0, as the DataStream tests). */
async function sqlRows(q: QueryName, mode: 'local' | 'threads', parallelism: number): Promise<Row[]> {
  const env = TableEnvironment.create({ mode, parallelism });
  await env.executeScript(readFileSync(join(SQL_DIR, 'ddl.sql'), 'utf8'));
  const script = readFileSync(join(SQL_DIR, `${q}.sql`), 'utf8');
  const insert = parseScript(script).find((s) => s.kind === 'insert');
  if (insert?.kind !== 'insert') throw new Error(`${q}.sql has no INSERT`);
  const result = await env.sqlQuery(textOf(script, insert.query.loc)).execute();
  const rows: Row[] = [];
  for await (const r of result.collect()) rows.push(r);
  expect(result.lateRowsDropped).toBe(0);
  return rows;
}

/** SQL rows in the DataStream job's output shape. */
const SHAPES: Partial<Record<QueryName, (r: Row) => unknown>> = {
  q0: (r) => ({ kind: 'bid', ...r }),
  q1: (r) => [r.auction, r.bidder, r.price, r.dateTime, r.extra],
  q2: (r) => [r.auction, r.price],
  q3: (r) => [r.name, r.city, r.state, r.id],
  q5: (r) => [r.auction, r.num],
  q7: (r) => ({ auction: r.auction, bidder: r.bidder, price: r.price, dateTime: r.dateTime, extra: r.extra }),
  q8: (r) => [r.id, r.name, r.starttime],
  q11: (r) => [r.bidder, r.bid_count, r.starttime, r.endtime],
};

/**
 * The DataStream job's records in the SQL query's columns, where the query selects fewer: q5's
 * SQL (Flink Nexmark's text) leaves out the window end the job emits; q7's selects five of a bid's
 * seven fields. Their summaries are then taken over these columns.
 */
const EXPECTED: Partial<Record<QueryName, (r: unknown) => unknown>> = {
  q5: (t) => [(t as number[])[0], (t as number[])[1]],
  q7: (b) => {
    const r = b as Row;
    return { auction: r.auction, bidder: r.bidder, price: r.price, dateTime: r.dateTime, extra: r.extra };
  },
};

function summary(q: QueryName, out: readonly unknown[]) {
  const s = q === 'q5' ? new Summarizer((t: number[]) => t[0] + t[1]) : summarizerFor(q);
  for (const r of out) s.add(r);
  return s.summary();
}

describe('Nexmark SQL queries equal the DataStream jobs', () => {
  for (const q of ['q0', 'q1', 'q2', 'q3', 'q5', 'q7', 'q8', 'q11'] as const) {
    it(`${q}: same rows, count and checksum, local p=1 and threads p=2`, async () => {
      const expected = (await jobOutput(q, 'local', 1)).map(EXPECTED[q] ?? ((r: unknown) => r));
      expect(expected.length).toBeGreaterThan(0);
      const expectedSummary = summary(q, expected);
      const shape = SHAPES[q] as (r: Row) => unknown;
      for (const [mode, p] of [
        ['local', 1],
        ['threads', 2],
      ] as const) {
        const got = (await sqlRows(q, mode, p)).map(shape);
        expect(summary(q, got)).toEqual(expectedSummary);
        expect(canonical(got)).toEqual(canonical(expected));
      }
    });
  }
});
