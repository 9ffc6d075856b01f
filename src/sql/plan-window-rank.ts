//! Window Top-N and window deduplication planning: `ROW_NUMBER() OVER (PARTITION BY window_start, window_end, … ORDER BY …)` over a window TVF's or window aggregate's rows, ranked once per window (Flink's WindowRank and WindowDeduplicate).

import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { Expr, WindowSpec as OverSpec } from './ast.ts';
import type { PlanExpr, PlanField, SqlType } from './plan.ts';
import { RANK_QUALIFIER, isUpdating, type PlannedRel, type RankOrder, type TopNPlanner } from './plan-changelog.ts';

/**
 * A Top-N per window (Flink's WindowRank): rows are kept per partition and window until the
 * watermark passes the window's end, then the first
 * `limit` in ORDER BY order come out once, with their row number in `rankField` when the query reads
 * it. With `dedup`, one row per partition and window (Flink's WindowDeduplicate): the first (ASC) or
 * the last (DESC) by the time column. Append-only; rows for a window already emitted are dropped.
 */
export interface WindowRankNode {
  kind: 'window-rank';
  id: number;
  uid: string;
  input: number;
  /** PARTITION BY without the window properties. */
  partitionKeys: PlanExpr[];
  /** The input columns holding window_start and window_end (event-time windows). */
  window: { start: string; end: string };
  orderBy: RankOrder[];
  limit: number;
  rankField?: string;
  dedup?: { keep: 'first' | 'last'; timeField: string };
  /** PARTITION BY and ORDER BY as written (for EXPLAIN and errors). */
  text?: { partitionBy: string[]; orderBy: string[] };
  fields: PlanField[];
}

function validation(message: string): WeirError {
  return new WeirError(message, { code: ErrorCodes.SQL_VALIDATION, domain: 'user' });
}

/**
 * The window rank of a Top-N whose PARTITION BY holds both window properties of its input (a
 * window TVF's rows or a window aggregate's), or undefined for a Top-N of another kind.
 */
export function planWindowRank(
  p: TopNPlanner,
  a: {
    input: PlannedRel;
    over: OverSpec;
    partitionKeys: PlanExpr[];
    order: { code: string; type: SqlType; desc: boolean; expr: Expr }[];
    limit: number;
    /** The row number's name when the query reads it. */
    rn?: string;
    /** The DESCRIPTOR column of the window TVF the rows come from. */
    tvfTime?: string;
  },
): PlannedRel | undefined {
  const w = a.input.windowed;
  if (w === undefined) return undefined;
  const startCode = `r[${JSON.stringify(w.start)}]`;
  const endCode = `r[${JSON.stringify(w.end)}]`;
  const codes = a.partitionKeys.map((k) => k.code);
  if (!codes.includes(startCode) || !codes.includes(endCode)) return undefined;
  if (isUpdating(p.node(a.input.node)))
    throw validation(`a window Top-N (ROW_NUMBER() OVER (PARTITION BY window_start, window_end …)) needs an insert-only input`);
  if (w.spec.proctime === true)
    throw new WeirError('not supported yet: window Top-N on processing-time windows (rank an event-time window)', {
      code: ErrorCodes.SQL_UNSUPPORTED,
      domain: 'user',
    });
  const partitionKeys = a.partitionKeys.filter((k) => k.code !== startCode && k.code !== endCode);
  const only = a.order.length === 1 ? a.order[0] : undefined;
  const timeColumn =
    only !== undefined && only.expr.kind === 'ref'
      ? (JSON.parse(/^r\[("(?:[^"\\]|\\.)*")\]$/.exec(only.code)?.[1] ?? 'null') as string | null)
      : null;
  const onTime = timeColumn !== null && (timeColumn === a.tvfTime || only?.type.time === 'rowtime');
  const rnField =
    a.rn !== undefined ? [{ name: a.rn, type: { kind: 'BIGINT', nullable: false } as SqlType, qualifier: RANK_QUALIFIER }] : [];
  const fields = [...a.input.fields, ...rnField];
  const node = p.add<WindowRankNode>({
    kind: 'window-rank',
    input: a.input.node,
    partitionKeys,
    window: { start: w.start, end: w.end },
    orderBy: a.order.map((o) => ({ expr: { code: o.code }, desc: o.desc })),
    limit: a.limit,
    ...(a.rn !== undefined ? { rankField: a.rn } : {}),
    ...(a.limit === 1 && onTime
      ? { dedup: { keep: only?.desc === true ? ('last' as const) : ('first' as const), timeField: timeColumn } }
      : {}),
    text: {
      partitionBy: a.over.partitionBy.map((e) => p.textOf(e)),
      orderBy: a.over.orderBy.map((o) => `${p.textOf(o.expr)} ${o.desc ? 'DESC' : 'ASC'}`),
    },
    fields: fields.map((f) => ({ name: f.name, type: f.type })),
  });
  return { node: node.id, fields, windowed: w };
}
