//! The keyed state backend contract and the heap backend: state in Maps, one Map per key group.

import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { ValueStateDescriptor } from './descriptors.ts';
import { assignToKeyGroup, type KeyGroupRange } from './key-groups.ts';

/** Keyed value state, scoped to the key of the record (or timer) being processed. */
export interface ValueState<T> {
  /** The value for the current key, or the descriptor's default. */
  value(): T | undefined;
  /** Sets the value for the current key. */
  update(value: T): void;
  /** Removes the value for the current key. */
  clear(): void;
}

/**
 * What an operator needs from a keyed backend. User code sees synchronous state; a backend that
 * keeps state off the heap (RocksDB) makes a batch's keys resident in {@link prefetch}, which the
 * runtime awaits before it calls user code on that batch.
 */
export interface KeyedStateBackend {
  /** Name shown in errors and metrics (`heap`, `rocksdb`). */
  readonly kind: string;
  /** Key groups this subtask owns. */
  readonly keyGroupRange: KeyGroupRange;
  /** Number of key groups of the job. */
  readonly maxParallelism: number;
  /** Scopes every state of this backend to `key`. */
  setCurrentKey(key: unknown): void;
  /** The key state is scoped to now. */
  getCurrentKey(): unknown;
  /** Key group of the current key. */
  getCurrentKeyGroup(): number;
  /** Creates or returns the value state the descriptor names. */
  getValueState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  /** Makes the state of these keys available synchronously; a heap backend has nothing to do. */
  prefetch(keys: readonly unknown[]): void | Promise<void>;
  /** Number of keys with a value in any state (a metric). */
  keyCount(): number;
  /** Releases everything. */
  dispose(): void;
}

/** Turns a key into something a Map compares by value: primitives as they are, composites as canonical JSON. */
export function mapKey(key: unknown): unknown {
  const type = typeof key;
  if (type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint' || key === undefined || key === null) return key;
  return `\u0000${JSON.stringify(key)}`;
}

class HeapValueState<T> implements ValueState<T> {
  /** One table per key group, created on first write. */
  readonly tables: (Map<unknown, T> | undefined)[];
  constructor(
    private readonly backend: HeapKeyedStateBackend,
    readonly descriptor: ValueStateDescriptor<T>,
  ) {
    this.tables = new Array(backend.maxParallelism);
  }
  value(): T | undefined {
    const table = this.tables[this.backend.currentKeyGroup];
    if (table !== undefined) {
      const v = table.get(this.backend.currentMapKey);
      if (v !== undefined) return v;
    }
    return this.descriptor.defaultValue;
  }
  update(value: T): void {
    if (value === undefined) {
      this.clear();
      return;
    }
    const group = this.backend.currentKeyGroup;
    let table = this.tables[group];
    if (table === undefined) table = this.tables[group] = new Map();
    table.set(this.backend.currentMapKey, value);
  }
  clear(): void {
    this.tables[this.backend.currentKeyGroup]?.delete(this.backend.currentMapKey);
  }
  size(): number {
    let n = 0;
    for (const t of this.tables) if (t) n += t.size;
    return n;
  }
}

/**
 * Keyed state on the JS heap: for each state, a Map per key group, so that a snapshot and a
 * rescale move whole key groups.
 *
 * Threading model: one subtask actor's thread. Life cycle: created at deploy, states registered
 * in `open`, disposed at close.
 */
export class HeapKeyedStateBackend implements KeyedStateBackend {
  readonly kind = 'heap';
  /** Key group of the current key (read by states on every access). */
  currentKeyGroup = 0;
  /** The current key as used in Maps. */
  currentMapKey: unknown = undefined;
  private currentKey: unknown = undefined;
  private readonly states = new Map<string, HeapValueState<unknown>>();

  constructor(
    readonly maxParallelism: number,
    readonly keyGroupRange: KeyGroupRange,
    private readonly operatorName = 'operator',
  ) {}

  setCurrentKey(key: unknown): void {
    this.currentKey = key;
    this.currentMapKey = mapKey(key);
    this.currentKeyGroup = assignToKeyGroup(key, this.maxParallelism);
  }

  getCurrentKey(): unknown {
    return this.currentKey;
  }

  getCurrentKeyGroup(): number {
    return this.currentKeyGroup;
  }

  getValueState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T> {
    const existing = this.states.get(descriptor.name);
    if (existing) {
      if (existing.descriptor.kind !== descriptor.kind) {
        throw new WeirError(`state '${descriptor.name}' of operator '${this.operatorName}' is already registered as ${existing.descriptor.kind} state`, {
          code: ErrorCodes.STATE_ACCESS,
          domain: 'user',
          operator: this.operatorName,
        });
      }
      return existing as unknown as ValueState<T>;
    }
    const state = new HeapValueState<T>(this, descriptor);
    this.states.set(descriptor.name, state as unknown as HeapValueState<unknown>);
    return state;
  }

  prefetch(): void {}

  keyCount(): number {
    let n = 0;
    for (const s of this.states.values()) n += s.size();
    return n;
  }

  dispose(): void {
    this.states.clear();
  }
}
