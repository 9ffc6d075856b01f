//! DataStream, KeyedStream and DataStreamSink: the fluent API that adds nodes to the stream graph.

import type { Sink, SinkWriter, StreamOperator } from '../actors/operator.ts';
import { OutputTag } from '../actors/output-tag.ts';
import { TimestampsAndWatermarksOperator } from '../actors/timestamps-operator.ts';
import type { WatermarkStrategy } from '../time/watermark-strategy.ts';
import type { MapStateDescriptor } from '../state/descriptors.ts';
import type { WindowAssigner } from '../windows/assigners.ts';
import type { Window } from '../windows/windows.ts';
import { WindowedStream } from './windowed-stream.ts';
import { IntervalJoin, JoinedStreams } from './joins.ts';
import {
  FilterOperator,
  FlatMapOperator,
  KeyedReduceOperator,
  MapOperator,
  ProcessOperator,
  SinkOperator,
  type Collector,
  type BroadcastContext,
  type KeyedProcessContext,
  type OnTimer,
  type ProcessContext,
} from '../actors/operators.ts';
import { configError, graphError } from '../core/errors.ts';
import { collectSink, fileSink, printSink, type FileSinkOptions } from '../connectors/sinks.ts';
import type { PartitionerSpec, StreamGraph, StreamInput, StreamNode } from '../graph/stream-graph.ts';
import {
  resolveFunction,
  type BroadcastProcessFunction,
  type CoProcessFunction,
  type KeyedBroadcastProcessFunction,
  type KeyedCoProcessFunction,
  type FilterFunction,
  type FlatMapFunction,
  type KeyedProcessFunction,
  type MapFunction,
  type ProcessFunction,
  type ReduceFunction,
} from './functions.ts';

/** Selects the key of a record: a function, or the name of a field. */
export type KeySelector<T, K> = ((value: T) => K) | (keyof T & string);

/** A key selector (function or field name) as a function of the record. */
export function toKeyFunction<T, K>(selector: KeySelector<T, K>, what = 'keyBy'): (value: unknown) => unknown {
  if (typeof selector === 'function') return selector as (value: unknown) => unknown;
  if (typeof selector === 'string') {
    const field = selector;
    return (value: unknown) => {
      if (value === null || typeof value !== 'object')
        throw new TypeError(`cannot read key field '${field}' of ${value === null ? 'null' : typeof value}`);
      return (value as Record<string, unknown>)[field];
    };
  }
  throw new TypeError(`${what}() needs a key selector function or a field name`);
}

/** The `onTimer` method of a function-class instance, bound to it. */
function timerOf(instance: unknown): OnTimer | undefined {
  const onTimer = (instance as { onTimer?: unknown } | undefined)?.onTimer;
  return typeof onTimer === 'function' ? (onTimer as OnTimer).bind(instance) : undefined;
}

type RecordCall = (v: unknown, ctx: KeyedProcessContext, out: Collector<unknown>) => void;

/** Resolves a two-input function (a lambda pair is not possible: an object with both methods), with its timer callback. */
function twoMethodFunction(fn: unknown, first: string, second: string, what: string) {
  const a = resolveFunction<RecordCall>(fn, first, 'process');
  const b = (a.lifecycle as unknown as Record<string, unknown> | undefined)?.[second];
  if (typeof b !== 'function') throw new TypeError(`process() on ${what} needs an object with ${first}() and ${second}()`);
  return { call1: a.call, call2: (b as RecordCall).bind(a.lifecycle), lifecycle: a.lifecycle, onTimer: timerOf(a.lifecycle) };
}

function checkParallelism(parallelism: number, what: string): void {
  if (!Number.isInteger(parallelism) || parallelism < 1)
    throw configError(`${what}: parallelism must be a positive integer, got ${parallelism}`);
}

/** Settings shared by operators and sinks: name, uid, parallelism, chaining. */
abstract class ConfigurableNode {
  constructor(
    protected readonly graph: StreamGraph,
    protected readonly nodeRef: StreamNode | undefined,
  ) {}

  private target(what: string): StreamNode {
    if (!this.nodeRef) throw graphError(`${what}() applies to an operator; this stream is a union or a repartitioning of others`);
    return this.nodeRef;
  }
  /** Sets the operator's display name. */
  name(name: string): this {
    this.target('name').name = name;
    return this;
  }
  /** Sets the operator's stable id (savepoints map state by it). */
  uid(uid: string): this {
    this.target('uid').uid = uid;
    return this;
  }
  /** Sets the operator's parallelism. */
  setParallelism(parallelism: number): this {
    const node = this.target('setParallelism');
    checkParallelism(parallelism, `operator '${node.name}'`);
    if (node.maxSupportedParallelism !== undefined && parallelism > node.maxSupportedParallelism) {
      throw graphError(
        `operator '${node.name}' supports parallelism ${node.maxSupportedParallelism} at most, got ${parallelism}`,
        node.name,
      );
    }
    node.parallelism = parallelism;
    return this;
  }
  /** Keeps the operator out of any chain: it gets its own actor on both sides. */
  disableChaining(): this {
    this.target('disableChaining').chainable = false;
    return this;
  }
  /** The operator's parallelism, or undefined when it follows the job default. */
  getParallelism(): number | undefined {
    return this.nodeRef?.parallelism;
  }
}

/** The end of a pipeline; configurable like an operator. */
export class DataStreamSink<T> extends ConfigurableNode {
  /** @internal */
  constructor(graph: StreamGraph, node: StreamNode) {
    super(graph, node);
  }
  /** @internal the record type, for inference only */
  declare readonly __type?: T;
}

/** A stream of records of type T. */
export class DataStream<T> extends ConfigurableNode {
  /** @internal */
  constructor(
    graph: StreamGraph,
    /** What the next operator consumes: upstream nodes and the partitioner of each edge. */
    protected readonly inputs: StreamInput[],
    node?: StreamNode,
  ) {
    super(graph, node);
  }

  /** @internal adds a one-input node fed by this stream. */
  protected addOperator<O>(type: string, name: string, createOperator: (name: string) => StreamOperator, keyed = false): DataStream<O> {
    const graph = this.graph;
    const node = graph.addNode({
      type,
      name,
      chainable: true,
      keyed,
      inputs: this.inputs.map((i) => ({ ...i })),
      createOperator: (name: string) => createOperator(name),
    });
    return new DataStream<O>(graph, [{ from: node.id, partitioner: { kind: 'auto' } }], node);
  }

  /** Applies `fn` to every record. */
  map<O>(fn: ((value: T) => O) | MapFunction<T, O>): DataStream<O> {
    const make = () => resolveFunction<(v: unknown) => unknown>(fn, 'map', 'map');
    make();
    return this.addOperator<O>('map', 'Map', (name) => {
      const { call, lifecycle } = make();
      return new MapOperator(name, call, lifecycle);
    });
  }

  /** Keeps the records for which `fn` returns true. */
  filter(fn: ((value: T) => boolean) | FilterFunction<T>): DataStream<T> {
    const make = () => resolveFunction<(v: unknown) => boolean>(fn, 'filter', 'filter');
    make();
    return this.addOperator<T>('filter', 'Filter', (name) => {
      const { call, lifecycle } = make();
      return new FilterOperator(name, call, lifecycle);
    });
  }

  /** Emits any number of records per record through the collector. */
  flatMap<O>(fn: ((value: T, out: Collector<O>) => void) | FlatMapFunction<T, O>): DataStream<O> {
    const make = () => resolveFunction<(v: unknown, out: Collector<unknown>) => void>(fn, 'flatMap', 'flatMap');
    make();
    return this.addOperator<O>('flat-map', 'Flat Map', (name) => {
      const { call, lifecycle } = make();
      return new FlatMapOperator(name, call, lifecycle);
    });
  }

  /** Low-level processing of each record with a context. */
  process<O>(fn: ((value: T, ctx: ProcessContext, out: Collector<O>) => void) | ProcessFunction<T, O>): DataStream<O> {
    const make = () =>
      resolveFunction<(v: unknown, ctx: KeyedProcessContext, out: Collector<unknown>) => void>(fn, 'processElement', 'process');
    make();
    return this.addOperator<O>('process', 'Process', (name) => {
      const { call, lifecycle } = make();
      return new ProcessOperator(name, call, lifecycle);
    });
  }

  /** Assigns event-time timestamps and generates watermarks (Flink's assignTimestampsAndWatermarks). */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>): DataStream<T> {
    return this.addOperator<T>(
      'timestamps-watermarks',
      'Timestamps/Watermarks',
      (name) => new TimestampsAndWatermarksOperator(name, strategy as WatermarkStrategy<unknown>),
    );
  }

  /** The records this operator emitted to the side output `tag`. */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    if (!this.nodeRef) throw graphError('getSideOutput() applies to an operator; this stream is a union or a repartitioning of others');
    if (!(tag instanceof OutputTag) && typeof (tag as { id?: unknown })?.id !== 'string')
      throw new TypeError('getSideOutput() needs an OutputTag');
    return new DataStream<X>(this.graph, [{ from: this.nodeRef.id, partitioner: { kind: 'auto' }, sideOutputTag: tag.id }]);
  }

  /** Joins this stream with another over windows: `.where(key).equalTo(key).window(assigner).apply(fn)`. */
  join<T2>(other: DataStream<T2>): JoinedStreams<T, T2> {
    return new JoinedStreams<T, T2>(this, other);
  }

  /** Connects two streams for an operator that reads both (a co-process function), or a broadcast stream. */
  connect<T2>(other: BroadcastStream<T2>): BroadcastConnectedStream<T, T2>;
  connect<T2>(other: DataStream<T2>): ConnectedStreams<T, T2>;
  connect<T2>(other: DataStream<T2> | BroadcastStream<T2>): ConnectedStreams<T, T2> | BroadcastConnectedStream<T, T2> {
    if (other instanceof BroadcastStream) {
      if (other.graph !== this.graph) throw graphError('connect() needs streams of the same environment');
      return new BroadcastConnectedStream<T, T2>(this.graph, this, other);
    }
    if (other.graph !== this.graph) throw graphError('connect() needs streams of the same environment');
    return new ConnectedStreams<T, T2>(this.graph, this, other);
  }

  /** @internal the inputs this stream hands its consumer. */
  inputsForConsumer(inputIndex: 1 | 2): StreamInput[] {
    return this.inputs.map((i) => ({ ...i, inputIndex }));
  }

  /** @internal the key selector when this stream is keyed. */
  keySelectorForConsumer(): ((value: unknown) => unknown) | undefined {
    return undefined;
  }

  /** All records in windows, in one subtask (Flink's windowAll). */
  windowAll<W extends Window>(assigner: WindowAssigner<unknown, W>): WindowedStream<T, number, W> {
    const keyed = this.keyBy(() => 0);
    return new WindowedStream<T, number, W>(this.graph, keyed.inputsForConsumer(1), () => 0, assigner, true);
  }

  /** Partitions the stream by key: records with the same key go to the same subtask (by key group). */
  keyBy<K>(selector: KeySelector<T, K>): KeyedStream<T, K> {
    const keyFn = toKeyFunction(selector);
    return new KeyedStream<T, K>(
      this.graph,
      this.inputs.map((i) => ({ ...i, partitioner: { kind: 'hash', keySelector: keyFn } as PartitionerSpec })),
      keyFn,
    );
  }

  /** Merges streams of the same type; the next operator reads all of them. */
  union(...others: DataStream<T>[]): DataStream<T> {
    const inputs = [...this.inputs];
    for (const other of others) {
      if (other.graph !== this.graph) throw graphError('union() needs streams of the same environment');
      inputs.push(...other.inputs);
    }
    return new DataStream<T>(this.graph, inputs);
  }

  private partition(partitioner: PartitionerSpec): DataStream<T> {
    return new DataStream<T>(
      this.graph,
      this.inputs.map((i) => ({ ...i, partitioner })),
    );
  }
  /** Distributes records round robin over the next operator's subtasks. */
  rebalance(): DataStream<T> {
    return this.partition({ kind: 'rebalance' });
  }
  /** Round robin within local groups of subtasks (Flink's pointwise rescale). */
  rescale(): DataStream<T> {
    return this.partition({ kind: 'rescale' });
  }
  /** Sends every record to every subtask of the next operator; with state descriptors, a broadcast stream to connect to. */
  broadcast(): DataStream<T>;
  broadcast(...descriptors: MapStateDescriptor<any, any>[]): BroadcastStream<T>;
  broadcast(...descriptors: MapStateDescriptor<any, any>[]): DataStream<T> | BroadcastStream<T> {
    if (descriptors.length === 0) return this.partition({ kind: 'broadcast' });
    return new BroadcastStream<T>(
      this.graph,
      this.inputs.map((i) => ({ ...i, partitioner: { kind: 'broadcast' } as PartitionerSpec })),
      descriptors,
    );
  }
  /** Sends records to the subtask with the same index (parallelism must match). */
  forward(): DataStream<T> {
    return this.partition({ kind: 'forward' });
  }

  /** Writes the stream to a sink (a connector's sink, or a function called per record). */
  sinkTo(sink: Sink<T> | ((value: T) => void)): DataStreamSink<T> {
    const target: Sink<T> =
      typeof sink === 'function' ? { name: 'Sink', createWriter: (): SinkWriter<T> => ({ write: (value) => sink(value) }) } : sink;
    const collectId = (target as { collectId?: string }).collectId;
    const node = this.graph.addNode({
      type: collectId !== undefined ? 'collect-sink' : 'sink',
      name: target.name,
      chainable: true,
      keyed: false,
      inputs: this.inputs.map((i) => ({ ...i })),
      maxSupportedParallelism: target.maxParallelism,
      createOperator: (name: string) => new SinkOperator(name, target as Sink<unknown>),
      collectId,
      sink: target as Sink<unknown>,
    });
    return new DataStreamSink<T>(this.graph, node);
  }

  /** Prints every record to stdout (`n> record` when parallel). */
  print(prefix?: string): DataStreamSink<T> {
    return this.sinkTo(printSink<T>(prefix));
  }

  /**
   * Sends the records to the caller: they appear in `JobResult.collected[id]`. With
   * `{ exactlyOnce: true }` they are handed over on checkpoint completion, once each across restarts.
   */
  collect(id = 'default', options: { exactlyOnce?: boolean } = {}): DataStreamSink<T> {
    return this.sinkTo(collectSink<T>(id, options));
  }

  /** Writes records as lines to a file (parallelism 1) or a directory of per-subtask files. */
  writeAsText(path: string, options?: FileSinkOptions): DataStreamSink<T> {
    return this.sinkTo(fileSink<T>(path, options));
  }
}

/** A stream partitioned by key; operators on it have keyed state. */
export class KeyedStream<T, K> extends DataStream<T> {
  /** @internal */
  constructor(
    graph: StreamGraph,
    inputs: StreamInput[],
    private readonly keyFn: (value: unknown) => unknown,
  ) {
    super(graph, inputs);
  }

  /** The key of a record. */
  getKey(value: T): K {
    return this.keyFn(value) as K;
  }

  /** @internal */
  override keySelectorForConsumer(): (value: unknown) => unknown {
    return this.keyFn;
  }

  /** Joins each record with the other stream's records of the same key within a time interval: `.between(lower, upper).process(fn)`. */
  intervalJoin<T2>(other: KeyedStream<T2, K>): IntervalJoin<T, T2, K> {
    return new IntervalJoin<T, T2, K>(this, other);
  }

  /** Cuts each key's records into windows. */
  window<W extends Window>(assigner: WindowAssigner<unknown, W>): WindowedStream<T, K, W> {
    return new WindowedStream<T, K, W>(
      this.graph,
      this.inputs.map((i) => ({ ...i })),
      this.keyFn,
      assigner,
    );
  }

  private keyedProcess<O>(
    type: string,
    name: string,
    make: () => { call: (v: unknown, ctx: KeyedProcessContext, out: Collector<unknown>) => void; lifecycle?: object },
  ): DataStream<O> {
    make();
    const keyFn = this.keyFn;
    return this.addOperator<O>(
      type,
      name,
      (opName) => {
        const { call, lifecycle } = make();
        return new ProcessOperator(opName, call, lifecycle, keyFn, timerOf(lifecycle));
      },
      true,
    );
  }

  /** Processes each record with keyed state and the record's key in the context. */
  override process<O>(
    fn: ((value: T, ctx: KeyedProcessContext<K>, out: Collector<O>) => void) | KeyedProcessFunction<K, T, O> | ProcessFunction<T, O>,
  ): DataStream<O> {
    return this.keyedProcess<O>('keyed-process', 'KeyedProcess', () =>
      resolveFunction<(v: unknown, ctx: KeyedProcessContext, out: Collector<unknown>) => void>(fn, 'processElement', 'process'),
    );
  }

  /** Map with keyed state available to a function class. */
  override map<O>(fn: ((value: T) => O) | MapFunction<T, O>): DataStream<O> {
    return this.keyedProcess<O>('keyed-map', 'Map', () => {
      const { call, lifecycle } = resolveFunction<(v: unknown) => unknown>(fn, 'map', 'map');
      return { call: (v, _ctx, out) => out.collect(call(v)), lifecycle };
    });
  }

  /** Filter with keyed state available to a function class. */
  override filter(fn: ((value: T) => boolean) | FilterFunction<T>): DataStream<T> {
    return this.keyedProcess<T>('keyed-filter', 'Filter', () => {
      const { call, lifecycle } = resolveFunction<(v: unknown) => boolean>(fn, 'filter', 'filter');
      return { call: (v, _ctx, out) => (call(v) ? out.collect(v) : undefined), lifecycle };
    });
  }

  /** FlatMap with keyed state available to a function class. */
  override flatMap<O>(fn: ((value: T, out: Collector<O>) => void) | FlatMapFunction<T, O>): DataStream<O> {
    return this.keyedProcess<O>('keyed-flat-map', 'Flat Map', () => {
      const { call, lifecycle } = resolveFunction<(v: unknown, out: Collector<unknown>) => void>(fn, 'flatMap', 'flatMap');
      return { call: (v, _ctx, out) => call(v, out), lifecycle };
    });
  }

  /** Rolling reduce: emits the reduced value of the record's key after every record. */
  reduce(fn: ((accumulated: T, value: T) => T) | ReduceFunction<T>): DataStream<T> {
    const make = () => resolveFunction<(a: unknown, b: unknown) => unknown>(fn, 'reduce', 'reduce');
    make();
    const keyFn = this.keyFn;
    return this.addOperator<T>(
      'keyed-reduce',
      'Keyed Reduce',
      (name) => {
        const { call, lifecycle } = make();
        return new KeyedReduceOperator(name, call, keyFn, lifecycle);
      },
      true,
    );
  }

  /**
   * Rolling sum per key. For a stream of numbers, the running total; for objects, the first
   * record of the key with `field` replaced by the running total (as Flink's sum on tuples/POJOs).
   */
  sum(field?: keyof T & string): DataStream<T> {
    const replace = field === undefined ? undefined : fieldReplacer(field);
    const reducer = (accumulated: T, value: T): T => {
      if (field === undefined) {
        if (typeof accumulated !== 'number' || typeof value !== 'number')
          throw new TypeError(`sum() without a field needs numbers, got ${typeof value}`);
        return (accumulated + value) as T;
      }
      const a = (accumulated as Record<string, unknown>)[field];
      const b = (value as Record<string, unknown>)[field];
      if (typeof a !== 'number' || typeof b !== 'number')
        throw new TypeError(`sum('${field}') needs a numeric field '${field}', got ${typeof b}`);
      // The accumulated record is never changed (it was emitted): a copy with the new total.
      return (replace as ReturnType<typeof fieldReplacer>)(accumulated as object, a + b) as T;
    };
    return this.reduce(reducer).name(field === undefined ? 'Sum' : `Sum(${field})`);
  }
}

/**
 * `(record, total) => a copy of record with field = total`, as `{ ...record, [field]: total }`
 * (own enumerable keys in their order; `field` last when the record lacks it). A spread costs
 * about twice an object literal in V8, so the copy of records with the field names of the first
 * record seen is an object literal compiled for those names, guarded by a walk of the record's
 * keys (same names, same order); other records are spread.
 */
export function fieldReplacer(field: string): (record: object, total: number) => object {
  let names: readonly string[] | undefined;
  let literal: ((record: object, total: number) => object) | undefined;
  const spread = (record: object, total: number): object => {
    const out = { ...record } as Record<string, unknown>;
    out[field] = total;
    return out;
  };
  return (record, total) => {
    if (literal === undefined) {
      if (names !== undefined) return spread(record, total);
      names = compilableKeys(record);
      if (names === undefined) return spread(record, total);
      const parts = names.map((n) => `${JSON.stringify(n)}: ${n === field ? 't' : `r[${JSON.stringify(n)}]`}`);
      if (!names.includes(field)) parts.push(`${JSON.stringify(field)}: t`);
      literal = new Function('r', 't', `return { ${parts.join(', ')} };`) as (record: object, total: number) => object;
    }
    const expected = names as readonly string[];
    let i = 0;
    for (const k in record) if (k !== expected[i++]) return spread(record, total);
    return i === expected.length ? literal(record, total) : spread(record, total);
  };
}

/** A plain record's keys when an object literal copies it exactly (no symbols, no inherited or integer-like keys); else undefined. */
function compilableKeys(record: object): string[] | undefined {
  if (Object.getPrototypeOf(record) !== Object.prototype || Object.getOwnPropertySymbols(record).length > 0) return undefined;
  const names = Object.keys(record);
  for (const n of names) if (/^(0|[1-9][0-9]*)$/.test(n)) return undefined;
  let i = 0;
  for (const k in record) if (k !== names[i++]) return undefined;
  return i === names.length && names.length <= 64 ? names : undefined;
}

/** Two streams read by one operator (Flink's ConnectedStreams); keyed when both sides are keyed. */
export class ConnectedStreams<T1, T2> {
  /** @internal */
  constructor(
    private readonly graph: StreamGraph,
    private readonly first: DataStream<T1>,
    private readonly second: DataStream<T2>,
  ) {}

  /** Keys both inputs, so that the co-process function has keyed state for records of either side. */
  keyBy<K>(key1: KeySelector<T1, K>, key2: KeySelector<T2, K>): ConnectedStreams<T1, T2> {
    return new ConnectedStreams<T1, T2>(this.graph, this.first.keyBy(key1), this.second.keyBy(key2));
  }

  /**
   * Processes both inputs with a (keyed) co-process function.
   *
   * `options.watermarkDelay` (@internal, for SQL's interval join) holds the output watermark that
   * many ms behind the input's, as Flink SQL's KeyedCoProcessOperatorWithWatermarkDelay.
   */
  process<O>(
    fn:
      | CoProcessFunction<T1, T2, O>
      | KeyedCoProcessFunction<unknown, T1, T2, O>
      | {
          processElement1(value: T1, ctx: KeyedProcessContext, out: Collector<O>): void;
          processElement2(value: T2, ctx: KeyedProcessContext, out: Collector<O>): void;
        },
    options: { watermarkDelay?: number } = {},
  ): DataStream<O> {
    const key1 = this.first.keySelectorForConsumer();
    const key2 = this.second.keySelectorForConsumer();
    if ((key1 === undefined) !== (key2 === undefined)) throw graphError('connect(): key both streams (or neither) before process()');
    const make = () => twoMethodFunction(fn, 'processElement1', 'processElement2', 'connected streams');
    make();
    const keyed = key1 !== undefined;
    const node = this.graph.addNode({
      type: keyed ? 'keyed-co-process' : 'co-process',
      name: keyed ? 'KeyedCoProcess' : 'CoProcess',
      chainable: true,
      keyed,
      twoInput: true,
      inputs: [...this.first.inputsForConsumer(1), ...this.second.inputsForConsumer(2)],
      createOperator: (name: string) => {
        const { call1, call2, lifecycle, onTimer } = make();
        return new ProcessOperator(name, call1, lifecycle, key1, onTimer, { fn: call2, keySelector: key2 }, options.watermarkDelay);
      },
    });
    return new DataStream<O>(this.graph, [{ from: node.id, partitioner: { kind: 'auto' } }], node);
  }

  /** One map function per input; both produce the same output type. */
  map<O>(map1: (value: T1) => O, map2: (value: T2) => O): DataStream<O> {
    return this.process<O>({
      processElement1: (v: T1, _ctx: KeyedProcessContext, out: Collector<O>) => out.collect(map1(v)),
      processElement2: (v: T2, _ctx: KeyedProcessContext, out: Collector<O>) => out.collect(map2(v)),
    });
  }
}

/** A stream broadcast to every subtask of the operator it is connected to, with the broadcast states that operator keeps. */
export class BroadcastStream<T> {
  /** @internal */
  constructor(
    /** @internal */ readonly graph: StreamGraph,
    /** @internal */ readonly inputs: StreamInput[],
    /** The broadcast states (Flink: MapStateDescriptors). */
    readonly descriptors: MapStateDescriptor<unknown, unknown>[],
  ) {}
  /** @internal the record type, for inference only */
  declare readonly __type?: T;
}

/** A (keyed or not) stream connected to a broadcast stream (Flink's BroadcastConnectedStream). */
export class BroadcastConnectedStream<T1, T2> {
  /** @internal */
  constructor(
    private readonly graph: StreamGraph,
    private readonly main: DataStream<T1>,
    private readonly side: BroadcastStream<T2>,
  ) {}

  /** Processes the main records (read-only broadcast state) and the broadcast records (writable broadcast state). */
  process<O>(
    fn:
      | BroadcastProcessFunction<T1, T2, O>
      | KeyedBroadcastProcessFunction<unknown, T1, T2, O>
      | {
          processElement(value: T1, ctx: BroadcastContext, out: Collector<O>): void;
          processBroadcastElement(value: T2, ctx: BroadcastContext, out: Collector<O>): void;
        },
  ): DataStream<O> {
    const key = this.main.keySelectorForConsumer();
    const descriptors = this.side.descriptors;
    const make = () => twoMethodFunction(fn, 'processElement', 'processBroadcastElement', 'a broadcast connected stream');
    make();
    const keyed = key !== undefined;
    const node = this.graph.addNode({
      type: keyed ? 'keyed-broadcast-process' : 'broadcast-process',
      name: keyed ? 'KeyedBroadcastProcess' : 'BroadcastProcess',
      chainable: true,
      keyed,
      twoInput: true,
      inputs: [...this.main.inputsForConsumer(1), ...this.side.inputs.map((i) => ({ ...i, inputIndex: 2 as const }))],
      createOperator: (name: string) => {
        const { call1, call2, lifecycle, onTimer } = make();
        return new ProcessOperator(name, call1, lifecycle, key, onTimer, { fn: call2, broadcastStates: descriptors });
      },
    });
    return new DataStream<O>(this.graph, [{ from: node.id, partitioner: { kind: 'auto' } }], node);
  }
}
