//! Changelogs in a SQL plan: the updating node kinds (group aggregate, rank, deduplicate), which nodes produce updates, which consumers refuse them, and folding a changelog into its final table.

import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { Expr, FromItem, Query, Select } from './ast.ts';
import { planWindowRank } from './plan-window-rank.ts';
import { ROW_KIND, type AggCall, type PlanExpr, type PlanField, type PlanNode, type RowKind, type SinkNode, type SqlType, type WindowSpec } from './plan.ts';

type Row = Record<string, unknown>;

/**
 * A non-windowed aggregate (Flink's GroupAggregate): keyed by the group keys, it emits `+I` for a
 * new group, `-U`/`+U` when the group's result changes, `-D` when its last row is retracted. Its
 * projection and HAVING see `g` (`g.k` the key values, `g.a` the aggregate results), as a
 * window-agg node's do; HAVING filters each emitted row on its own (Flink's Calc after the aggregate).
 */
export interface GroupAggNode {
  kind: 'group-agg';
  id: number;
  uid: string;
  input: number;
  keys: PlanExpr[];
  /** The GROUP BY expressions as written (for EXPLAIN and errors). */
  groupBy?: string[];
  aggs: AggCall[];
  having?: PlanExpr;
  projection: { name: string; expr: PlanExpr }[];
  fields: PlanField[];
  updating: true;
}

/** One ORDER BY key of a rank: ascending puts NULLs first, descending last (Flink's default: NULL is the smallest value). */
export interface RankOrder {
  expr: PlanExpr;
  desc: boolean;
}

/**
 * `ROW_NUMBER() OVER (PARTITION BY … ORDER BY …)` kept to the first `limit` rows (Flink's Rank):
 * rows of the input with the row number as column `rankField` when the query outputs it.
 * Insert-only input keeps only the top rows (Flink's AppendOnlyTopNFunction); updating input
 * keeps every row, so that a retracted top row is replaced (Flink's RetractableTopNFunction).
 */
export interface RankNode {
  kind: 'rank';
  id: number;
  uid: string;
  input: number;
  partitionKeys: PlanExpr[];
  orderBy: RankOrder[];
  /** PARTITION BY and ORDER BY as written (for EXPLAIN and errors). */
  text?: { partitionBy: string[]; orderBy: string[] };
  limit: number;
  rankField?: string;
  /** Whether the input is updating. */
  inputUpdating?: true;
  fields: PlanField[];
  updating: true;
}

/**
 * `ROW_NUMBER() … ORDER BY <time attribute> … = 1` without the row number in the output (Flink's
 * Deduplicate): keep the first row per key (ASC) or the last (DESC). Only keep-first on processing
 * time is insert-only; the others emit `-U`/`+U` when the kept row changes.
 */
export interface DeduplicateNode {
  kind: 'deduplicate';
  id: number;
  uid: string;
  input: number;
  keys: PlanExpr[];
  /** PARTITION BY as written (for EXPLAIN and errors). */
  keyText?: string[];
  keep: 'first' | 'last';
  time: 'rowtime' | 'proctime';
  /** The rowtime column (event-time deduplication compares it). */
  timeField?: string;
  fields: PlanField[];
  updating?: true;
}

/** Node kinds that may pass updates through (they copy each row's kind). */
const PASS_THROUGH = new Set(['calc', 'union']);

/** The node ids a node reads. */
export function inputsOf(n: PlanNode): number[] {
  if (n.kind === 'source') return [];
  if (n.kind === 'union') return n.inputs;
  if (n.kind === 'join') return [n.left, n.right];
  return [n.input];
}

/** Whether the node's output rows may carry `-U`, `+U` or `-D` (Flink's "produces update changes"). */
export function isUpdating(n: PlanNode): boolean {
  return (n as { updating?: true }).updating === true;
}

function changelogError(message: string): WeirError {
  return new WeirError(message, { code: ErrorCodes.SQL_VALIDATION, domain: 'user' });
}

/** A node as Flink's plan names it in errors (`GroupAggregate(groupBy=[…], select=[…])`). */
export function describeProducer(n: PlanNode): string {
  switch (n.kind) {
    case 'group-agg':
      return `GroupAggregate(groupBy=[${(n.groupBy ?? []).join(', ')}], select=[${n.projection.map((p) => p.name).join(', ')}])`;
    case 'rank':
      return `Rank(rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=${n.limit}], partitionBy=[${(n.text?.partitionBy ?? []).join(', ')}], orderBy=[${(n.text?.orderBy ?? []).join(', ')}], select=[${n.fields.map((f) => f.name).join(', ')}])`;
    case 'deduplicate':
      return `Deduplicate(keep=[${n.keep === 'first' ? 'FirstRow' : 'LastRow'}], key=[${(n.keyText ?? []).join(', ')}], order=[${n.time.toUpperCase()}])`;
    case 'source':
      return n.upsert === true
        ? `ChangelogNormalize(key=[${(n.primaryKey ?? []).join(', ')}])`
        : `TableSourceScan(table=[[default_catalog, default_database, ${n.table}]], fields=[${n.fields.map((f) => f.name).join(', ')}])`;
    case 'window-rank':
      return n.dedup !== undefined
        ? `WindowDeduplicate(keep=[${n.dedup.keep === 'first' ? 'FirstRow' : 'LastRow'}], partitionBy=[${(n.text?.partitionBy ?? []).join(', ')}], order=[${n.dedup.timeField}])`
        : `WindowRank(rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=${n.limit}], partitionBy=[${(n.text?.partitionBy ?? []).join(', ')}], orderBy=[${(n.text?.orderBy ?? []).join(', ')}], select=[${n.fields.map((f) => f.name).join(', ')}])`;
    case 'over-agg':
      return `OverAggregate(partitionBy=[${(n.text?.partitionBy ?? []).join(', ')}], orderBy=[${n.text?.orderBy ?? n.timeField} ASC], window=[${n.text?.frame ?? n.unit}], select=[${n.fields.map((f) => f.name).join(', ')}])`;
    case 'calc':
      return `Calc(select=[${n.projection.map((p) => p.name).join(', ')}])`;
    case 'union':
      return 'Union(all=[true])';
    case 'join':
      return `Join(joinType=[${{ INNER: 'InnerJoin', LEFT: 'LeftOuterJoin', RIGHT: 'RightOuterJoin', FULL: 'FullOuterJoin' }[n.joinType]}])`;
    default:
      return n.kind;
  }
}

/** The node that first produced the updates reaching `n` (through calcs and unions), for error messages. */
function producerOf(n: PlanNode, byId: (id: number) => PlanNode): PlanNode {
  let cur = n;
  while (PASS_THROUGH.has(cur.kind)) {
    const next = inputsOf(cur)
      .map(byId)
      .find((x) => isUpdating(x));
    if (next === undefined) break;
    cur = next;
  }
  return cur;
}

/** Connectors whose sinks consume updates: print shows the kinds, blackhole drops everything, collect keeps them for the client, upsert-kafka writes by primary key. */
const UPDATING_SINKS = new Set(['print', 'blackhole', 'collect', 'upsert-kafka']);

const WHY: Record<string, string> = {
  filesystem: 'the filesystem sink writes append-only files, which cannot retract a row it has written',
  kafka: "the 'kafka' connector is append-only (the 'upsert-kafka' connector writes updates by primary key)",
  datastream: 'toDataStream() takes insert-only tables; use toChangelogStream() for an updating one',
};

/**
 * Marks a node being added to a plan: calc and union become updating when an input is; nodes
 * that only take insert-only input (windowed aggregates, deduplication) and append-only sinks
 * refuse an updating input, naming the node that produces the updates (as Flink's planner does).
 */
export function markChangelog(node: PlanNode, byId: (id: number) => PlanNode): void {
  const updatingInput = inputsOf(node)
    .map(byId)
    .find((x) => isUpdating(x));
  if (updatingInput === undefined) return;
  const producer = producerOf(updatingInput, byId);
  switch (node.kind) {
    case 'calc':
    case 'union':
      (node as { updating?: true }).updating = true;
      return;
    case 'group-agg':
      return;
    case 'rank':
      node.inputUpdating = true;
      return;
    case 'window-agg':
      throw changelogError(
        `a window aggregate doesn't support consuming update changes which is produced by node ${describeProducer(producer)}: windows need an insert-only input`,
      );
    case 'window-rank':
      throw changelogError(
        `a window Top-N (WindowRank) doesn't support consuming update changes which is produced by node ${describeProducer(producer)}: it needs an insert-only input`,
      );
    case 'over-agg':
      throw changelogError(
        `an OVER aggregate (OverAggregate) doesn't support consuming update changes which is produced by node ${describeProducer(producer)}: it needs an insert-only input`,
      );
    case 'deduplicate':
      throw changelogError(
        `deduplication (ROW_NUMBER() … = 1 on a time attribute) doesn't support consuming update changes which is produced by node ${describeProducer(producer)}`,
      );
    case 'sink': {
      const sink = node as SinkNode;
      if (UPDATING_SINKS.has(sink.connector)) {
        (sink as { updating?: true }).updating = true;
        return;
      }
      throw sinkError(sink, producer);
    }
    default:
      return;
  }
}

function sinkError(sink: SinkNode, producer: PlanNode): WeirError {
  const why = WHY[sink.connector] ?? `connector '${sink.connector}' is append-only`;
  return changelogError(
    `Table sink '${sink.table}' doesn't support consuming update changes which is produced by node ${describeProducer(producer)}: ${why}`,
  );
}

/** The error for an updating plan whose sink (e.g. `toDataStream`'s) takes only inserts, naming the node that produces the updates. */
export function refuseUpdates(sink: SinkNode, nodes: readonly PlanNode[]): WeirError {
  const byId = (i: number) => nodes[i];
  return sinkError(sink, producerOf(byId(sink.input), byId));
}

/** The kind of a row (`+I` when absent). */
export function kindOf(r: Row): RowKind {
  return (r[ROW_KIND] as RowKind | undefined) ?? '+I';
}

/** A row without its kind (the value a changelog adds or retracts). */
export function withoutKind(r: Row): Row {
  if (!(ROW_KIND in r)) return r;
  const { [ROW_KIND]: _k, ...rest } = r;
  return rest;
}

function rowKey(r: Row, columns?: readonly string[]): string {
  const names = columns ?? Object.keys(r).filter((k) => k !== ROW_KIND);
  return JSON.stringify(names.map((n) => r[n] ?? null));
}

/**
 * A table kept up to date from a changelog (Flink's materialized result, the SQL client's
 * `table` mode): `+I`/`+U` add a row at the end, `-U`/`-D` remove one equal row. Retracting a row
 * that is not there is an error: a correct changelog never does.
 */
export class MaterializedTable {
  /** The rows by the order they were added (a Map keeps insertion order and deletes in O(1)). */
  private readonly rows = new Map<number, Row>();
  /** The sequence numbers of the rows equal to a key, oldest first. */
  private readonly byKey = new Map<string, number[]>();
  private next = 0;
  constructor(private readonly columns?: readonly string[]) {}

  /** Applies one change: a retraction removes the oldest equal row, in time independent of the table's size. */
  apply(r: Row): void {
    const k = kindOf(r);
    const row = withoutKind(r);
    const key = rowKey(row, this.columns);
    if (k === '+I' || k === '+U') {
      const seq = this.next++;
      this.rows.set(seq, row);
      const same = this.byKey.get(key);
      if (same === undefined) this.byKey.set(key, [seq]);
      else same.push(seq);
      return;
    }
    const same = this.byKey.get(key);
    if (same === undefined) throw new Error(`changelog retracts a row that is not in the table (${k}${key})`);
    const seq = same.shift() as number;
    if (same.length === 0) this.byKey.delete(key);
    this.rows.delete(seq);
  }

  /** The rows now, in the order they were (last) added. */
  snapshot(): Row[] {
    return [...this.rows.values()];
  }

  /** How many rows the table holds. */
  get size(): number {
    return this.rows.size;
  }
}

/** The final table of a changelog (rows without their kind), in the order they were last added. */
export function foldChangelog(rows: Iterable<Row>, columns?: readonly string[]): Row[] {
  const t = new MaterializedTable(columns);
  for (const r of rows) t.apply(r);
  return t.snapshot();
}

// ---------------------------------------------------------------------------------------------
// Planning Top-N and deduplication (the planner calls in through TopNPlanner)

/** A planned relation as the planner keeps it: its node and its (qualified) fields. */
export interface PlannedRel {
  node: number;
  fields: { name: string; type: SqlType; qualifier?: string }[];
  window?: WindowSpec;
  /** With `window`: the column the window TVF's DESCRIPTOR names. */
  windowColumn?: string;
  /** Window properties (window_start, window_end columns) of a window TVF's or window aggregate's rows. */
  windowed?: { spec: WindowSpec; start: string; end: string };
}

/** The qualifier of a Top-N's row number column while its subquery's items are planned: `*` leaves it out. */
export const RANK_QUALIFIER = '$rank';

/** What Top-N planning needs of the planner. */
export interface TopNPlanner {
  planFrom(f: FromItem): PlannedRel;
  /** A SELECT's FROM with the WHERE conjuncts a join takes out of it, and the rest of the WHERE. */
  planSource(s: Select): { rel: PlannedRel; where: Expr | undefined };
  /** An expression over a relation's fields: JavaScript source and SQL type. */
  compile(e: Expr, rel: PlannedRel): { code: string; type: SqlType };
  add<N extends PlanNode>(node: Omit<N, 'id' | 'uid'>): N;
  /** A SELECT block over an already planned input (its FROM is not read). */
  planSelectOn(s: Select, input: PlannedRel): PlannedRel;
  node(id: number): PlanNode;
  /** The SQL text of an expression, for messages. */
  textOf(e: { loc: { start: number; end: number } }): string;
}

function validation(message: string): WeirError {
  return new WeirError(message, { code: ErrorCodes.SQL_VALIDATION, domain: 'user' });
}
function unsupportedFeature(feature: string): WeirError {
  return new WeirError(`not supported yet: ${feature}`, { code: ErrorCodes.SQL_UNSUPPORTED, domain: 'user' });
}

type Call = Extract<Expr, { kind: 'call' }>;

/** The `ROW_NUMBER() OVER (…) AS rn` item of a subquery that an outer SELECT reads, when there is one. */
export function rankSubquery(s: Select): { query: Query; inner: Select; item: number; call: Call; alias?: string } | undefined {
  if (s.from?.kind !== 'subquery') return undefined;
  const q = s.from.query;
  if (q.body.kind !== 'select') return undefined;
  const inner = q.body;
  const item = inner.items.findIndex(
    (i) => i.kind === 'expr' && i.expr.kind === 'call' && i.expr.over !== undefined && ['ROW_NUMBER', 'RANK', 'DENSE_RANK'].includes(i.expr.name),
  );
  if (item < 0) return undefined;
  const it = inner.items[item] as Extract<Select['items'][number], { kind: 'expr' }>;
  return { query: q, inner, item, call: it.expr as Call, alias: it.alias };
}

function conjuncts(e: Expr | undefined): Expr[] {
  if (e === undefined) return [];
  if (e.kind === 'binary' && e.op === 'AND') return [...conjuncts(e.left), ...conjuncts(e.right)];
  return [e];
}

function references(v: unknown, name: string, qualifier: string | undefined): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some((x) => references(x, name, qualifier));
  const o = v as Record<string, unknown>;
  if (o.kind === 'ref' && Array.isArray(o.path)) {
    const p = o.path as string[];
    return (p.length === 1 && p[0] === name) || (p.length === 2 && p[0] === qualifier && p[1] === name);
  }
  if (o.kind === 'star' && 'loc' in o) return o.qualifier === undefined || o.qualifier === qualifier;
  return Object.entries(o).some(([k, x]) => k !== 'loc' && k !== 'query' && references(x, name, qualifier));
}

/**
 * Plans `SELECT … FROM (SELECT …, ROW_NUMBER() OVER (PARTITION BY … ORDER BY …) AS rn FROM t) WHERE rn <= N`
 * (also `rn < N`, `rn = 1`, `N >= rn`): a deduplicate node when N is 1, the order is one time
 * attribute and rn is not in the output (Flink's rule), else a rank node; then the subquery's
 * other items and the outer SELECT over it.
 */
export function planTopN(p: TopNPlanner, outer: Select, found: NonNullable<ReturnType<typeof rankSubquery>>): PlannedRel {
  const { query, inner, call } = found;
  const from = outer.from as Extract<FromItem, { kind: 'subquery' }>;
  if (call.name !== 'ROW_NUMBER') throw unsupportedFeature(`${call.name}() (only ROW_NUMBER() Top-N and deduplication are built)`);
  const over = call.over as NonNullable<Call['over']>;
  if (over.frame !== undefined) throw validation(`ROW_NUMBER() takes no window frame, in '${p.textOf(call)}'`);
  if (over.orderBy.length === 0) throw validation(`ROW_NUMBER() needs an ORDER BY in its OVER clause, in '${p.textOf(call)}'`);
  if (call.args.length > 0) throw validation(`ROW_NUMBER() takes no arguments, in '${p.textOf(call)}'`);
  if (query.with.length > 0 || query.orderBy.length > 0 || query.limit !== undefined)
    throw unsupportedFeature('WITH, ORDER BY or LIMIT in the subquery of a Top-N');
  if (inner.distinct || inner.groupBy.length > 0 || inner.having !== undefined)
    throw unsupportedFeature('ROW_NUMBER() in a SELECT with GROUP BY or DISTINCT (aggregate in a nested subquery first)');
  const rn = found.alias;
  if (rn === undefined) throw validation(`ROW_NUMBER() needs an alias (… AS rn) for the outer WHERE to filter on, in '${p.textOf(call)}'`);
  if (inner.from === undefined) throw unsupportedFeature('SELECT without FROM');

  // N from the outer WHERE; the other conjuncts stay a filter
  let limit: number | undefined;
  const rest: Expr[] = [];
  for (const c of conjuncts(outer.where)) {
    const bound = rankBound(c, rn, from.alias);
    if (bound === undefined) rest.push(c);
    else if (bound === 'equal-other') throw unsupportedFeature(`'${p.textOf(c)}' (a rank range other than rn = 1 or rn <= N)`);
    else limit = Math.min(limit ?? bound, bound);
  }
  if (limit === undefined)
    throw unsupportedFeature(`ROW_NUMBER() without a filter on '${rn}' in the outer WHERE (Top-N needs WHERE ${rn} <= N)`);
  if (limit < 1) throw validation(`the filter on '${rn}' keeps no row (row numbers start at 1)`);
  const remaining = rest.reduceRight<Expr | undefined>(
    (acc, c) => (acc === undefined ? c : { kind: 'binary', op: 'AND', left: c, right: acc, loc: c.loc }),
    undefined,
  );
  const rnOutput =
    outer.items.some((i) => references(i, rn, from.alias)) || (remaining !== undefined && references(remaining, rn, from.alias));

  const { rel: source, where: innerWhere } = p.planSource(inner);
  let input = source;
  // a window TVF's rows get their window columns (window assignment) before they are ranked
  if (innerWhere !== undefined || source.window !== undefined) {
    const filtered = p.planSelectOn(
      { ...inner, where: innerWhere, items: [{ kind: 'star', loc: inner.loc }], groupBy: [], distinct: false },
      source,
    );
    input = {
      node: filtered.node,
      fields: filtered.fields.map((f, i) => ({ ...f, qualifier: source.fields[i]?.qualifier })),
      windowed: filtered.windowed,
    };
  }
  if (input.fields.some((f) => f.name === rn))
    throw validation(`the row number's alias '${rn}' is also a column of the input; name it differently`);
  const partitionKeys = over.partitionBy.map((e) => ({ code: p.compile(e, input).code }));
  const order = over.orderBy.map((o) => ({ ...p.compile(o.expr, input), desc: o.desc, expr: o.expr }));
  const inputUpdating = isUpdating(p.node(input.node));
  const time = order.length === 1 ? order[0].type.time : undefined;
  let ranked: PlannedRel;
  const windowRank = planWindowRank(p, { input, over, partitionKeys, order, limit, rn: rnOutput ? rn : undefined, tvfTime: source.windowColumn });
  if (windowRank !== undefined) ranked = windowRank;
  else if (limit === 1 && !rnOutput && time !== undefined && order[0].expr.kind === 'ref') {
    if (inputUpdating)
      throw validation(
        `deduplication (ROW_NUMBER() … = 1 on a time attribute) doesn't support consuming update changes which is produced by node ${describeProducer(producerOf(p.node(input.node), (i) => p.node(i)))}`,
      );
    const keep = order[0].desc ? 'last' : 'first';
    const path = order[0].expr.path;
    const node = p.add<DeduplicateNode>({
      kind: 'deduplicate',
      input: input.node,
      keys: partitionKeys,
      keyText: over.partitionBy.map((e) => p.textOf(e)),
      keep,
      time,
      timeField: path[path.length - 1],
      fields: input.fields.map((f) => ({ name: f.name, type: f.type })),
      ...(time === 'proctime' && keep === 'first' ? {} : { updating: true as const }),
    });
    ranked = { node: node.id, fields: input.fields };
  } else {
    const rnField = { name: rn, type: { kind: 'BIGINT', nullable: false } as SqlType, qualifier: RANK_QUALIFIER };
    const fields = [...input.fields, ...(rnOutput ? [rnField] : [])];
    const node = p.add<RankNode>({
      kind: 'rank',
      input: input.node,
      partitionKeys,
      orderBy: order.map((o) => ({ expr: { code: o.code }, desc: o.desc })),
      text: {
        partitionBy: over.partitionBy.map((e) => p.textOf(e)),
        orderBy: over.orderBy.map((o) => `${p.textOf(o.expr)} ${o.desc ? 'DESC' : 'ASC'}`),
      },
      limit,
      ...(rnOutput ? { rankField: rn } : {}),
      fields: fields.map((f) => ({ name: f.name, type: f.type })),
      updating: true,
    });
    ranked = { node: node.id, fields };
  }
  // the subquery's other items, the row number as a column when it is read
  const items = inner.items.flatMap((it, i) =>
    i !== found.item
      ? [it]
      : rnOutput
        ? [{ kind: 'expr' as const, expr: { kind: 'ref' as const, path: [RANK_QUALIFIER, rn], loc: it.loc }, alias: rn, loc: it.loc }]
        : [],
  );
  const projected = p.planSelectOn({ ...inner, items, where: undefined }, ranked);
  const sub = { node: projected.node, fields: projected.fields.map((f) => ({ ...f, qualifier: from.alias })) };
  return p.planSelectOn({ ...outer, where: remaining }, sub);
}

/** N of a conjunct that bounds the row number from above (`rn <= N`, `rn < N`, `rn = 1`, `N >= rn`, `N > rn`). */
function rankBound(e: Expr, rn: string, qualifier: string | undefined): number | 'equal-other' | undefined {
  if (e.kind !== 'binary') return undefined;
  const isRn = (x: Expr) => x.kind === 'ref' && references(x, rn, qualifier);
  const int = (x: Expr) => (x.kind === 'literal' && x.type === 'number' && Number.isInteger(x.value) ? (x.value as number) : undefined);
  let op = e.op;
  let n: number | undefined;
  if (isRn(e.left)) n = int(e.right);
  else if (isRn(e.right)) {
    n = int(e.left);
    op = ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=' } as Record<string, string>)[op] ?? op;
  } else return undefined;
  if (n === undefined) return undefined;
  if (op === '<=') return n;
  if (op === '<') return n - 1;
  if (op === '=') return n === 1 ? 1 : 'equal-other';
  return undefined;
}
