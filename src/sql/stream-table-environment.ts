//! StreamTableEnvironment: SQL inside a DataStream job (fromDataStream, sqlQuery, toDataStream), planned where the job is submitted and handed to worker threads as data.

import { createHash } from 'node:crypto';
import { getEnvironmentData, isMainThread, setEnvironmentData } from 'node:worker_threads';
import type { DataStream } from '../api/datastream.ts';
import type { StreamExecutionEnvironment } from '../api/environment.ts';
import { configError } from '../core/errors.ts';
import type { SinkNode, SqlPlan } from './plan.ts';
import { isUpdating, refuseUpdates } from './plan-changelog.ts';
import { DATASTREAM_CONNECTOR, buildGraph } from './runtime.ts';
import type { TableEnvironment } from './table-environment.ts';

type Row = Record<string, unknown>;

/** A column of a {@link Schema}: physical (read from the stream's objects, with its SQL type) or computed. */
export type SchemaColumn = { name: string; type: string } | { name: string; expression: string };

/**
 * The columns of a DataStream turned into a table, as Flink's `Schema`: JavaScript objects carry
 * no column types, so every physical column is declared with its SQL type; a computed column and
 * a watermark make a rowtime attribute.
 *
 * ```ts
 * Schema.newBuilder()
 *   .column('bidder', 'BIGINT')
 *   .column('ts', 'BIGINT')
 *   .columnByExpression('rowtime', 'TO_TIMESTAMP_LTZ(ts, 3)')
 *   .watermark('rowtime', "rowtime - INTERVAL '1' SECOND")
 *   .build();
 * ```
 */
export class Schema {
  private constructor(
    /** The columns, in order. */
    readonly columns: readonly SchemaColumn[],
    /** The rowtime column and its watermark expression. */
    readonly watermark?: { column: string; expression: string },
    /** The PRIMARY KEY (NOT ENFORCED) columns. */
    readonly primaryKey?: readonly string[],
  ) {}

  /** A builder (Flink's `Schema.newBuilder()`). */
  static newBuilder(): SchemaBuilder {
    return new SchemaBuilder((columns, watermark, primaryKey) => new Schema(columns, watermark, primaryKey));
  }

  /** The table's column list as DDL. */
  ddl(): string {
    const parts = this.columns.map((c) => ('type' in c ? `${quote(c.name)} ${c.type}` : `${quote(c.name)} AS ${c.expression}`));
    if (this.watermark !== undefined) parts.push(`WATERMARK FOR ${quote(this.watermark.column)} AS ${this.watermark.expression}`);
    if (this.primaryKey !== undefined) parts.push(`PRIMARY KEY (${this.primaryKey.map(quote).join(', ')}) NOT ENFORCED`);
    return parts.join(', ');
  }
}

/** Builds a {@link Schema}. */
export class SchemaBuilder {
  private readonly columns: SchemaColumn[] = [];
  private wm: { column: string; expression: string } | undefined;
  private pk: string[] | undefined;
  constructor(
    private readonly make: (columns: SchemaColumn[], watermark?: { column: string; expression: string }, primaryKey?: string[]) => Schema,
  ) {}

  /** A physical column: the stream's objects' property `name`, of SQL type `type` (e.g. `'BIGINT'`, `'STRING'`). */
  column(name: string, type: string): this {
    this.columns.push({ name, type });
    return this;
  }

  /** A computed column: `expression` in SQL over the columns before it. */
  columnByExpression(name: string, expression: string): this {
    this.columns.push({ name, expression });
    return this;
  }

  /** The rowtime attribute: `column` (a TIMESTAMP(3) or TIMESTAMP_LTZ(3)) with its watermark `expression`. */
  watermark(column: string, expression: string): this {
    this.wm = { column, expression };
    return this;
  }

  /** The primary key (Flink's `primaryKey(…)`, NOT ENFORCED): a changelog table's rows are identified by it; a versioned table needs one. */
  primaryKey(...columns: string[]): this {
    this.pk = columns;
    return this;
  }

  /** The schema. */
  build(): Schema {
    return this.make([...this.columns], this.wm, this.pk);
  }
}

function quote(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** A table of a StreamTableEnvironment: a DataStream's rows or a query; its `toString()` is a name SQL can read it by. */
export class StreamTable {
  /** @internal */
  constructor(
    /** The name the table is registered under (Flink's `UnnamedTable$N` unless given). */
    readonly name: string,
    /** The query text, for a table made by `sqlQuery`. */
    readonly sql?: string,
  ) {}

  /** The table's name, so that `'SELECT … FROM ' + table` reads it, as in Flink. */
  toString(): string {
    return this.name;
  }
}

/** The environment-data key a plan is handed to worker threads under. */
const PLAN_KEY = 'weir.sql.stream-plan/';

/**
 * Flink's StreamTableEnvironment: SQL over DataStreams inside an ordinary job module.
 *
 * ```ts
 * export default defineJob(async (env) => {
 *   const tEnv = StreamTableEnvironment.create(env);
 *   const bids = tEnv.fromDataStream(stream, schema);
 *   const counts = tEnv.sqlQuery(`SELECT … FROM ${bids} GROUP BY TUMBLE(rowtime, INTERVAL '10' SECOND)`);
 *   (await tEnv.toDataStream(counts)).addSink(…);
 * });
 * ```
 *
 * Where the job is submitted (the main thread) `toDataStream` parses and plans the statements so
 * far and hands the plan to the worker threads the job then starts (Node's worker environment
 * data, keyed by a hash of the statements); a worker builds the same graph from that plan and
 * never loads the parser or planner. Results are insert-only (part 1 of SQL has no changelogs).
 */
export class StreamTableEnvironment {
  /** What shaped the catalog so far, in order: statement texts and generated DDL (the plan key hashes them). */
  private readonly log: string[] = [];
  private readonly inputs: DataStream<Row>[] = [];
  private unnamed = 0;
  private outputs = 0;

  private constructor(private readonly env: StreamExecutionEnvironment) {}

  /** A table environment over the job's environment (Flink's `StreamTableEnvironment.create(env)`). */
  static create(env: StreamExecutionEnvironment): StreamTableEnvironment {
    return new StreamTableEnvironment(env);
  }

  /** The DataStream of row objects as a table, with its columns (and rowtime) declared by `schema`. */
  fromDataStream<T extends object>(stream: DataStream<T>, schema?: Schema): StreamTable {
    const name = `UnnamedTable$${this.unnamed++}`;
    this.register(name, stream as unknown as DataStream<object>, schema);
    return new StreamTable(name);
  }

  /** Registers the DataStream as the table `name` (Flink's `createTemporaryView(path, stream, schema)`). */
  createTemporaryView<T extends object>(name: string, stream: DataStream<T>, schema?: Schema): void {
    this.register(name, stream as unknown as DataStream<object>, schema);
  }

  /**
   * A changelog DataStream as a table (Flink's `fromChangelogStream`): each object's `$kind`
   * property (`ROW_KIND`: '+I' | '-U' | '+U' | '-D'; absent means '+I') is its row kind.
   * `changelogMode` 'all' (the default) takes the kinds as they are; 'upsert' (Flink's
   * `ChangelogMode.upsert()`) takes `+I`/`+U` as upserts and `-D` as deletes by the schema's
   * primary key, which then is required, and normalizes them in keyed state (Flink's
   * ChangelogNormalize): `-U` with the old row before each `+U`, `-D` with the old row.
   */
  fromChangelogStream<T extends object>(stream: DataStream<T>, schema?: Schema, changelogMode: 'all' | 'upsert' = 'all'): StreamTable {
    const name = `UnnamedTable$${this.unnamed++}`;
    this.register(name, stream as unknown as DataStream<object>, schema, changelogMode);
    return new StreamTable(name);
  }

  private register(name: string, stream: DataStream<object>, schema: Schema | undefined, changelog?: 'all' | 'upsert'): void {
    if (schema === undefined || schema.columns.length === 0)
      throw configError(
        `fromDataStream('${name}'): weir needs a Schema with the columns' SQL types (Schema.newBuilder().column(name, type)…); JavaScript objects carry no types`,
      );
    const index = this.inputs.length;
    this.inputs.push(stream as unknown as DataStream<Row>);
    this.log.push(
      `CREATE TEMPORARY TABLE ${quote(name)} (${schema.ddl()}) WITH ('connector' = '${DATASTREAM_CONNECTOR}', 'datastream.index' = '${index}'${changelog === undefined ? '' : `, 'datastream.changelog' = '${changelog}'`})`,
    );
  }

  /**
   * Runs a DDL or SET statement (`CREATE TABLE`, `CREATE VIEW`, `SET`, …) against the
   * environment's catalog when the job is planned; INSERT and SELECT are refused there (read a
   * query with {@link toDataStream}).
   */
  executeSql(sql: string): void {
    this.log.push(sql);
  }

  /** A query over the environment's tables, registered as `UnnamedTable$N` so later queries may read it. */
  sqlQuery(sql: string): StreamTable {
    const name = `UnnamedTable$${this.unnamed++}`;
    this.log.push(`CREATE TEMPORARY VIEW ${quote(name)} AS ${sql}`);
    return new StreamTable(name, sql);
  }

  /**
   * The table's rows as a DataStream of row objects keyed by column name (TIMESTAMP values are
   * epoch ms). The table must be insert-only, as Flink's: an updating one is refused when the job
   * is planned (read it with {@link toChangelogStream}).
   */
  async toDataStream(table: StreamTable): Promise<DataStream<Row>> {
    return this.toStream(table, false);
  }

  /**
   * The table's changelog as a DataStream (Flink's `toChangelogStream`): each row object carries
   * its kind in its `$kind` property (`ROW_KIND`: '+I' | '-U' | '+U' | '-D'; absent means '+I').
   */
  async toChangelogStream(table: StreamTable): Promise<DataStream<Row>> {
    return this.toStream(table, true);
  }

  private async toStream(table: StreamTable, changelog: boolean): Promise<DataStream<Row>> {
    const query = table.sql ?? `SELECT * FROM ${quote(table.name)}`;
    const position = this.outputs++;
    const key =
      PLAN_KEY +
      createHash('sha256')
        .update(JSON.stringify([this.log, query, position, changelog]))
        .digest('hex');
    let text = getEnvironmentData(key) as string | undefined;
    if (text === undefined) {
      if (!isMainThread)
        throw configError(
          `toDataStream(${table.name}): this worker thread was not handed the query's plan; a StreamTableEnvironment job plans where it is submitted (the main thread), and its statements must not depend on the thread`,
        );
      const plan = await this.plan(query, position);
      const sink = plan.nodes[plan.nodes.length - 1];
      if (!changelog && isUpdating(sink)) throw refuseUpdates(sink as SinkNode, plan.nodes);
      text = JSON.stringify(plan);
      setEnvironmentData(key, text);
    }
    const plan = JSON.parse(text) as SqlPlan;
    const [out] = buildGraph(this.env, plan, this.inputs);
    return out;
  }

  /** Parses and plans (loading the parser): only where the job is submitted. */
  private async plan(query: string, position: number): Promise<SqlPlan> {
    const { TableEnvironment } = await import('./table-environment.ts');
    const tEnv: TableEnvironment = TableEnvironment.create();
    for (const statement of this.log) await tEnv.executeDefinition(statement);
    const plan = await tEnv.planQuery(query);
    const prefix = `to-datastream-${position}`;
    return {
      ...plan,
      nodes: plan.nodes.map((n) =>
        n.kind === 'sink'
          ? { ...n, table: prefix, connector: DATASTREAM_CONNECTOR, uid: n.uid.replace(/^[^/]*/, prefix) }
          : { ...n, uid: n.uid.replace(/^[^/]*/, prefix) },
      ),
    };
  }
}
