//! State descriptors: a state's name, kind, functions, defaults and TTL, as user code declares them.

import { StateTtlConfig } from './ttl.ts';

/** The kinds of keyed state; a name is registered with one kind for an operator's life. */
export type StateKind = 'value' | 'list' | 'map' | 'reducing' | 'aggregating';

/** Combines two values into one (Flink's `ReduceFunction`): a lambda or an object with `reduce`. */
export type ReduceFunctionLike<T> = ((accumulated: T, value: T) => T) | { reduce(accumulated: T, value: T): T };

/**
 * Incremental aggregation (Flink's `AggregateFunction`): values are folded into an accumulator,
 * the result is read from it. `merge` is needed only where namespaces merge (session windows).
 * Accumulators are never `undefined`.
 */
export interface AggregateFunction<IN, ACC, OUT> {
  /** A new, empty accumulator. */
  createAccumulator(): ACC;
  /** Folds `value` into `accumulator` and returns the accumulator (the same object or a new one). */
  add(value: IN, accumulator: ACC): ACC;
  /** The result for an accumulator. */
  getResult(accumulator: ACC): OUT;
  /** Combines two accumulators. */
  merge?(a: ACC, b: ACC): ACC;
}

/** What every descriptor has: a name and a TTL config. */
abstract class AbstractStateDescriptor {
  /** The kind of state described. */
  abstract readonly kind: StateKind;
  private ttl: StateTtlConfig = StateTtlConfig.DISABLED;

  constructor(
    /** Name of the state, unique within its operator. */
    readonly name: string,
  ) {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('a state descriptor needs a non-empty name');
  }

  /** Gives the state a time-to-live (keyed state only); read when the state is first registered. */
  enableTimeToLive(ttlConfig: StateTtlConfig): this {
    if (!(ttlConfig instanceof StateTtlConfig))
      throw new TypeError('enableTimeToLive() needs a StateTtlConfig (StateTtlConfig.newBuilder(ms)...build())');
    this.ttl = ttlConfig;
    return this;
  }

  /** The TTL config; {@link StateTtlConfig.DISABLED} unless `enableTimeToLive` was called. */
  get ttlConfig(): StateTtlConfig {
    return this.ttl;
  }
}

/** Declares a keyed value state: one value per key, `defaultValue` when none was set. */
export class ValueStateDescriptor<T> extends AbstractStateDescriptor {
  readonly kind = 'value' as const;
  constructor(
    name: string,
    /** What `value()` returns for a key that has no value. */
    readonly defaultValue?: T,
  ) {
    super(name);
  }
}

/** Declares list state: a list of elements per key (keyed), or per subtask (operator state). */
export class ListStateDescriptor<T> extends AbstractStateDescriptor {
  readonly kind = 'list' as const;
  /** Only the element type; the name is all a list state needs. */
  declare readonly __element?: T;
}

/** Declares map state: a map per key (keyed), or a broadcast map per operator (broadcast state). */
export class MapStateDescriptor<K, V> extends AbstractStateDescriptor {
  readonly kind = 'map' as const;
  /** Only the key and value types. */
  declare readonly __entry?: [K, V];
}

/** Declares reducing state: one value per key, each added value reduced into it. */
export class ReducingStateDescriptor<T> extends AbstractStateDescriptor {
  readonly kind = 'reducing' as const;
  private readonly reducer: { reduce(accumulated: T, value: T): T };
  constructor(name: string, reduceFunction: ReduceFunctionLike<T>) {
    super(name);
    if (typeof reduceFunction === 'function') this.reducer = { reduce: reduceFunction };
    else if (reduceFunction !== null && typeof reduceFunction === 'object' && typeof reduceFunction.reduce === 'function')
      this.reducer = reduceFunction;
    else throw new TypeError(`reducing state '${name}' needs a function (a, b) => value or an object with reduce()`);
  }
  /** Applies the reduce function. */
  reduce(accumulated: T, value: T): T {
    return this.reducer.reduce(accumulated, value);
  }
}

/** Declares aggregating state: one accumulator per key, values added through an {@link AggregateFunction}. */
export class AggregatingStateDescriptor<IN, ACC, OUT> extends AbstractStateDescriptor {
  readonly kind = 'aggregating' as const;
  constructor(
    name: string,
    /** The aggregate function. */
    readonly aggregateFunction: AggregateFunction<IN, ACC, OUT>,
  ) {
    super(name);
    const fn = aggregateFunction as Partial<AggregateFunction<IN, ACC, OUT>> | null;
    if (
      fn === null ||
      typeof fn !== 'object' ||
      typeof fn.createAccumulator !== 'function' ||
      typeof fn.add !== 'function' ||
      typeof fn.getResult !== 'function'
    ) {
      throw new TypeError(`aggregating state '${name}' needs an object with createAccumulator(), add() and getResult()`);
    }
  }
}

/** Any state descriptor. */
export type StateDescriptor<T = unknown> =
  | ValueStateDescriptor<T>
  | ListStateDescriptor<T>
  | MapStateDescriptor<unknown, unknown>
  | ReducingStateDescriptor<T>
  | AggregatingStateDescriptor<T, unknown, unknown>;
