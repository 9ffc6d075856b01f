//! OVER aggregate planning: `agg(x) OVER (PARTITION BY … ORDER BY <time attribute> ROWS|RANGE BETWEEN … PRECEDING AND CURRENT ROW)` and the named `WINDOW w AS (…)`, as Flink's planner accepts them in streaming mode.

import type { Expr, Select, WindowSpec as OverSpec } from './ast.ts';
import type { AggCall, PlanExpr, PlanField, PlanNode, SqlType } from './plan.ts';
import { Scope, compileExpr, intervalMs, textAt, unsupported, validationError, type Rel, type ScopeField } from './planner.ts';

/**
 * An OVER aggregate (Flink's OverAggregate): every input row once, with the results of `aggs` over
 * its frame appended as columns `aggFields`. The frame ends at the current row and starts
 * `preceding` rows (ROWS) or milliseconds (RANGE) before it, or at the partition's first row when
 * `preceding` is absent (UNBOUNDED PRECEDING). Append-only; takes only insert-only input.
 */
export interface OverAggNode {
  kind: 'over-agg';
  id: number;
  uid: string;
  input: number;
  partitionKeys: PlanExpr[];
  /** PARTITION BY, ORDER BY and the frame as written (for EXPLAIN and errors). */
  text?: { partitionBy: string[]; orderBy: string; frame: string };
  time: 'rowtime' | 'proctime';
  /** The ORDER BY column (a time attribute of the input). */
  timeField: string;
  unit: 'ROWS' | 'RANGE';
  preceding?: number;
  aggs: AggCall[];
  aggFields: string[];
  fields: PlanField[];
}

/** The qualifier of an OVER aggregate's result columns while the SELECT list is planned over them: `*` leaves them out. */
export const OVER_QUALIFIER = '$over';

/** What OVER planning needs of the planner. */
export interface OverHost {
  add<N extends PlanNode>(node: Omit<N, 'id' | 'uid'>): N;
  /** An aggregate call's plan and result type, over `scope`. */
  aggregateCall(e: Call, scope: Scope): { call: AggCall; type: SqlType };
  /** A SELECT block over an already planned input (its FROM and WHERE are not read). */
  planSelectOn(s: Select, input: Rel): Rel;
  text: string;
}

type Call = Extract<Expr, { kind: 'call' }>;

const AGGREGATES = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX']);

/** Whether a SELECT list has an `… OVER …` call outside subqueries. */
export function hasOverCall(s: Select): boolean {
  let found = false;
  const visit = (v: unknown): void => {
    if (found || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach(visit);
    const o = v as Record<string, unknown>;
    if (o.kind === 'call' && o.over !== undefined) found = true;
    for (const [k, x] of Object.entries(o)) if (k !== 'query' && k !== 'loc' && k !== 'over') visit(x);
  };
  visit(s.items);
  return found;
}

/** `e` with every OVER call replaced by `f(call)`. */
function replaceOver(e: Expr, f: (c: Call) => Expr): Expr {
  const visit = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(visit);
    const o = v as Record<string, unknown>;
    if (o.kind === 'call' && o.over !== undefined && 'loc' in o) return f(o as unknown as Call);
    const copy: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) copy[k] = k === 'query' || k === 'loc' ? x : visit(x);
    return copy;
  };
  return visit(e) as Expr;
}

function specKey(spec: OverSpec): string {
  return JSON.stringify(spec, (k, v) => (k === 'loc' || k === 'text' ? undefined : v));
}

/**
 * Plans a SELECT whose list has OVER aggregates, over `input` (its WHERE already applied): one
 * over-agg node computing every OVER call (Flink takes one window per SELECT), then the SELECT
 * list over the input's columns and the results.
 */
export function planOver(h: OverHost, s: Select, input: Rel): Rel {
  const text = h.text;
  const named = new Map((s.windows ?? []).map((w) => [w.name, w.spec]));
  const calls: { call: Call; spec: OverSpec }[] = [];
  const items = s.items.map((item, i) => {
    if (item.kind !== 'expr') return item;
    const direct = item.expr.kind === 'call' && item.expr.over !== undefined;
    const expr = replaceOver(item.expr, (c) => {
      let spec = c.over as OverSpec;
      if (spec.name !== undefined) {
        const w = named.get(spec.name);
        if (w === undefined)
          throw validationError(`window '${spec.name}' not found: name it in the SELECT's WINDOW clause, in '${textAt(text, c)}'`);
        spec = w;
      }
      calls.push({ call: c, spec });
      return { kind: 'ref', path: [OVER_QUALIFIER, `w0$o${calls.length - 1}`], loc: c.loc };
    });
    return { ...item, expr, alias: item.alias ?? (direct ? `EXPR$${i}` : undefined) };
  });
  const first = calls[0];
  for (const c of calls) {
    if (!AGGREGATES.has(c.call.name)) {
      if (['ROW_NUMBER', 'RANK', 'DENSE_RANK'].includes(c.call.name))
        throw unsupported(
          `${c.call.name}() outside Top-N (it needs an outer WHERE on its alias, as in Flink), in '${textAt(text, c.call)}'`,
        );
      throw validationError(
        `'${c.call.name}' is not an aggregate function, in '${textAt(text, c.call)}'; OVER takes COUNT, SUM, AVG, MIN or MAX`,
      );
    }
    if (specKey(c.spec) !== specKey(first.spec))
      throw unsupported(
        `OVER windows that differ in one SELECT ('${textAt(text, first.call)}' and '${textAt(text, c.call)}'): Flink computes all aggregates of a SELECT on the same window`,
      );
  }
  const spec = first.spec;
  const at = textAt(text, first.call);
  const scope = new Scope(input.fields, text);
  if (spec.orderBy.length !== 1)
    throw validationError(`OVER needs ORDER BY on exactly one time attribute (a column with a WATERMARK, or PROCTIME()), in '${at}'`);
  const order = spec.orderBy[0];
  const ordered = compileExpr(order.expr, scope);
  const time = ordered.type.time;
  if (order.expr.kind !== 'ref' || time === undefined)
    throw validationError(
      `OVER windows' ordering in stream mode must be defined on a time attribute (a column with a WATERMARK, or PROCTIME()), got '${textAt(text, order.expr)}' in '${at}'`,
    );
  if (order.desc)
    throw unsupported(`OVER ... ORDER BY ${textAt(text, order.expr)} DESC (a streaming OVER window is ordered ascending), in '${at}'`);
  const column = /^r\[("(?:[^"\\]|\\.)*")\]$/.exec(ordered.code);
  if (column === null) throw unsupported(`OVER ... ORDER BY a nested field, in '${at}'`);
  const timeField = JSON.parse(column[1]) as string;
  // no frame: RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW (SQL's default with ORDER BY)
  const unit = spec.frame?.unit ?? 'RANGE';
  const start = spec.frame?.start ?? { kind: 'unbounded', direction: 'PRECEDING' };
  const end = spec.frame?.end ?? { kind: 'current-row' };
  if (end.kind !== 'current-row')
    throw unsupported(`an OVER frame that ends after ... PRECEDING or beyond the current row (only ... AND CURRENT ROW), in '${at}'`);
  let preceding: number | undefined;
  if (start.kind === 'current-row') preceding = 0;
  else if (start.kind === 'unbounded' || start.direction === 'FOLLOWING') {
    if (start.direction === 'FOLLOWING') throw unsupported(`an OVER frame starting at a FOLLOWING row, in '${at}'`);
  } else if (unit === 'ROWS') {
    const o = start.offset;
    if (o.kind !== 'literal' || o.type !== 'number' || !Number.isInteger(o.value) || (o.value as number) < 0)
      throw validationError(`ROWS BETWEEN n PRECEDING needs a non-negative integer n, got '${textAt(text, o)}' in '${at}'`);
    preceding = o.value as number;
  } else {
    const o = start.offset;
    if (o.kind !== 'interval')
      throw validationError(`RANGE BETWEEN … PRECEDING on a time attribute needs an INTERVAL, got '${textAt(text, o)}' in '${at}'`);
    preceding = intervalMs(o);
    if (preceding < 0) throw validationError(`RANGE BETWEEN … PRECEDING needs a non-negative interval, in '${at}'`);
  }
  const aggs: AggCall[] = [];
  const aggFields: string[] = [];
  const resultFields: ScopeField[] = [];
  calls.forEach((c, i) => {
    const { call, type } = h.aggregateCall({ ...c.call, over: undefined }, scope);
    aggs.push(call);
    aggFields.push(`w0$o${i}`);
    resultFields.push({ name: `w0$o${i}`, type, qualifier: OVER_QUALIFIER });
  });
  const inputFields = input.fields.map((f) => ({ name: f.column ?? f.name, type: f.type }));
  const node = h.add<OverAggNode>({
    kind: 'over-agg',
    input: input.node,
    partitionKeys: spec.partitionBy.map((e) => ({ code: compileExpr(e, scope).code })),
    text: {
      partitionBy: spec.partitionBy.map((e) => textAt(text, e)),
      orderBy: textAt(text, order.expr),
      frame: spec.frame?.text ?? 'RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW',
    },
    time,
    timeField,
    unit,
    ...(preceding !== undefined ? { preceding } : {}),
    aggs,
    aggFields,
    fields: [...inputFields, ...resultFields.map((f) => ({ name: f.name, type: f.type }))],
  });
  return h.planSelectOn(
    { ...s, items, where: undefined, windows: undefined },
    { node: node.id, fields: [...input.fields, ...resultFields] },
  );
}
