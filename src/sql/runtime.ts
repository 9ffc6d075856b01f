//! Rebuilds a SQL job's DataStream graph from its plan: expression sources become functions once, connectors come by Flink's names. Never loads the parser.

import type { StreamExecutionEnvironment } from '../api/environment.ts';
import type { DataStream } from '../api/datastream.ts';
import { configError } from '../core/errors.ts';
import { WatermarkStrategy, type WatermarkGenerator, type WatermarkOutput } from '../time/watermark-strategy.ts';
import {
  EventTimeSessionWindows,
  ProcessingTimeSessionWindows,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  type WindowAssigner,
} from '../windows/assigners.ts';
import { EventTimeTrigger } from '../windows/triggers.ts';
import { TimeWindow } from '../windows/windows.ts';
import type { AggregateFunction } from '../windows/window-processor.ts';
import type { WindowContext } from '../windows/index.ts';
import type { Collector } from '../actors/index.ts';
import { SQL_FUNCTIONS } from './functions.ts';
import { COMPUTES_COLUMNS, WATERMARKS_IN_SOURCE, sinkFor, sourceFor } from './connectors.ts';
import {
  ROW_KIND,
  type AggCall,
  type CalcNode,
  type PlanNode,
  type SourceNode,
  type SqlPlan,
  type WindowAggNode,
  type WindowSpec,
} from './plan.ts';
import { WindowAttachedAssigner, buildJoin, buildWindowAssign } from './ops/joins.ts';
import { buildGroupAgg } from './ops/group-agg.ts';
import { buildTemporalJoin } from './ops/temporal-join.ts';
import { buildChangelogNormalize } from './ops/changelog-normalize.ts';
import { buildDeduplicate, buildRank } from './ops/rank.ts';
import { buildLookupJoin } from './ops/lookup-join.ts';
import { buildOverAgg } from './ops/over-agg.ts';
import { buildWindowRank } from './ops/window-rank.ts';

type Row = Record<string, unknown>;

/** Turns a plan expression into a function of the row (`r`), once. */
export function compileFunction<A = Row>(code: string, param = 'r'): (arg: A) => unknown {
  return new Function('$', `"use strict"; return function (${param}) { return ${code}; };`)(SQL_FUNCTIONS) as (arg: A) => unknown;
}

/** One function computing a calc node's output row, or null when its filter rejects the input. */
function compileCalc(node: CalcNode, param = 'r'): (r: Row) => Row | null {
  const filter = node.filter !== undefined ? `if ((${node.filter.code}) !== true) return null;` : '';
  const body = node.projection.map((p) => `${JSON.stringify(p.name)}: ${p.expr.code}`).join(', ');
  // an updating input's row kind is copied (only then: insert-only plans pay nothing for changelogs)
  const ret =
    node.updating === true
      ? `const o = { ${body} }; if (${param}[${JSON.stringify(ROW_KIND)}] !== undefined) o[${JSON.stringify(ROW_KIND)}] = ${param}[${JSON.stringify(ROW_KIND)}]; return o;`
      : `return { ${body} };`;
  return new Function('$', `"use strict"; return function (${param}) { ${filter} ${ret} };`)(SQL_FUNCTIONS) as (r: Row) => Row | null;
}

/** A reference to a column of the row: `r["name"]`, as the planner writes them. */
const COLUMN_REF = /\br\[("(?:[^"\\]|\\.)*")\]/g;
/** Expressions cheap enough to compute twice: a column, a field of a column, a literal. */
const CHEAP = /^(?:r\["[^"\\]*"\]|\$\.field\(r\["[^"\\]*"\], "[^"\\]*"\)|-?\d+(?:\.\d+)?|null|true|false)$/;

/**
 * `outer` over `inner` as one calc, `inner`'s expressions written into `outer`'s where its
 * columns are read (as Flink's planner merges adjacent Calcs): no row is built in between. Undefined
 * when that would compute an expression that is not cheap more than once. `inner`'s filter runs
 * first; an inner column nobody reads is not computed. A reference to a column `inner` does not
 * project (e.g. the row kind) still reads the input row, which is the same property.
 */
export function substituteCalc(inner: CalcNode, outer: CalcNode): CalcNode | undefined {
  const exprs = new Map(inner.projection.map((p) => [p.name, p.expr.code]));
  const codes = [...outer.projection.map((p) => p.expr.code), ...(outer.filter !== undefined ? [outer.filter.code] : [])];
  const uses = new Map<string, number>();
  for (const code of codes) {
    // the whole row read some other way: leave the calcs apart
    if (/\br\b/.test(code.replace(COLUMN_REF, '').replace(/"(?:[^"\\]|\\.)*"/g, '""'))) return undefined;
    for (const m of code.matchAll(COLUMN_REF)) {
      const name = JSON.parse(m[1]) as string;
      uses.set(name, (uses.get(name) ?? 0) + 1);
    }
  }
  for (const [name, n] of uses) {
    const code = exprs.get(name);
    if (code !== undefined && n > 1 && !CHEAP.test(code)) return undefined;
  }
  const rewrite = (code: string) =>
    code.replace(COLUMN_REF, (whole, quoted: string) => {
      const e = exprs.get(JSON.parse(quoted) as string);
      return e === undefined ? whole : `(${e})`;
    });
  const outerFilter = outer.filter !== undefined ? rewrite(outer.filter.code) : undefined;
  const filter =
    inner.filter !== undefined && outerFilter !== undefined
      ? `((${inner.filter.code}) === true && (${outerFilter}) === true)`
      : (inner.filter?.code ?? outerFilter);
  return {
    ...outer,
    input: inner.input,
    filter: filter === undefined ? undefined : { code: filter },
    projection: outer.projection.map((p) => ({ name: p.name, expr: { code: rewrite(p.expr.code) } })),
  };
}

/**
 * Watermarks of a SQL table (Flink's WatermarkAssigner): the largest value the watermark
 * expression has given so far. With `pipeline.auto-watermark-interval` = 0 (weir SQL's default)
 * the watermark is emitted as soon as it advances, as Flink does with that setting; else periodically.
 */
class SqlWatermarks implements WatermarkGenerator<Row> {
  private max = Number.NEGATIVE_INFINITY;
  private emitted = Number.NEGATIVE_INFINITY;
  constructor(
    private readonly expr: (r: Row) => unknown,
    private readonly perRecord: boolean,
  ) {}
  onEvent(event: Row, _timestamp: number, output: WatermarkOutput): void {
    const w = this.expr(event);
    if (typeof w === 'number' && w > this.max) {
      this.max = w;
      if (this.perRecord) this.onPeriodicEmit(output);
    }
  }
  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.max > this.emitted) {
      this.emitted = this.max;
      output.emitWatermark(this.max);
    }
  }
}

/** Flink's CUMULATE windows: [start, start + step·k) for k = 1 … size/step, start a multiple of size. */
class CumulativeWindows implements WindowAssigner<unknown, TimeWindow> {
  readonly eventTime = true;
  constructor(
    readonly size: number,
    private readonly step: number,
  ) {}
  assignWindows(_element: unknown, timestamp: number | undefined): TimeWindow[] {
    if (timestamp === undefined) throw new Error('CUMULATE windows need event-time timestamps');
    const start = timestamp - (((timestamp % this.size) + this.size) % this.size);
    const out: TimeWindow[] = [];
    for (let end = start + this.step; end <= start + this.size; end += this.step) if (end > timestamp) out.push(new TimeWindow(start, end));
    return out;
  }
  defaultTrigger(): EventTimeTrigger {
    return EventTimeTrigger.create();
  }
}

function assignerFor(w: WindowSpec): WindowAssigner<unknown, TimeWindow> {
  if (w.proctime === true) {
    switch (w.kind) {
      case 'tumble':
        return TumblingProcessingTimeWindows.of(w.size);
      case 'hop':
        return SlidingProcessingTimeWindows.of(w.size, w.slide);
      case 'session':
        return ProcessingTimeSessionWindows.withGap(w.gap);
      case 'cumulate':
        throw configError('CUMULATE windows on processing time are not supported yet');
    }
  }
  switch (w.kind) {
    case 'tumble':
      return TumblingEventTimeWindows.of(w.size);
    case 'hop':
      return SlidingEventTimeWindows.of(w.size, w.slide);
    case 'session':
      return EventTimeSessionWindows.withGap(w.gap);
    case 'cumulate':
      return new CumulativeWindows(w.size, w.step);
  }
}

/** Accumulator of one aggregate call: plain data, so state backends and savepoints keep it as is. */
type Acc = { n: number; v: number | null; d?: Record<string, number> };

/** The AggregateFunction of a windowed aggregate: one accumulator per call, each honouring FILTER, DISTINCT and NULLs. */
function aggregateFunction(calls: readonly AggCall[]): AggregateFunction<Row, Acc[], unknown[]> {
  const args = calls.map((c) => (c.arg !== undefined ? compileFunction(c.arg.code) : undefined));
  const filters = calls.map((c) => (c.filter !== undefined ? compileFunction(c.filter.code) : undefined));
  const addValue = (c: AggCall, acc: Acc, v: unknown, times = 1) => {
    if (c.fn === 'COUNT') acc.n += times;
    else if (c.fn === 'SUM' || c.fn === 'AVG') {
      acc.n += times;
      acc.v = (acc.v ?? 0) + (v as number) * times;
    } else if (acc.v === null || (c.fn === 'MIN' ? (v as number) < acc.v : (v as number) > acc.v)) acc.v = v as number;
  };
  return {
    createAccumulator: () => calls.map((c) => (c.distinct ? { n: 0, v: null, d: {} } : { n: 0, v: null })),
    add(row, accs) {
      for (let i = 0; i < calls.length; i++) {
        const c = calls[i];
        const f = filters[i];
        if (f !== undefined && f(row) !== true) continue;
        const a = args[i];
        const v = a === undefined ? 1 : a(row);
        if (v === null || v === undefined) continue;
        const acc = accs[i];
        if (acc.d !== undefined) {
          const key = typeof v === 'string' ? `s${v}` : `n${String(v)}`;
          if (acc.d[key] !== undefined) continue;
          acc.d[key] = 1;
        }
        addValue(c, acc, v);
      }
      return accs;
    },
    getResult(accs) {
      return calls.map((c, i) => {
        const acc = accs[i];
        if (c.fn === 'COUNT') return acc.n;
        if (c.fn === 'AVG') return acc.n === 0 ? null : c.integer ? Math.trunc((acc.v as number) / acc.n) : (acc.v as number) / acc.n;
        return acc.v;
      });
    },
    merge(a, b) {
      for (let i = 0; i < calls.length; i++) {
        const c = calls[i];
        const x = a[i];
        const y = b[i];
        if (x.d !== undefined && y.d !== undefined) {
          for (const key of Object.keys(y.d)) {
            if (x.d[key] !== undefined) continue;
            x.d[key] = 1;
            const v = key[0] === 's' ? key.slice(1) : Number(key.slice(1));
            addValue(c, x, v);
          }
          continue;
        }
        if (c.fn === 'COUNT') x.n += y.n;
        else if (c.fn === 'SUM' || c.fn === 'AVG') {
          x.n += y.n;
          if (y.v !== null) x.v = (x.v ?? 0) + y.v;
        } else if (y.v !== null) addValue(c, x, y.v);
      }
      return a;
    },
  };
}

/** The connector of tables made by `fromDataStream` and of results read by `toDataStream`. */
export const DATASTREAM_CONNECTOR = 'datastream';

/** A `fromDataStream` table's input: a copy of each row with the declared physical columns (computed columns are added to it). */
function fromDataStream(node: SourceNode, inputs: readonly DataStream<Row>[]): DataStream<Row> {
  const index = Number(node.options['datastream.index']);
  const input = inputs[index];
  if (input === undefined)
    throw configError(`table '${node.table}': connector 'datastream' is made by StreamTableEnvironment.fromDataStream(), not by DDL`);
  const names = node.physical.map((f) => f.name);
  const changelog = node.updating === true;
  return input
    .map((r: Row) => {
      const out: Row = {};
      for (const n of names) out[n] = r[n] ?? null;
      // fromChangelogStream: the kind comes along; '+I' stays absent, as everywhere
      if (changelog && r[ROW_KIND] !== undefined && r[ROW_KIND] !== '+I') out[ROW_KIND] = r[ROW_KIND];
      return out;
    })
    .name(`${node.table} (from DataStream)`)
    .uid(`${node.uid}/from-datastream`);
}

function buildSource(
  env: StreamExecutionEnvironment,
  node: SourceNode,
  config: Record<string, string>,
  inputs: readonly DataStream<Row>[],
): DataStream<Row> {
  // The computed columns, in order (each may read the ones before it), added to the row by one compiled function.
  const fns = node.computed;
  const compute = new Function(
    '$',
    `"use strict"; return function (r) { ${fns.map((c) => `r[${JSON.stringify(c.name)}] = ${c.expr.code};`).join(' ')} return r; };`,
  )(SQL_FUNCTIONS) as (r: Row) => Row;
  const fused = fns.length > 0 && COMPUTES_COLUMNS.has(node.connector);
  let strategy: WatermarkStrategy<Row> | undefined;
  if (node.watermark !== undefined) {
    const column = node.watermark.column;
    const expr = compileFunction(node.watermark.expr.code);
    const interval = intervalOf(config['pipeline.auto-watermark-interval'] ?? '0');
    strategy = WatermarkStrategy.forGenerator<Row>(() => new SqlWatermarks(expr, interval === 0)).withTimestampAssigner((r, recordTs) => {
      const ts = r[column];
      // an upsert source's delete (a Kafka tombstone) has only its key: it keeps the record's time
      if (typeof ts !== 'number' && node.upsert === true && r[ROW_KIND] === '-D') return recordTs ?? 0;
      if (typeof ts !== 'number')
        throw new Error(
          `table '${node.table}': rowtime column '${column}' is ${ts === null ? 'NULL' : typeof ts} in a row; event time needs a timestamp`,
        );
      return ts;
    });
  }
  const inSource = strategy !== undefined && (fused || fns.length === 0) && WATERMARKS_IN_SOURCE.has(node.connector);
  let stream =
    node.connector === DATASTREAM_CONNECTOR
      ? fromDataStream(node, inputs)
      : sourceFor(env, node, fused ? compute : undefined, inSource ? strategy : undefined);
  // the source's own chain keeps the source's parallelism (a single file is read by one subtask)
  const sourceParallelism = stream.getParallelism();
  const sameChain = (s: DataStream<Row>): DataStream<Row> => (sourceParallelism === undefined ? s : s.setParallelism(sourceParallelism));
  if (fns.length > 0 && !fused) {
    stream = sameChain(stream.map(compute).name(`${node.table}: computed columns`).uid(`${node.uid}/computed`));
  }
  if (strategy !== undefined && !inSource) {
    stream = sameChain(stream.assignTimestampsAndWatermarks(strategy).name(`${node.table}: watermarks`).uid(`${node.uid}/watermarks`));
  }
  if (node.upsert === true) stream = buildChangelogNormalize(stream, node);
  return stream;
}

/** '200 ms', '1 s', '0' → ms. */
function intervalOf(text: string): number {
  const m = /^\s*(\d+)\s*(ms|s|min)?\s*$/.exec(text);
  if (m === null) throw configError(`'pipeline.auto-watermark-interval' must be a duration like '200 ms' or '0', got '${text}'`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'min' ? 60_000 : 1);
}

/** `assigner` assigning each row by its `column` (its time attribute) instead of the record's timestamp; the rest inherited. */
function byColumn(assigner: WindowAssigner<unknown, TimeWindow>, column: string): WindowAssigner<unknown, TimeWindow> {
  const wrapped = Object.create(assigner) as WindowAssigner<unknown, TimeWindow>;
  wrapped.assignWindows = (element, timestamp, context) => {
    const t = (element as Row)[column];
    return assigner.assignWindows(element, typeof t === 'number' ? t : timestamp, context);
  };
  return wrapped;
}

function buildWindowAgg(input: DataStream<Row>, node: WindowAggNode): DataStream<Row> {
  const keyFns = node.keys.map((k) => compileFunction(k.code));
  // One scalar key keys the state as itself (no text built per row); otherwise the JSON of the key list.
  const scalar = node.scalarKey === true;
  const one = keyFns[0];
  const keyOf: (r: Row) => unknown = scalar
    ? (r) => one(r) ?? null
    : keyFns.length === 0
      ? () => '[]'
      : (r) => JSON.stringify(keyFns.map((f) => f(r) ?? null));
  const keysOf = scalar ? (key: unknown) => [key] : (key: unknown) => JSON.parse(key as string) as unknown[];
  const project = compileCalc(
    { kind: 'calc', id: -1, uid: '', input: -1, projection: node.projection, fields: node.fields, filter: node.having },
    'g',
  );
  const projectG = project as unknown as (g: unknown) => Row | null;
  return (input as DataStream<unknown>)
    .keyBy(keyOf as (r: unknown) => string)
    .window(
      node.attached !== undefined
        ? (new WindowAttachedAssigner(node.attached.start, node.attached.end) as WindowAssigner<unknown, TimeWindow>)
        : node.timeField !== undefined
          ? byColumn(assignerFor(node.window), node.timeField)
          : assignerFor(node.window),
    )
    .aggregate(
      aggregateFunction(node.aggs) as AggregateFunction<unknown, Acc[], unknown[]>,
      (key: unknown, ctx: WindowContext<TimeWindow>, results: Iterable<unknown[]>, out: Collector<Row>) => {
        const w = ctx.window();
        for (const a of results) {
          const g = { k: keysOf(key), a, ws: w.start, we: w.end };
          const row = projectG(g);
          if (row !== null) out.collect(row);
        }
      },
    )
    .name(`window aggregate (${node.window.kind})`)
    .uid(node.uid) as unknown as DataStream<Row>;
}

/**
 * Builds the plan's graph on `env`; the same plan builds the same graph on every worker.
 * `inputs` are the DataStreams of `fromDataStream` tables (by their `datastream.index` option);
 * the result holds the streams of the plan's `datastream` sinks (`toDataStream`), in plan order.
 */
export function buildGraph(env: StreamExecutionEnvironment, plan: SqlPlan, inputs: readonly DataStream<Row>[] = []): DataStream<Row>[] {
  const outputs: DataStream<Row>[] = [];
  if (plan.version !== 1) throw configError(`unknown SQL plan version ${String(plan.version)}`);
  const streams = new Map<number, DataStream<Row>>();
  // Calcs are built when read: a calc read only by another calc is folded into it (one operator
  // computing both, the way Flink's planner merges adjacent Calcs), so a view over a view costs one
  // function call per row, not an operator hop. A calc nobody reads is never built.
  const calcs = new Map<number, CalcNode>();
  const readers = new Map<number, number>();
  for (const node of plan.nodes as PlanNode[])
    for (const [field, value] of Object.entries(node))
      if (field === 'input' || field === 'inputs' || field === 'left' || field === 'right')
        for (const id of Array.isArray(value) ? value : [value]) if (typeof id === 'number') readers.set(id, (readers.get(id) ?? 0) + 1);
  const buildCalc = (node: CalcNode): DataStream<Row> => {
    // Fold inner calcs into the expressions where that needs no expression twice; compose functions where it would.
    let merged = node;
    let composed: ((r: Row) => Row | null) | undefined;
    let input = node.input;
    for (let inner = calcs.get(input); inner !== undefined && readers.get(inner.id) === 1; inner = calcs.get(input)) {
      const substituted = composed === undefined ? substituteCalc(inner, merged) : undefined;
      if (substituted !== undefined) merged = substituted;
      else {
        const [first, then] = [compileCalc(inner), composed ?? compileCalc(merged)];
        composed = (r: Row) => {
          const m = first(r);
          return m === null ? null : then(m);
        };
      }
      input = inner.input;
    }
    const fn = composed ?? compileCalc(merged);
    const filters = composed !== undefined || merged.filter !== undefined;
    const s = get(input);
    const out = filters
      ? s.flatMap<Row>((r: Row, c: Collector<Row>) => {
          const o = fn(r);
          if (o !== null) c.collect(o);
        })
      : s.map((r: Row) => fn(r) as Row);
    return out.name(filters ? 'filter and projection' : 'projection').uid(node.uid);
  };
  const get = (id: number): DataStream<Row> => {
    let s = streams.get(id);
    if (s === undefined) {
      const calc = calcs.get(id);
      if (calc === undefined) throw configError(`SQL plan: node ${id} is read before it is built`);
      s = buildCalc(calc);
      streams.set(id, s);
    }
    return s;
  };
  for (const node of plan.nodes as PlanNode[]) {
    switch (node.kind) {
      case 'source':
        streams.set(node.id, buildSource(env, node, plan.config, inputs));
        break;
      case 'calc':
        calcs.set(node.id, node);
        break;
      case 'window-agg':
        streams.set(node.id, buildWindowAgg(get(node.input), node));
        break;
      case 'window-assign':
        streams.set(node.id, buildWindowAssign(get(node.input), node, assignerFor(node.window)));
        break;
      case 'join':
        streams.set(
          node.id,
          node.strategy === 'temporal' ? buildTemporalJoin(get(node.left), get(node.right), node) : buildJoin(get(node.left), get(node.right), node),
        );
        break;
      case 'group-agg':
        streams.set(node.id, buildGroupAgg(get(node.input), node, plan.config));
        break;
      case 'rank':
        streams.set(node.id, buildRank(get(node.input), node));
        break;
      case 'deduplicate':
        streams.set(node.id, buildDeduplicate(get(node.input), node));
        break;
      case 'lookup-join':
        streams.set(node.id, buildLookupJoin(get(node.input), node));
        break;
      case 'over-agg':
        streams.set(node.id, buildOverAgg(get(node.input), node));
        break;
      case 'window-rank':
        streams.set(node.id, buildWindowRank(get(node.input), node));
        break;
      case 'union': {
        const [first, ...rest] = node.inputs.map(get);
        streams.set(node.id, first.union(...rest));
        break;
      }
      case 'sink':
        if (node.connector === DATASTREAM_CONNECTOR) outputs.push(get(node.input));
        else sinkFor(get(node.input), node);
        break;
    }
  }
  return outputs;
}
