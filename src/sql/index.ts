//! Flink SQL on weir: the Table API, the parser and planner (run where jobs are submitted), and the plan types.

export {
  Table,
  TableEnvironment,
  explainPlan,
  lateRowsOf,
  type LiveRowListener,
  type TableEnvironmentSettings,
  type TableResult,
} from './table-environment.ts';
export { Schema, SchemaBuilder, StreamTable, StreamTableEnvironment, type SchemaColumn } from './stream-table-environment.ts';
export { SqlSyntaxError } from './syntax-error.ts';
export { Catalog, Planner, typeText } from './planner.ts';
export type { SqlPlan, PlanNode, PlanField, SqlType, RowKind } from './plan.ts';
export { ROW_KIND } from './plan.ts';
export { MaterializedTable, foldChangelog } from './plan-changelog.ts';
