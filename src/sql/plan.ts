//! A SQL job's plan: plain data (operators, uids, types, expressions as JavaScript source) that workers rebuild the graph from without the parser.

import type { DeduplicateNode, GroupAggNode, RankNode } from './plan-changelog.ts';

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
  window: WindowSpec;
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
  /** The input is updating (only sinks that consume changes accept it: print, blackhole, collect). */
  updating?: true;
}

/** One node of a plan; inputs always come before the nodes that read them. */
export type PlanNode = SourceNode | CalcNode | WindowAggNode | UnionNode | SinkNode | GroupAggNode | RankNode | DeduplicateNode;

/** A SQL job: its nodes and settings. */
export interface SqlPlan {
  version: 1;
  jobName: string;
  nodes: PlanNode[];
  /** `SET` options that shape the graph (e.g. `pipeline.auto-watermark-interval`). */
  config: Record<string, string>;
}

/** The job param that carries the plan to the SQL job module. */
export const PLAN_PARAM = 'weir.sql.plan';
/** The collect id of `execute().collect()`. */
export const COLLECT_ID = 'weir.sql.collect';
/** The collect sink's option naming the BroadcastChannel a SELECT's rows are also posted to as they arrive (the SQL client's live result). */
export const LIVE_CHANNEL_OPTION = 'weir.live-channel';
