//! The RocksDB keyed state backend: state on disk, a bounded write-back cache of whole keys on the heap, batched reads before user code runs, snapshots per key group.

import { Packr } from 'msgpackr';
import { decodeDbKey, encodeDbKey, rowPackr, type RowState } from './key-rows.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { StateKind } from './descriptors.ts';
import {
  HeapKeyedStateBackend,
  describeKey,
  type HeapKeyedStateBackendOptions,
  type KeyQuery,
  type KeyedSnapshotProgress,
  type LiveKeyEntries,
} from './keyed-backend.ts';
import { assignToKeyGroup, type KeyGroupRange } from './key-groups.ts';
import { mapKey, unmapKey } from './map-keys.ts';
import { RocksDbStore } from './rocksdb-store.ts';
import {
  KEYED_SNAPSHOT_VERSION,
  plainEntry,
  restoreEntry,
  type KeyedStateSnapshot,
  type KeyGroupStateSnapshot,
  type SnapshotExpiry,
} from './snapshot-format.ts';
import { StateTable } from './state-table.ts';
import { isExpired } from './ttl.ts';

/** Options of {@link RocksDbKeyedStateBackend}. */
export interface RocksDbKeyedStateBackendOptions extends HeapKeyedStateBackendOptions {
  /** Parent of the working directory (one directory per backend instance, removed on dispose). */
  dir: string;
  /** Name prefix of the working directory. */
  dirName: string;
  /** Keys whose state the cache holds (default 100,000). Keys with pending timers stay above it. */
  cacheKeys?: number;
  /** Bits of the filter that tells keys never written to disk (default 2^25 = 4 MiB). */
  filterBits?: number;
}

/** Cache flag: changed since it was read from disk (or never written). */
const DIRTY = 1;
/** Cache flag: used since the write-back last passed it. */
const REFERENCED = 2;
const partPackr = new Packr({ useRecords: true });

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);

/** A 32-bit hash of a mapped key in a key group, for the filter. */
function hashKey(kg: number, mk: unknown): number {
  let h = (0x811c9dc5 ^ Math.imul(kg + 1, 0x9e3779b1)) >>> 0;
  if (typeof mk === 'number') {
    scratch[0] = mk === 0 ? 0 : mk;
    h = Math.imul(h ^ scratchWords[0], 0x01000193);
    h = Math.imul(h ^ scratchWords[1], 0x01000193);
  } else {
    const s = typeof mk === 'string' ? mk : `${typeof mk}:${String(mk)}`;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

interface SnapshotPart {
  /** The cached keys' state of the key group at the copy, encoded (a copy). */
  bytes: Uint8Array | undefined;
  /** Keys cached at the copy: their rows on disk are older and are skipped. */
  mask: Set<unknown>;
}

/**
 * Keyed state in RocksDB (Flink's EmbeddedRocksDBStateBackend), with user code kept synchronous.
 *
 * Layout: one database row per (key group, key) — key `[key group: 2 bytes][type][key]`, value the
 * msgpack of every state's entries of that key (all namespaces, map entries, TTL timestamps). Key
 * groups lead, so a key-group range is one contiguous scan.
 *
 * Hot path: the heap tables of {@link HeapKeyedStateBackend} are the cache, holding whole keys. Before
 * user code runs on a batch, the runtime calls {@link prefetch} with the batch's keys: keys not in
 * the cache are read with one `getMany`, and when the cache is over its size the oldest keys not
 * in use are written back (dirty ones, in one write batch) and dropped. A filter of keys ever
 * written answers "never on disk" without a native call, so new keys cost nothing to load. Keys
 * with pending timers are pinned in the cache (timers stay on the heap, as Flink's
 * `timer-service.factory: HEAP`), so firing a timer never waits for disk.
 *
 * Snapshots: at the barrier, a database iterator fixes the disk's view (no write is in flight: the
 * actor waits on every {@link prefetch} that writes), and the cache is copied per key group on
 * first touch (copy-on-write). The scan then merges, per key group, the cached copy with the rows
 * of keys that were not cached, into the backend-neutral {@link KeyGroupStateSnapshot}.
 *
 * Threading model: one subtask actor's thread; native calls complete on it. Life cycle: created
 * at deploy (database opening, restored key groups written) → {@link ready} → used → disposed
 * (database closed, directory removed).
 */
export class RocksDbKeyedStateBackend extends HeapKeyedStateBackend {
  override readonly kind: string = 'rocksdb';
  private readonly store: RocksDbStore;
  /** Cached keys per key group: mapped key → flags ({@link DIRTY}, {@link REFERENCED}). */
  private readonly resident: (Map<unknown, number> | undefined)[];
  private residentCount = 0;
  /** Keys cached since the last write-back: without new ones, another write-back frees nothing more. */
  private admittedSinceEviction = 0;
  private readonly cacheKeys: number;
  private readonly pins = new Map<unknown, number>();
  private readonly filter: Int32Array;
  private readonly filterMask: number;
  private hand: number;
  private restoreKeys: Buffer[] = [];
  private restoreValues: Buffer[] = [];
  private readonly restoreWrites: Promise<void>[] = [];
  private currentParts: Map<number, SnapshotPart> | undefined;
  /** Counters: rows read and written, native calls. */
  readonly counters = { reads: 0, readCalls: 0, writes: 0, writeCalls: 0, evictions: 0 };

  constructor(maxParallelism: number, keyGroupRange: KeyGroupRange, operatorName: string, options: RocksDbKeyedStateBackendOptions) {
    super(maxParallelism, keyGroupRange, operatorName, options);
    this.cacheKeys = Math.max(1, options.cacheKeys ?? 100_000);
    const bits = 1 << Math.max(10, Math.min(31, Math.ceil(Math.log2(options.filterBits ?? 1 << 25))));
    this.filter = new Int32Array(bits >>> 5);
    this.filterMask = bits - 1;
    this.resident = new Array(maxParallelism);
    this.hand = keyGroupRange.start;
    this.store = new RocksDbStore(options.dir, options.dirName);
  }

  // ---- filter of keys on disk

  private addToFilter(kg: number, mk: unknown): void {
    const h1 = hashKey(kg, mk);
    const h2 = (Math.imul(h1, 0x27d4eb2d) >>> 15) | 1;
    for (let i = 0; i < 3; i++) {
      const bit = (h1 + i * h2) & this.filterMask;
      this.filter[bit >>> 5] |= 1 << (bit & 31);
    }
  }

  private mayBeOnDisk(kg: number, mk: unknown): boolean {
    const h1 = hashKey(kg, mk);
    const h2 = (Math.imul(h1, 0x27d4eb2d) >>> 15) | 1;
    for (let i = 0; i < 3; i++) {
      const bit = (h1 + i * h2) & this.filterMask;
      if ((this.filter[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  // ---- keys

  // The keys of the batch last prefetched, mapped and with their key groups: records of the batch
  // set them as current in the same order, so each is mapped once (a cursor, not a lookup).
  private batchKeys: readonly unknown[] = [];
  private readonly batchMapped: unknown[] = [];
  private readonly batchGroups: number[] = [];
  private batchCursor = 0;

  override setCurrentKey(key: unknown): void {
    const i = this.batchCursor;
    if (i < this.batchKeys.length && this.batchKeys[i] === key) {
      this.batchCursor = i + 1;
      this.setMappedKey(key, this.batchMapped[i], this.batchGroups[i]);
    } else this.setMappedKey(key, mapKey(key), assignToKeyGroup(key, this.maxParallelism));
    const r = this.resident[this.currentKeyGroup];
    const v = r === undefined ? undefined : r.get(this.currentMapKey);
    if (v === undefined) this.admitUncached(key);
    else if ((v & DIRTY) === 0) (r as Map<unknown, number>).set(this.currentMapKey, v | DIRTY);
  }

  /** A key used without a prefetch: fine if it was never written to disk (its state is empty). */
  private admitUncached(key: unknown): void {
    // No key (the state before the first record, restored after visiting keys): nothing to read.
    if (key === undefined) return;
    const kg = this.currentKeyGroup;
    const mk = this.currentMapKey;
    if (this.mayBeOnDisk(kg, mk)) {
      throw new WeirError(
        `state of key ${describeKey(key)} of operator '${this.operatorName}' may be on disk and was not loaded before use (RocksDB backend): ` +
          'keyed state is only readable for keys of the record or timer being processed',
        { code: ErrorCodes.STATE_ACCESS, domain: 'internal', operator: this.operatorName },
      );
    }
    (this.resident[kg] ??= new Map()).set(mk, REFERENCED | DIRTY);
    this.residentCount++;
    this.admittedSinceEviction++;
  }

  /** Keeps `key`'s state in the cache until as many {@link releaseKey} calls (a pending timer). */
  retainKey(key: unknown): void {
    const mk = mapKey(key);
    this.pins.set(mk, (this.pins.get(mk) ?? 0) + 1);
  }

  /** Undoes one {@link retainKey}. */
  releaseKey(key: unknown): void {
    const mk = mapKey(key);
    const n = this.pins.get(mk);
    if (n === undefined) return;
    if (n <= 1) this.pins.delete(mk);
    else this.pins.set(mk, n - 1);
  }

  /**
   * Makes the state of `keys` (and of pinned keys) readable synchronously. Returns nothing when
   * every key is cached (or never was on disk) and the cache is within its size; otherwise a
   * promise the runtime awaits before user code runs.
   */
  override prefetch(keys: readonly unknown[]): void | Promise<void> {
    let missing: { kg: number; mk: unknown }[] | undefined;
    const maxParallelism = this.maxParallelism;
    const mapped = this.batchMapped;
    const groups = this.batchGroups;
    mapped.length = keys.length;
    groups.length = keys.length;
    this.batchKeys = keys;
    this.batchCursor = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const mk = mapKey(key);
      const kg = assignToKeyGroup(key, maxParallelism);
      mapped[i] = mk;
      groups[i] = kg;
      let r = this.resident[kg];
      if (r === undefined) r = this.resident[kg] = new Map();
      const v = r.get(mk);
      if (v !== undefined) {
        if ((v & REFERENCED) === 0) r.set(mk, v | REFERENCED);
        continue;
      }
      // Cached from now on (loaded below when it may be on disk); dirty only once used. A snapshot
      // waiting for this key group copies it first: its list of cached keys must not include this one.
      this.ensureCopied(kg);
      r.set(mk, REFERENCED);
      this.residentCount++;
      this.admittedSinceEviction++;
      if (this.mayBeOnDisk(kg, mk)) (missing ??= []).push({ kg, mk });
    }
    // Over the cache size, a write-back is due, unless nothing was cached since the last one (the
    // rest is in use: this batch, or keys with timers; the cache exceeds its size until they are not).
    if (missing === undefined && (this.residentCount <= this.cacheKeys || this.admittedSinceEviction === 0)) return;
    return this.load(missing);
  }

  private async load(missing: { kg: number; mk: unknown }[] | undefined): Promise<void> {
    await this.ready();
    // Write back down to 90 % of the cache, so the next batches need no write. The write and the
    // read run together: the keys read are not cached, so none of them is among those written.
    const written =
      this.residentCount > this.cacheKeys && this.admittedSinceEviction > 0
        ? this.evict(this.residentCount - Math.floor(this.cacheKeys * 0.9))
        : undefined;
    if (missing === undefined) return written;
    const dbKeys = missing.map((m) => encodeDbKey(m.kg, m.mk));
    this.counters.readCalls++;
    const [values] = await Promise.all([this.store.getMany(dbKeys), written]);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== undefined) {
        this.counters.reads++;
        this.installRow(missing[i].kg, missing[i].mk, v);
      }
    }
  }

  /** Writes back and drops up to `count` cached keys: oldest first per key group, key groups in turn; never recent or pinned ones. */
  private async evict(count: number): Promise<void> {
    const keys: Buffer[] = [];
    const values: (Buffer | undefined)[] = [];
    const { start, end } = this.keyGroupRange;
    const groups = end - start + 1;
    let freed = 0;
    this.admittedSinceEviction = 0;
    for (let visited = 0; visited < groups && freed < count; visited++) {
      const kg = this.hand;
      const r = this.resident[kg];
      if (r !== undefined && r.size > 0) {
        for (const [mk, v] of r) {
          if (freed >= count) break;
          if (this.pins.has(mk)) continue;
          if ((v & REFERENCED) !== 0) {
            // Second chance (CLOCK): used since the last pass; each key is visited once per
            // write-back, so the keys of the batch being loaded are never written back by it.
            r.set(mk, v & ~REFERENCED);
            continue;
          }
          this.ensureCopied(kg);
          const row = this.takeRow(kg, mk);
          if ((v & DIRTY) !== 0) {
            if (this.watched.size !== 0 && this.watched.has(mk)) this.watchedWrites.set(mk, (this.watchedWrites.get(mk) ?? 0) + 1);
            keys.push(encodeDbKey(kg, mk));
            values.push(row);
            if (row !== undefined) {
              this.addToFilter(kg, mk);
              this.stateOnDiskOnly = true;
            }
          }
          r.delete(mk);
          this.residentCount--;
          freed++;
        }
      }
      if (freed < count || r === undefined || r.size === 0) this.hand = kg === end ? start : kg + 1;
    }
    this.counters.evictions += freed;
    if (keys.length === 0) return;
    this.counters.writes += keys.length;
    this.counters.writeCalls++;
    await this.store.write(keys, values);
  }

  /** Removes a key's entries from every table and returns them as a row (undefined when it has none). */
  private takeRow(kg: number, mk: unknown): Buffer | undefined {
    let row: RowState[] | undefined;
    for (const table of this.tables.values()) {
      let state: RowState | undefined;
      const d = table.defaults[kg];
      if (d !== undefined) {
        const s = d.get(mk);
        if (s !== undefined) {
          state = addToRow(state, table, undefined, s);
          d.delete(mk);
        }
      }
      const byNs = table.namespaced[kg];
      if (byNs !== undefined) {
        for (const [nk, inner] of byNs) {
          const s = inner.get(mk);
          if (s === undefined) continue;
          state = addToRow(state, table, nk, s);
          inner.delete(mk);
          if (inner.size === 0) {
            byNs.delete(nk);
            table.epoch++;
          }
        }
      }
      if (state !== undefined) (row ??= []).push(state);
    }
    return row === undefined ? undefined : rowPackr.pack(row);
  }

  /**
   * A key not in the cache but maybe on disk is read from the database without caching it (the
   * actor is not waiting for this read, so nothing may change the cache meanwhile); the answer is
   * taken between records afterwards, from the cache if a record loaded the key meanwhile, and
   * read again if a write-back happened (the disk row may have changed).
   */
  override queryKey(stateName: string, key: unknown): KeyQuery {
    const kg = assignToKeyGroup(key, this.maxParallelism);
    const mk = mapKey(key);
    if (this.resident[kg]?.has(mk) || !this.mayBeOnDisk(kg, mk)) return { done: this.readKeyEntries(stateName, key) };
    // Write-backs of this key while it is read are counted, so a row read before one is not taken.
    this.watched.set(mk, (this.watched.get(mk) ?? 0) + 1);
    const writes = this.watchedWrites.get(mk) ?? 0;
    const unwatch = (): void => {
      const n = this.watched.get(mk) ?? 1;
      if (n > 1) this.watched.set(mk, n - 1);
      else {
        this.watched.delete(mk);
        this.watchedWrites.delete(mk);
      }
    };
    const pending = this.ready()
      .then(() => this.store.getMany([encodeDbKey(kg, mk)]))
      .then(
        ([bytes]) =>
          (): LiveKeyEntries | undefined => {
            try {
              if (this.resident[kg]?.has(mk)) return this.readKeyEntries(stateName, key);
              if ((this.watchedWrites.get(mk) ?? 0) !== writes) return undefined;
              return this.rowEntries(stateName, kg, bytes);
            } finally {
              unwatch();
            }
          },
        (error: unknown) => {
          unwatch();
          throw error;
        },
      );
    return { pending };
  }

  /** Keys being read by live queries (mapped key → queries), and how often each was written back meanwhile. */
  private readonly watched = new Map<unknown, number>();
  private readonly watchedWrites = new Map<unknown, number>();

  /** The entries of state `stateName` in a row read from disk, as {@link readKeyEntries} gives them. */
  private rowEntries(stateName: string, kg: number, bytes: Uint8Array | undefined): LiveKeyEntries {
    const out: LiveKeyEntries = { keyGroup: kg, found: false };
    if (bytes === undefined) return out;
    const row = rowPackr.unpack(bytes) as RowState[];
    const policy = this.states.get(stateName)?.ttl;
    const expiry = policy?.fullSnapshot ? { ttl: policy.ttl, now: this.clock.now() } : undefined;
    const op = this.operatorName;
    for (const [name, kind, ttl, namespaces, values, timestamps] of row) {
      if (name !== stateName) continue;
      for (let i = 0; i < values.length; i++) {
        // Through the stored form, so expiry applies as a snapshot applies it.
        const stored = restoreEntry(kind, ttl, values[i], timestamps?.[i], `state '${name}' of operator '${op}'`, op);
        const e = plainEntry(kind, ttl, stored, expiry);
        if (e === undefined) continue;
        const ns = namespaces[i];
        if (ns == null) {
          out.found = true;
          out.value = e.value;
        } else (out.namespaces ??= []).push({ namespace: ns, value: e.value });
      }
    }
    return out;
  }

  // ---- life cycle

  private readyPromise: Promise<void> | undefined;

  /**
   * Resolves when the database is open, restored state is written, and the keys pinned by
   * restored timers are cached. The runtime awaits it before the operators open.
   */
  ready(): Promise<void> {
    if (this.readyPromise === undefined || this.restoreKeys.length > 0) {
      this.flushRestore();
      this.readyPromise = (async () => {
        await this.store.opened;
        await Promise.all(this.restoreWrites);
        const pinned: { kg: number; mk: unknown }[] = [];
        for (const mk of this.pins.keys()) {
          const key = unmapKey(mk);
          const kg = assignToKeyGroup(key, this.maxParallelism);
          const r = (this.resident[kg] ??= new Map());
          if (r.has(mk)) continue;
          r.set(mk, REFERENCED);
          this.residentCount++;
          pinned.push({ kg, mk });
        }
        if (pinned.length > 0) {
          const values = await this.store.getMany(pinned.map((p) => encodeDbKey(p.kg, p.mk)));
          values.forEach((v, i) => v !== undefined && this.installRow(pinned[i].kg, pinned[i].mk, v));
        }
      })();
    }
    return this.readyPromise;
  }

  private flushRestore(): void {
    if (this.restoreKeys.length === 0) return;
    const keys = this.restoreKeys;
    const values = this.restoreValues;
    this.restoreKeys = [];
    this.restoreValues = [];
    const write = this.store.opened.then(() => this.store.write(keys, values));
    // ready() awaits the writes and reports a failure; a backend disposed before (its deploy failed) drops it.
    write.catch(() => undefined);
    this.restoreWrites.push(write);
  }

  /** Loads a key group's snapshot (of any backend) into the database, by rows; {@link ready} awaits the writes. */
  override restoreKeyGroup(kg: number, data: KeyGroupStateSnapshot): void {
    this.checkSnapshot(kg, data);
    const op = this.operatorName;
    const rows = new Map<unknown, RowState[]>();
    for (const s of data.states) {
      this.tableFor(s.name, s.kind, s.ttl);
      const where = `state '${s.name}' of operator '${op}'`;
      const byKey = new Map<unknown, RowState>();
      for (let i = 0; i < s.keys.length; i++) {
        const key = s.keys[i];
        this.checkRestoredKey(key, kg, where);
        // Checked as the heap backend checks it; stored in the snapshot's own plain form.
        restoreEntry(s.kind, s.ttl, s.values[i], s.timestamps?.[i], where, op);
        const mk = mapKey(key);
        let rs = byKey.get(mk);
        if (rs === undefined) {
          rs = [s.name, s.kind, s.ttl, [], [], s.ttl ? [] : null];
          byKey.set(mk, rs);
          let row = rows.get(mk);
          if (row === undefined) rows.set(mk, (row = []));
          row.push(rs);
        }
        rs[3].push(s.namespaces?.[i] ?? null);
        rs[4].push(s.values[i]);
        rs[5]?.push(s.timestamps?.[i] as number | number[]);
      }
    }
    for (const [mk, row] of rows) {
      this.restoreKeys.push(encodeDbKey(kg, mk));
      this.restoreValues.push(rowPackr.pack(row));
      this.addToFilter(kg, mk);
      this.stateOnDiskOnly = true;
    }
    if (this.restoreKeys.length >= 10_000) this.flushRestore();
  }

  // ---- snapshots

  protected override keyGroupCopied(kg: number, snapshot: KeyGroupStateSnapshot): void {
    const parts = this.currentParts;
    if (parts === undefined) return;
    const r = this.resident[kg];
    parts.set(kg, {
      bytes: snapshot.states.length > 0 ? new Uint8Array(partPackr.pack(snapshot)) : undefined,
      mask: r === undefined ? new Set() : new Set(r.keys()),
    });
  }

  /**
   * Starts a snapshot: the disk's view is fixed now, the cache is copied per key group on first
   * touch; the scan that merges them runs in the background. `result()` resolves when it is done.
   */
  override beginSnapshot(encode: (s: KeyGroupStateSnapshot) => Uint8Array): KeyedSnapshotProgress {
    const inner = this.beginKeyGroupSnapshot(() => new Uint8Array(0));
    const parts = new Map<number, SnapshotPart>();
    this.currentParts = parts;
    const groups: number[] = [];
    const blobs: Uint8Array[] = [];
    let current: { kg: number; states: Map<string, KeyedStateSnapshot> } | undefined;
    let now: number | undefined;
    const expiryOf = (name: string): SnapshotExpiry | undefined => {
      const policy = this.states.get(name)?.ttl;
      return policy?.fullSnapshot ? { ttl: policy.ttl, now: (now ??= this.clock.now()) } : undefined;
    };
    const finishGroup = (kg: number, fromDisk: Map<string, KeyedStateSnapshot> | undefined): void => {
      const part = parts.get(kg);
      const merged = new Map<string, KeyedStateSnapshot>();
      if (part?.bytes !== undefined) for (const s of (partPackr.unpack(part.bytes) as KeyGroupStateSnapshot).states) merged.set(s.name, s);
      if (fromDisk !== undefined) {
        for (const [name, s] of fromDisk) {
          const m = merged.get(name);
          if (m === undefined) merged.set(name, s);
          else appendSnapshot(m, s);
        }
      }
      parts.delete(kg);
      if (merged.size === 0) return;
      groups.push(kg);
      blobs.push(encode({ version: KEYED_SNAPSHOT_VERSION, keyGroup: kg, states: [...merged.values()] }));
    };
    const scanned = this.store.scan((entries) => {
      for (let i = entries.length - 1; i > 0; i -= 2) {
        const [kg, mk] = decodeDbKey(entries[i]);
        if (current === undefined || current.kg !== kg) {
          if (current !== undefined) finishGroup(current.kg, current.states);
          // Copy-on-write: this key group's cached keys are copied before their rows are read.
          this.ensureCopied(kg);
          current = { kg, states: new Map() };
        }
        if (parts.get(kg)?.mask.has(mk)) continue;
        const key = unmapKey(mk);
        for (const [name, kind, ttl, namespaces, values, timestamps] of rowPackr.unpack(entries[i - 1]) as RowState[]) {
          const expiry = ttl ? expiryOf(name) : undefined;
          let s = current.states.get(name);
          for (let j = 0; j < values.length; j++) {
            let value = values[j];
            let ts = timestamps?.[j];
            if (expiry !== undefined) {
              const kept = expireRowEntry(kind, value, ts as number | number[], expiry);
              if (kept === undefined) continue;
              [value, ts] = kept;
            }
            if (s === undefined)
              current.states.set(name, (s = { name, kind, ttl, keys: [], values: [], namespaces: [], ...(ttl ? { timestamps: [] } : {}) }));
            s.keys.push(key);
            (s.namespaces as unknown[]).push(namespaces[j]);
            s.values.push(value);
            s.timestamps?.push(ts as number | number[]);
          }
        }
      }
    });
    let scanDone = false;
    let scanError: unknown;
    const finished = scanned.then(
      () => {
        scanDone = true;
      },
      (error) => {
        scanDone = true;
        scanError = error;
      },
    );
    return {
      step: (deadline) => inner.step(deadline) && scanDone,
      get done() {
        return inner.done && scanDone;
      },
      result: () =>
        finished.then(() => {
          if (scanError !== undefined) throw scanError;
          inner.result();
          if (current !== undefined) finishGroup(current.kg, current.states);
          current = undefined;
          for (const kg of [...parts.keys()]) finishGroup(kg, undefined);
          if (this.currentParts === parts) this.currentParts = undefined;
          return { groups, blobs };
        }),
    };
  }

  /** Whether some key's state is on disk and not cached (then listing keys needs {@link loadAll} first). */
  private stateOnDiskOnly = false;

  /** Whether listing keys needs {@link loadAll} first. */
  get needsLoadAll(): boolean {
    return this.stateOnDiskOnly;
  }

  /**
   * Caches the state of every key (for `applyToKeyedState` of a keyed broadcast function, which
   * visits all keys): the whole state on the heap until the next write-back. The runtime awaits
   * it before a batch of the broadcast side.
   */
  async loadAll(): Promise<void> {
    await this.ready();
    await this.store.scan((entries) => {
      for (let i = entries.length - 1; i > 0; i -= 2) {
        const [kg, mk] = decodeDbKey(entries[i]);
        const r = (this.resident[kg] ??= new Map());
        if (r.has(mk)) continue;
        this.ensureCopied(kg);
        r.set(mk, REFERENCED);
        this.residentCount++;
        this.installRow(kg, mk, entries[i - 1]);
      }
    });
    this.stateOnDiskOnly = false;
  }

  /** Keys with state: from the cache, which must hold every key ({@link loadAll}). */
  override getKeys(stateName: string, namespace?: unknown): unknown[] {
    if (this.stateOnDiskOnly) {
      throw new WeirError(
        `listing the keys of state '${stateName}' of operator '${this.operatorName}' needs every key cached (RocksDB backend): ` +
          'the runtime does this before the broadcast side of a keyed broadcast function; elsewhere it is not supported',
        { code: ErrorCodes.STATE_ACCESS, domain: 'internal', operator: this.operatorName },
      );
    }
    return super.getKeys(stateName, namespace);
  }

  /** Keys in the cache. */
  cachedKeyCount(): number {
    return this.residentCount;
  }

  /** Resolves when the database is closed (after its open settled) and its directory removed. */
  override dispose(): Promise<void> {
    super.dispose();
    return this.store.close();
  }

  /** Closes the database and removes its directory. */
  async close(): Promise<void> {
    super.dispose();
    await this.store.close();
  }
}

/** Adds one stored entry of `table` (namespace `nk`) to its state's part of a row; creates the part on first use. */
function addToRow(state: RowState | undefined, table: StateTable<unknown>, nk: unknown, s: unknown): RowState | undefined {
  const e = plainEntry(table.kind, table.ttl, s, undefined);
  if (e === undefined) return state;
  state ??= [table.name, table.kind, table.ttl, [], [], table.ttl ? [] : null];
  state[3].push(nk === undefined ? null : unmapKey(nk));
  state[4].push(e.value);
  state[5]?.push(e.ts as number | number[]);
  return state;
}

/** Appends `b`'s entries to `a` (same state). */
function appendSnapshot(a: KeyedStateSnapshot, b: KeyedStateSnapshot): void {
  if (a.namespaces === undefined && b.namespaces !== undefined) a.namespaces = new Array(a.keys.length).fill(null);
  for (let i = 0; i < b.keys.length; i++) {
    a.keys.push(b.keys[i]);
    a.values.push(b.values[i]);
    if (a.namespaces !== undefined) a.namespaces.push(b.namespaces?.[i] ?? null);
    if (a.timestamps !== undefined) a.timestamps.push((b.timestamps as (number | number[])[])[i]);
  }
}

/** TTL full-snapshot cleanup of one entry in plain form: what is left, or undefined. */
function expireRowEntry(
  kind: StateKind,
  value: unknown,
  ts: number | number[],
  expiry: SnapshotExpiry,
): [unknown, number | number[]] | undefined {
  if (kind !== 'list' && kind !== 'map') return isExpired(ts as number, expiry.ttl, expiry.now) ? undefined : [value, ts];
  const values: unknown[] = [];
  const times: number[] = [];
  (ts as number[]).forEach((t, i) => {
    if (isExpired(t, expiry.ttl, expiry.now)) return;
    values.push((value as unknown[])[i]);
    times.push(t);
  });
  return values.length === 0 ? undefined : [values, times];
}
