// Shared by the Nexmark query tests: run a query's weir job (local, threads) and its hand-written loop on the same events.
import { join } from 'node:path';
import { expect } from 'vitest';
import { executeJob } from '../../src/index.ts';
import { OUTPUT_ID, canonical, nexmarkConfigOf, type QueryName } from '../../bench/nexmark/lib.ts';
import { runLoop } from '../../bench/nexmark/loops.ts';

/** Small runs: 40k events at 1,000 events/s of event time = 40 s, several windows of every kind. */
export const PARAMS = { events: 40_000, rate: 1_000, seed: 0 };

/** The loop's output records for `query`. */
export function loopOutput(query: QueryName, params: Record<string, number> = PARAMS): unknown[] {
  const out: unknown[] = [];
  runLoop(query, nexmarkConfigOf(params), (r) => out.push(r));
  return out;
}

/** The weir job's collected output for `query`. */
export async function jobOutput(
  query: QueryName,
  mode: 'local' | 'threads',
  parallelism: number,
  params: Record<string, number> = PARAMS,
): Promise<unknown[]> {
  const result = await executeJob(join('bench', 'nexmark', 'queries', `${query}.ts`), {
    mode,
    parallelism,
    params: { ...params, collect: true },
  });
  return result.collected[OUTPUT_ID] ?? [];
}

/** Checks that weir (local p=1 and threads p=2) gives the loop's output multiset; returns the loop's output. */
export async function expectSameAsLoop(query: QueryName): Promise<unknown[]> {
  const expected = canonical(loopOutput(query));
  expect(expected.length).toBeGreaterThan(0);
  expect(canonical(await jobOutput(query, 'local', 1))).toEqual(expected);
  expect(canonical(await jobOutput(query, 'threads', 2))).toEqual(expected);
  return expected;
}
