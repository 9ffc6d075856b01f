//! The state interfaces user code sees (value, list, map, reducing, aggregating) and the internal namespace-scoped view operators use.

/** Keyed value state, scoped to the key of the record (or timer) being processed. */
export interface ValueState<T> {
  /** The value for the current key, or the descriptor's default. */
  value(): T | undefined;
  /** Sets the value for the current key; `undefined` clears it. */
  update(value: T): void;
  /** Removes the value for the current key. */
  clear(): void;
}

/**
 * A list of elements: per key for keyed state, per subtask for operator state. Elements are never
 * `null` or `undefined`.
 */
export interface ListState<T> {
  /**
   * The elements, in insertion order; empty when there are none. The iterable may be the stored
   * list itself: read it before the next write to this state.
   */
  get(): Iterable<T>;
  /** Appends one element. */
  add(value: T): void;
  /** Appends the elements, in order; nothing happens for an empty list. */
  addAll(values: Iterable<T>): void;
  /** Replaces the elements with these (copied); an empty list clears the state. */
  update(values: Iterable<T>): void;
  /** Removes all elements. */
  clear(): void;
}

/**
 * A map per key. Keys compare by value (composite keys as canonical JSON), so `[1, 'a']` finds the
 * entry put under another `[1, 'a']`; iteration returns composite keys as equal copies.
 */
export interface MapState<K, V> {
  /** The value under `key`, or undefined. */
  get(key: K): V | undefined;
  /** Sets the value under `key`. */
  put(key: K, value: V): void;
  /** Sets every entry (a Map, or any iterable of [key, value]). */
  putAll(entries: Iterable<readonly [K, V]>): void;
  /** Removes the entry under `key`. */
  remove(key: K): void;
  /** Whether there is an entry under `key`. */
  contains(key: K): boolean;
  /** The entries, in insertion order. Removing entries while iterating is allowed. */
  entries(): IterableIterator<[K, V]>;
  /** The keys, in insertion order. */
  keys(): IterableIterator<K>;
  /** The values, in insertion order. */
  values(): IterableIterator<V>;
  /** Whether the map has no entries. */
  isEmpty(): boolean;
  /** Removes every entry. */
  clear(): void;
}

/** Values added are reduced into one (Flink's `ReducingState`). */
export interface ReducingState<T> {
  /** The reduced value, or undefined when nothing was added. */
  get(): T | undefined;
  /** Reduces `value` into the state (the first value is stored as it is). */
  add(value: T): void;
  /** Removes the value. */
  clear(): void;
}

/** Values added are folded into an accumulator; `get` returns the aggregate's result (Flink's `AggregatingState`). */
export interface AggregatingState<IN, OUT> {
  /** `getResult(accumulator)`, or undefined when nothing was added. */
  get(): OUT | undefined;
  /** Folds `value` into the accumulator (created on the first add). */
  add(value: IN): void;
  /** Removes the accumulator. */
  clear(): void;
}

/**
 * The internal view of a keyed state (Flink's `InternalKvState`): state is scoped to the backend's
 * current key and to this state's current namespace. User code never sets a namespace; window
 * operators set the window as namespace to keep per-window state. `null`/`undefined` is the
 * default namespace, where user state lives.
 *
 * A namespace is compared by value: primitives as they are, objects as canonical JSON (computed
 * once per `setCurrentNamespace`, so a primitive namespace, such as a window's end, is cheapest;
 * setting the same object again costs nothing, so namespace objects must not be mutated).
 */
export interface InternalKvState<N = unknown> {
  /** Name of the state. */
  readonly name: string;
  /** Scopes the following accesses to `namespace`. */
  setCurrentNamespace(namespace: N | undefined): void;
  /** The namespace accesses are scoped to. */
  getCurrentNamespace(): N | undefined;
}

/**
 * A keyed state whose namespaces can be merged (Flink's `InternalMergingState`), as session
 * windows merge.
 */
export interface InternalMergingState<N = unknown> extends InternalKvState<N> {
  /**
   * For the current key, merges the state of every source namespace into `target` and clears the
   * sources. List elements are concatenated (target first, then sources in order); reducing and
   * aggregating state are reduced/merged.
   */
  mergeNamespaces(target: N | undefined, sources: Iterable<N | undefined>): void;
}

/** Value state as operators see it. */
export interface InternalValueState<T, N = unknown> extends ValueState<T>, InternalKvState<N> {}
/** List state as operators see it. */
export interface InternalListState<T, N = unknown> extends ListState<T>, InternalMergingState<N> {}
/** Map state as operators see it. */
export interface InternalMapState<K, V, N = unknown> extends MapState<K, V>, InternalKvState<N> {}
/** Reducing state as operators see it. */
export interface InternalReducingState<T, N = unknown> extends ReducingState<T>, InternalMergingState<N> {}
/** Aggregating state as operators see it. */
export interface InternalAggregatingState<IN, OUT, N = unknown> extends AggregatingState<IN, OUT>, InternalMergingState<N> {}
