//! Copy-on-write snapshots of heap keyed state per entry: an entry touched after a snapshot began is kept as it was; key groups are encoded in the background from the live tables and the kept entries.

import { Packr } from 'msgpackr';
import type { KeyGroupRange } from './key-groups.ts';
import type { KeyedSnapshotProgress, KeyedSnapshotResult } from './keyed-backend.ts';
import {
  KEYED_SNAPSHOT_VERSION,
  StateColumns,
  plainEntry,
  type KeyGroupStateSnapshot,
  type KeyedStateSnapshot,
  type SnapshotExpiry,
} from './snapshot-format.ts';
import type { StateTable } from './state-table.ts';

/** An entry as a snapshot holds it: its plain value (or the bytes of it, when the value is an object the user may change in place) and TTL times. */
interface KeptEntry {
  value: unknown;
  bytes: Uint8Array | undefined;
  ts: number | number[] | undefined;
}

/** Kept for an entry that did not exist (or had expired) when the snapshot began. */
const ABSENT = null;
type Kept = KeptEntry | typeof ABSENT;

/**
 * Kept values are frozen by encoding them: the same codec (MessagePack with records) as the
 * checkpoint, so a kept entry restores exactly as the live one would have.
 */
const keptPackr = new Packr({ useRecords: true });

function freeze(entry: { value: unknown; ts: number | number[] | undefined } | undefined): Kept {
  if (entry === undefined) return ABSENT;
  const v = entry.value;
  if (typeof v !== 'object' || v === null) return { value: v, bytes: undefined, ts: entry.ts };
  // A copy: msgpackr may write its next message over the bytes of this one.
  return { value: undefined, bytes: new Uint8Array(keptPackr.pack(v)), ts: entry.ts };
}

function thaw(kept: KeptEntry): { value: unknown; ts: number | number[] | undefined } {
  return kept.bytes === undefined ? kept : { value: keptPackr.unpack(kept.bytes), ts: kept.ts };
}

/**
 * What a snapshot in progress keeps of one state table: the entries of key groups not yet encoded,
 * as they were when the snapshot began, taken the first time each is touched after it (Flink's
 * `CopyOnWriteStateMap` keeps a version per entry to the same end). States call {@link keep}
 * before they read or change an entry.
 *
 * Threading model: the backend's thread. Life cycle: set on its table by {@link EntrySnapshot}
 * at the snapshot's start, removed when every key group is encoded.
 */
export class EntryCapture {
  /** Key group → mapped key → kept entry, for the default namespace. */
  private readonly defaults: (Map<unknown, Kept> | undefined)[];
  /** Key group → mapped namespace → mapped key → kept entry. */
  private readonly namespaced: (Map<unknown, Map<unknown, Kept>> | undefined)[];

  constructor(
    /** The snapshot this belongs to. */
    readonly snapshot: EntrySnapshot,
    /** The table whose entries this keeps. */
    readonly table: StateTable<unknown>,
    private readonly expiry: SnapshotExpiry | undefined,
  ) {
    this.defaults = new Array(table.defaults.length);
    this.namespaced = new Array(table.defaults.length);
  }

  /** Keeps the entry (key group `kg`, mapped namespace `nk`, mapped key `mk`) as it is now, unless kept already or its key group is encoded. */
  keep(kg: number, nk: unknown, mk: unknown): void {
    if (!this.snapshot.isPending(kg)) return;
    let kept: Map<unknown, Kept> | undefined;
    if (nk === undefined) {
      kept = this.defaults[kg];
      if (kept === undefined) kept = this.defaults[kg] = new Map();
    } else {
      let byNs = this.namespaced[kg];
      if (byNs === undefined) byNs = this.namespaced[kg] = new Map();
      kept = byNs.get(nk);
      if (kept === undefined) byNs.set(nk, (kept = new Map()));
    }
    if (kept.has(mk)) return;
    const table = this.table;
    const s = table.get(kg, nk, mk);
    kept.set(mk, s === undefined ? ABSENT : freeze(plainEntry(table.kind, table.ttl, s, this.expiry)));
  }

  /** The table's entries of key group `kg` as of the snapshot's start; forgets what it kept of it. */
  snapshotKeyGroup(kg: number): KeyedStateSnapshot | undefined {
    const table = this.table;
    const keptDefaults = this.defaults[kg];
    const keptNamespaced = this.namespaced[kg];
    this.defaults[kg] = undefined;
    this.namespaced[kg] = undefined;
    const columns = new StateColumns(table);
    const { kind, ttl } = table;
    const expiry = this.expiry;
    table.forEachInKeyGroup(kg, (nk, mk, s) => {
      const kept = nk === undefined ? keptDefaults : keptNamespaced?.get(nk);
      const k = kept?.get(mk);
      if (k === undefined) {
        columns.add(nk, mk, plainEntry(kind, ttl, s, expiry));
        return;
      }
      (kept as Map<unknown, Kept>).delete(mk);
      if (k !== ABSENT) columns.add(nk, mk, thaw(k));
    });
    // What is left was removed since the snapshot began.
    if (keptDefaults !== undefined) for (const [mk, k] of keptDefaults) if (k !== ABSENT) columns.add(undefined, mk, thaw(k));
    if (keptNamespaced !== undefined)
      for (const [nk, kept] of keptNamespaced) for (const [mk, k] of kept) if (k !== ABSENT) columns.add(nk, mk, thaw(k));
    return columns.result();
  }
}

/**
 * A copy-on-write snapshot of a heap backend's keyed state, per entry. Its start costs one
 * {@link EntryCapture} per table; records then flow as before, an entry's first touch keeps its
 * old state (one Map lookup after that), and {@link step} encodes key groups between records,
 * each from the live table with the kept entries in place of the changed ones. A pause is at
 * most the encoding of one key group, whatever the size of the state.
 *
 * Threading model: the backend's thread. Life cycle: begun by the backend at a barrier; stepped
 * by the actor until done (or finished at once by {@link result}, or by the next snapshot's start).
 */
export class EntrySnapshot implements KeyedSnapshotProgress {
  private readonly pending: Uint8Array;
  private remaining: number;
  private next: number;
  private readonly groups: number[] = [];
  private readonly blobs: Uint8Array[] = [];
  private readonly captures: EntryCapture[];

  constructor(
    private readonly range: KeyGroupRange,
    /** The tables that exist at the start (a table made later has nothing to snapshot), with the TTL expiry each applies. */
    tables: readonly { table: StateTable<unknown>; expiry: SnapshotExpiry | undefined }[],
    private readonly encode: (s: KeyGroupStateSnapshot) => Uint8Array,
    private readonly onDone: () => void,
  ) {
    const size = range.end - range.start + 1;
    this.pending = new Uint8Array(size).fill(1);
    this.remaining = size;
    this.next = range.start;
    this.captures = tables.map(({ table, expiry }) => (table.capture = new EntryCapture(this, table, expiry)));
  }

  /** Whether key group `kg` is still to be encoded. */
  isPending(kg: number): boolean {
    return this.pending[kg - this.range.start] === 1;
  }

  get done(): boolean {
    return this.remaining === 0;
  }

  step(deadline: number): boolean {
    while (this.remaining > 0) {
      const kg = this.next++;
      if (this.pending[kg - this.range.start] === 1) this.encodeKeyGroup(kg);
      if (performance.now() >= deadline) break;
    }
    if (this.remaining === 0) this.release();
    return this.remaining === 0;
  }

  result(): KeyedSnapshotResult {
    this.step(Number.POSITIVE_INFINITY);
    return { groups: this.groups, blobs: this.blobs };
  }

  private encodeKeyGroup(kg: number): void {
    this.pending[kg - this.range.start] = 0;
    this.remaining--;
    const states: KeyedStateSnapshot[] = [];
    for (const capture of this.captures) {
      const s = capture.snapshotKeyGroup(kg);
      if (s !== undefined) states.push(s);
    }
    if (states.length === 0) return;
    this.groups.push(kg);
    this.blobs.push(this.encode({ version: KEYED_SNAPSHOT_VERSION, keyGroup: kg, states }));
  }

  private released = false;

  private release(): void {
    if (this.released) return;
    this.released = true;
    for (const capture of this.captures) if (capture.table.capture === capture) capture.table.capture = undefined;
    this.onDone();
  }
}
