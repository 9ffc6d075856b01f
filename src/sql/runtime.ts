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
import { sinkFor, sourceFor } from './connectors.ts';
import type { AggCall, CalcNode, PlanNode, SourceNode, SqlPlan, WindowAggNode, WindowSpec } from './plan.ts';
import { WindowAttachedAssigner, buildJoin, buildWindowAssign } from './ops/joins.ts';

type Row = Record<string, unknown>;

/** Turns a plan expression into a function of the row (`r`), once. */
export function compileFunction<A = Row>(code: string, param = 'r'): (arg: A) => unknown {
  return new Function('$', `"use strict"; return function (${param}) { return ${code}; };`)(SQL_FUNCTIONS) as (arg: A) => unknown;
}

/** One function computing a calc node's output row, or null when its filter rejects the input. */
function compileCalc(node: CalcNode, param = 'r'): (r: Row) => Row | null {
  const filter = node.filter !== undefined ? `if ((${node.filter.code}) !== true) return null;` : '';
  const body = node.projection.map((p) => `${JSON.stringify(p.name)}: ${p.expr.code}`).join(', ');
  // a changelog row keeps its kind (absent: +I)
  const kind = param === 'r' ? `if (r.$kind !== undefined) o.$kind = r.$kind; ` : '';
  return new Function('$', `"use strict"; return function (${param}) { ${filter} const o = { ${body} }; ${kind}return o; };`)(
    SQL_FUNCTIONS,
  ) as (r: Row) => Row | null;
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
  return input
    .map((r: Row) => {
      const out: Row = {};
      for (const n of names) out[n] = r[n] ?? null;
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
  let stream = node.connector === DATASTREAM_CONNECTOR ? fromDataStream(node, inputs) : sourceFor(env, node);
  if (node.computed.length > 0) {
    const fns = node.computed.map((c) => ({ name: c.name, fn: compileFunction(c.expr.code) }));
    stream = stream
      .map((r: Row) => {
        for (const c of fns) r[c.name] = c.fn(r);
        return r;
      })
      .name(`${node.table}: computed columns`)
      .uid(`${node.uid}/computed`);
  }
  if (node.watermark !== undefined) {
    const column = node.watermark.column;
    const expr = compileFunction(node.watermark.expr.code);
    const interval = intervalOf(config['pipeline.auto-watermark-interval'] ?? '0');
    const strategy = WatermarkStrategy.forGenerator<Row>(() => new SqlWatermarks(expr, interval === 0)).withTimestampAssigner((r) => {
      const ts = r[column];
      if (typeof ts !== 'number')
        throw new Error(
          `table '${node.table}': rowtime column '${column}' is ${ts === null ? 'NULL' : typeof ts} in a row; event time needs a timestamp`,
        );
      return ts;
    });
    stream = stream.assignTimestampsAndWatermarks(strategy).name(`${node.table}: watermarks`).uid(`${node.uid}/watermarks`);
  }
  return stream;
}

/** '200 ms', '1 s', '0' → ms. */
function intervalOf(text: string): number {
  const m = /^\s*(\d+)\s*(ms|s|min)?\s*$/.exec(text);
  if (m === null) throw configError(`'pipeline.auto-watermark-interval' must be a duration like '200 ms' or '0', got '${text}'`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'min' ? 60_000 : 1);
}

function buildWindowAgg(input: DataStream<Row>, node: WindowAggNode): DataStream<Row> {
  const keyFns = node.keys.map((k) => compileFunction(k.code));
  const keyOf = keyFns.length === 0 ? () => '[]' : (r: Row) => JSON.stringify(keyFns.map((f) => f(r) ?? null));
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
        : assignerFor(node.window),
    )
    .aggregate(
      aggregateFunction(node.aggs) as AggregateFunction<unknown, Acc[], unknown[]>,
      (key: string, ctx: WindowContext<TimeWindow>, results: Iterable<unknown[]>, out: Collector<Row>) => {
        const w = ctx.window();
        for (const a of results) {
          const g = { k: JSON.parse(key) as unknown[], a, ws: w.start, we: w.end };
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
  const get = (id: number) => {
    const s = streams.get(id);
    if (s === undefined) throw configError(`SQL plan: node ${id} is read before it is built`);
    return s;
  };
  for (const node of plan.nodes as PlanNode[]) {
    switch (node.kind) {
      case 'source':
        streams.set(node.id, buildSource(env, node, plan.config, inputs));
        break;
      case 'calc': {
        const fn = compileCalc(node);
        const s = get(node.input);
        const out =
          node.filter === undefined
            ? s.map((r: Row) => fn(r) as Row)
            : s.flatMap<Row>((r: Row, c: Collector<Row>) => {
                const o = fn(r);
                if (o !== null) c.collect(o);
              });
        streams.set(node.id, out.name(node.filter === undefined ? 'projection' : 'filter and projection').uid(node.uid));
        break;
      }
      case 'window-agg':
        streams.set(node.id, buildWindowAgg(get(node.input), node));
        break;
      case 'window-assign':
        streams.set(node.id, buildWindowAssign(get(node.input), node, assignerFor(node.window)));
        break;
      case 'join':
        streams.set(node.id, buildJoin(get(node.left), get(node.right), node));
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
