//! A SQL job's plan: plain data (operators, uids, types, expressions as JavaScript source) that workers rebuild the graph from without the parser.

import type { DeduplicateNode, GroupAggNode, RankNode } from './plan-changelog.ts';
import type { LookupJoinNode } from './plan-lookup.ts';
import type { UserFunctionRef } from './user-functions.ts';
import type { OverAggNode } from './plan-over.ts';
import type { WindowRankNode } from './plan-window-rank.ts';

/** A SQL type as the plan carries it. */
export interface SqlType {
  kind:
    | 'STRING'
    | 'BOOLEAN'
    | 'TINYINT'
    | 'SMALLINT'
    | 'INT'
    | 'BIGINT'
    | 'FLOAT'
    | 'DOUBLE'
    | 'DECIMAL'
    | 'DATE'
    | 'TIME'
    | 'TIMESTAMP'
    | 'TIMESTAMP_LTZ'
    | 'ARRAY'
    | 'MAP'
    | 'ROW'
    | 'BYTES'
    | 'NULL'
    | 'INTERVAL';
  nullable: boolean;
  precision?: number;
  scale?: number;
  /** VARCHAR(n) / CHAR(n). */
  length?: number;
  /** ROW fields. */
  fields?: { name: string; type: SqlType }[];
  /** ARRAY element; MAP key and value. */
  element?: SqlType;
  key?: SqlType;
  value?: SqlType;
  /** Time attribute: event time (from a WATERMARK) or processing time. */
  time?: 'rowtime' | 'proctime';
}

/** The kind of a row in a changelog, as Flink's `RowKind` prints it. */
export type RowKind = '+I' | '-U' | '+U' | '-D';

/**
 * The property that carries a row's kind in an updating stream (Flink's `RowData.getRowKind()`).
 * Rows are plain objects keyed by column name; in an insert-only stream the property is absent,
 * and an absent kind means `+I` everywhere, so insert-only plans pay nothing for changelogs.
 * Operators that pass rows through (calc, union) copy it; connectors never write it as a column.
 */
export const ROW_KIND = '$kind';

/** A named, typed column of a plan node's output rows (rows are plain objects keyed by name). */
export interface PlanField {
  name: string;
  type: SqlType;
}

/** A computed value: a JavaScript expression over `r` (the input row) and `$` (the runtime functions). */
export interface PlanExpr {
  code: string;
}

/** A source table read through a connector. */
export interface SourceNode {
  kind: 'source';
  id: number;
  uid: string;
  table: string;
  connector: string;
  options: Record<string, string>;
  /** Columns the connector produces. */
  physical: PlanField[];
  /** Metadata columns (`METADATA FROM 'key'`): the connector fills column `name` from its metadata `key`. */
  metadata: { name: string; key: string; type: SqlType }[];
  /** Computed columns, evaluated after the physical ones, in order. */
  computed: { name: string; expr: PlanExpr }[];
  /** All columns of the table, in order. */
  fields: PlanField[];
  /** Event time: the rowtime column and the watermark expression. */
  watermark?: { column: string; expr: PlanExpr };
  /** The table's PRIMARY KEY (NOT ENFORCED) columns. */
  primaryKey?: string[];
  /** The connector reads a changelog: rows carry `$kind` (upsert-kafka, `fromChangelogStream`, a changelog format). */
  updating?: true;
  /**
   * The changelog is upserts by `primaryKey` (`+U` without `-U`, `-D` with only the key): the
   * source is followed by Flink's ChangelogNormalize, keyed state of each key's last row, which
   * turns it into a full changelog (`+I` first, `-U`/`+U` after, `-D` with the old row).
   */
  upsert?: true;
}

/** Filter and projection, compiled into one function. */
export interface CalcNode {
  kind: 'calc';
  id: number;
  uid: string;
  input: number;
  filter?: PlanExpr;
  projection: { name: string; expr: PlanExpr }[];
  fields: PlanField[];
  /** The input is updating: each output row copies its input row's kind (a filter drops a change on its own, as Flink's Calc). */
  updating?: true;
}

/** Window of a windowed aggregate. */
export type WindowSpec = (
  | { kind: 'tumble'; size: number }
  | { kind: 'hop'; size: number; slide: number }
  | { kind: 'cumulate'; size: number; step: number }
  | { kind: 'session'; gap: number }
) & {
  /** Windows of processing time (on a `PROCTIME()` attribute): assigned by the subtask's clock, fired when it passes their end. */
  proctime?: true;
};

/** One aggregate call of a windowed aggregate. */
export interface AggCall {
  fn: 'COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX';
  /** Argument (absent for COUNT(*)). */
  arg?: PlanExpr;
  distinct: boolean;
  filter?: PlanExpr;
  /** AVG over an integer type truncates, as Flink's. */
  integer: boolean;
}

/**
 * A windowed aggregate (window TVF or group window): keyed by the group keys, one result row per
 * key and window when the watermark passes the window's end. The projection and HAVING see `g`:
 * `g.k` the key values, `g.a` the aggregate results, `g.ws`/`g.we` the window's start and end.
 */
export interface WindowAggNode {
  kind: 'window-agg';
  id: number;
  uid: string;
  input: number;
  keys: PlanExpr[];
  /**
   * One group key of a scalar type (not ROW, ARRAY or MAP): the key value itself keys the state,
   * instead of the JSON text of the key list (the plans of weir before 2026-12 lack it).
   */
  scalarKey?: true;
  window: WindowSpec;
  /**
   * A cascading window aggregate (GROUP BY the window properties of a window aggregate's output):
   * each row's window is read from these columns instead of assigned from its timestamp.
   */
  attached?: { start: string; end: string };
  /**
   * The event-time column windows are assigned from (the TVF's DESCRIPTOR, the group window's
   * argument), as Flink assigns them; it differs from the record's timestamp after a join.
   */
  timeField?: string;
  aggs: AggCall[];
  having?: PlanExpr;
  projection: { name: string; expr: PlanExpr }[];
  fields: PlanField[];
}

/** UNION ALL of inputs with the same columns. */
export interface UnionNode {
  kind: 'union';
  id: number;
  uid: string;
  inputs: number[];
  fields: PlanField[];
  /** An input is updating. */
  updating?: true;
}

/** A sink table written through a connector (or the collect sink of `execute().collect()`). */
export interface SinkNode {
  kind: 'sink';
  id: number;
  uid: string;
  input: number;
  table: string;
  connector: string;
  options: Record<string, string>;
  fields: PlanField[];
  /** The input is updating (only sinks that consume changes accept it: print, blackhole, collect, upsert-kafka). */
  updating?: true;
  /** The sink table's PRIMARY KEY (upsert-kafka writes each row under it). */
  primaryKey?: string[];
}

/** One node of a plan; inputs always come before the nodes that read them. */
export type PlanNode =
  | SourceNode
  | CalcNode
  | WindowAggNode
  | UnionNode
  | SinkNode
  | JoinNode
  | GroupAggNode
  | RankNode
  | DeduplicateNode
  | WindowAssignNode
  | LookupJoinNode

  | OverAggNode
  | WindowRankNode;

/** A SQL job: its nodes and settings. */
export interface SqlPlan {
  version: 1;
  jobName: string;
  nodes: PlanNode[];
  /** `SET` options that shape the graph (e.g. `pipeline.auto-watermark-interval`). */
  config: Record<string, string>;
  /** User-defined functions the expressions call as `$.udf[key]`, by key: imported on every worker before the graph is built. */
  functions?: Record<string, UserFunctionRef>;
}

/** The job param that carries the plan to the SQL job module. */
export const PLAN_PARAM = 'weir.sql.plan';
/** The collect id of `execute().collect()`. */
export const COLLECT_ID = 'weir.sql.collect';
/** The collect sink's option naming the BroadcastChannel a SELECT's rows are also posted to as they arrive (the SQL client's live result). */
export const LIVE_CHANNEL_OPTION = 'weir.live-channel';

/**
 * A join of two inputs (`src/sql/plan-joins.ts` plans it, `src/sql/ops/joins.ts` runs it), keyed
 * by its equi-keys. Output rows are built column by column from the left row `l` and the right
 * row `r` (NULL for the padding of an outer join); the residual condition sees the output row.
 */
export interface JoinNode {
  kind: 'join';
  id: number;
  uid: string;
  /**
   * regular: both sides kept in keyed state; interval: rows kept while a time bound can still match; window: per window, fired by the watermark;
   * temporal: `FOR SYSTEM_TIME AS OF` a rowtime, each left row joined with the right's version valid at its time (`src/sql/plan-temporal.ts`).
   */
  strategy: 'regular' | 'interval' | 'window' | 'temporal';
  joinType: 'INNER' | 'LEFT' | 'RIGHT' | 'FULL';
  left: number;
  right: number;
  /** Equi-keys: left key i is compared with right key i (NULL never matches). */
  leftKeys: PlanExpr[];
  rightKeys: PlanExpr[];
  /** The input columns, in order: a row's identity in state (for retractions). */
  leftColumns: string[];
  rightColumns: string[];
  /** Output columns: each is the `column` of the left (`l`) or right (`r`) row. */
  output: { name: string; side: 'l' | 'r'; column: string }[];
  /** The rest of the join condition, over the output row `r`. */
  condition?: PlanExpr;
  /** Interval join: `right.rightTime - left.leftTime` lies between `lower` and `upper` (ms). */
  interval?: { leftTime: string; rightTime: string; lower: number; lowerInclusive: boolean; upper: number; upperInclusive: boolean };
  /** Temporal join: the left row's time (the AS OF column) and the versioned right table's rowtime column. */
  temporal?: { leftTime: string; rightTime: string };
  /** Window join: the window property columns of each side. */
  window?: { leftStart: string; leftEnd: string; rightStart: string; rightEnd: string };
  /** Inputs whose rows carry a row kind (-U/-D): the join retracts them from state. */
  leftUpdating?: true;
  rightUpdating?: true;
  /** `table.exec.state.ttl` in ms (regular joins): state unused this long is dropped. */
  stateTtl?: number;
  /** The output is a changelog (rows carry `$kind`). */
  updating?: true;
  fields: PlanField[];
}

/**
 * A window table function not aggregated (`SELECT * FROM TABLE(TUMBLE(…))`): each row once per
 * window it falls in, with `window_start`, `window_end` and `window_time` (= end − 1) added.
 */
export interface WindowAssignNode {
  kind: 'window-assign';
  id: number;
  uid: string;
  input: number;
  window: WindowSpec;
  /** The DESCRIPTOR column (event time). */
  timeColumn: string;
  fields: PlanField[];
}
