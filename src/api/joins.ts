//! Flink's two DataStream joins: the window join (JoinedStreams, built on union + keyBy + window) and the interval join of two keyed streams.

import { IntervalJoinOperator, type ProcessJoinCall, type ProcessJoinContext } from '../actors/interval-join-operator.ts';
import type { FunctionLifecycle, RuntimeContext } from '../actors/operator.ts';
import type { Collector } from '../actors/operators.ts';
import type { OutputTag } from '../actors/output-tag.ts';
import { configError, graphError } from '../core/errors.ts';
import type { StreamGraph } from '../graph/stream-graph.ts';
import type { WindowAssigner } from '../windows/assigners.ts';
import type { Trigger } from '../windows/triggers.ts';
import type { WindowContext } from '../windows/window-processor.ts';
import type { Window } from '../windows/windows.ts';
import { DataStream, KeyedStream, toKeyFunction, type KeySelector } from './datastream.ts';
import { RichFunction, resolveFunction } from './functions.ts';
import { ProcessWindowFunction } from './windowed-stream.ts';

export type { ProcessJoinContext } from '../actors/interval-join-operator.ts';

/** Joins one left and one right record of the same key and window into one result (Flink's JoinFunction). */
export abstract class JoinFunction<L, R, O> extends RichFunction {
  abstract join(left: L, right: R): O;
}

/** Joins one left and one right record into any number of results (Flink's FlatJoinFunction). */
export abstract class FlatJoinFunction<L, R, O> extends RichFunction {
  abstract join(left: L, right: R, out: Collector<O>): void;
}

/** Handles each pair an interval join matches, with their timestamps (Flink's ProcessJoinFunction). */
export abstract class ProcessJoinFunction<L, R, O> extends RichFunction {
  abstract processElement(left: L, right: R, ctx: ProcessJoinContext, out: Collector<O>): void;
}

/** A join function as a lambda `(left, right) => result` or a {@link JoinFunction} instance. */
export type JoinFunctionLike<L, R, O> = JoinFunction<L, R, O> | ((left: L, right: R) => O);

/** A flat join function as a lambda `(left, right, out) => void` or a {@link FlatJoinFunction} instance. */
export type FlatJoinFunctionLike<L, R, O> = FlatJoinFunction<L, R, O> | ((left: L, right: R, out: Collector<O>) => void);

/** A process join function as a lambda or a {@link ProcessJoinFunction} instance. */
export type ProcessJoinFunctionLike<L, R, O> =
  ProcessJoinFunction<L, R, O> | ((left: L, right: R, ctx: ProcessJoinContext, out: Collector<O>) => void);

/**
 * The graph a stream belongs to. DataStream keeps it protected; the joins are part of the same
 * API layer and take streams as arguments, as Flink's JoinedStreams does.
 */
function graphOf(stream: DataStream<unknown>): StreamGraph {
  return (stream as unknown as { graph: StreamGraph }).graph;
}

/** Whether a join function is a flat one: a FlatJoinFunction, or a function that declares the collector parameter. */
function isFlatJoin(fn: unknown): boolean {
  if (fn instanceof FlatJoinFunction) return true;
  if (fn instanceof JoinFunction) return false;
  const call = typeof fn === 'function' ? fn : (fn as { join?: unknown } | null)?.join;
  return typeof call === 'function' && call.length >= 3;
}

/** A record of either input of a window join, on its way through the shared window operator. */
interface Tagged {
  /** 1: left input, 2: right input. */
  side: 1 | 2;
  value: unknown;
}

/**
 * The window function of a window join: splits a window's records by input and emits the join of
 * every left with every right record (Flink's CoGroupWindowFunction around a JoinCoGroupFunction).
 * A window with records of one side only emits nothing: an inner join.
 *
 * The user function is resolved (copied, for a function-class instance) on first use by each
 * subtask's copy of this object, so each subtask has its own instance and lifecycle.
 */
class JoinWindowFunction extends ProcessWindowFunction<Tagged, unknown, unknown, Window> {
  private user: { call: (...args: unknown[]) => unknown; lifecycle: FunctionLifecycle | undefined } | undefined = undefined;

  constructor(
    private readonly fn: unknown,
    private readonly flat: boolean,
  ) {
    super();
  }

  private resolved(): { call: (...args: unknown[]) => unknown; lifecycle: FunctionLifecycle | undefined } {
    return (this.user ??= resolveFunction<(...args: unknown[]) => unknown>(this.fn, 'join', 'apply'));
  }

  /** @internal hands the runtime context on to the user's function class. */
  setRuntimeContext(context: RuntimeContext): void {
    this.resolved().lifecycle?.setRuntimeContext?.(context);
  }

  override open(context: unknown): void | Promise<void> {
    return this.resolved().lifecycle?.open?.(context as RuntimeContext);
  }

  override close(): void | Promise<void> {
    return this.user?.lifecycle?.close?.();
  }

  process(_key: unknown, _context: WindowContext<Window>, elements: Iterable<Tagged>, out: Collector<unknown>): void {
    const lefts: unknown[] = [];
    const rights: unknown[] = [];
    for (const e of elements) (e.side === 1 ? lefts : rights).push(e.value);
    if (lefts.length === 0 || rights.length === 0) return;
    const { call } = this.resolved();
    if (this.flat) {
      for (const l of lefts) for (const r of rights) call(l, r, out);
    } else {
      for (const l of lefts) for (const r of rights) out.collect(call(l, r));
    }
  }
}

/**
 * Two streams to be joined over windows (Flink's `JoinedStreams`):
 * `new JoinedStreams(a, b).where(keyA).equalTo(keyB).window(assigner).apply(fn)`. For every key
 * and window, every left record of the window is joined with every right record of the window.
 */
export class JoinedStreams<L, R> {
  constructor(
    private readonly first: DataStream<L>,
    private readonly second: DataStream<R>,
  ) {
    if (!(first instanceof DataStream) || !(second instanceof DataStream)) throw new TypeError('join() needs two DataStreams');
    if (graphOf(first as DataStream<unknown>) !== graphOf(second as DataStream<unknown>))
      throw graphError('join() needs streams of the same environment');
  }

  /** The key of a left record. */
  where<K>(keySelector: KeySelector<L, K>): JoinWhere<L, R, K> {
    return new JoinWhere<L, R, K>(this.first, this.second, toKeyFunction(keySelector, 'where'));
  }
}

/** A window join with its left key: give the right key with {@link equalTo}. */
export class JoinWhere<L, R, K> {
  /** @internal */
  constructor(
    private readonly first: DataStream<L>,
    private readonly second: DataStream<R>,
    private readonly key1: (value: unknown) => unknown,
  ) {}

  /** The key of a right record; it must equal the left key for records to join. */
  equalTo(keySelector: KeySelector<R, K>): JoinEqualTo<L, R, K> {
    return new JoinEqualTo<L, R, K>(this.first, this.second, this.key1, toKeyFunction(keySelector, 'equalTo'));
  }
}

/** A window join with both keys: choose the windows with {@link window}. */
export class JoinEqualTo<L, R, K> {
  /** @internal */
  constructor(
    private readonly first: DataStream<L>,
    private readonly second: DataStream<R>,
    private readonly key1: (value: unknown) => unknown,
    private readonly key2: (value: unknown) => unknown,
  ) {}

  /** The windows records are joined in (tumbling, sliding, session, ...). */
  window<W extends Window>(assigner: WindowAssigner<unknown, W>): JoinWithWindow<L, R, K, W> {
    if (typeof assigner?.assignWindows !== 'function') throw new TypeError('window() needs a WindowAssigner');
    return new JoinWithWindow<L, R, K, W>(this.first, this.second, this.key1, this.key2, assigner);
  }
}

/**
 * A window join ready to run: optionally set a trigger or allowed lateness, then {@link apply} a
 * join function. Results carry the window's max timestamp (`end - 1`), as every window result does.
 */
export class JoinWithWindow<L, R, K, W extends Window> {
  private triggerValue: Trigger<unknown, W> | undefined;
  private lateness = 0;

  /** @internal */
  constructor(
    private readonly first: DataStream<L>,
    private readonly second: DataStream<R>,
    private readonly key1: (value: unknown) => unknown,
    private readonly key2: (value: unknown) => unknown,
    private readonly assigner: WindowAssigner<unknown, W>,
  ) {}

  /**
   * Replaces the assigner's default trigger. The trigger sees the records of both inputs as
   * `{ side: 1 | 2, value }`.
   */
  trigger(trigger: Trigger<unknown, W>): this {
    this.triggerValue = trigger;
    return this;
  }

  /** Keeps windows for `ms` after their end: a late record within it joins again, with updated results. */
  allowedLateness(ms: number): this {
    if (!Number.isFinite(ms) || ms < 0) throw configError(`allowed lateness must be a non-negative number of ms, got ${ms}`);
    this.lateness = ms;
    return this;
  }

  /**
   * Joins every left record with every right record of the same key and window. With a
   * {@link JoinFunction} (or `(left, right) => result`), one result per pair; with a
   * {@link FlatJoinFunction} (or a function that declares three parameters,
   * `(left, right, out) => void`), any number per pair.
   */
  apply<O>(fn: JoinFunctionLike<L, R, O>): DataStream<O>;
  apply<O>(fn: FlatJoinFunctionLike<L, R, O>): DataStream<O>;
  apply<O>(fn: JoinFunctionLike<L, R, O> | FlatJoinFunctionLike<L, R, O>): DataStream<O> {
    resolveFunction(fn, 'join', 'apply');
    const flat = isFlatJoin(fn);
    const tagged = (stream: DataStream<unknown>, side: 1 | 2): DataStream<Tagged> => {
      const mapped = stream.map((value): Tagged => ({ side, value })).name(side === 1 ? 'Join(Tag Left)' : 'Join(Tag Right)');
      const parallelism = stream.getParallelism();
      return parallelism === undefined ? mapped : mapped.setParallelism(parallelism);
    };
    const key1 = this.key1;
    const key2 = this.key2;
    const windowed = tagged(this.first as DataStream<unknown>, 1)
      .union(tagged(this.second as DataStream<unknown>, 2))
      .keyBy((t) => (t.side === 1 ? key1(t.value) : key2(t.value)))
      .window(this.assigner);
    if (this.triggerValue !== undefined) windowed.trigger(this.triggerValue);
    if (this.lateness > 0) windowed.allowedLateness(this.lateness);
    return windowed
      .process<O>(new JoinWindowFunction(fn, flat) as unknown as ProcessWindowFunction<Tagged, O, unknown, W>)
      .name('Window Join');
  }
}

/**
 * The interval join of two keyed streams (Flink's `KeyedStream.IntervalJoin`):
 * `new IntervalJoin(a.keyBy(k), b.keyBy(k)).between(lower, upper).process(fn)` emits each pair
 * `(l, r)` of the same key with `l.ts + lower <= r.ts <= l.ts + upper`. Event time only.
 */
export class IntervalJoin<L, R, K> {
  constructor(
    private readonly left: KeyedStream<L, K>,
    private readonly right: KeyedStream<R, K>,
  ) {
    if (!(left instanceof KeyedStream) || !(right instanceof KeyedStream))
      throw graphError('intervalJoin() needs two keyed streams: use keyBy() on both sides');
    if (graphOf(left as DataStream<unknown>) !== graphOf(right as DataStream<unknown>))
      throw graphError('intervalJoin() needs streams of the same environment');
  }

  /**
   * Joins a left record at `t` with the right records in `[t + lowerMs, t + upperMs]` (both
   * inclusive unless made exclusive). The bounds are integer milliseconds, `lowerMs <= upperMs`;
   * either may be negative.
   */
  between(lowerMs: number, upperMs: number): IntervalJoined<L, R, K> {
    for (const [name, v] of [
      ['lower', lowerMs],
      ['upper', upperMs],
    ] as const) {
      if (!Number.isSafeInteger(v)) throw configError(`interval join: the ${name} bound must be an integer number of ms, got ${v}`);
    }
    if (lowerMs > upperMs) throw configError(`interval join: the lower bound (${lowerMs}) must not exceed the upper bound (${upperMs})`);
    return new IntervalJoined<L, R, K>(this.left, this.right, lowerMs, upperMs);
  }
}

/** An interval join with its bounds: make them exclusive if needed, then {@link process} the pairs. */
export class IntervalJoined<L, R, K> {
  private lowerInclusive = true;
  private upperInclusive = true;
  private leftLateTag: string | undefined;
  private rightLateTag: string | undefined;

  /** @internal */
  constructor(
    private readonly left: KeyedStream<L, K>,
    private readonly right: KeyedStream<R, K>,
    private readonly lowerMs: number,
    private readonly upperMs: number,
  ) {}

  /** Excludes the lower bound: `r.ts > l.ts + lower`. */
  lowerBoundExclusive(): this {
    this.lowerInclusive = false;
    return this;
  }

  /** Excludes the upper bound: `r.ts < l.ts + upper`. */
  upperBoundExclusive(): this {
    this.upperInclusive = false;
    return this;
  }

  /** Sends left records that arrive behind the watermark to this side output instead of dropping them. */
  sideOutputLeftLateData(tag: OutputTag<L>): this {
    this.leftLateTag = tag.id;
    return this;
  }

  /** Sends right records that arrive behind the watermark to this side output instead of dropping them. */
  sideOutputRightLateData(tag: OutputTag<R>): this {
    this.rightLateTag = tag.id;
    return this;
  }

  /**
   * Calls `fn` for every matching pair as soon as its second record arrives; what it emits carries
   * the larger of the two timestamps. Records behind the watermark are dropped (counted as
   * `numLateRecordsDropped`) unless a late-data side output is set.
   */
  process<O>(fn: ProcessJoinFunctionLike<L, R, O>): DataStream<O> {
    const make = () => resolveFunction<ProcessJoinCall>(fn, 'processElement', 'process');
    make();
    const spec = {
      lowerBound: this.lowerMs,
      upperBound: this.upperMs,
      lowerBoundInclusive: this.lowerInclusive,
      upperBoundInclusive: this.upperInclusive,
      leftLateDataTag: this.leftLateTag,
      rightLateDataTag: this.rightLateTag,
    };
    const key1 = this.left.keySelectorForConsumer();
    const key2 = this.right.keySelectorForConsumer();
    const graph = graphOf(this.left as DataStream<unknown>);
    const node = graph.addNode({
      type: 'interval-join',
      name: 'IntervalJoin',
      chainable: true,
      keyed: true,
      twoInput: true,
      inputs: [...this.left.inputsForConsumer(1), ...this.right.inputsForConsumer(2)],
      createOperator: (name: string) => {
        const { call, lifecycle } = make();
        return new IntervalJoinOperator(name, { ...spec }, call, key1, key2, lifecycle);
      },
    });
    return new DataStream<O>(graph, [{ from: node.id, partitioner: { kind: 'auto' } }], node);
  }
}
