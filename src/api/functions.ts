//! User function classes (actor-style, with open/close) and how lambdas and instances become operator calls.

import type { BroadcastContext, Collector, KeyedProcessContext, OnTimerContext, ProcessContext } from '../actors/operators.ts';
import type { FunctionLifecycle, RuntimeContext } from '../actors/operator.ts';

/**
 * Base of every function class: a subtask's instance gets `open(context)` before its first record
 * and `close()` after its last, and can reach its runtime context (keyed state, subtask index).
 * Each subtask works on its own shallow copy of the instance, as Flink works on its own
 * deserialized copy.
 */
export abstract class RichFunction implements FunctionLifecycle {
  private runtimeContext: RuntimeContext | undefined;
  /** @internal called by the runtime before {@link open}. */
  setRuntimeContext(context: RuntimeContext): void {
    this.runtimeContext = context;
  }
  /** The subtask's runtime context; available from `open` on. */
  getRuntimeContext(): RuntimeContext {
    if (!this.runtimeContext) throw new Error(`${this.constructor.name}: the runtime context is only available from open() on`);
    return this.runtimeContext;
  }
  /** Called once per subtask before the first record. */
  open(_context: RuntimeContext): void | Promise<void> {}
  /** Called once per subtask after the last record. */
  close(): void | Promise<void> {}
}

/** One record in, one record out. */
export abstract class MapFunction<I, O> extends RichFunction {
  abstract map(value: I): O;
}
/** Keeps the records for which `filter` returns true. */
export abstract class FilterFunction<T> extends RichFunction {
  abstract filter(value: T): boolean;
}
/** One record in, any number out. */
export abstract class FlatMapFunction<I, O> extends RichFunction {
  abstract flatMap(value: I, out: Collector<O>): void;
}
/** Combines two values of a key into one. */
export abstract class ReduceFunction<T> extends RichFunction {
  abstract reduce(accumulated: T, value: T): T;
}
/** Low-level per-record processing with a context. */
export abstract class ProcessFunction<I, O> extends RichFunction {
  abstract processElement(value: I, ctx: ProcessContext, out: Collector<O>): void;
}
/** Per-record processing on a keyed stream, with keyed state and timers. */
export abstract class KeyedProcessFunction<K, I, O> extends RichFunction {
  abstract processElement(value: I, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  /** Called when a timer registered through `ctx.timerService()` fires (override to use timers). */
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
}

/** A lambda, or an object with the named method (a function class instance). */
export type FunctionOrInstance<F extends (...args: never[]) => unknown, M extends string> =
  F | ({ [P in M]: F } & Partial<FunctionLifecycle>);

/**
 * Turns a lambda or a function-class instance into the call an operator makes and the lifecycle
 * it drives. Instances are copied (shallowly) so that every subtask has its own fields.
 */
export function resolveFunction<F extends (...args: never[]) => unknown>(
  fn: unknown,
  method: string,
  operation: string,
): { call: F; lifecycle: FunctionLifecycle | undefined } {
  if (typeof fn === 'function') return { call: fn as F, lifecycle: undefined };
  if (fn !== null && typeof fn === 'object' && typeof (fn as Record<string, unknown>)[method] === 'function') {
    const copy = Object.assign(Object.create(Object.getPrototypeOf(fn)) as object, fn) as Record<string, unknown>;
    return { call: (copy[method] as F).bind(copy) as F, lifecycle: copy as FunctionLifecycle };
  }
  throw new TypeError(`${operation}() needs a function or an object with a ${method}() method, got ${fn === null ? 'null' : typeof fn}`);
}

/** Processes two connected streams, one method per input. */
export abstract class CoProcessFunction<I1, I2, O> extends RichFunction {
  abstract processElement1(value: I1, ctx: ProcessContext, out: Collector<O>): void;
  abstract processElement2(value: I2, ctx: ProcessContext, out: Collector<O>): void;
}
/** Processes two connected keyed streams with keyed state shared by both inputs. */
export abstract class KeyedCoProcessFunction<K, I1, I2, O> extends RichFunction {
  abstract processElement1(value: I1, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  abstract processElement2(value: I2, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  /** Called when a timer registered through `ctx.timerService()` fires. */
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
}

/** Processes a non-keyed stream connected to a broadcast stream. */
export abstract class BroadcastProcessFunction<I, B, O> extends RichFunction {
  /** A main record: broadcast state is read-only here. */
  abstract processElement(value: I, ctx: BroadcastContext, out: Collector<O>): void;
  /** A broadcast record: every subtask sees it and may update its broadcast state (identically). */
  abstract processBroadcastElement(value: B, ctx: BroadcastContext, out: Collector<O>): void;
}
/** Processes a keyed stream connected to a broadcast stream: keyed state and timers on the main side. */
export abstract class KeyedBroadcastProcessFunction<K, I, B, O> extends RichFunction {
  abstract processElement(value: I, ctx: BroadcastContext & KeyedProcessContext<K>, out: Collector<O>): void;
  abstract processBroadcastElement(value: B, ctx: BroadcastContext, out: Collector<O>): void;
  /** Called when a timer registered on the main side fires. */
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
}
