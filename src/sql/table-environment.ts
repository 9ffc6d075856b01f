//! The Table API: TableEnvironment (executeSql, sqlQuery, explain) and Table.execute().collect(), planning where the job is submitted and running SQL jobs on worker threads.

import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import type { JobResult } from '../actors/job-master.ts';
import { startJob, type ExecuteOptions, type JobClient } from '../scheduler/execute.ts';
import type { Query, Statement } from './ast.ts';
import type * as ParserModule from './parser.ts';
import { COLLECT_ID, LIVE_CHANNEL_OPTION, PLAN_PARAM, type PlanField, type PlanNode, type SqlPlan } from './plan.ts';
import { describeProducer, foldChangelog, isUpdating } from './plan-changelog.ts';
import { Catalog, Planner, createTable, typeText, unsupported, validationError } from './planner.ts';
import { resolveUserFunction, type ScalarFunction, type UserFunction } from './user-functions.ts';

type Row = Record<string, unknown>;

/** How a TableEnvironment runs its jobs: weir's job options (parallelism, threads or local, checkpoints). */
export type TableEnvironmentSettings = Omit<ExecuteOptions, 'params'>;

/** What a statement gave: a message, rows (SHOW, DESCRIBE, SELECT), or a finished job (INSERT). */
export interface TableResult {
  /** `OK` for DDL and SET; the rows' kind otherwise. */
  kind: 'ok' | 'rows' | 'job';
  /** Column names of `rows`. */
  columns: string[];
  /** Rows of SHOW, DESCRIBE, EXPLAIN and SELECT. */
  rows: Row[];
  /** The job an INSERT or SELECT ran, when it ran one. */
  job?: JobResult;
  /** Rows dropped as late by the job's windows (Flink's numLateRecordsDropped). */
  lateRowsDropped?: number;
  /** The rows as an async iterator (Flink's `TableResult.collect()`). */
  collect(): AsyncIterableIterator<Row>;
  /**
   * Whether the query is updating: then `rows` (and `collect()`) are its changelog, each row's
   * kind in its `$kind` property (`ROW_KIND`: '+I' | '-U' | '+U' | '-D'; absent means '+I'), as
   * Flink's collected Rows carry their RowKind.
   */
  updating: boolean;
  /** The final table: the changelog folded (a retraction removes an equal row); the rows themselves for an insert-only result. */
  materialize(): Row[];
}

function result(kind: TableResult['kind'], columns: string[], rows: Row[], job?: JobResult, updating = false): TableResult {
  const late = job === undefined ? undefined : lateRowsOf(job);
  return {
    kind,
    columns,
    rows,
    job,
    lateRowsDropped: late,
    updating,
    async *collect() {
      yield* rows;
    },
    materialize: () => (updating ? foldChangelog(rows, columns) : [...rows]),
  };
}

/** Told of a SELECT's rows while its job runs (the SQL client's result view). */
export interface LiveRowListener {
  /**
   * The query's columns (name and SQL type), before its job starts; `updating` when the query's
   * rows are a changelog (each row's kind in its `$kind` property, absent meaning `+I`).
   */
  start(fields: { name: string; type: string }[], updating?: boolean): void;
  /**
   * Rows as they arrive. When the job ends, rows its collected result holds that did not arrive
   * live come in one last call, so that every row is told once (a job that restarted may have
   * told some twice before).
   */
  rows(rows: Row[]): void;
}

/** Rows the job's window operators dropped as late. */
export function lateRowsOf(job: JobResult): number {
  let n = 0;
  for (const s of job.subtasks) for (const o of s.operators) n += o.counters?.numLateRecordsDropped ?? 0;
  return n;
}

let parserModule: typeof ParserModule | undefined;

/**
 * The parser, loaded on first use: chevrotain takes a few hundred ms to import, and every job
 * module that imports weir's index (on every worker) would pay it otherwise.
 */
async function parser(): Promise<typeof ParserModule> {
  return (parserModule ??= await import('./parser.ts'));
}

/** The SQL job module, next to this file (`.ts` from source, `.js` when built). */
const SQL_JOB = new URL(import.meta.url.endsWith('.ts') ? './sql-job.ts' : './sql-job.js', import.meta.url);

/** A query's result table, not yet run (Flink's `Table`). */
export class Table {
  constructor(
    private readonly env: TableEnvironment,
    /** The plan; rejects with the parse or validation error of the query. */
    private readonly plan: Promise<SqlPlan>,
    /** The query and the text it was parsed from (for `createTemporaryView`). */
    readonly source: Promise<{ query: Query; text: string }>,
  ) {
    plan.catch(() => {}); // the error surfaces where the table is used
    source.catch(() => {});
  }

  private async columns(): Promise<PlanField[]> {
    const plan = await this.plan;
    return (plan.nodes[plan.nodes.length - 1] as PlanNode & { kind: 'sink' }).fields;
  }

  /** The columns as Flink's `DESCRIBE` shows them. */
  async getResolvedSchema(): Promise<{ name: string; type: string }[]> {
    return (await this.columns()).map((c) => ({ name: c.name, type: typeText(c.type) }));
  }

  /** The plan, as EXPLAIN prints it. */
  async explain(): Promise<string> {
    return explainPlan(await this.plan);
  }

  /**
   * Runs the query (its inputs must be bounded) and returns its rows, iterable with `collect()`;
   * `live` is told of the rows while the job runs.
   */
  async execute(live?: LiveRowListener): Promise<TableResult> {
    const plan = await this.plan;
    const columns = await this.columns();
    const job = live === undefined ? await this.env.runPlan(plan) : await runLive(this.env, plan, columns, live);
    const rows = (job.collected[COLLECT_ID] ?? []) as Row[];
    const sink = plan.nodes[plan.nodes.length - 1];
    return result(
      'rows',
      columns.map((c) => c.name),
      rows,
      job,
      isUpdating(sink),
    );
  }
}

/** Runs a SELECT's plan with its rows also posted, as they arrive, on a BroadcastChannel that `live` listens to. */
async function runLive(env: TableEnvironment, plan: SqlPlan, columns: PlanField[], live: LiveRowListener): Promise<JobResult> {
  const name = `weir.sql.live/${randomUUID()}`;
  const withChannel: SqlPlan = {
    ...plan,
    nodes: plan.nodes.map((n) =>
      n.kind === 'sink' && n.connector === 'collect' ? { ...n, options: { ...n.options, [LIVE_CHANNEL_OPTION]: name } } : n,
    ),
  };
  live.start(
    columns.map((c) => ({ name: c.name, type: typeText(c.type) })),
    isUpdating(plan.nodes[plan.nodes.length - 1]),
  );
  const told = new Map<string, number>();
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event) => {
    const rows = (event as unknown as { data: Row[] }).data;
    for (const r of rows) {
      const k = JSON.stringify(r);
      told.set(k, (told.get(k) ?? 0) + 1);
    }
    live.rows(rows);
  };
  let job: JobResult;
  try {
    job = await env.runPlan(withChannel);
  } finally {
    channel.close();
  }
  const missing = ((job.collected[COLLECT_ID] ?? []) as Row[]).filter((r) => {
    const k = JSON.stringify(r);
    const n = told.get(k) ?? 0;
    if (n === 0) return true;
    told.set(k, n - 1);
    return false;
  });
  if (missing.length > 0) live.rows(missing);
  return job;
}

/** Prints a plan as an operator tree, one node per line, with uids. */
export function explainPlan(plan: SqlPlan): string {
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const lines: string[] = [];
  const describe = (n: PlanNode): string => {
    switch (n.kind) {
      case 'source':
        return `TableSourceScan(table=[${n.table}], connector=[${n.connector}], fields=[${n.fields.map((f) => f.name).join(', ')}]${n.watermark ? `, watermark=[${n.watermark.column}: ${n.watermark.expr.code}]` : ''}${n.updating ? `, changelog=[${n.upsert ? `upsert, normalized by ${(n.primaryKey ?? []).join(', ')}` : 'all'}]` : ''})`;
      case 'calc':
        return `Calc(select=[${n.projection.map((p) => p.name).join(', ')}]${n.filter ? `, where=[${n.filter.code}]` : ''})`;
      case 'window-agg':
        return `WindowAggregate(window=[${JSON.stringify(n.window)}], keys=[${n.keys.length}], aggs=[${n.aggs.map((a) => `${a.fn}${a.distinct ? '(DISTINCT)' : ''}${a.filter ? ' FILTER' : ''}`).join(', ')}], select=[${n.projection.map((p) => p.name).join(', ')}])`;
      case 'union':
        return 'Union(all=[true])';
      case 'group-agg':
      case 'rank':
      case 'deduplicate':
      case 'over-agg':
      case 'window-rank':
        return describeProducer(n);
      case 'sink':
        return `Sink(table=[${n.table}], connector=[${n.connector}], fields=[${n.fields.map((f) => f.name).join(', ')}])`;
      case 'lookup-join':
        return `LookupJoin(table=[${n.table}], joinType=[${n.joinType}], keys=[${n.tableKeys.join(', ')}]${n.condition ? `, where=[${n.condition.code}]` : ''}, select=[${n.fields.map((f) => f.name).join(', ')}])`;
      case 'window-assign':
        return `WindowTableFunction(window=[${JSON.stringify(n.window)}], time=[${n.timeColumn}])`;
      case 'join':
        return `${{ regular: 'Join', interval: 'IntervalJoin', window: 'WindowJoin', temporal: 'TemporalJoin' }[n.strategy]}(joinType=[${n.joinType}], keys=[${n.leftKeys.length}]${n.condition ? `, where=[${n.condition.code}]` : ''}${n.updating ? ', changelog=[true]' : ''}, select=[${n.fields.map((f) => f.name).join(', ')}])`;
    }
  };
  const visit = (n: PlanNode, depth: number) => {
    lines.push(`${'   '.repeat(depth)}${depth > 0 ? '+- ' : ''}${describe(n)}  uid=${n.uid}`);
    const inputs = n.kind === 'source' ? [] : n.kind === 'union' ? n.inputs : n.kind === 'join' ? [n.left, n.right] : [n.input];
    for (const i of inputs) visit(byId.get(i) as PlanNode, depth + 1);
  };
  for (const n of plan.nodes) if (n.kind === 'sink') visit(n, 0);
  return lines.join('\n');
}

/**
 * Flink's TableEnvironment: a catalog of tables and views, `SET` options, and statements run as
 * SQL jobs. Parsing and planning happen here; the job runs on worker threads (or locally), which
 * rebuild the graph from the plan.
 */
export class TableEnvironment {
  private readonly catalog = new Catalog();
  private readonly config: Record<string, string> = {};
  private readonly functions = new Map<string, UserFunction>();
  private running: JobClient | undefined;

  private constructor(private readonly settings: TableEnvironmentSettings) {}

  /** A new environment; `settings` are weir's job options for the jobs it runs. */
  static create(settings: TableEnvironmentSettings = {}): TableEnvironment {
    return new TableEnvironment(settings);
  }

  /**
   * The `SET` options, read as a record; `getConfig().set(key, value)` sets one, as Flink's
   * `TableConfig.set` (the same as `SET 'key' = 'value'`).
   */
  getConfig(): Readonly<Record<string, string>> & { set(key: string, value: string): unknown } {
    if (!Object.prototype.hasOwnProperty.call(this.config, 'set')) {
      // not enumerable: the record's entries stay the options
      Object.defineProperty(this.config, 'set', {
        value: (key: string, value: string) => {
          this.config[key] = String(value);
          return this.getConfig();
        },
        enumerable: false,
        writable: true,
        configurable: true,
      });
    }
    return this.config as Readonly<Record<string, string>> & { set(key: string, value: string): unknown };
  }

  /** Tables and views, in creation order. */
  listTables(): string[] {
    return this.catalog.names();
  }

  /** The job client of the job running now, if any (for savepoints and cancel). */
  currentJob(): JobClient | undefined {
    return this.running;
  }

  /** Runs one statement (DDL, SET, SHOW, DESCRIBE, EXPLAIN, INSERT, SELECT). */
  async executeSql(sql: string): Promise<TableResult> {
    return this.execute((await parser()).parseStatement(sql), sql);
  }

  /** Runs a script of statements in order, as Flink's `sql-client.sh -f`; resolves with each result. */
  async executeScript(
    script: string,
    onResult?: (statement: Statement, result: TableResult) => void,
    live?: LiveRowListener,
  ): Promise<TableResult[]> {
    const out: TableResult[] = [];
    for (const s of (await parser()).parseScript(script)) {
      const r = await this.execute(s, script, live);
      onResult?.(s, r);
      out.push(r);
    }
    return out;
  }

  /**
   * A query as a Table, planned against the catalog as it is now and run by `execute()`; a
   * syntax or validation error rejects the Table's methods.
   */
  sqlQuery(sql: string): Table {
    const source = parser().then((p) => {
      const s = p.parseStatement(sql);
      if (s.kind !== 'query') throw validationError(`sqlQuery() takes a SELECT, got a ${s.kind} statement`);
      return { query: s.query, text: sql };
    });
    return new Table(
      this,
      source.then((q) => this.planner().planSelect(q.query, q.text)),
      source,
    );
  }

  /** Registers a Table as a view under `name` (Flink's `createTemporaryView`). */
  async createTemporaryView(name: string, table: Table): Promise<void> {
    const { query, text } = await table.source;
    this.catalog.put({ kind: 'view', name, query, text });
  }

  /**
   * Runs a statement that defines (DDL, SET, RESET); refuses one that runs a job (a
   * StreamTableEnvironment job reads queries with `toDataStream`).
   */
  async executeDefinition(sql: string): Promise<void> {
    const s = (await parser()).parseStatement(sql);
    if (s.kind === 'insert' || s.kind === 'statement-set' || s.kind === 'query' || s.kind === 'explain')
      throw unsupported(
        `${s.kind === 'query' ? 'SELECT' : s.kind.toUpperCase()} in StreamTableEnvironment.executeSql (use sqlQuery and toDataStream)`,
      );
    await this.execute(s, sql);
  }

  /**
   * The plan of a SELECT, its rows going to the collect sink (StreamTableEnvironment plans its
   * queries here, where the job is submitted).
   */
  async planQuery(sql: string): Promise<SqlPlan> {
    const s = (await parser()).parseStatement(sql);
    if (s.kind !== 'query') throw validationError(`sqlQuery() takes a SELECT, got a ${s.kind} statement`);
    return this.planner().planSelect(s.query, sql);
  }

  /** The plan of a statement as text (EXPLAIN). */
  async explainSql(sql: string): Promise<string> {
    const s = (await parser()).parseStatement(sql);
    return explainPlan(this.planOf(s, sql));
  }

  private planner(): Planner {
    return new Planner(this.catalog, this.config, this.functions);
  }

  /**
   * Registers a user-defined scalar function under `name` (Flink's `createTemporarySystemFunction`,
   * which takes a class or an instance). `fn` is either `'path/to/module.ts#exportName'` (a path
   * relative to the working directory), imported here and again on every worker; or the function
   * itself, which travels to the workers as its source text, so it must be self-contained (no
   * imports, no variables from outside it). Either way the function carries its SQL result type in
   * `resultType` ({@link ScalarFunction}). Resolves once the function is checked.
   */
  async createTemporarySystemFunction(name: string, fn: string | ScalarFunction): Promise<void> {
    const resolved = await resolveUserFunction(name, fn);
    if (this.functions.has(resolved.name)) throw validationError(`function '${name}' already exists`);
    this.functions.set(resolved.name, resolved);
  }

  private planOf(s: Statement, text: string): SqlPlan {
    if (s.kind === 'insert') return this.planner().planInsert(s, text);
    if (s.kind === 'query') return this.planner().planSelect(s.query, text);
    if (s.kind === 'statement-set') return this.planner().planStatementSet(s.inserts as Extract<Statement, { kind: 'insert' }>[], text);
    throw validationError(`EXPLAIN takes a query, an INSERT or a statement set, got ${s.kind}`);
  }

  /** Runs a plan as a job on the environment's settings. */
  async runPlan(plan: SqlPlan): Promise<JobResult> {
    const parallelism = this.config['parallelism.default'];
    const client = await startJob(SQL_JOB, {
      ...this.settings,
      ...(parallelism !== undefined ? { parallelism: Number(parallelism) } : {}),
      jobName: plan.config['pipeline.name'] ?? plan.jobName,
      params: { [PLAN_PARAM]: JSON.stringify(plan) },
    });
    this.running = client;
    try {
      return await client.result;
    } finally {
      this.running = undefined;
    }
  }

  private async execute(s: Statement, text: string, live?: LiveRowListener): Promise<TableResult> {
    const ok = () => result('ok', ['result'], [{ result: 'OK' }]);
    switch (s.kind) {
      case 'create-table':
        createTable(this.catalog, s, text);
        return ok();
      case 'create-function': {
        if (s.language !== undefined && s.language !== 'JAVASCRIPT' && s.language !== 'TYPESCRIPT')
          throw unsupported(`CREATE FUNCTION … LANGUAGE ${s.language} (weir's functions are TypeScript or JavaScript modules)`);
        if (this.functions.has(s.name.toUpperCase()) && s.ifNotExists) return ok();
        await this.createTemporarySystemFunction(s.name, s.identifier);
        return ok();
      }
      case 'create-view': {
        if (this.catalog.get(s.name) !== undefined && s.ifNotExists) return ok();
        // validate now, as Flink does: unknown names fail at CREATE VIEW
        const fields = this.planner().describeQuery(s.query, text);
        if (s.columns !== undefined && s.columns.length !== fields.length) {
          throw validationError(`view '${s.name}' names ${s.columns.length} column(s), its query has ${fields.length}`);
        }
        this.catalog.put({ kind: 'view', name: s.name, query: s.query, columns: s.columns, text });
        return ok();
      }
      case 'drop':
        this.catalog.drop(s.name, s.what, s.ifExists);
        return ok();
      case 'set':
        if (s.key === undefined) {
          return result(
            'rows',
            ['key', 'value'],
            Object.entries(this.config).map(([key, value]) => ({ key, value })),
          );
        }
        this.config[s.key] = s.value as string;
        return ok();
      case 'reset':
        if (s.key === undefined) for (const k of Object.keys(this.config)) delete this.config[k];
        else delete this.config[s.key];
        return ok();
      case 'show':
        if (s.what === 'FUNCTIONS') throw unsupported('SHOW FUNCTIONS');
        return result(
          'rows',
          [s.what === 'TABLES' ? 'table name' : 'view name'],
          this.catalog
            .names()
            .filter((n) => s.what === 'TABLES' || this.catalog.get(n)?.kind === 'view')
            .sort()
            .map((n) => ({ [s.what === 'TABLES' ? 'table name' : 'view name']: n })),
        );
      case 'describe': {
        const e = this.catalog.lookup(s.name);
        const fields =
          e.kind === 'table'
            ? e.columns.map((c) => ({
                name: c.name,
                type: c.type,
                extras: c.kind === 'computed' ? `AS ${e.text.slice(c.expr?.loc.start, c.expr?.loc.end)}` : '',
              }))
            : this.planner()
                .describeQuery(e.query, e.text)
                .map((f, i) => ({ name: e.columns?.[i] ?? f.name, type: f.type, extras: '' }));
        const pk = e.kind === 'table' ? (e.primaryKey ?? []) : [];
        const wm = e.kind === 'table' ? e.watermark : undefined;
        return result(
          'rows',
          ['name', 'type', 'null', 'key', 'extras', 'watermark'],
          fields.map((f) => ({
            name: f.name,
            type: typeText({ ...f.type, nullable: true }),
            null: f.type.nullable,
            key: pk.includes(f.name) ? `PRI(${pk.join(', ')})` : null,
            extras: f.extras || null,
            watermark:
              wm !== undefined && wm.column === f.name && e.kind === 'table' ? e.text.slice(wm.expr.loc.start, wm.expr.loc.end) : null,
          })),
        );
      }
      case 'explain':
        return result('rows', ['plan'], [{ plan: explainPlan(this.planOf(s.statement, text)) }]);
      case 'insert':
      case 'statement-set': {
        const plan = this.planOf(s, text);
        const job = await this.runPlan(plan);
        return result('job', ['job'], [{ job: job.jobName }], job);
      }
      case 'query':
        return new Table(
          this,
          Promise.resolve(this.planner().planSelect(s.query, text)),
          Promise.resolve({ query: s.query, text }),
        ).execute(live);
    }
  }
}
