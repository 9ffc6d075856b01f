// Nexmark q14's user-defined function for the Flink side of the SQL oracle (weir's is bench/nexmark/functions.ts).
package dev.weir.bench.flink;

import org.apache.flink.table.functions.ScalarFunction;

/** {@code count_char(s, c)}: occurrences of c's first character in s; 0 for a NULL s (as Flink Nexmark's CountChar). */
public class CountChar extends ScalarFunction {
  public long eval(String s, String c) {
    if (s == null) return 0;
    char ch = c.charAt(0);
    long n = 0;
    for (int i = 0; i < s.length(); i++) if (s.charAt(i) == ch) n++;
    return n;
  }
}
