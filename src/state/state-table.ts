//! The heap storage of one keyed state: a Map per key group for the default namespace, and Maps per (key group, namespace) for the others.

import type { StateKind } from './descriptors.ts';
import type { EntryCapture } from './entry-snapshot.ts';

/**
 * Storage of one keyed state, by key group, so that snapshots and rescaling move whole key groups.
 * The default namespace (where user state lives) has one Map per key group, so a read is one Map
 * lookup; other namespaces (windows) have a Map of namespace → Map of key per key group, so a
 * window's keys share one Map and a namespace is dropped with its last key.
 *
 * Keys and namespaces are stored mapped ({@link mapKey}). `S` is the stored form of the state's
 * kind (a value, an array, a Map; wrapped with timestamps under TTL).
 *
 * Threading model: owned by one backend, used by one thread. Life cycle: created when a state is
 * registered or restored, lives as long as its backend.
 */
export class StateTable<S> {
  /** Default namespace: key group → (mapped key → stored state). */
  readonly defaults: (Map<unknown, S> | undefined)[];
  /** Other namespaces: key group → (mapped namespace → (mapped key → stored state)). */
  readonly namespaced: (Map<unknown, Map<unknown, S>> | undefined)[];
  /**
   * Changes whenever a namespace's Map leaves {@link namespaced} (its last key went, its key group
   * was cleared): states that keep the Map of their current namespace check it before using it.
   */
  epoch = 0;
  /**
   * The copy-on-write snapshot in progress, if any: every read or change of an entry calls its
   * `keep` first, so that the snapshot sees the entry as it was when it began.
   */
  capture: EntryCapture | undefined = undefined;

  constructor(
    /** State name. */
    readonly name: string,
    /** State kind. */
    readonly kind: StateKind,
    /** Whether stored values carry TTL timestamps. */
    readonly ttl: boolean,
    maxParallelism: number,
  ) {
    this.defaults = new Array(maxParallelism);
    this.namespaced = new Array(maxParallelism);
  }

  /** The stored state of (key group, namespace, key); `nk` undefined is the default namespace. */
  get(kg: number, nk: unknown, mk: unknown): S | undefined {
    if (nk === undefined) return this.defaults[kg]?.get(mk);
    return this.namespaced[kg]?.get(nk)?.get(mk);
  }

  /** Stores the state of (key group, namespace, key). */
  set(kg: number, nk: unknown, mk: unknown, s: S): void {
    if (nk === undefined) {
      let t = this.defaults[kg];
      if (t === undefined) t = this.defaults[kg] = new Map();
      t.set(mk, s);
      return;
    }
    let byNs = this.namespaced[kg];
    if (byNs === undefined) byNs = this.namespaced[kg] = new Map();
    let t = byNs.get(nk);
    if (t === undefined) {
      t = new Map();
      byNs.set(nk, t);
    }
    t.set(mk, s);
  }

  /** Removes the state of (key group, namespace, key), and the namespace's Map with its last key. */
  delete(kg: number, nk: unknown, mk: unknown): void {
    if (nk === undefined) {
      this.defaults[kg]?.delete(mk);
      return;
    }
    const byNs = this.namespaced[kg];
    if (byNs === undefined) return;
    const t = byNs.get(nk);
    if (t === undefined) return;
    t.delete(mk);
    if (t.size === 0) {
      byNs.delete(nk);
      this.epoch++;
    }
  }

  /** Removes (key group, namespace, key) only if it still holds `s` (for lazy iterators that outlive the current key). */
  deleteIfSame(kg: number, nk: unknown, mk: unknown, s: S): void {
    if (this.get(kg, nk, mk) === s) this.delete(kg, nk, mk);
  }

  /** Calls `fn` for every entry of a key group (default namespace first; `nk` undefined there). */
  forEachInKeyGroup(kg: number, fn: (nk: unknown, mk: unknown, s: S) => void): void {
    const t = this.defaults[kg];
    if (t !== undefined) for (const [mk, s] of t) fn(undefined, mk, s);
    const byNs = this.namespaced[kg];
    if (byNs !== undefined) for (const [nk, inner] of byNs) for (const [mk, s] of inner) fn(nk, mk, s);
  }

  /** The mapped keys with state in namespace `nk` of key group `kg`. */
  keysOf(kg: number, nk: unknown): IterableIterator<unknown> | undefined {
    const t = nk === undefined ? this.defaults[kg] : this.namespaced[kg]?.get(nk);
    return t?.keys();
  }

  /** Number of (key, namespace) entries in a key group. */
  sizeOfKeyGroup(kg: number): number {
    let n = this.defaults[kg]?.size ?? 0;
    const byNs = this.namespaced[kg];
    if (byNs !== undefined) for (const inner of byNs.values()) n += inner.size;
    return n;
  }

  /** Number of (key, namespace) entries. */
  size(): number {
    let n = 0;
    for (let kg = 0; kg < this.defaults.length; kg++) {
      const t = this.defaults[kg];
      if (t !== undefined) n += t.size;
      const byNs = this.namespaced[kg];
      if (byNs !== undefined) for (const inner of byNs.values()) n += inner.size;
    }
    return n;
  }

  /** Drops everything in a key group. */
  clearKeyGroup(kg: number): void {
    this.defaults[kg] = undefined;
    this.namespaced[kg] = undefined;
    this.epoch++;
  }
}
