//! The backend-neutral snapshot format of keyed state, one key group at a time: plain, msgpack-friendly data, and its reading into heap tables.

import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { StateKind } from './descriptors.ts';
import { mapKey, unmapKey } from './map-keys.ts';
import type { StateTable } from './state-table.ts';
import { isExpired, type TtlValue } from './ttl.ts';

/** Version of {@link KeyGroupStateSnapshot}; bumped on incompatible changes. */
export const KEYED_SNAPSHOT_VERSION = 1;

/**
 * The keyed state of one key group, as plain data (arrays, numbers, strings and the user's
 * values): what a heap backend writes and a RocksDB backend would read, and the reverse.
 */
export interface KeyGroupStateSnapshot {
  /** {@link KEYED_SNAPSHOT_VERSION}. */
  version: number;
  /** The key group. */
  keyGroup: number;
  /** One entry per state with data in this key group. */
  states: KeyedStateSnapshot[];
}

/**
 * One state's entries in one key group, column-wise (entry `i` is `keys[i]`, `namespaces?.[i]`,
 * `values[i]`, `timestamps?.[i]`).
 *
 * `values[i]` by kind: `value`/`reducing` — the value; `aggregating` — the accumulator; `list` —
 * the elements (an array); `map` — the entries (an array of `[key, value]`).
 */
export interface KeyedStateSnapshot {
  /** State name. */
  name: string;
  /** State kind. */
  kind: StateKind;
  /** Whether the state has TTL (then `timestamps` is present). */
  ttl: boolean;
  /** User keys. */
  keys: unknown[];
  /** Namespaces, `null` for the default namespace; absent when every entry is in the default namespace. */
  namespaces?: unknown[];
  /** Stored values, by kind (see above). */
  values: unknown[];
  /**
   * TTL only: last-access times, in the TTL clock's ms: one number for value, reducing and
   * aggregating state; an array parallel to the elements (list) or entries (map).
   */
  timestamps?: (number | number[])[];
}

/** Raised for snapshot data that cannot be restored. */
export function restoreError(message: string, operator?: string): WeirError {
  return new WeirError(message, { code: ErrorCodes.STATE_RESTORE, domain: 'internal', operator });
}

/** Expiry applied while writing a snapshot (TTL `cleanupFullSnapshot`). */
export interface SnapshotExpiry {
  ttl: number;
  now: number;
}

/** One stored entry as snapshot data: `value` and, under TTL, `ts`; undefined when TTL expiry leaves nothing. */
export function plainEntry(
  kind: StateKind,
  ttl: boolean,
  s: unknown,
  expiry: SnapshotExpiry | undefined,
): { value: unknown; ts: number | number[] | undefined } | undefined {
  if (!ttl) {
    if (kind === 'list') return { value: (s as unknown[]).slice(), ts: undefined };
    if (kind === 'map') return { value: Array.from(s as Map<unknown, unknown>, ([k, v]) => [unmapKey(k), v]), ts: undefined };
    return { value: s, ts: undefined };
  }
  if (kind === 'list' || kind === 'map') {
    const out: unknown[] = [];
    const times: number[] = [];
    if (kind === 'list') {
      for (const cell of s as TtlValue<unknown>[]) {
        if (expiry && isExpired(cell.ts, expiry.ttl, expiry.now)) continue;
        out.push(cell.v);
        times.push(cell.ts);
      }
    } else {
      for (const [k, c] of s as Map<unknown, TtlValue<unknown>>) {
        if (expiry && isExpired(c.ts, expiry.ttl, expiry.now)) continue;
        out.push([unmapKey(k), c.v]);
        times.push(c.ts);
      }
    }
    return out.length === 0 ? undefined : { value: out, ts: times };
  }
  const cell = s as TtlValue<unknown>;
  if (expiry && isExpired(cell.ts, expiry.ttl, expiry.now)) return undefined;
  return { value: cell.v, ts: cell.ts };
}

/** Writes the entries of one state table in one key group; undefined when it has none. */
export function snapshotTableKeyGroup(
  table: StateTable<unknown>,
  kg: number,
  expiry: SnapshotExpiry | undefined,
): KeyedStateSnapshot | undefined {
  const columns = new StateColumns(table);
  const kind = table.kind;
  table.forEachInKeyGroup(kg, (nk, mk, s) => columns.add(nk, mk, plainEntry(kind, table.ttl, s, expiry)));
  return columns.result();
}

/** Builds one state's {@link KeyedStateSnapshot} entry by entry (mapped keys and namespaces in, user keys out). */
export class StateColumns {
  private readonly keys: unknown[] = [];
  private readonly values: unknown[] = [];
  private readonly timestamps: (number | number[])[] | undefined;
  private namespaces: unknown[] | undefined;

  constructor(private readonly table: StateTable<unknown>) {
    this.timestamps = table.ttl ? [] : undefined;
  }

  /** Adds the entry of (namespace `nk`, key `mk`), both mapped; undefined (expired) adds nothing. */
  add(nk: unknown, mk: unknown, entry: { value: unknown; ts: number | number[] | undefined } | undefined): void {
    if (entry === undefined) return;
    if (nk !== undefined && this.namespaces === undefined) this.namespaces = new Array(this.keys.length).fill(null);
    if (this.namespaces !== undefined) this.namespaces.push(nk === undefined ? null : unmapKey(nk));
    this.keys.push(unmapKey(mk));
    this.values.push(entry.value);
    if (this.timestamps !== undefined) this.timestamps.push(entry.ts as number | number[]);
  }

  /** The state's entries, or undefined when none was added. */
  result(): KeyedStateSnapshot | undefined {
    if (this.keys.length === 0) return undefined;
    const table = this.table;
    const snapshot: KeyedStateSnapshot = { name: table.name, kind: table.kind, ttl: table.ttl, keys: this.keys, values: this.values };
    if (this.namespaces !== undefined) snapshot.namespaces = this.namespaces;
    if (this.timestamps !== undefined) snapshot.timestamps = this.timestamps;
    return snapshot;
  }
}

const KINDS: readonly StateKind[] = ['value', 'list', 'map', 'reducing', 'aggregating'];

/** Checks the shape of one state's snapshot (not the user values). */
export function validateStateSnapshot(s: KeyedStateSnapshot, operator: string): void {
  const where = `state '${s?.name}' in a snapshot of operator '${operator}'`;
  if (s === null || typeof s !== 'object' || typeof s.name !== 'string' || s.name.length === 0)
    throw restoreError(`malformed keyed state snapshot: ${where}`, operator);
  if (!KINDS.includes(s.kind)) throw restoreError(`${where} has unknown kind '${String(s.kind)}'`, operator);
  if (!Array.isArray(s.keys) || !Array.isArray(s.values) || s.values.length !== s.keys.length)
    throw restoreError(`${where}: keys and values differ in length`, operator);
  if (s.namespaces != null && (!Array.isArray(s.namespaces) || s.namespaces.length !== s.keys.length))
    throw restoreError(`${where}: namespaces differ in length`, operator);
  if (s.ttl && (!Array.isArray(s.timestamps) || s.timestamps.length !== s.keys.length))
    throw restoreError(`${where}: TTL state without a timestamp per entry`, operator);
}

/** Reads one snapshot entry into the stored form of a heap table. */
export function restoreEntry(kind: StateKind, ttl: boolean, value: unknown, ts: unknown, where: string, operator: string): unknown {
  if (kind === 'list' || kind === 'map') {
    if (!Array.isArray(value)) throw restoreError(`${where}: a ${kind} entry must be an array`, operator);
    if (ttl && (!Array.isArray(ts) || ts.length !== value.length))
      throw restoreError(`${where}: a TTL ${kind} entry needs one timestamp per element`, operator);
    const times = ts as number[];
    if (kind === 'list') return ttl ? value.map((v, i): TtlValue<unknown> => ({ v, ts: times[i] })) : value.slice();
    const map = new Map<unknown, unknown>();
    for (let i = 0; i < value.length; i++) {
      const entry = value[i] as unknown;
      if (!Array.isArray(entry) || entry.length !== 2) throw restoreError(`${where}: a map entry must be [key, value]`, operator);
      map.set(mapKey(entry[0]), ttl ? { v: entry[1], ts: times[i] } : entry[1]);
    }
    return map;
  }
  if (ttl) {
    if (typeof ts !== 'number') throw restoreError(`${where}: a TTL ${kind} entry needs a timestamp`, operator);
    return { v: value, ts };
  }
  return value;
}
