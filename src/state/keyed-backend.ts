//! The keyed state backend contract and the heap backend: state in Maps, one Map per key group, snapshotted per key group.

import { Packr } from 'msgpackr';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import type {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateDescriptor,
  StateKind,
  ValueStateDescriptor,
} from './descriptors.ts';
import {
  HeapAggregatingState,
  HeapListState,
  HeapMapState,
  HeapReducingState,
  HeapValueState,
  TtlPolicy,
  type HeapKeyContext,
  type HeapKvState,
} from './heap-keyed-states.ts';
import { assignToKeyGroup, type KeyGroupRange } from './key-groups.ts';
import { rowPackr, type RowState } from './key-rows.ts';
import { mapKey, unmapKey } from './map-keys.ts';
import {
  KEYED_SNAPSHOT_VERSION,
  plainEntry,
  restoreEntry,
  restoreError,
  snapshotTableKeyGroup,
  validateStateSnapshot,
  type KeyGroupStateSnapshot,
} from './snapshot-format.ts';
import { EntrySnapshot } from './entry-snapshot.ts';
import { StateTable } from './state-table.ts';
import type {
  InternalAggregatingState,
  InternalKvState,
  InternalListState,
  InternalMapState,
  InternalReducingState,
  InternalValueState,
  ValueState,
} from './state-types.ts';
import { SYSTEM_TTL_TIME_PROVIDER, type TtlTimeProvider } from './ttl.ts';

export { mapKey, unmapKey } from './map-keys.ts';
export type { ValueState } from './state-types.ts';

/**
 * What an operator needs from a keyed backend. User code sees synchronous state; a backend that
 * keeps state off the heap (RocksDB) makes a batch's keys resident in {@link prefetch}, which the
 * runtime awaits before it calls user code on that batch.
 *
 * States are scoped to the current key and, for operators that need it (windows), to a namespace
 * set on the state itself ({@link InternalKvState.setCurrentNamespace}).
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
  getValueState<T>(descriptor: ValueStateDescriptor<T>): InternalValueState<T>;
  /** Creates or returns the list state the descriptor names. */
  getListState<T>(descriptor: ListStateDescriptor<T>): InternalListState<T>;
  /** Creates or returns the map state the descriptor names. */
  getMapState<K, V>(descriptor: MapStateDescriptor<K, V>): InternalMapState<K, V>;
  /** Creates or returns the reducing state the descriptor names. */
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): InternalReducingState<T>;
  /** Creates or returns the aggregating state the descriptor names. */
  getAggregatingState<IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>): InternalAggregatingState<IN, OUT>;
  /** Keeps a key's state readable without a prefetch until as many {@link releaseKey} calls (a backend on disk: a pending timer). */
  retainKey?(key: unknown): void;
  /** Undoes one {@link retainKey}. */
  releaseKey?(key: unknown): void;
  /** Resolves when restored state is in place (a backend on disk); the runtime awaits it before operators open. */
  ready?(): Promise<void>;
  /**
   * Moves every state of the current key from namespace `from` to `to`, which holds none of it: for
   * state restored under a namespace its operator no longer names it by (the window operator's
   * windows in savepoints of earlier versions). The key's state must be loaded (a backend on disk).
   */
  moveNamespace(from: unknown, to: unknown): void;
  /** Makes the state of these keys available synchronously; a heap backend has nothing to do. */
  prefetch(keys: readonly unknown[]): void | Promise<void>;
  /** The state of one key group as plain data (see {@link KeyGroupStateSnapshot}). */
  snapshotKeyGroup(keyGroup: number): KeyGroupStateSnapshot;
  /** Loads a key group's state written by {@link snapshotKeyGroup} (of this or another backend kind). */
  restoreKeyGroup(keyGroup: number, data: KeyGroupStateSnapshot): void;
  /** Number of (state, key, namespace) entries: a metric. */
  keyCount(): number;
  /** Releases everything; a backend on disk resolves once its files are closed and removed. */
  dispose(): void | Promise<void>;
}

/** What a snapshot records of one state of an operator (see {@link HeapKeyedStateBackend.describeStates}). */
export interface StateDescription {
  name: string;
  kind: StateKind;
  /** Whether the state has a time-to-live. */
  ttl: boolean;
  /** The time-to-live in ms, when known (registered with TTL). */
  ttlMs?: number;
}

/** One key's entries of one state, read from a running job (plain data, as a snapshot holds them). */
export interface LiveKeyEntries {
  /** The key's key group. */
  keyGroup: number;
  /** Whether the key has an entry in the default namespace. */
  found: boolean;
  /** That entry: the value (value, reducing), the accumulator (aggregating), the elements (list) or `[key, value]` entries (map). */
  value?: unknown;
  /** Entries under other namespaces (windows), when there are any. */
  namespaces?: { namespace: unknown; value: unknown }[];
}

/** The answer of {@link HeapKeyedStateBackend.queryKey}: now, or after a read from disk. */
export type KeyQuery = { done: LiveKeyEntries } | { pending: Promise<() => LiveKeyEntries | undefined> };

/** Entries encoded per state for {@link HeapKeyedStateBackend.estimateBytes}. */
const ESTIMATE_SAMPLE = 16;
/** Bytes counted for an entry that cannot be encoded (or when none was sampled). */
const ESTIMATE_FALLBACK_BYTES = 64;
/**
 * The estimate's own encoder: msgpackr reuses its buffer, so encoding with the rows' encoder could
 * overwrite rows still waiting to be written.
 */
const estimatePackr = new Packr({ useRecords: false });

/** Options of {@link HeapKeyedStateBackend}. */
export interface HeapKeyedStateBackendOptions {
  /** The clock state TTL reads; `Date.now()` by default. */
  ttlTimeProvider?: TtlTimeProvider;
}

type AnyHeapState = HeapKvState<unknown> & InternalKvState;

/** The encoded key groups of a keyed snapshot that hold state. */
export interface KeyedSnapshotResult {
  groups: number[];
  blobs: Uint8Array[];
}

/** A copy-on-write snapshot in progress: the key groups copied so far, and how to finish. */
export interface KeyedSnapshotProgress {
  /** Copies pending key groups until `deadline` (performance.now()); returns whether all are copied. */
  step(deadline: number): boolean;
  /** Whether every key group is copied. */
  readonly done: boolean;
  /** Copies what is left and returns the encoded key groups that hold state (when a backend reads disk, once that is done). */
  result(): KeyedSnapshotResult | Promise<KeyedSnapshotResult>;
}

/**
 * Keyed state on the JS heap: for each state, a Map per key group (see {@link StateTable}), so
 * that a snapshot and a rescale move whole key groups. Reading value state in the default
 * namespace is one array index and one Map lookup.
 *
 * Snapshots ({@link snapshotKeyGroup}) copy the structure (lists, maps, TTL timestamps) but
 * reference the user's values: encode the result before the operator processes the next record.
 *
 * Threading model: one subtask actor's thread; nothing here is shared or asynchronous. Life
 * cycle: created at deploy; key groups restored (if any) before `open`; states registered in
 * `open` or lazily on first use (restored data waits for its state to be registered); snapshots
 * taken between records; disposed at close.
 */
export class HeapKeyedStateBackend implements KeyedStateBackend, HeapKeyContext {
  readonly kind: string = 'heap';
  /** Key group of the current key (read by states on every access). */
  currentKeyGroup = 0;
  /** The current key as used in Maps. */
  currentMapKey: unknown = undefined;
  private currentKey: unknown = undefined;
  protected readonly states = new Map<string, AnyHeapState>();
  /** Every table, registered or only restored, by state name. */
  protected readonly tables = new Map<string, StateTable<unknown>>();
  /** TTL states that clean up on every record. */
  private everyRecordCleanup: AnyHeapState[] = [];
  protected readonly clock: TtlTimeProvider;

  constructor(
    readonly maxParallelism: number,
    readonly keyGroupRange: KeyGroupRange,
    /** Operator name, for errors. */
    readonly operatorName = 'operator',
    options: HeapKeyedStateBackendOptions = {},
  ) {
    this.clock = options.ttlTimeProvider ?? SYSTEM_TTL_TIME_PROVIDER;
  }

  setCurrentKey(key: unknown): void {
    this.setMappedKey(key, mapKey(key), assignToKeyGroup(key, this.maxParallelism));
  }

  /** {@link setCurrentKey} for a key whose mapped form (`mapKey`) and key group are known already. */
  protected setMappedKey(key: unknown, mk: unknown, kg: number): void {
    this.currentKey = key;
    this.currentMapKey = mk;
    this.currentKeyGroup = kg;
    // Copy-on-write snapshot: a key group is copied before anything of it can change.
    if (this.cow !== undefined && this.cow.pending[kg - this.keyGroupRange.start] === 1) this.copyKeyGroup(kg);
    if (this.everyRecordCleanup.length !== 0) for (const s of this.everyRecordCleanup) s.runCleanup();
  }

  private cow:
    | {
        pending: Uint8Array;
        remaining: number;
        next: number;
        groups: number[];
        blobs: Uint8Array[];
        encode: (s: KeyGroupStateSnapshot) => Uint8Array;
      }
    | undefined;

  /** Copies key group `kg` now if a copy-on-write snapshot still waits for it (before anything of it changes). */
  protected ensureCopied(kg: number): void {
    if (this.cow !== undefined && this.cow.pending[kg - this.keyGroupRange.start] === 1) this.copyKeyGroup(kg);
  }

  /** Called as key group `kg` is copied for a snapshot, with its copy (a RocksDB backend adds what it keeps on disk). */
  protected keyGroupCopied(_kg: number, _snapshot: KeyGroupStateSnapshot): void {}

  private copyKeyGroup(kg: number): void {
    const cow = this.cow as NonNullable<typeof this.cow>;
    cow.pending[kg - this.keyGroupRange.start] = 0;
    cow.remaining--;
    const snapshot = this.snapshotKeyGroup(kg);
    this.keyGroupCopied(kg, snapshot);
    if (snapshot.states.length > 0) {
      cow.groups.push(kg);
      cow.blobs.push(cow.encode(snapshot));
    }
  }

  /** The per-entry copy-on-write snapshot in progress. */
  private entrySnapshot: EntrySnapshot | undefined;

  /**
   * Starts a copy-on-write snapshot of every key group (the checkpoint's synchronous part is only
   * this call). An entry read or changed after this call is first kept as it was (see
   * {@link EntrySnapshot}); {@link KeyedSnapshotProgress.step} encodes key groups with `encode` in
   * the background; `step` until `done`, then take the encoded key groups.
   */
  beginSnapshot(encode: (s: KeyGroupStateSnapshot) => Uint8Array): KeyedSnapshotProgress {
    this.entrySnapshot?.result();
    let now: number | undefined;
    const tables = [...this.tables.values()].map((table) => {
      const policy = this.states.get(table.name)?.ttl;
      const expiry = policy?.fullSnapshot ? { ttl: policy.ttl, now: (now ??= this.clock.now()) } : undefined;
      return { table, expiry };
    });
    const snapshot = new EntrySnapshot(this.keyGroupRange, tables, encode, () => {
      if (this.entrySnapshot === snapshot) this.entrySnapshot = undefined;
    });
    this.entrySnapshot = snapshot;
    return snapshot;
  }

  /**
   * Starts a copy-on-write snapshot per key group: each key group is copied, encoded with
   * `encode`, before the first access to it after this call (see {@link ensureCopied}), or by
   * {@link KeyedSnapshotProgress.step} in the background, whichever comes first. For a backend
   * that moves whole keys in and out of the tables (RocksDB's cache), where a key group's copy
   * must also fix which keys it held.
   */
  protected beginKeyGroupSnapshot(encode: (s: KeyGroupStateSnapshot) => Uint8Array): KeyedSnapshotProgress {
    if (this.cow !== undefined) this.finishSnapshot();
    const size = this.keyGroupRange.end - this.keyGroupRange.start + 1;
    const cow = {
      pending: new Uint8Array(size).fill(1),
      remaining: size,
      next: this.keyGroupRange.start,
      groups: [] as number[],
      blobs: [] as Uint8Array[],
      encode,
    };
    this.cow = cow;
    const step = (deadline: number): boolean => {
      if (this.cow !== cow) return true;
      while (cow.remaining > 0) {
        const kg = cow.next++;
        if (cow.pending[kg - this.keyGroupRange.start] === 1) this.copyKeyGroup(kg);
        if (performance.now() >= deadline) break;
      }
      if (cow.remaining === 0) this.cow = undefined;
      return cow.remaining === 0;
    };
    return {
      step,
      get done() {
        return cow.remaining === 0;
      },
      result: () => {
        step(Number.POSITIVE_INFINITY);
        return { groups: cow.groups, blobs: cow.blobs };
      },
    };
  }

  /** Completes a copy-on-write snapshot in progress now (before another one begins). */
  private finishSnapshot(): void {
    const cow = this.cow;
    if (!cow) return;
    for (let kg = cow.next; cow.remaining > 0 && kg <= this.keyGroupRange.end; kg++) {
      if (cow.pending[kg - this.keyGroupRange.start] === 1) this.copyKeyGroup(kg);
    }
    this.cow = undefined;
  }

  getCurrentKey(): unknown {
    return this.currentKey;
  }

  getCurrentKeyGroup(): number {
    return this.currentKeyGroup;
  }

  getValueState<T>(descriptor: ValueStateDescriptor<T>): InternalValueState<T> {
    return this.register(descriptor, (table, ttl) => new HeapValueState<T>(this, table as StateTable<never>, ttl, descriptor));
  }

  getListState<T>(descriptor: ListStateDescriptor<T>): InternalListState<T> {
    return this.register(descriptor, (table, ttl) => new HeapListState<T>(this, table as StateTable<never>, ttl));
  }

  getMapState<K, V>(descriptor: MapStateDescriptor<K, V>): InternalMapState<K, V> {
    return this.register(descriptor, (table, ttl) => new HeapMapState<K, V>(this, table as StateTable<never>, ttl));
  }

  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): InternalReducingState<T> {
    return this.register(descriptor, (table, ttl) => new HeapReducingState<T>(this, table as StateTable<never>, ttl, descriptor));
  }

  getAggregatingState<IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>): InternalAggregatingState<IN, OUT> {
    return this.register(
      descriptor,
      (table, ttl) => new HeapAggregatingState<IN, ACC, OUT>(this, table as StateTable<never>, ttl, descriptor),
    );
  }

  /** Creates or returns the state of any descriptor, by its kind. */
  getOrCreateKeyedState(descriptor: StateDescriptor): InternalKvState {
    switch (descriptor.kind) {
      case 'value':
        return this.getValueState(descriptor);
      case 'list':
        return this.getListState(descriptor);
      case 'map':
        return this.getMapState(descriptor);
      case 'reducing':
        return this.getReducingState(descriptor);
      case 'aggregating':
        return this.getAggregatingState(descriptor);
    }
  }

  private register<S extends InternalKvState>(
    descriptor: StateDescriptor,
    create: (table: StateTable<unknown>, ttl: TtlPolicy | undefined) => S & AnyHeapState,
  ): S {
    const name = descriptor.name;
    const ttlConfig = descriptor.ttlConfig;
    const ttl = ttlConfig.isEnabled();
    const existing = this.states.get(name);
    if (existing) {
      if (existing.table.kind !== descriptor.kind) {
        throw this.accessError(
          `state '${name}' of operator '${this.operatorName}' is already registered as ${existing.table.kind} state; it cannot be registered again as ${descriptor.kind} state`,
        );
      }
      if (existing.table.ttl !== ttl) {
        throw this.accessError(
          `state '${name}' of operator '${this.operatorName}' is already registered ${existing.table.ttl ? 'with' : 'without'} TTL; it cannot be registered again ${ttl ? 'with' : 'without'}`,
        );
      }
      return existing as unknown as S;
    }
    const table = this.tableFor(name, descriptor.kind, ttl);
    const policy = ttl ? new TtlPolicy(ttlConfig, this.clock) : undefined;
    const state = create(table, policy);
    this.states.set(name, state);
    if (policy && policy.everyRecord && policy.incrementalSize > 0) this.everyRecordCleanup = [...this.everyRecordCleanup, state];
    return state;
  }

  protected checkRestoredTable(table: StateTable<unknown>, kind: StateKind, ttl: boolean): void {
    if (table.kind !== kind) {
      throw restoreError(
        `state '${table.name}' of operator '${this.operatorName}' was restored as ${table.kind} state and cannot be used as ${kind} state`,
        this.operatorName,
      );
    }
    if (table.ttl !== ttl) {
      throw restoreError(
        `state '${table.name}' of operator '${this.operatorName}' was snapshotted ${table.ttl ? 'with' : 'without'} TTL and is now registered ${ttl ? 'with' : 'without'}: ` +
          'turning TTL on or off for existing state is not supported (as in Flink)',
        this.operatorName,
      );
    }
  }

  private accessError(message: string): WeirError {
    return new WeirError(message, { code: ErrorCodes.STATE_ACCESS, domain: 'user', operator: this.operatorName });
  }

  moveNamespace(from: unknown, to: unknown): void {
    const kg = this.currentKeyGroup;
    const mk = this.currentMapKey;
    const fromKey = from == null ? undefined : mapKey(from);
    const toKey = to == null ? undefined : mapKey(to);
    this.ensureCopied(kg);
    for (const table of this.tables.values()) {
      const stored = table.get(kg, fromKey, mk);
      if (stored === undefined) continue;
      table.delete(kg, fromKey, mk);
      table.set(kg, toKey, mk, stored);
    }
  }

  /** Names of the registered states. */
  getRegisteredStateNames(): string[] {
    return [...this.states.keys()];
  }

  /**
   * Every state this backend knows (registered, or restored and waiting for its registration):
   * name, kind, TTL on/off and, once registered with TTL, its time-to-live. Snapshots record it
   * per operator so a plan (`weir plan`) can compare a new job's descriptors with a savepoint's.
   */
  describeStates(): StateDescription[] {
    return [...this.tables.values()].map((table) => {
      const ttlMs = this.states.get(table.name)?.ttl?.ttl;
      return { name: table.name, kind: table.kind, ttl: table.ttl, ...(ttlMs !== undefined ? { ttlMs } : {}) };
    });
  }

  /** Names of every state this backend knows: registered ones and restored ones not registered yet. */
  knownStateNames(): string[] {
    return [...new Set([...this.tables.keys(), ...this.states.keys()])];
  }

  /**
   * One key's entries of state `stateName` as the next snapshot would hold them (plain data, see
   * {@link KeyedStateSnapshot}), read now: call it between records. A backend on disk may first
   * have to read the key (`pending`); the function it resolves with must be called between
   * records again and answers undefined when the key changed meanwhile (read again).
   */
  queryKey(stateName: string, key: unknown): KeyQuery {
    return { done: this.readKeyEntries(stateName, key) };
  }

  /** The entries of `key` in the tables (what the heap holds of it). */
  protected readKeyEntries(stateName: string, key: unknown): LiveKeyEntries {
    const table = this.tables.get(stateName);
    const kg = assignToKeyGroup(key, this.maxParallelism);
    const mk = mapKey(key);
    const out: LiveKeyEntries = { keyGroup: kg, found: false };
    if (!table) return out;
    const policy = this.states.get(stateName)?.ttl;
    const expiry = policy?.fullSnapshot ? { ttl: policy.ttl, now: this.clock.now() } : undefined;
    const d = table.defaults[kg]?.get(mk);
    if (d !== undefined) {
      const e = plainEntry(table.kind, table.ttl, d, expiry);
      if (e !== undefined) {
        out.found = true;
        out.value = e.value;
      }
    }
    for (const [nk, inner] of table.namespaced[kg] ?? []) {
      const s = inner.get(mk);
      if (s === undefined) continue;
      const e = plainEntry(table.kind, table.ttl, s, expiry);
      if (e !== undefined) (out.namespaces ??= []).push({ namespace: unmapKey(nk), value: e.value });
    }
    return out;
  }

  /**
   * The keys with state `stateName` in `namespace` (default namespace when omitted), in key-group
   * order: a fresh array, so state may change while the caller walks it.
   */
  getKeys(stateName: string, namespace?: unknown): unknown[] {
    const table = this.tables.get(stateName);
    const keys: unknown[] = [];
    if (!table) return keys;
    const nk = namespace == null ? undefined : mapKey(namespace);
    for (let kg = this.keyGroupRange.start; kg <= this.keyGroupRange.end; kg++) {
      const it = table.keysOf(kg, nk);
      if (it) for (const mk of it) keys.push(unmapKey(mk));
    }
    return keys;
  }

  /**
   * Calls `fn` for every key with state under `descriptor` in `namespace`, with the backend scoped
   * to that key (Flink's `applyToAllKeys`, behind `KeyedBroadcastProcessFunction`'s
   * `applyToKeyedState`). The current key is restored afterwards.
   */
  applyToAllKeys<S extends InternalKvState>(namespace: unknown, descriptor: StateDescriptor, fn: (key: unknown, state: S) => void): void {
    const state = this.getOrCreateKeyedState(descriptor) as S;
    const previousKey = this.currentKey;
    const previousNamespace = state.getCurrentNamespace();
    try {
      state.setCurrentNamespace(namespace);
      for (const key of this.getKeys(descriptor.name, namespace)) {
        this.setCurrentKey(key);
        fn(key, state);
      }
    } finally {
      state.setCurrentNamespace(previousNamespace);
      this.setCurrentKey(previousKey);
    }
  }

  prefetch(_keys: readonly unknown[]): void | Promise<void> {}

  protected checkKeyGroup(kg: number): void {
    if (!Number.isInteger(kg) || kg < this.keyGroupRange.start || kg > this.keyGroupRange.end) {
      throw new WeirError(
        `key group ${kg} is not in this backend's range ${this.keyGroupRange.start}..${this.keyGroupRange.end} (operator '${this.operatorName}')`,
        {
          code: ErrorCodes.INTERNAL,
          domain: 'internal',
          operator: this.operatorName,
        },
      );
    }
  }

  /**
   * Every state's entries in key group `kg` as plain data. States registered with TTL and
   * `cleanupFullSnapshot` leave out what has expired. User values are referenced, not copied.
   */
  snapshotKeyGroup(kg: number): KeyGroupStateSnapshot {
    this.checkKeyGroup(kg);
    const states = [];
    let now: number | undefined;
    for (const table of this.tables.values()) {
      const policy = this.states.get(table.name)?.ttl;
      let expiry;
      if (policy?.fullSnapshot) expiry = { ttl: policy.ttl, now: (now ??= this.clock.now()) };
      const s = snapshotTableKeyGroup(table, kg, expiry);
      if (s) states.push(s);
    }
    return { version: KEYED_SNAPSHOT_VERSION, keyGroup: kg, states };
  }

  /** Snapshots of every owned key group that holds state, in key-group order. */
  snapshotAllKeyGroups(): KeyGroupStateSnapshot[] {
    const out: KeyGroupStateSnapshot[] = [];
    for (let kg = this.keyGroupRange.start; kg <= this.keyGroupRange.end; kg++) {
      const s = this.snapshotKeyGroup(kg);
      if (s.states.length > 0) out.push(s);
    }
    return out;
  }

  /**
   * Loads key group `kg` from a snapshot; entries replace what the key group holds for the same
   * (state, key, namespace). A state restored before it is registered waits for its registration,
   * which must use the same kind and the same TTL on/off.
   */
  restoreKeyGroup(kg: number, data: KeyGroupStateSnapshot): void {
    this.checkSnapshot(kg, data);
    const op = this.operatorName;
    for (const s of data.states) {
      const table = this.tableFor(s.name, s.kind, s.ttl);
      const where = `state '${s.name}' of operator '${op}'`;
      for (let i = 0; i < s.keys.length; i++) {
        const key = s.keys[i];
        this.checkRestoredKey(key, kg, where);
        const stored = restoreEntry(s.kind, s.ttl, s.values[i], s.timestamps?.[i], where, op);
        if ((s.kind === 'list' && (stored as unknown[]).length === 0) || (s.kind === 'map' && (stored as Map<unknown, unknown>).size === 0))
          continue;
        const ns = s.namespaces?.[i];
        table.set(kg, ns == null ? undefined : mapKey(ns), mapKey(key), stored);
      }
    }
  }

  /** The table of a state, made (as restored data waiting for its registration) if there is none; kind and TTL must match. */
  protected tableFor(name: string, kind: StateKind, ttl: boolean): StateTable<unknown> {
    let table = this.tables.get(name);
    if (table) this.checkRestoredTable(table, kind, ttl);
    else {
      table = new StateTable<unknown>(name, kind, ttl, this.maxParallelism);
      this.tables.set(name, table);
    }
    return table;
  }

  /** Puts a row (every state of one key, see {@link RowState}) into the tables. */
  protected installRow(kg: number, mk: unknown, bytes: Uint8Array): void {
    const row = rowPackr.unpack(bytes) as RowState[];
    const op = this.operatorName;
    if (!Array.isArray(row)) throw restoreError(`malformed state row in key group ${kg} of operator '${op}'`, op);
    for (const [name, kind, ttl, namespaces, values, timestamps] of row) {
      const table = this.tableFor(name, kind, ttl);
      const where = `state '${name}' of operator '${op}'`;
      for (let i = 0; i < values.length; i++) {
        const stored = restoreEntry(kind, ttl, values[i], timestamps?.[i], where, op);
        if ((kind === 'list' && (stored as unknown[]).length === 0) || (kind === 'map' && (stored as Map<unknown, unknown>).size === 0))
          continue;
        const ns = namespaces[i];
        table.set(kg, ns == null ? undefined : mapKey(ns), mk, stored);
      }
    }
  }

  /** Checks a key group's snapshot before it is restored: range, shape, version, key group. */
  protected checkSnapshot(kg: number, data: KeyGroupStateSnapshot): void {
    this.checkKeyGroup(kg);
    const op = this.operatorName;
    if (data === null || typeof data !== 'object' || !Array.isArray(data.states))
      throw restoreError(`malformed keyed state snapshot for key group ${kg} of operator '${op}'`, op);
    if (data.version !== KEYED_SNAPSHOT_VERSION)
      throw restoreError(`keyed state snapshot version ${data.version} is not supported (expected ${KEYED_SNAPSHOT_VERSION})`, op);
    if (data.keyGroup !== kg) throw restoreError(`snapshot of key group ${data.keyGroup} cannot be restored as key group ${kg}`, op);
    for (const s of data.states) validateStateSnapshot(s, op);
  }

  /** Checks that a restored key belongs to key group `kg`. */
  protected checkRestoredKey(key: unknown, kg: number, where: string): void {
    if (assignToKeyGroup(key, this.maxParallelism) !== kg) {
      throw restoreError(
        `${where}: key ${describeKey(key)} does not belong to key group ${kg} (is maxParallelism ${this.maxParallelism} the one of the snapshot?)`,
        this.operatorName,
      );
    }
  }

  /**
   * Bytes of the state entries, estimated when sampled (a metric): per state, up to
   * {@link ESTIMATE_SAMPLE} entries of the first key groups are encoded as checkpoints encode them
   * (msgpack) and their average size is multiplied by the state's entries. A backend with rows on
   * disk (RocksDB) counts what its cache holds.
   */
  estimateBytes(): number {
    let bytes = 0;
    for (const table of this.tables.values()) {
      const n = table.size();
      if (n === 0) continue;
      let sampled = 0;
      let sum = 0;
      const take = (mk: unknown, nk: unknown, s: unknown): boolean => {
        try {
          sum += estimatePackr.pack([mk, nk, s]).length;
        } catch {
          sum += ESTIMATE_FALLBACK_BYTES;
        }
        return ++sampled >= ESTIMATE_SAMPLE;
      };
      sample: for (let kg = 0; kg < table.defaults.length; kg++) {
        const keys = table.defaults[kg];
        if (keys !== undefined) for (const [mk, s] of keys) if (take(mk, undefined, s)) break sample;
      }
      if (sampled < ESTIMATE_SAMPLE)
        sample: for (let kg = 0; kg < table.namespaced.length; kg++) {
          const namespaces = table.namespaced[kg];
          if (namespaces === undefined) continue;
          for (const [nk, keys] of namespaces) for (const [mk, s] of keys) if (take(mk, nk, s)) break sample;
        }
      bytes += sampled === 0 ? n * ESTIMATE_FALLBACK_BYTES : Math.round((sum / sampled) * n);
    }
    return bytes;
  }

  keyCount(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.size();
    return n;
  }

  dispose(): void {
    this.entrySnapshot = undefined;
    for (const table of this.tables.values()) table.capture = undefined;
    this.states.clear();
    this.tables.clear();
    this.everyRecordCleanup = [];
  }
}

/** A key as shown in errors. */
export function describeKey(key: unknown): string {
  try {
    return typeof key === 'bigint' ? `${key}n` : (JSON.stringify(key) ?? String(key));
  } catch {
    return String(key);
  }
}
