//! Broadcast state: a map per operator that every subtask holds identically, writable on the broadcast side and read-only on the other.

import { mapKey, unmapKey } from './map-keys.ts';

/** The read-only view of broadcast state, for the non-broadcast side (Flink's `ReadOnlyBroadcastState`). */
export interface ReadOnlyBroadcastState<K, V> {
  /** The value under `key`, or undefined. */
  get(key: K): V | undefined;
  /** Whether there is an entry under `key`. */
  contains(key: K): boolean;
  /** The entries, in insertion order, as read-only pairs. */
  immutableEntries(): IterableIterator<readonly [K, V]>;
  /** The keys, in insertion order. */
  keys(): IterableIterator<K>;
  /** The values, in insertion order; do not mutate them: every subtask must keep the same state. */
  values(): IterableIterator<V>;
  /** Number of entries. */
  size(): number;
  /** Whether there are no entries. */
  isEmpty(): boolean;
}

/**
 * Broadcast state (Flink's `BroadcastState`): a map that the broadcast side of a
 * `BroadcastProcessFunction` updates from broadcast records. Every subtask sees the same records, so
 * every subtask must apply them the same way and hold the same map. Keys compare by value as in
 * keyed map state.
 */
export interface BroadcastState<K, V> extends ReadOnlyBroadcastState<K, V> {
  /** Sets the value under `key`. */
  put(key: K, value: V): void;
  /** Sets every entry. */
  putAll(entries: Iterable<readonly [K, V]>): void;
  /** Removes the entry under `key`. */
  remove(key: K): void;
  /** Removes every entry. */
  clear(): void;
  /** The entries, in insertion order; removing while iterating is allowed. */
  entries(): IterableIterator<[K, V]>;
}

/**
 * Heap broadcast state: one Map of mapped key → value.
 *
 * Threading model: one subtask's thread. Life cycle: created on first registration or restore,
 * lives as long as its {@link HeapOperatorStateStore}.
 */
export class HeapBroadcastState<K, V> implements BroadcastState<K, V> {
  /** Mapped key → value. */
  readonly map = new Map<unknown, V>();
  /** The read-only view handed to the non-broadcast side. */
  readonly readOnly: ReadOnlyBroadcastState<K, V>;

  constructor(
    /** Name of the state. */
    readonly name: string,
  ) {
    this.readOnly = new ReadOnlyBroadcastStateView(this);
  }

  get(key: K): V | undefined {
    return this.map.get(mapKey(key));
  }
  contains(key: K): boolean {
    return this.map.has(mapKey(key));
  }
  put(key: K, value: V): void {
    this.map.set(mapKey(key), value);
  }
  putAll(entries: Iterable<readonly [K, V]>): void {
    for (const [k, v] of entries) this.map.set(mapKey(k), v);
  }
  remove(key: K): void {
    this.map.delete(mapKey(key));
  }
  clear(): void {
    this.map.clear();
  }
  *entries(): IterableIterator<[K, V]> {
    for (const [mk, v] of this.map) yield [unmapKey(mk) as K, v];
  }
  immutableEntries(): IterableIterator<readonly [K, V]> {
    return this.entries();
  }
  *keys(): IterableIterator<K> {
    for (const mk of this.map.keys()) yield unmapKey(mk) as K;
  }
  values(): IterableIterator<V> {
    return this.map.values();
  }
  size(): number {
    return this.map.size;
  }
  isEmpty(): boolean {
    return this.map.size === 0;
  }
}

/** Read-only view of a {@link HeapBroadcastState}: a separate object, so a cast does not reach the writers. */
class ReadOnlyBroadcastStateView<K, V> implements ReadOnlyBroadcastState<K, V> {
  constructor(private readonly state: HeapBroadcastState<K, V>) {}
  get(key: K): V | undefined {
    return this.state.get(key);
  }
  contains(key: K): boolean {
    return this.state.contains(key);
  }
  immutableEntries(): IterableIterator<readonly [K, V]> {
    return this.state.entries();
  }
  keys(): IterableIterator<K> {
    return this.state.keys();
  }
  values(): IterableIterator<V> {
    return this.state.values();
  }
  size(): number {
    return this.state.size();
  }
  isEmpty(): boolean {
    return this.state.isEmpty();
  }
}
