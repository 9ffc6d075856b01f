//! WindowedStream: a keyed (or all-in-one) stream cut into windows, with triggers, lateness and window functions.

import type { Collector } from '../actors/operators.ts';
import type { FunctionLifecycle } from '../actors/operator.ts';
import type { OutputTag } from '../actors/output-tag.ts';
import { WindowOperator } from '../actors/window-operator.ts';
import { configError } from '../core/errors.ts';
import type { StreamGraph, StreamInput } from '../graph/stream-graph.ts';
import type { WindowAssigner } from '../windows/assigners.ts';
import type { Trigger } from '../windows/triggers.ts';
import type { AggregateFunction, WindowContents, WindowContext, WindowEmitter, WindowSpec } from '../windows/window-processor.ts';
import type { Window } from '../windows/windows.ts';
import { DataStream } from './datastream.ts';
import { resolveFunction, type ReduceFunction } from './functions.ts';

/** Emits a window's results with its metadata and per-window state (Flink's ProcessWindowFunction). */
export abstract class ProcessWindowFunction<IN, OUT, KEY = unknown, W extends Window = Window> implements FunctionLifecycle {
  abstract process(key: KEY, context: WindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>): void;
  /** Called when the window is purged for good: clear per-window state here. */
  clear(_context: WindowContext<W>): void {}
  open(_context: unknown): void | Promise<void> {}
  close(): void | Promise<void> {}
}

/** A process window function as a lambda or an instance. */
export type ProcessWindowFunctionLike<IN, OUT, KEY, W extends Window> =
  ProcessWindowFunction<IN, OUT, KEY, W> | ((key: KEY, context: WindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>) => void);

function emitterOf(fn: unknown): { emitter: WindowEmitter; onClear?: (c: WindowContext) => void; lifecycle?: FunctionLifecycle } {
  const { call, lifecycle } = resolveFunction<
    (key: unknown, ctx: WindowContext, elements: Iterable<unknown>, out: Collector<unknown>) => void
  >(fn, 'process', 'process');
  const clear = (lifecycle as { clear?: (c: WindowContext) => void } | undefined)?.clear;
  return {
    emitter: (key, ctx, elements, out) => call(key, ctx, elements, { collect: out }),
    onClear: clear ? (c) => clear.call(lifecycle, c) : undefined,
    lifecycle,
  };
}

const passThrough: WindowEmitter = (_key, _ctx, elements, out) => {
  for (const e of elements) out(e);
};

/** A keyed stream in windows: configure the trigger and lateness, then apply a window function. */
export class WindowedStream<T, K, W extends Window = Window> {
  private triggerValue: Trigger | undefined;
  private lateness = 0;
  private lateTag: string | undefined;

  /** @internal */
  constructor(
    private readonly graph: StreamGraph,
    private readonly inputs: StreamInput[],
    private readonly keyFn: (value: unknown) => unknown,
    private readonly assigner: WindowAssigner<unknown, W>,
    private readonly allWindows = false,
  ) {}

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<T, W>): this {
    this.triggerValue = trigger as Trigger;
    return this;
  }

  /** Keeps windows for `ms` after their end: late records within it update the result (event time only). */
  allowedLateness(ms: number): this {
    if (!Number.isFinite(ms) || ms < 0) throw configError(`allowed lateness must be a non-negative number of ms, got ${ms}`);
    if (ms > 0 && !this.assigner.eventTime) throw configError('allowed lateness applies to event-time windows only');
    this.lateness = ms;
    return this;
  }

  /** Sends records that arrive after their windows closed to a side output instead of dropping them. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.lateTag = tag.id;
    return this;
  }

  private build<O>(
    type: string,
    name: string,
    make: () => { contents: WindowContents; emitter: WindowEmitter; onClear?: (c: WindowContext) => void; lifecycle?: FunctionLifecycle },
  ): DataStream<O> {
    make();
    const keyFn = this.keyFn;
    const spec = (made: ReturnType<typeof make>): WindowSpec => ({
      assigner: this.assigner as WindowAssigner,
      trigger: this.triggerValue,
      contents: made.contents,
      emitter: made.emitter,
      onClear: made.onClear,
      allowedLatenessMs: this.lateness,
      lateDataTag: this.lateTag,
    });
    const node = this.graph.addNode({
      type,
      name,
      chainable: true,
      keyed: true,
      inputs: this.inputs.map((i) => ({ ...i })),
      maxSupportedParallelism: this.allWindows ? 1 : undefined,
      createOperator: (opName: string) => {
        const made = make();
        return new WindowOperator(opName, spec(made), keyFn, made.lifecycle);
      },
    });
    if (this.allWindows) node.parallelism = 1;
    return new DataStream<O>(this.graph, [{ from: node.id, partitioner: { kind: 'auto' } }], node);
  }

  /** Reduces each window incrementally; with `process`, the reduced value is handed to it with the window. */
  reduce<O = T>(fn: ((a: T, b: T) => T) | ReduceFunction<T>, process?: ProcessWindowFunctionLike<T, O, K, W>): DataStream<O> {
    return this.build<O>('window-reduce', process ? 'Window(Reduce, Process)' : 'Window(Reduce)', () => {
      const r = resolveFunction<(a: unknown, b: unknown) => unknown>(fn, 'reduce', 'reduce');
      const p = process ? emitterOf(process) : undefined;
      return {
        contents: { kind: 'reduce', reduce: r.call },
        emitter: p?.emitter ?? passThrough,
        onClear: p?.onClear,
        lifecycle: p?.lifecycle ?? r.lifecycle,
      };
    });
  }

  /** Aggregates each window incrementally; with `process`, the result is handed to it with the window. */
  aggregate<ACC, R, O = R>(fn: AggregateFunction<T, ACC, R>, process?: ProcessWindowFunctionLike<R, O, K, W>): DataStream<O> {
    if (typeof fn?.createAccumulator !== 'function' || typeof fn.add !== 'function' || typeof fn.getResult !== 'function') {
      throw new TypeError('aggregate() needs an AggregateFunction with createAccumulator(), add() and getResult()');
    }
    return this.build<O>('window-aggregate', process ? 'Window(Aggregate, Process)' : 'Window(Aggregate)', () => {
      const copy = Object.assign(Object.create(Object.getPrototypeOf(fn)) as object, fn) as AggregateFunction<unknown, unknown, unknown>;
      const p = process ? emitterOf(process) : undefined;
      return {
        contents: { kind: 'aggregate', aggregate: copy },
        emitter: p?.emitter ?? passThrough,
        onClear: p?.onClear,
        lifecycle: p?.lifecycle ?? (copy as unknown as FunctionLifecycle),
      };
    });
  }

  /** Hands every window's records, with its metadata, to a process window function. */
  process<O>(fn: ProcessWindowFunctionLike<T, O, K, W>): DataStream<O> {
    return this.build<O>('window-process', 'Window(Process)', () => {
      const p = emitterOf(fn);
      return { contents: { kind: 'list' }, ...p };
    });
  }

  /** Sums a numeric field per window (the first record of the window carries the other fields), or the numbers themselves. */
  sum(field?: keyof T & string): DataStream<T> {
    return this.reduce((a: T, b: T) => {
      if (field === undefined) return ((a as number) + (b as number)) as T;
      return { ...(a as object), [field]: (a as Record<string, number>)[field] + (b as Record<string, number>)[field] } as T;
    });
  }

  /** Counts records per window, emitting `{ key, window: { start, end }, count }`. */
  count(): DataStream<{ key: K; start: number; end: number; count: number }> {
    return this.aggregate<number, number, { key: K; start: number; end: number; count: number }>(
      { createAccumulator: () => 0, add: (_v, acc) => acc + 1, getResult: (acc) => acc, merge: (a, b) => a + b },
      (key, ctx, counts, out) => {
        const w = ctx.window() as unknown as { start: number; end: number };
        for (const count of counts) out.collect({ key, start: w.start, end: w.end, count });
      },
    );
  }
}
