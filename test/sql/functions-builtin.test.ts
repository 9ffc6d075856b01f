// Flink's built-in string, math and time functions as weir compiles them, on values Flink's documentation gives, NULL in → NULL out.
import { describe, expect, it } from 'vitest';
import type { Statement } from '../../src/sql/ast.ts';
import { parseStatement } from '../../src/sql/parser.ts';
import type { PlanField } from '../../src/sql/plan.ts';
import { compileStandalone } from '../../src/sql/planner.ts';
import { compileFunction } from '../../src/sql/runtime.ts';

const FIELDS: PlanField[] = [
  { name: 's', type: { kind: 'STRING', nullable: true } },
  { name: 'n', type: { kind: 'BIGINT', nullable: true } },
  { name: 'ts', type: { kind: 'TIMESTAMP', nullable: true, precision: 3 } },
];
const ROW = { s: 'Hello, World', n: 7, ts: Date.UTC(2015, 6, 15, 13, 45, 30, 123) };
const NULLS = { s: null, n: null, ts: null };

function value(expr: string, row: Record<string, unknown> = ROW): unknown {
  const text = `SELECT ${expr} FROM t`;
  const s = parseStatement(text) as Extract<Statement, { kind: 'query' }>;
  const item = s.query.body.kind === 'select' ? s.query.body.items[0] : undefined;
  if (item?.kind !== 'expr') throw new Error('no expression');
  return compileFunction(compileStandalone(item.expr, FIELDS, text).code)(row);
}

describe('built-in functions', () => {
  it('string functions', () => {
    expect(value('UPPER(s)')).toBe('HELLO, WORLD');
    expect(value('LOWER(s)')).toBe('hello, world');
    expect(value("TRIM('  x ')")).toBe('x');
    expect(value('CHAR_LENGTH(s)')).toBe(12);
    expect(value('SUBSTRING(s, 8)')).toBe('World');
    expect(value('SUBSTRING(s, 1, 5)')).toBe('Hello');
    expect(value('SUBSTRING(s FROM 8 FOR 3)')).toBe('Wor');
    expect(value("CONCAT(s, '!', '?')")).toBe('Hello, World!?');
    expect(value("s || '!'")).toBe('Hello, World!');
    expect(value("REGEXP_EXTRACT('foothebar', 'foo(.*?)(bar)', 2)")).toBe('bar');
    expect(value("REGEXP_EXTRACT('https://x.com/?channel_id=42&a=1', '(&|^|\\?)channel_id=([^&]*)', 2)")).toBe('42');
    expect(value("SPLIT_INDEX('a/b/c', '/', 1)")).toBe('b');
    expect(value("SPLIT_INDEX('a/b/c', '/', 5)")).toBe(null);
    // as Flink's (commons-lang splitByWholeSeparatorPreserveAllTokens): an empty string has no pieces, a negative index none
    expect(value("SPLIT_INDEX('', '/', 0)")).toBe(null);
    expect(value("SPLIT_INDEX('a/b/c', '/', -1)")).toBe(null);
    expect(value("SPLIT_INDEX('a//c', '/', 1)")).toBe('');
    for (const f of ['UPPER(s)', 'CHAR_LENGTH(s)', 'SUBSTRING(s, 2)', "CONCAT(s, 'x')", "SPLIT_INDEX(s, ',', 0)"])
      expect(value(f, NULLS)).toBe(null);
  });

  it('math functions', () => {
    expect(value('MOD(n, 3)')).toBe(1);
    expect(value('ABS(0 - n)')).toBe(7);
    expect(value('ROUND(2.567, 2)')).toBe(2.57);
    expect(value('ROUND(-2.5)')).toBe(-3);
    expect(value('FLOOR(2.7)')).toBe(2);
    expect(value('CEIL(2.1)')).toBe(3);
    expect(value('POWER(n, 2)')).toBe(49);
    expect(value('n / 2')).toBe(3); // BIGINT / INT divides as integers
    expect(value('n / 2.0')).toBe(3.5);
    for (const f of ['MOD(n, 3)', 'ABS(n)', 'ROUND(n)', 'n / 2']) expect(value(f, NULLS)).toBe(null);
  });

  it('time functions (UTC)', () => {
    expect(value("DATE_FORMAT(ts, 'yyyy-MM-dd')")).toBe('2015-07-15');
    expect(value("DATE_FORMAT(ts, 'HH:mm:ss.SSS')")).toBe('13:45:30.123');
    expect(value('HOUR(ts)')).toBe(13);
    expect(value('MINUTE(ts)')).toBe(45);
    expect(value('EXTRACT(YEAR FROM ts)')).toBe(2015);
    expect(value('EXTRACT(MONTH FROM ts)')).toBe(7);
    expect(value("TO_TIMESTAMP('2015-07-15 13:45:30.123')")).toBe(ROW.ts);
    expect(value("TIMESTAMP '2015-07-15 13:45:30.123'")).toBe(ROW.ts);
    expect(value("ts + INTERVAL '2' HOUR")).toBe(ROW.ts + 2 * 3_600_000);
    expect(value('TO_TIMESTAMP_LTZ(1436967930, 0)')).toBe(Date.UTC(2015, 6, 15, 13, 45, 30));
    expect(value('CAST(ts AS STRING)')).toBe('2015-07-15 13:45:30.123');
    expect(value("CAST('12' AS INT) + 1")).toBe(13);
    expect(value("TRY_CAST('x' AS INT)")).toBe(null);
    expect(() => value("CAST('x' AS INT)")).toThrow("cannot cast 'x' to a number");
    for (const f of ["DATE_FORMAT(ts, 'yyyy')", 'HOUR(ts)', 'EXTRACT(DAY FROM ts)', 'CAST(ts AS STRING)'])
      expect(value(f, NULLS)).toBe(null);
  });
});
