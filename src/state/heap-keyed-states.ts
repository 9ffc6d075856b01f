//! Keyed state on the heap: value, list, map, reducing and aggregating state over a StateTable, with namespaces and TTL.

import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { AggregateFunction, AggregatingStateDescriptor, ReducingStateDescriptor, ValueStateDescriptor } from './descriptors.ts';
import type { KeyGroupRange } from './key-groups.ts';
import { mapKey, unmapKey } from './map-keys.ts';
import type { StateTable } from './state-table.ts';
import type {
  InternalAggregatingState,
  InternalListState,
  InternalMapState,
  InternalReducingState,
  InternalValueState,
} from './state-types.ts';
import { isExpired, StateVisibility, UpdateType, type StateTtlConfig, type TtlTimeProvider, type TtlValue } from './ttl.ts';

/** What heap states read from their backend on every access: the current key, mapped, and its key group. */
export interface HeapKeyContext {
  /** Key group of the current key. */
  readonly currentKeyGroup: number;
  /** The current key as stored in Maps. */
  readonly currentMapKey: unknown;
  /** Key groups of this backend. */
  readonly keyGroupRange: KeyGroupRange;
  /** Operator name, for errors. */
  readonly operatorName: string;
}

/** A descriptor's TTL config resolved against the backend's clock. */
export class TtlPolicy {
  /** Time-to-live in ms. */
  readonly ttl: number;
  /** Whether reads refresh the timestamp. */
  readonly updateOnRead: boolean;
  /** Whether a read may return an expired value it finds. */
  readonly returnExpired: boolean;
  /** Whether snapshots leave expired values out. */
  readonly fullSnapshot: boolean;
  /** Entries checked per incremental cleanup trigger (0: none). */
  readonly incrementalSize: number;
  /** Whether incremental cleanup also runs for every record. */
  readonly everyRecord: boolean;

  constructor(
    config: StateTtlConfig,
    /** The TTL clock. */
    readonly clock: TtlTimeProvider,
  ) {
    this.ttl = config.ttl;
    this.updateOnRead = config.updateType === UpdateType.OnReadAndWrite;
    this.returnExpired = config.stateVisibility === StateVisibility.ReturnExpiredIfNotCleanedUp;
    this.fullSnapshot = config.cleanupFullSnapshot;
    const incremental = config.incrementalCleanup;
    this.incrementalSize = incremental?.cleanupSize ?? 0;
    this.everyRecord = incremental?.runCleanupForEveryRecord ?? false;
  }
}

/** Raised for misuse of a state: a null list element, merging without `merge()`. */
export function stateAccessError(message: string, operator: string): WeirError {
  return new WeirError(message, { code: ErrorCodes.STATE_ACCESS, domain: 'user', operator });
}

const EMPTY: readonly never[] = Object.freeze([]);

function* projectEntries<V, R>(map: Map<unknown, V>, project: (mk: unknown, v: V) => R): Generator<R, void, undefined> {
  for (const [mk, v] of map) yield project(mk, v);
}

/**
 * What every heap state shares: scoping to (current key, current namespace) over a
 * {@link StateTable}, namespace merging, and TTL incremental cleanup. `S` is the stored form.
 *
 * Threading model: the backend's thread only. Life cycle: created when a descriptor is first
 * registered, lives as long as the backend.
 */
export abstract class HeapKvState<S> {
  /** Default-namespace Maps by key group (the table's, kept here for one less hop). */
  protected readonly defaults: (Map<unknown, S> | undefined)[];
  /** Mapped current namespace; undefined is the default namespace. */
  protected nk: unknown = undefined;
  // The Map of keys of (nsKg, nk) as of table epoch nsEpoch: consecutive accesses to one window skip two lookups.
  private nsKg = -1;
  private nsEpoch = -1;
  private nsMap: Map<unknown, S> | undefined = undefined;
  private namespace: unknown = undefined;
  // Incremental TTL cleanup cursor: key group (-1: none), phase (0: default namespace next, 1: namespaces), iterators.
  private cursorKg = -1;
  private cursorPhase = 0;
  private cursorNamespaces: Iterator<[unknown, Map<unknown, S>]> | undefined = undefined;
  private cursorNk: unknown = undefined;
  private cursorMap: Map<unknown, S> | undefined = undefined;
  private cursorKeys: Iterator<unknown> | undefined = undefined;

  constructor(
    protected readonly ctx: HeapKeyContext,
    /** Where the state is stored. */
    readonly table: StateTable<S>,
    /** TTL, when the descriptor enabled it. */
    readonly ttl: TtlPolicy | undefined,
  ) {
    this.defaults = table.defaults;
  }

  /** Name of the state. */
  get name(): string {
    return this.table.name;
  }

  /** Scopes the following accesses to `namespace` (`null`/`undefined`: the default namespace). */
  setCurrentNamespace(namespace: unknown): void {
    if (namespace === this.namespace) return;
    this.namespace = namespace;
    const nk = namespace == null ? undefined : mapKey(namespace);
    if (nk !== this.nk) {
      this.nk = nk;
      this.nsKg = -1;
    }
  }

  /** The namespace accesses are scoped to. */
  getCurrentNamespace(): unknown {
    return this.namespace;
  }

  /** Removes the state of the current key in the current namespace. */
  clear(): void {
    const ctx = this.ctx;
    const capture = this.table.capture;
    if (capture !== undefined) capture.keep(ctx.currentKeyGroup, this.nk, ctx.currentMapKey);
    if (this.nk === undefined) this.defaults[ctx.currentKeyGroup]?.delete(ctx.currentMapKey);
    else this.table.delete(ctx.currentKeyGroup, this.nk, ctx.currentMapKey);
  }

  /** The Map of keys of the current namespace in the current key group, if it exists (remembered while valid). */
  private namespaceMap(): Map<unknown, S> | undefined {
    const kg = this.ctx.currentKeyGroup;
    const table = this.table;
    if (kg === this.nsKg && this.nsEpoch === table.epoch) return this.nsMap;
    const map = table.namespaced[kg]?.get(this.nk);
    if (map !== undefined) {
      this.nsKg = kg;
      this.nsEpoch = table.epoch;
      this.nsMap = map;
    }
    return map;
  }

  /** The stored state of the current (key, namespace). */
  protected read(): S | undefined {
    const ctx = this.ctx;
    const capture = this.table.capture;
    if (capture !== undefined) capture.keep(ctx.currentKeyGroup, this.nk, ctx.currentMapKey);
    if (this.nk === undefined) {
      const t = this.defaults[ctx.currentKeyGroup];
      return t === undefined ? undefined : t.get(ctx.currentMapKey);
    }
    const map = this.namespaceMap();
    return map === undefined ? undefined : map.get(ctx.currentMapKey);
  }

  /** Stores the state of the current (key, namespace). */
  protected write(s: S): void {
    const ctx = this.ctx;
    const capture = this.table.capture;
    if (capture !== undefined) capture.keep(ctx.currentKeyGroup, this.nk, ctx.currentMapKey);
    if (this.nk === undefined) {
      const kg = ctx.currentKeyGroup;
      let t = this.defaults[kg];
      if (t === undefined) t = this.defaults[kg] = new Map();
      t.set(ctx.currentMapKey, s);
      return;
    }
    const map = this.namespaceMap();
    if (map !== undefined) map.set(ctx.currentMapKey, s);
    else this.table.set(ctx.currentKeyGroup, this.nk, ctx.currentMapKey, s);
  }

  /** TTL: reads the clock once for a state access and runs incremental cleanup, if configured; returns the time. */
  protected accessed(): number {
    const ttl = this.ttl as TtlPolicy;
    const now = ttl.clock.now();
    if (ttl.incrementalSize > 0) this.runCleanup(ttl.incrementalSize, now);
    return now;
  }

  /**
   * Advances the lazy cleanup cursor over all entries of the state (key groups in order, the
   * default namespace first) by up to `entries` entries, dropping what has expired at `now`. A
   * cursor that reaches the end starts over on the next call, so one call never visits an entry
   * twice (as Flink's `TtlIncrementalCleanup`). The cursor is a hand-rolled state machine over
   * Map key iterators: this runs on every access of a TTL state.
   */
  runCleanup(entries = this.ttl?.incrementalSize ?? 0, now = this.ttl?.clock.now() ?? 0): void {
    if (this.ttl === undefined || entries <= 0) return;
    if (this.cursorKg < 0) {
      this.cursorKg = this.ctx.keyGroupRange.start;
      this.cursorPhase = 0;
      this.cursorKeys = undefined;
      this.cursorNamespaces = undefined;
    }
    let visited = 0;
    while (visited < entries) {
      const keys = this.cursorKeys;
      if (keys !== undefined) {
        const r = keys.next();
        if (r.done !== true) {
          const map = this.cursorMap as Map<unknown, S>;
          const capture = this.table.capture;
          if (capture !== undefined) capture.keep(this.cursorKg, this.cursorNk, r.value);
          const s = map.get(r.value);
          if (s !== undefined && this.purge(s, now)) map.delete(r.value);
          visited++;
          continue;
        }
        this.cursorKeys = undefined;
        const map = this.cursorMap as Map<unknown, S>;
        if (this.cursorNk !== undefined && map.size === 0) {
          const byNs = this.table.namespaced[this.cursorKg];
          if (byNs !== undefined && byNs.get(this.cursorNk) === map) {
            byNs.delete(this.cursorNk);
            this.table.epoch++;
          }
        }
      }
      if (!this.nextCursorMap()) {
        this.cursorKg = -1;
        this.cursorMap = undefined;
        return;
      }
    }
  }

  /** Moves the cleanup cursor to the next non-empty Map; false at the end of the key-group range. */
  private nextCursorMap(): boolean {
    const end = this.ctx.keyGroupRange.end;
    while (this.cursorKg <= end) {
      if (this.cursorPhase === 0) {
        this.cursorPhase = 1;
        this.cursorNamespaces = this.table.namespaced[this.cursorKg]?.entries();
        const t = this.table.defaults[this.cursorKg];
        if (t !== undefined && t.size > 0) {
          this.cursorMap = t;
          this.cursorNk = undefined;
          this.cursorKeys = t.keys();
          return true;
        }
      }
      const namespaces = this.cursorNamespaces;
      if (namespaces !== undefined) {
        const r = namespaces.next();
        if (r.done !== true) {
          this.cursorNk = r.value[0];
          this.cursorMap = r.value[1];
          this.cursorKeys = r.value[1].keys();
          return true;
        }
      }
      this.cursorKg++;
      this.cursorPhase = 0;
      this.cursorNamespaces = undefined;
    }
    return false;
  }

  /** TTL only: drops the expired parts of a stored state in place; true when nothing is left. */
  abstract purge(s: S, now: number): boolean;

  /** Merges two stored states into one (target side first). */
  protected mergeStored(_target: S, _source: S, _now: number): S {
    throw stateAccessError(`state '${this.name}' cannot merge namespaces`, this.ctx.operatorName);
  }

  /** Throws before anything changes when merging is impossible (value and map state never merge). */
  protected checkMergeable(): void {
    throw stateAccessError(`${this.table.kind} state '${this.name}' cannot merge namespaces`, this.ctx.operatorName);
  }

  /**
   * For the current key, merges the state of each source namespace into `target` and clears the
   * sources (Flink's `InternalMergingState.mergeNamespaces`). Expired TTL values do not take part.
   */
  mergeNamespaces(target: unknown, sources: Iterable<unknown>): void {
    this.checkMergeable();
    const ctx = this.ctx;
    const kg = ctx.currentKeyGroup;
    const mk = ctx.currentMapKey;
    const tk = target == null ? undefined : mapKey(target);
    const now = this.ttl === undefined ? 0 : this.ttl.clock.now();
    const capture = this.table.capture;
    if (capture !== undefined) capture.keep(kg, tk, mk);
    let merged: S | undefined;
    for (const source of sources) {
      const sk = source == null ? undefined : mapKey(source);
      if (sk === tk) continue;
      if (capture !== undefined) capture.keep(kg, sk, mk);
      const s = this.table.get(kg, sk, mk);
      if (s === undefined) continue;
      this.table.delete(kg, sk, mk);
      if (this.ttl !== undefined && this.purge(s, now)) continue;
      merged = merged === undefined ? s : this.mergeStored(merged, s, now);
    }
    if (merged === undefined) return;
    let existing = this.table.get(kg, tk, mk);
    if (existing !== undefined && this.ttl !== undefined && this.purge(existing, now)) existing = undefined;
    this.table.set(kg, tk, mk, existing === undefined ? merged : this.mergeStored(existing, merged, now));
  }
}

/**
 * A state holding one value per (key, namespace): stored as it is, or as a {@link TtlValue} under
 * TTL. Shared by value, reducing and aggregating state.
 */
abstract class HeapSingleValueState<V> extends HeapKvState<V | TtlValue<V>> {
  purge(s: V | TtlValue<V>, now: number): boolean {
    return isExpired((s as TtlValue<V>).ts, (this.ttl as TtlPolicy).ttl, now);
  }

  /** TTL read: the cell if visible (expired ones are removed; refreshed under OnReadAndWrite). */
  protected readCell(): TtlValue<V> | undefined {
    const now = this.accessed();
    const cell = this.read() as TtlValue<V> | undefined;
    if (cell === undefined) return undefined;
    const ttl = this.ttl as TtlPolicy;
    if (isExpired(cell.ts, ttl.ttl, now)) {
      this.clear();
      return ttl.returnExpired ? cell : undefined;
    }
    if (ttl.updateOnRead) cell.ts = now;
    return cell;
  }

  /** TTL read for a read-modify-write: an unexpired cell or undefined, whatever the visibility. */
  protected readLiveCell(now: number): TtlValue<V> | undefined {
    const cell = this.read() as TtlValue<V> | undefined;
    if (cell === undefined) return undefined;
    if (isExpired(cell.ts, (this.ttl as TtlPolicy).ttl, now)) {
      this.clear();
      return undefined;
    }
    return cell;
  }

  /** TTL write: stores `v` stamped `now`, reusing the cell when there is one. */
  protected writeCell(v: V, now: number): void {
    const cell = this.read() as TtlValue<V> | undefined;
    if (cell !== undefined) {
      cell.v = v;
      cell.ts = now;
    } else this.write({ v, ts: now });
  }

  /** The (non-TTL) combination of two values, for merging. */
  protected combine(_a: V, _b: V): V {
    throw stateAccessError(`state '${this.name}' cannot merge namespaces`, this.ctx.operatorName);
  }

  protected override mergeStored(target: V | TtlValue<V>, source: V | TtlValue<V>, now: number): V | TtlValue<V> {
    if (this.ttl === undefined) return this.combine(target as V, source as V);
    return { v: this.combine((target as TtlValue<V>).v, (source as TtlValue<V>).v), ts: now };
  }
}

/** Heap {@link ValueState}. */
export class HeapValueState<T> extends HeapSingleValueState<T> implements InternalValueState<T> {
  constructor(
    ctx: HeapKeyContext,
    table: StateTable<T | TtlValue<T>>,
    ttl: TtlPolicy | undefined,
    readonly descriptor: ValueStateDescriptor<T>,
  ) {
    super(ctx, table, ttl);
  }

  value(): T | undefined {
    if (this.ttl === undefined) {
      const ctx = this.ctx;
      let v: T | undefined;
      if (this.nk === undefined) {
        const capture = this.table.capture;
        if (capture !== undefined) capture.keep(ctx.currentKeyGroup, undefined, ctx.currentMapKey);
        const t = this.defaults[ctx.currentKeyGroup];
        if (t !== undefined) v = t.get(ctx.currentMapKey) as T | undefined;
      } else v = this.read() as T | undefined;
      return v === undefined ? this.descriptor.defaultValue : v;
    }
    const cell = this.readCell();
    return cell === undefined ? this.descriptor.defaultValue : cell.v;
  }

  update(value: T): void {
    if (value === undefined) {
      this.clear();
      return;
    }
    if (this.ttl === undefined) {
      this.write(value);
      return;
    }
    this.writeCell(value, this.accessed());
  }
}

/** Heap {@link ReducingState}. */
export class HeapReducingState<T> extends HeapSingleValueState<T> implements InternalReducingState<T> {
  constructor(
    ctx: HeapKeyContext,
    table: StateTable<T | TtlValue<T>>,
    ttl: TtlPolicy | undefined,
    readonly descriptor: ReducingStateDescriptor<T>,
  ) {
    super(ctx, table, ttl);
  }

  get(): T | undefined {
    if (this.ttl === undefined) return this.read() as T | undefined;
    return this.readCell()?.v;
  }

  add(value: T): void {
    if (value === undefined) throw stateAccessError(`cannot add undefined to reducing state '${this.name}'`, this.ctx.operatorName);
    if (this.ttl === undefined) {
      const current = this.read() as T | undefined;
      this.write(current === undefined ? value : this.descriptor.reduce(current, value));
      return;
    }
    const now = this.accessed();
    const cell = this.readLiveCell(now);
    this.writeCell(cell === undefined ? value : this.descriptor.reduce(cell.v, value), now);
  }

  protected override checkMergeable(): void {}

  protected override combine(a: T, b: T): T {
    return this.descriptor.reduce(a, b);
  }
}

/** Heap {@link AggregatingState}: stores the accumulator. */
export class HeapAggregatingState<IN, ACC, OUT> extends HeapSingleValueState<ACC> implements InternalAggregatingState<IN, OUT> {
  private readonly fn: AggregateFunction<IN, ACC, OUT>;
  constructor(
    ctx: HeapKeyContext,
    table: StateTable<ACC | TtlValue<ACC>>,
    ttl: TtlPolicy | undefined,
    readonly descriptor: AggregatingStateDescriptor<IN, ACC, OUT>,
  ) {
    super(ctx, table, ttl);
    this.fn = descriptor.aggregateFunction;
  }

  get(): OUT | undefined {
    const acc = this.ttl === undefined ? (this.read() as ACC | undefined) : this.readCell()?.v;
    return acc === undefined ? undefined : this.fn.getResult(acc);
  }

  add(value: IN): void {
    if (this.ttl === undefined) {
      const acc = this.read() as ACC | undefined;
      this.write(this.fn.add(value, acc === undefined ? this.fn.createAccumulator() : acc));
      return;
    }
    const now = this.accessed();
    const cell = this.readLiveCell(now);
    this.writeCell(this.fn.add(value, cell === undefined ? this.fn.createAccumulator() : cell.v), now);
  }

  protected override checkMergeable(): void {
    if (typeof this.fn.merge !== 'function') {
      throw stateAccessError(
        `aggregating state '${this.name}' cannot merge namespaces: its aggregate function has no merge()`,
        this.ctx.operatorName,
      );
    }
  }

  protected override combine(a: ACC, b: ACC): ACC {
    return (this.fn.merge as (a: ACC, b: ACC) => ACC).call(this.fn, a, b);
  }
}

/** Heap {@link ListState}: stores an array, of {@link TtlValue}s under TTL (each element expires on its own). */
export class HeapListState<T> extends HeapKvState<T[] | TtlValue<T>[]> implements InternalListState<T> {
  get(): Iterable<T> {
    if (this.ttl === undefined) return (this.read() as T[] | undefined) ?? EMPTY;
    const now = this.accessed();
    const cells = this.read() as TtlValue<T>[] | undefined;
    if (cells === undefined) return EMPTY;
    const ttl = this.ttl;
    const out: T[] = [];
    let kept = 0;
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i];
      if (isExpired(cell.ts, ttl.ttl, now)) {
        if (ttl.returnExpired) out.push(cell.v);
        continue;
      }
      if (ttl.updateOnRead) cell.ts = now;
      out.push(cell.v);
      cells[kept++] = cell;
    }
    cells.length = kept;
    if (kept === 0) this.clear();
    return out;
  }

  add(value: T): void {
    if (value == null) throw stateAccessError(`cannot add ${value} to list state '${this.name}'`, this.ctx.operatorName);
    if (this.ttl === undefined) {
      const stored = this.read() as T[] | undefined;
      if (stored === undefined) this.write([value]);
      else stored.push(value);
      return;
    }
    const cell: TtlValue<T> = { v: value, ts: this.accessed() };
    const stored = this.read();
    if (stored === undefined) this.write([cell]);
    else (stored as TtlValue<T>[]).push(cell);
  }

  addAll(values: Iterable<T>): void {
    const items = this.checked(values, 'addAll');
    if (items.length === 0) return;
    if (this.ttl === undefined) {
      const stored = this.read() as T[] | undefined;
      if (stored === undefined) this.write(items);
      else for (const v of items) stored.push(v);
      return;
    }
    const now = this.accessed();
    let stored = this.read();
    if (stored === undefined) this.write((stored = []));
    for (const v of items) (stored as TtlValue<T>[]).push({ v, ts: now });
  }

  update(values: Iterable<T>): void {
    const items = this.checked(values, 'update');
    if (items.length === 0) {
      this.clear();
      return;
    }
    if (this.ttl === undefined) {
      this.write(items);
      return;
    }
    const now = this.accessed();
    this.write(items.map((v) => ({ v, ts: now })));
  }

  /** A fresh array of the elements, checked for null/undefined. */
  private checked(values: Iterable<T>, op: string): T[] {
    if (values == null)
      throw stateAccessError(`${op}() of list state '${this.name}' needs an iterable of values, got ${values}`, this.ctx.operatorName);
    const items = Array.from(values);
    for (const v of items) {
      if (v == null) throw stateAccessError(`${op}() of list state '${this.name}': a list state cannot hold ${v}`, this.ctx.operatorName);
    }
    return items;
  }

  purge(s: T[] | TtlValue<T>[], now: number): boolean {
    const cells = s as TtlValue<T>[];
    const ttl = (this.ttl as TtlPolicy).ttl;
    let kept = 0;
    for (let i = 0; i < cells.length; i++) if (!isExpired(cells[i].ts, ttl, now)) cells[kept++] = cells[i];
    cells.length = kept;
    return kept === 0;
  }

  protected override checkMergeable(): void {}

  protected override mergeStored(target: T[] | TtlValue<T>[], source: T[] | TtlValue<T>[]): T[] | TtlValue<T>[] {
    for (const e of source) (target as unknown[]).push(e);
    return target;
  }
}

/** Heap {@link MapState}: stores a Map of mapped user key → value ({@link TtlValue} under TTL, each entry expiring on its own). */
export class HeapMapState<K, V> extends HeapKvState<Map<unknown, V | TtlValue<V>>> implements InternalMapState<K, V> {
  get(key: K): V | undefined {
    if (this.ttl === undefined) return this.read()?.get(mapKey(key)) as V | undefined;
    return this.readCell(mapKey(key))?.v;
  }

  put(key: K, value: V): void {
    if (this.ttl === undefined) {
      let map = this.read();
      if (map === undefined) this.write((map = new Map()));
      map.set(mapKey(key), value);
      return;
    }
    const now = this.accessed();
    let map = this.read();
    if (map === undefined) this.write((map = new Map()));
    const mk = mapKey(key);
    const cell = map.get(mk) as TtlValue<V> | undefined;
    if (cell !== undefined) {
      cell.v = value;
      cell.ts = now;
    } else map.set(mk, { v: value, ts: now });
  }

  putAll(entries: Iterable<readonly [K, V]>): void {
    for (const [k, v] of entries) this.put(k, v);
  }

  remove(key: K): void {
    if (this.ttl !== undefined) this.accessed();
    const map = this.read();
    if (map === undefined) return;
    map.delete(mapKey(key));
    if (map.size === 0) this.clear();
  }

  contains(key: K): boolean {
    if (this.ttl === undefined) return this.read()?.has(mapKey(key)) ?? false;
    return this.readCell(mapKey(key)) !== undefined;
  }

  isEmpty(): boolean {
    const now = this.ttl === undefined ? 0 : this.accessed();
    const map = this.read();
    if (map === undefined || map.size === 0) return true;
    if (this.ttl === undefined || this.ttl.returnExpired) return false;
    if (this.purge(map, now)) {
      this.clear();
      return true;
    }
    return false;
  }

  entries(): IterableIterator<[K, V]> {
    return this.iterate((mk, v) => [unmapKey(mk) as K, v]);
  }

  keys(): IterableIterator<K> {
    return this.iterate((mk) => unmapKey(mk) as K);
  }

  values(): IterableIterator<V> {
    return this.iterate((_mk, v) => v);
  }

  /** Reads the current (key, namespace) now, iterates lazily. */
  private iterate<R>(project: (mk: unknown, v: V) => R): IterableIterator<R> {
    const now = this.ttl === undefined ? 0 : this.accessed();
    const map = this.read();
    if (map === undefined) return EMPTY.values();
    if (this.ttl === undefined) return projectEntries(map as Map<unknown, V>, project);
    return this.iterateTtl(map, this.ttl, now, this.ctx.currentKeyGroup, this.nk, this.ctx.currentMapKey, project);
  }

  private *iterateTtl<R>(
    map: Map<unknown, V | TtlValue<V>>,
    ttl: TtlPolicy,
    now: number,
    kg: number,
    nk: unknown,
    key: unknown,
    project: (mk: unknown, v: V) => R,
  ): Generator<R, void, undefined> {
    for (const [mk, s] of map) {
      const cell = s as TtlValue<V>;
      if (isExpired(cell.ts, ttl.ttl, now)) {
        map.delete(mk);
        if (ttl.returnExpired) yield project(mk, cell.v);
        continue;
      }
      if (ttl.updateOnRead) cell.ts = now;
      yield project(mk, cell.v);
    }
    if (map.size === 0) this.table.deleteIfSame(kg, nk, key, map);
  }

  /** TTL read of one entry: the cell if visible (expired ones are removed; refreshed under OnReadAndWrite). */
  private readCell(mk: unknown): TtlValue<V> | undefined {
    const now = this.accessed();
    const map = this.read();
    if (map === undefined) return undefined;
    const cell = map.get(mk) as TtlValue<V> | undefined;
    if (cell === undefined) return undefined;
    const ttl = this.ttl as TtlPolicy;
    if (isExpired(cell.ts, ttl.ttl, now)) {
      map.delete(mk);
      if (map.size === 0) this.clear();
      return ttl.returnExpired ? cell : undefined;
    }
    if (ttl.updateOnRead) cell.ts = now;
    return cell;
  }

  purge(s: Map<unknown, V | TtlValue<V>>, now: number): boolean {
    const ttl = (this.ttl as TtlPolicy).ttl;
    for (const [mk, cell] of s) if (isExpired((cell as TtlValue<V>).ts, ttl, now)) s.delete(mk);
    return s.size === 0;
  }
}
