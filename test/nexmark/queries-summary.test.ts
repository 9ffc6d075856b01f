// The summary sink the benchmark uses (count + 64-bit checksum per subtask) agrees with the loop's summary, and the checksum wraps like Java's long.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executeJob } from '../../src/index.ts';
import { DIGESTS, SUMMARY_ID, Summarizer, mergeResultSummaries, nexmarkConfigOf, type ResultSummary } from '../../bench/nexmark/lib.ts';
import { runLoop } from '../../bench/nexmark/loops.ts';
import { PARAMS } from './queries-helpers.ts';

describe('Nexmark summary sink', () => {
  it('q0 and q5 summaries on two threads equal the loops', async () => {
    for (const query of ['q0', 'q5'] as const) {
      const s = new Summarizer(DIGESTS[query]);
      runLoop(query, nexmarkConfigOf(PARAMS), (r) => s.add(r));
      const result = await executeJob(join('bench', 'nexmark', 'queries', `${query}.ts`), { parallelism: 2, params: PARAMS });
      const parts = result.collected[SUMMARY_ID] as ResultSummary[];
      expect(parts.length).toBe(2);
      expect(mergeResultSummaries(parts)).toEqual(s.summary());
    }
  });

  it('wraps the checksum to a signed 64-bit integer', () => {
    const parts: ResultSummary[] = [
      { count: 1, checksum: (2n ** 63n - 1n).toString() },
      { count: 1, checksum: '2' },
    ];
    expect(mergeResultSummaries(parts)).toEqual({ count: 2, checksum: (-(2n ** 63n) + 1n).toString() });
  });
});
