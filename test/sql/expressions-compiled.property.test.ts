// Property: random SQL expression trees over random rows with NULLs give the same value compiled (parser → planner → JavaScript source → function) as in a small reference interpreter of SQL's semantics (three-valued logic, NULL in → NULL out).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Expr, Statement } from '../../src/sql/ast.ts';
import { parseStatement } from '../../src/sql/parser.ts';
import type { PlanField } from '../../src/sql/plan.ts';
import { compileStandalone } from '../../src/sql/planner.ts';
import { compileFunction } from '../../src/sql/runtime.ts';

type V = number | string | boolean | null;
type Row = { a: number | null; b: number | null; s: string | null; t: string | null; x: boolean | null };

/** An expression tree of the test's own: its SQL text and its meaning. */
interface Node {
  sql: string;
  eval: (r: Row) => V;
}

const FIELDS: PlanField[] = [
  { name: 'a', type: { kind: 'INT', nullable: true } },
  { name: 'b', type: { kind: 'INT', nullable: true } },
  { name: 's', type: { kind: 'STRING', nullable: true } },
  { name: 't', type: { kind: 'STRING', nullable: true } },
  { name: 'x', type: { kind: 'BOOLEAN', nullable: true } },
];

// --- the reference semantics, written independently of src/sql/functions.ts
const nullIn =
  (f: (...xs: never[]) => V) =>
  (...xs: V[]): V =>
    xs.some((v) => v === null) ? null : f(...(xs as never[]));
const and3 = (p: V, q: V): V => (p === false || q === false ? false : p === null || q === null ? null : true);
const or3 = (p: V, q: V): V => (p === true || q === true ? true : p === null || q === null ? null : false);
const not3 = (p: V): V => (p === null ? null : !p);

const column = <K extends keyof Row>(k: K): Node => ({ sql: k, eval: (r) => r[k] });

const num: fc.Memo<Node> = fc.memo((d) =>
  d <= 1
    ? fc.oneof(
        fc.constantFrom(column('a'), column('b')),
        fc.integer({ min: -50, max: 50 }).map((n): Node => ({ sql: n < 0 ? `(${n})` : String(n), eval: () => n })),
        fc.constant<Node>({ sql: 'CAST(NULL AS INT)', eval: () => null }),
      )
    : fc.oneof(
        fc.tuple(num(d - 1), fc.constantFrom('+', '-', '*'), num(d - 1)).map(([l, op, r]): Node => ({
          sql: `(${l.sql} ${op} ${r.sql})`,
          // INT arithmetic wraps around in 32 bits, as Java's (and Flink's)
          eval: (row) =>
            nullIn((p: number, q: number) => (op === '+' ? (p + q) | 0 : op === '-' ? (p - q) | 0 : Math.imul(p, q)))(l.eval(row), r.eval(row)),
        })),
        fc.tuple(bool(d - 1), num(d - 1), num(d - 1)).map(([c, p, q]): Node => ({
          sql: `CASE WHEN ${c.sql} THEN ${p.sql} ELSE ${q.sql} END`,
          eval: (row) => (c.eval(row) === true ? p.eval(row) : q.eval(row)),
        })),
        fc.tuple(num(d - 1), num(d - 1)).map(([p, q]): Node => ({
          sql: `COALESCE(${p.sql}, ${q.sql})`,
          eval: (row) => p.eval(row) ?? q.eval(row),
        })),
        str(d - 1).map((s): Node => ({ sql: `CHAR_LENGTH(${s.sql})`, eval: (row) => nullIn((v: string) => v.length)(s.eval(row)) })),
        num(d - 1).map((n): Node => ({ sql: `ABS(${n.sql})`, eval: (row) => nullIn((v: number) => Math.abs(v))(n.eval(row)) })),
      ),
);

const str: fc.Memo<Node> = fc.memo((d) =>
  d <= 1
    ? fc.oneof(
        fc.constantFrom(column('s'), column('t')),
        fc.constantFrom('', 'ab', 'x%y', "it's").map((v): Node => ({ sql: `'${v.replace(/'/g, "''")}'`, eval: () => v })),
      )
    : fc.oneof(
        fc.tuple(str(d - 1), str(d - 1)).map(([p, q]): Node => ({
          sql: `(${p.sql} || ${q.sql})`,
          eval: (row) => nullIn((u: string, v: string) => u + v)(p.eval(row), q.eval(row)),
        })),
        str(d - 1).map((s): Node => ({ sql: `UPPER(${s.sql})`, eval: (row) => nullIn((v: string) => v.toUpperCase())(s.eval(row)) })),
        fc.tuple(bool(d - 1), str(d - 1), str(d - 1)).map(([c, p, q]): Node => ({
          sql: `CASE WHEN ${c.sql} THEN ${p.sql} ELSE ${q.sql} END`,
          eval: (row) => (c.eval(row) === true ? p.eval(row) : q.eval(row)),
        })),
      ),
);

const bool: fc.Memo<Node> = fc.memo((d) =>
  d <= 1
    ? fc.oneof(
        fc.constant(column('x')),
        fc.constantFrom<Node>(
          { sql: 'TRUE', eval: () => true },
          { sql: 'FALSE', eval: () => false },
          { sql: 'CAST(NULL AS BOOLEAN)', eval: () => null },
        ),
      )
    : fc.oneof(
        fc.tuple(bool(d - 1), fc.constantFrom('AND', 'OR'), bool(d - 1)).map(([l, op, r]): Node => ({
          sql: `(${l.sql} ${op} ${r.sql})`,
          eval: (row) => (op === 'AND' ? and3 : or3)(l.eval(row), r.eval(row)),
        })),
        bool(d - 1).map((b): Node => ({ sql: `(NOT ${b.sql})`, eval: (row) => not3(b.eval(row)) })),
        fc.tuple(num(d - 1), fc.constantFrom('=', '<>', '<', '<=', '>', '>='), num(d - 1)).map(([l, op, r]): Node => ({
          sql: `(${l.sql} ${op} ${r.sql})`,
          eval: (row) =>
            nullIn((p: number, q: number) =>
              op === '=' ? p === q : op === '<>' ? p !== q : op === '<' ? p < q : op === '<=' ? p <= q : op === '>' ? p > q : p >= q,
            )(l.eval(row), r.eval(row)),
        })),
        fc.tuple(str(d - 1), str(d - 1)).map(([l, r]): Node => ({
          sql: `(${l.sql} = ${r.sql})`,
          eval: (row) => nullIn((p: string, q: string) => p === q)(l.eval(row), r.eval(row)),
        })),
        fc.tuple(num(d - 1), fc.boolean()).map(([n, neg]): Node => ({
          sql: `(${n.sql} IS ${neg ? 'NOT ' : ''}NULL)`,
          eval: (row) => (n.eval(row) === null) !== neg,
        })),
        fc.tuple(num(d - 1), num(d - 1), num(d - 1)).map(([v, lo, hi]): Node => ({
          sql: `(${v.sql} BETWEEN ${lo.sql} AND ${hi.sql})`,
          eval: (row) => {
            const [x, l, h] = [v.eval(row), lo.eval(row), hi.eval(row)];
            return and3(
              x === null || l === null ? null : (x as number) >= (l as number),
              x === null || h === null ? null : (x as number) <= (h as number),
            );
          },
        })),
        fc
          .tuple(num(d - 1), fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(null)), { minLength: 1, maxLength: 4 }))
          .map(([v, list]): Node => ({
            sql: `(${v.sql} IN (${list.map((x) => (x === null ? 'CAST(NULL AS INT)' : x < 0 ? `(${x})` : String(x))).join(', ')}))`,
            eval: (row) => {
              const x = v.eval(row);
              if (x === null) return null;
              if (list.includes(x as number)) return true;
              return list.includes(null) ? null : false;
            },
          })),
        fc.tuple(str(d - 1), fc.constantFrom('a%', '%b', '_b', 'ab', '%', 'x\\%y')).map(([s, p]): Node => ({
          sql: `(${s.sql} LIKE '${p}'${p.includes('\\') ? " ESCAPE '\\'" : ''})`,
          eval: (row) => {
            const v = s.eval(row);
            if (v === null) return null;
            const re = p === 'x\\%y' ? /^x%y$/ : new RegExp(`^${p.replace(/%/g, '.*').replace(/_/g, '.')}$`, 's');
            return re.test(v as string);
          },
        })),
      ),
);

const rowArb: fc.Arbitrary<Row> = fc.record({
  a: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constant(null)),
  b: fc.oneof(fc.integer({ min: -100, max: 100 }), fc.constant(null)),
  s: fc.oneof(fc.constantFrom('', 'ab', 'abb', 'xb', 'x%y', 'A'), fc.constant(null)),
  t: fc.oneof(fc.string({ maxLength: 3 }), fc.constant(null)),
  x: fc.oneof(fc.boolean(), fc.constant(null)),
});

function compiled(node: Node): (r: Row) => unknown {
  const text = `SELECT ${node.sql} FROM t`;
  const s = parseStatement(text) as Extract<Statement, { kind: 'query' }>;
  const item = s.query.body.kind === 'select' ? s.query.body.items[0] : undefined;
  if (item?.kind !== 'expr') throw new Error('no expression');
  return compileFunction<Row>(compileStandalone(item.expr as Expr, FIELDS, text).code);
}

describe('compiled SQL expressions', () => {
  for (const [kind, arb] of [
    ['boolean', bool(4)],
    ['numeric', num(4)],
    ['string', str(3)],
  ] as const) {
    it(`equal the reference interpreter on random ${kind} trees over rows with NULLs`, () => {
      fc.assert(
        fc.property(arb, fc.array(rowArb, { minLength: 1, maxLength: 8 }), (node, rows) => {
          const f = compiled(node);
          for (const r of rows) expect({ sql: node.sql, row: r, value: f(r) }).toEqual({ sql: node.sql, row: r, value: node.eval(r) });
        }),
        { numRuns: 300 },
      );
    });
  }
});
