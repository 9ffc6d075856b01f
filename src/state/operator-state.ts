//! Operator (non-keyed) state: split and union list state, broadcast state, their snapshot format, and redistribution from N subtasks to M.

import { ErrorCodes, WeirError } from '../core/errors.ts';
import { HeapBroadcastState, type BroadcastState, type ReadOnlyBroadcastState } from './broadcast-state.ts';
import type { ListStateDescriptor, MapStateDescriptor } from './descriptors.ts';
import { unmapKey } from './map-keys.ts';
import { restoreError } from './snapshot-format.ts';
import type { ListState } from './state-types.ts';

/**
 * How a list state is redistributed when parallelism changes (Flink's `OperatorStateHandle.Mode`):
 * `split` — the concatenation of all subtasks' lists is cut into even, contiguous parts;
 * `union` — every subtask gets the whole concatenation.
 */
export type OperatorListMode = 'split' | 'union';

/** Version of {@link OperatorStateSnapshot}. */
export const OPERATOR_SNAPSHOT_VERSION = 1;

/** One subtask's operator state as plain, msgpack-friendly data. */
export interface OperatorStateSnapshot {
  /** {@link OPERATOR_SNAPSHOT_VERSION}. */
  version: number;
  /** List states, by name order. */
  lists: { name: string; mode: OperatorListMode; elements: unknown[] }[];
  /** Broadcast states, by name order; entries are `[key, value]`. */
  broadcast: { name: string; entries: [unknown, unknown][] }[];
}

/**
 * Operator state as user code registers it (Flink's `OperatorStateStore`), typically in a
 * checkpointed function's `initializeState`.
 */
export interface OperatorStateStore {
  /** List state redistributed by even split on rescale (each element goes to exactly one subtask). */
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  /** List state redistributed by union on rescale (every subtask gets every element). */
  getUnionListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  /** Broadcast state, writable (the broadcast side). */
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V>;
  /** Names of list states (registered or restored). */
  getRegisteredStateNames(): string[];
  /** Names of broadcast states (registered or restored). */
  getRegisteredBroadcastStateNames(): string[];
}

/** Operator list state: a plain array per subtask. */
class HeapOperatorListState<T> implements ListState<T> {
  elements: T[] = [];
  constructor(
    readonly name: string,
    readonly mode: OperatorListMode,
    private readonly operatorName: string,
  ) {}
  get(): Iterable<T> {
    return this.elements;
  }
  add(value: T): void {
    if (value == null) throw this.error(`cannot add ${value} to operator list state '${this.name}'`);
    this.elements.push(value);
  }
  addAll(values: Iterable<T>): void {
    for (const v of this.checked(values, 'addAll')) this.elements.push(v);
  }
  update(values: Iterable<T>): void {
    this.elements = this.checked(values, 'update');
  }
  clear(): void {
    this.elements = [];
  }
  private checked(values: Iterable<T>, op: string): T[] {
    if (values == null) throw this.error(`${op}() of operator list state '${this.name}' needs an iterable, got ${values}`);
    const items = Array.from(values);
    for (const v of items) if (v == null) throw this.error(`${op}() of operator list state '${this.name}': a list state cannot hold ${v}`);
    return items;
  }
  private error(message: string): WeirError {
    return new WeirError(message, { code: ErrorCodes.STATE_ACCESS, domain: 'user', operator: this.operatorName });
  }
}

/**
 * Operator state on the heap: list states (split or union) and broadcast states of one subtask.
 *
 * Threading model: one subtask actor's thread. Life cycle: created at deploy, restored from this
 * subtask's share of a snapshot (after {@link redistributeOperatorState} on rescale) before the
 * operator initialises its state, snapshotted between records, disposed at close.
 */
export class HeapOperatorStateStore implements OperatorStateStore {
  private readonly lists = new Map<string, HeapOperatorListState<unknown>>();
  private readonly registeredLists = new Set<string>();
  private readonly broadcasts = new Map<string, HeapBroadcastState<unknown, unknown>>();

  constructor(
    /** Operator name, for errors. */
    readonly operatorName = 'operator',
  ) {}

  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.list(descriptor, 'split');
  }

  getUnionListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.list(descriptor, 'union');
  }

  private list<T>(descriptor: ListStateDescriptor<T>, mode: OperatorListMode): ListState<T> {
    this.checkDescriptor(descriptor, 'list');
    const name = descriptor.name;
    const existing = this.lists.get(name);
    if (existing) {
      if (existing.mode !== mode) {
        const message = `operator list state '${name}' of operator '${this.operatorName}' is ${this.registeredLists.has(name) ? 'registered' : 'restored'} as ${existing.mode} list state and cannot be used as ${mode} list state`;
        if (this.registeredLists.has(name))
          throw new WeirError(message, { code: ErrorCodes.STATE_ACCESS, domain: 'user', operator: this.operatorName });
        throw restoreError(message, this.operatorName);
      }
      this.registeredLists.add(name);
      return existing as HeapOperatorListState<T>;
    }
    const state = new HeapOperatorListState<T>(name, mode, this.operatorName);
    this.lists.set(name, state as HeapOperatorListState<unknown>);
    this.registeredLists.add(name);
    return state;
  }

  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V> {
    this.checkDescriptor(descriptor, 'map');
    let state = this.broadcasts.get(descriptor.name);
    if (!state) {
      state = new HeapBroadcastState(descriptor.name);
      this.broadcasts.set(descriptor.name, state);
    }
    return state as HeapBroadcastState<K, V>;
  }

  /** The read-only view of a broadcast state, for the non-broadcast side. */
  getReadOnlyBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V> {
    return (this.getBroadcastState(descriptor) as HeapBroadcastState<K, V>).readOnly;
  }

  private checkDescriptor(descriptor: { name: string; kind: string; ttlConfig: { isEnabled(): boolean } }, kind: string): void {
    if (descriptor?.kind !== kind) {
      throw new WeirError(
        `operator state needs a ${kind === 'list' ? 'ListStateDescriptor' : 'MapStateDescriptor'}, got ${descriptor?.kind} state descriptor '${descriptor?.name}'`,
        {
          code: ErrorCodes.STATE_ACCESS,
          domain: 'user',
          operator: this.operatorName,
        },
      );
    }
    if (descriptor.ttlConfig.isEnabled()) {
      throw new WeirError(
        `state '${descriptor.name}' of operator '${this.operatorName}': TTL is supported for keyed state only, not for operator or broadcast state`,
        {
          code: ErrorCodes.STATE_ACCESS,
          domain: 'user',
          operator: this.operatorName,
        },
      );
    }
  }

  getRegisteredStateNames(): string[] {
    return [...this.lists.keys()];
  }

  getRegisteredBroadcastStateNames(): string[] {
    return [...this.broadcasts.keys()];
  }

  /** This subtask's operator state as plain data: lists and entries are copied, user values referenced. */
  snapshot(): OperatorStateSnapshot {
    const lists = [...this.lists.values()]
      .sort((a, b) => compareNames(a.name, b.name))
      .map((s) => ({ name: s.name, mode: s.mode, elements: s.elements.slice() }));
    const broadcast = [...this.broadcasts.values()]
      .sort((a, b) => compareNames(a.name, b.name))
      .map((s) => ({ name: s.name, entries: Array.from(s.map, ([k, v]): [unknown, unknown] => [unmapKey(k), v]) }));
    return { version: OPERATOR_SNAPSHOT_VERSION, lists, broadcast };
  }

  /** Loads this subtask's share of a snapshot; registration later must use the same mode. */
  restore(snapshot: OperatorStateSnapshot): void {
    checkOperatorSnapshot(snapshot, this.operatorName);
    for (const l of snapshot.lists) {
      const existing = this.lists.get(l.name);
      if (existing && existing.mode !== l.mode) {
        throw restoreError(
          `operator list state '${l.name}' of operator '${this.operatorName}' is ${existing.mode} list state; the snapshot holds it as ${l.mode}`,
          this.operatorName,
        );
      }
      const state = existing ?? new HeapOperatorListState<unknown>(l.name, l.mode, this.operatorName);
      state.elements = l.elements.slice();
      this.lists.set(l.name, state);
    }
    for (const b of snapshot.broadcast) {
      let state = this.broadcasts.get(b.name);
      if (!state) {
        state = new HeapBroadcastState(b.name);
        this.broadcasts.set(b.name, state);
      }
      state.clear();
      state.putAll(b.entries);
    }
  }

  /** Releases everything. */
  dispose(): void {
    this.lists.clear();
    this.registeredLists.clear();
    this.broadcasts.clear();
  }
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkOperatorSnapshot(s: OperatorStateSnapshot, operator: string): void {
  if (s === null || typeof s !== 'object' || !Array.isArray(s.lists) || !Array.isArray(s.broadcast))
    throw restoreError(`malformed operator state snapshot (operator '${operator}')`, operator);
  if (s.version !== OPERATOR_SNAPSHOT_VERSION)
    throw restoreError(`operator state snapshot version ${s.version} is not supported (expected ${OPERATOR_SNAPSHOT_VERSION})`, operator);
  for (const l of s.lists) {
    if (!l || typeof l.name !== 'string' || (l.mode !== 'split' && l.mode !== 'union') || !Array.isArray(l.elements)) {
      throw restoreError(`malformed operator list state '${l?.name}' in a snapshot of operator '${operator}'`, operator);
    }
  }
  for (const b of s.broadcast) {
    if (!b || typeof b.name !== 'string' || !Array.isArray(b.entries) || !b.entries.every((e) => Array.isArray(e) && e.length === 2)) {
      throw restoreError(`malformed broadcast state '${b?.name}' in a snapshot of operator '${operator}'`, operator);
    }
  }
}

/**
 * Redistributes the operator state of `previous.length` old subtasks to `newParallelism` new ones
 * (Flink's `RoundRobinOperatorStateRepartitioner`), as a pure function:
 *
 * - **split** list state: when the parallelism is unchanged, every subtask keeps its own list.
 *   Otherwise the lists are concatenated in old-subtask order and cut into `newParallelism`
 *   contiguous parts whose sizes differ by at most one; the longer parts go first, starting, for
 *   each state in name order, at the subtask after the last one that got a longer part of the
 *   previous state (so the remainders of several states spread over the subtasks).
 * - **union** list state: every new subtask gets the whole concatenation.
 * - **broadcast** state: new subtask `i` gets a copy of old subtask `i % previous.length`'s.
 *
 * Every state name appears in every result, with an empty list where a subtask gets nothing.
 */
export function redistributeOperatorState(previous: readonly OperatorStateSnapshot[], newParallelism: number): OperatorStateSnapshot[] {
  if (!Number.isInteger(newParallelism) || newParallelism < 1) {
    throw new WeirError(`cannot redistribute operator state to parallelism ${newParallelism}`, { code: ErrorCodes.CONFIG, domain: 'user' });
  }
  previous.forEach((s) => checkOperatorSnapshot(s, 'redistribute'));
  const oldParallelism = previous.length;

  const modes = new Map<string, OperatorListMode>();
  for (const s of previous) {
    for (const l of s.lists) {
      const mode = modes.get(l.name);
      if (mode !== undefined && mode !== l.mode)
        throw restoreError(`operator list state '${l.name}' is ${mode} state in one subtask and ${l.mode} in another`);
      modes.set(l.name, l.mode);
    }
  }
  const names = [...modes.keys()].sort(compareNames);
  const perSubtask = (name: string): unknown[][] => previous.map((s) => s.lists.find((l) => l.name === name)?.elements ?? []);

  const result: OperatorStateSnapshot[] = Array.from({ length: newParallelism }, () => ({
    version: OPERATOR_SNAPSHOT_VERSION,
    lists: [],
    broadcast: [],
  }));
  let startSubtask = 0;
  for (const name of names) {
    const mode = modes.get(name) as OperatorListMode;
    const lists = perSubtask(name);
    if (mode === 'union') {
      const all = lists.flat();
      for (const r of result) r.lists.push({ name, mode, elements: all.slice() });
      continue;
    }
    if (oldParallelism === newParallelism) {
      result.forEach((r, i) => r.lists.push({ name, mode, elements: lists[i].slice() }));
      continue;
    }
    const all = lists.flat();
    const parts: unknown[][] = new Array(newParallelism);
    const base = Math.floor(all.length / newParallelism);
    let remainder = all.length % newParallelism;
    let nextStart = startSubtask;
    let offset = 0;
    for (let i = 0; i < newParallelism; i++) {
      const subtask = (i + startSubtask) % newParallelism;
      let count = base;
      if (remainder > 0) {
        count++;
        remainder--;
      } else if (remainder === 0) {
        nextStart = subtask; // the first subtask without an extra element starts the next round
        remainder--;
      }
      parts[subtask] = all.slice(offset, offset + count);
      offset += count;
    }
    startSubtask = nextStart;
    result.forEach((r, i) => r.lists.push({ name, mode, elements: parts[i] }));
  }

  if (oldParallelism > 0) {
    result.forEach((r, i) => {
      r.broadcast = previous[i % oldParallelism].broadcast.map((b) => ({
        name: b.name,
        entries: b.entries.map(([k, v]): [unknown, unknown] => [k, v]),
      }));
    });
  }
  return result;
}
