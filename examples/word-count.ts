// Word count over generated text: flatMap → keyBy → rolling sum, then the top words at the end.
//   weir run examples/word-count.ts --parallelism 2 --param words=1000000
import { defineJob, type Collector, type SinkWriter } from '../src/index.ts';

/** The generator's vocabulary: 1,000 words, so counts are large enough to check. */
export const VOCABULARY: readonly string[] = Array.from({ length: 1000 }, (_, i) => `w${i.toString(36)}`);
/** Words per generated line. */
export const WORDS_PER_LINE = 10;

/** Line `i` of the generated text: deterministic, skewed towards low word numbers (Zipf-like). */
export function lineAt(i: number): string {
  let x = (Math.imul(i + 1, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;
  const words: string[] = [];
  for (let k = 0; k < WORDS_PER_LINE; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const r = (x % 1_000_000) / 1_000_000;
    words.push(VOCABULARY[Math.floor(r * r * VOCABULARY.length)]);
  }
  return words.join(' ');
}

/** A word with a running count. */
export interface WordCount {
  word: string;
  count: number;
}

/** Splits lines into (word, 1). */
export function tokenize(line: string, out: Collector<WordCount>): void {
  for (const word of line.split(' ')) if (word) out.collect({ word, count: 1 });
}

/** Keeps the latest count per word and prints the most frequent at the end. */
function topWordsSink(limit: number) {
  return {
    name: 'Top Words',
    maxParallelism: 1,
    createWriter: (): SinkWriter<WordCount> => {
      const latest = new Map<string, number>();
      return {
        write: (wc) => void latest.set(wc.word, wc.count),
        close: () => {
          const top = [...latest].sort((a, b) => b[1] - a[1]).slice(0, limit);
          const total = [...latest.values()].reduce((a, b) => a + b, 0);
          console.log(`${latest.size} distinct words, ${total} in all; top ${limit}:`);
          for (const [word, count] of top) console.log(`  ${word.padEnd(6)} ${count}`);
        },
      };
    },
  };
}

export default defineJob((env, params) => {
  const words = Number(params.words ?? 1_000_000);
  const counts = env
    .fromSource({ name: 'Text', ...textSource(Math.ceil(words / WORDS_PER_LINE)) })
    .flatMap(tokenize)
    .name('Tokenize')
    .keyBy((wc) => wc.word)
    .sum('count');
  if (params.output === 'collect') counts.collect('counts');
  else counts.sinkTo(topWordsSink(Number(params.top ?? 10)));
});

function textSource(lines: number) {
  return {
    createReader: ({ subtaskIndex, parallelism }: { subtaskIndex: number; parallelism: number }) => {
      let i = Math.floor((subtaskIndex * lines) / parallelism);
      const end = Math.floor(((subtaskIndex + 1) * lines) / parallelism);
      return {
        pollNext(out: { collect(line: string): void }, max: number) {
          const stop = Math.min(end, i + max);
          for (; i < stop; i++) out.collect(lineAt(i));
          return i >= end ? ('end' as const) : ('more' as const);
        },
      };
    },
  };
}
