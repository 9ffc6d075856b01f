// Word count over ≥ 1 M generated words: exact counts at several parallelisms, mixed parallelism, and in local mode.
import { describe, expect, it } from 'vitest';
import { executeJob } from '../../src/index.ts';
import { WORDS_PER_LINE, lineAt } from '../../examples/word-count.ts';

const WORDS = 1_000_000;
const JOB = 'test/fixtures/jobs/word-count.ts';

/** Counts computed independently of weir: a plain loop over the same text. */
function expectedCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  const lines = Math.ceil(WORDS / WORDS_PER_LINE);
  for (let i = 0; i < lines; i++) for (const w of lineAt(i).split(' ')) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

const expected = expectedCounts();

function merged(collected: unknown[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [word, count] of collected as [string, number][]) {
    expect(out.has(word), `word ${word} reported by two subtasks`).toBe(false);
    out.set(word, count);
  }
  return out;
}

describe('word count', () => {
  it('counts 1,000,000 generated words', () => {
    let total = 0;
    for (const c of expected.values()) total += c;
    expect(total).toBe(WORDS);
  });

  for (const parallelism of [1, 2, 4]) {
    it(`gives exact counts at parallelism ${parallelism} on worker threads`, async () => {
      const result = await executeJob(JOB, { parallelism, params: { words: WORDS } });
      expect(result.mode).toBe('threads');
      expect(result.slots).toBe(parallelism);
      expect(merged(result.collected.counts)).toEqual(expected);
      expect(result.operators['Tokenize'].recordsOut).toBe(WORDS);
      expect(result.operators['Sum(count)'].subtasks).toBe(parallelism);
    });
  }

  it('gives exact counts with a different parallelism per operator', async () => {
    const result = await executeJob(JOB, {
      parallelism: 2,
      params: { words: WORDS, sourceParallelism: 1, tokenizeParallelism: 3, countParallelism: 2, sinkParallelism: 1 },
    });
    expect(result.slots).toBe(3);
    expect(result.operators['Tokenize'].subtasks).toBe(3);
    expect(result.operators['Sum(count)'].subtasks).toBe(2);
    expect(merged(result.collected.counts)).toEqual(expected);
  });

  for (const parallelism of [1, 4]) {
    it(`gives the same counts in local mode at parallelism ${parallelism}`, async () => {
      const result = await executeJob(JOB, { mode: 'local', parallelism, params: { words: WORDS } });
      expect(result.mode).toBe('local');
      expect(merged(result.collected.counts)).toEqual(expected);
    });
  }
});
