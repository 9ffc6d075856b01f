// The user-defined function of Nexmark q14 (Flink Nexmark's CountChar), for weir's SQL (`CREATE FUNCTION count_char AS 'bench/nexmark/functions.ts#countChar'`) and the DataStream job alike.
import type { ScalarFunction } from '../../src/sql/user-functions.ts';

/** `count_char(s, c)`: occurrences of c's first character in s; 0 for a NULL s (as Flink Nexmark's, which counts bytes: the same for ASCII). */
export const countChar: ScalarFunction = Object.assign(
  (s: string | null, c: string): number => {
    if (s === null) return 0;
    const code = c.charCodeAt(0);
    let n = 0;
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === code) n++;
    return n;
  },
  { resultType: 'BIGINT' },
);
