//! The timer service of one operator: event-time and processing-time timers per (key, namespace, timestamp), in a binary heap with a per-key-group dedup index.

import { ErrorCodes, WeirError } from '../core/errors.ts';
import { assignToKeyGroup, type KeyGroupRange } from './key-groups.ts';
import { compareMappedKeys, mapKey } from './map-keys.ts';
import { restoreError } from './snapshot-format.ts';

/** A timer as handed to the code that fires it (Flink's `InternalTimer`). */
export interface InternalTimer<K = unknown, N = unknown> {
  /** When it fires: a watermark or processing time at or after this. */
  readonly timestamp: number;
  /** The key the timer was registered for. */
  readonly key: K;
  /** The namespace (a window, or undefined for user timers). */
  readonly namespace: N;
}

/** One heap element: the timer, its mapped key and namespace, key group, and heap position. */
class TimerEntry<K, N> implements InternalTimer<K, N> {
  constructor(
    readonly timestamp: number,
    readonly key: K,
    readonly namespace: N,
    readonly keyGroup: number,
    readonly mk: unknown,
    readonly nk: unknown,
    public index: number,
  ) {}
}

/** Firing order: timestamp, then key group, key and namespace, so that equal timestamps fire in the same order in every run and after a restore. */
function compareTimers(a: TimerEntry<unknown, unknown>, b: TimerEntry<unknown, unknown>): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  if (a.keyGroup !== b.keyGroup) return a.keyGroup - b.keyGroup;
  const byKey = compareMappedKeys(a.mk, b.mk);
  if (byKey !== 0) return byKey;
  return compareMappedKeys(a.nk, b.nk);
}

type Dedup<K, N> = Map<unknown, Map<unknown, Map<number, TimerEntry<K, N>>>>;

/**
 * A priority queue of timers with at most one timer per (key, namespace, timestamp): a binary
 * min-heap for order, and per key group an index key → namespace → timestamp → timer for
 * deduplication, deletion in O(log n), and snapshots by key group (Flink's
 * `HeapPriorityQueueSet`).
 */
class TimerQueue<K, N> {
  private readonly heap: TimerEntry<K, N>[] = [];
  private readonly byKeyGroup: (Dedup<K, N> | undefined)[];

  constructor(maxParallelism: number) {
    this.byKeyGroup = new Array(maxParallelism);
  }

  get size(): number {
    return this.heap.length;
  }

  peek(): TimerEntry<K, N> | undefined {
    return this.heap[0];
  }

  /** Adds a timer; false when it already exists. */
  add(timestamp: number, key: K, namespace: N, keyGroup: number, mk: unknown, nk: unknown): boolean {
    let byKey = this.byKeyGroup[keyGroup];
    if (byKey === undefined) byKey = this.byKeyGroup[keyGroup] = new Map();
    let byNs = byKey.get(mk);
    if (byNs === undefined) {
      byNs = new Map();
      byKey.set(mk, byNs);
    }
    let byTs = byNs.get(nk);
    if (byTs === undefined) {
      byTs = new Map();
      byNs.set(nk, byTs);
    } else if (byTs.has(timestamp)) return false;
    const entry = new TimerEntry(timestamp, key, namespace, keyGroup, mk, nk, this.heap.length);
    byTs.set(timestamp, entry);
    this.heap.push(entry);
    this.siftUp(entry.index);
    return true;
  }

  /** Removes a timer; false when there was none. */
  remove(timestamp: number, keyGroup: number, mk: unknown, nk: unknown): boolean {
    const entry = this.byKeyGroup[keyGroup]?.get(mk)?.get(nk)?.get(timestamp);
    if (entry === undefined) return false;
    this.unindex(entry);
    this.removeAt(entry.index);
    return true;
  }

  /** Removes and returns the first timer. */
  poll(): TimerEntry<K, N> | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    this.unindex(top);
    this.removeAt(0);
    return top;
  }

  /** The timers of one key group, in firing order. */
  timersOfKeyGroup(keyGroup: number): TimerEntry<K, N>[] {
    const out: TimerEntry<K, N>[] = [];
    const byKey = this.byKeyGroup[keyGroup];
    if (byKey !== undefined)
      for (const byNs of byKey.values()) for (const byTs of byNs.values()) for (const e of byTs.values()) out.push(e);
    return out.sort(compareTimers);
  }

  clear(): void {
    this.heap.length = 0;
    this.byKeyGroup.fill(undefined);
  }

  private unindex(entry: TimerEntry<K, N>): void {
    const byKey = this.byKeyGroup[entry.keyGroup] as Dedup<K, N>;
    const byNs = byKey.get(entry.mk) as Map<unknown, Map<number, TimerEntry<K, N>>>;
    const byTs = byNs.get(entry.nk) as Map<number, TimerEntry<K, N>>;
    byTs.delete(entry.timestamp);
    if (byTs.size === 0) {
      byNs.delete(entry.nk);
      if (byNs.size === 0) byKey.delete(entry.mk);
    }
  }

  private removeAt(index: number): void {
    const heap = this.heap;
    const last = heap.pop() as TimerEntry<K, N>;
    if (index === heap.length) return;
    heap[index] = last;
    last.index = index;
    if (index > 0 && compareTimers(last, heap[(index - 1) >> 1]) < 0) this.siftUp(index);
    else this.siftDown(index);
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const entry = heap[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (compareTimers(entry, parent) >= 0) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = entry;
    entry.index = index;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[index];
    for (;;) {
      let child = 2 * index + 1;
      if (child >= n) break;
      if (child + 1 < n && compareTimers(heap[child + 1], heap[child]) < 0) child++;
      if (compareTimers(heap[child], entry) >= 0) break;
      heap[index] = heap[child];
      heap[index].index = index;
      index = child;
    }
    heap[index] = entry;
    entry.index = index;
  }
}

/** Version of {@link TimerKeyGroupSnapshot}. */
export const TIMER_SNAPSHOT_VERSION = 1;

/** Timers of one kind in one key group, column-wise, in firing order. */
export interface TimerColumns {
  /** Timestamps. */
  timestamps: number[];
  /** Keys. */
  keys: unknown[];
  /** Namespaces, `null` for none; absent when no timer has one. */
  namespaces?: unknown[];
}

/** The timers of one timer service in one key group, as plain, msgpack-friendly data. */
export interface TimerKeyGroupSnapshot {
  /** {@link TIMER_SNAPSHOT_VERSION}. */
  version: number;
  /** The key group. */
  keyGroup: number;
  /** Event-time timers. */
  eventTime: TimerColumns;
  /** Processing-time timers. */
  processingTime: TimerColumns;
}

/** Options of {@link HeapInternalTimerService}. */
export interface TimerServiceOptions {
  /** Key groups of the subtask; timers for keys outside it are refused. All key groups by default. */
  keyGroupRange?: KeyGroupRange;
  /** Name, for errors (Flink names them, e.g. `window-timers`, `user-timers`). */
  name?: string;
}

/**
 * The timers of one operator (Flink's `InternalTimerServiceImpl`), without wiring: the runtime
 * calls {@link advanceWatermark} when the operator's watermark moves, arms its clock for
 * {@link nextProcessingTime} and calls {@link onProcessingTime} when it rings.
 *
 * There is at most one timer per (key, namespace, timestamp) and kind; registering it again does
 * nothing. Timers fire in timestamp order; equal timestamps fire in key-group, key, namespace
 * order (a deterministic total order, the same after a restore). A timer fires when the watermark
 * (or processing time) reaches its timestamp, including timers registered in the past, and
 * including timers registered by a firing callback that are already due.
 *
 * Keys and namespaces compare by value, as in keyed state; `null`/`undefined` is no namespace.
 *
 * Threading model: one subtask actor's thread; callbacks run synchronously inside
 * {@link advanceWatermark}/{@link onProcessingTime} and may register and delete timers. Life
 * cycle: created at deploy, key groups restored before the first record, snapshotted per key
 * group between records, {@link dispose}d at close.
 */
export class HeapInternalTimerService<K = unknown, N = unknown> {
  private readonly eventTimers: TimerQueue<K, N>;
  private readonly processingTimers: TimerQueue<K, N>;
  private watermark = Number.NEGATIVE_INFINITY;
  /** Key groups this service holds. */
  readonly keyGroupRange: KeyGroupRange;
  /** Name, for errors. */
  readonly name: string;

  constructor(
    /** Number of key groups of the job. */
    readonly maxParallelism: number,
    options: TimerServiceOptions = {},
  ) {
    this.keyGroupRange = options.keyGroupRange ?? { start: 0, end: maxParallelism - 1 };
    this.name = options.name ?? 'timers';
    this.eventTimers = new TimerQueue(maxParallelism);
    this.processingTimers = new TimerQueue(maxParallelism);
  }

  /** The last watermark passed to {@link advanceWatermark} (-Infinity before the first). */
  currentWatermark(): number {
    return this.watermark;
  }

  /** Registers an event-time timer; false when the same timer exists. */
  registerEventTimeTimer(key: K, namespace: N, timestamp: number): boolean {
    return this.eventTimers.add(
      this.checkTimestamp(timestamp),
      key,
      namespace,
      this.keyGroupOf(key),
      mapKey(key),
      namespace == null ? undefined : mapKey(namespace),
    );
  }

  /** Deletes an event-time timer; false when there was none. */
  deleteEventTimeTimer(key: K, namespace: N, timestamp: number): boolean {
    return this.eventTimers.remove(timestamp, this.keyGroupOf(key), mapKey(key), namespace == null ? undefined : mapKey(namespace));
  }

  /** Registers a processing-time timer; false when the same timer exists. */
  registerProcessingTimeTimer(key: K, namespace: N, timestamp: number): boolean {
    return this.processingTimers.add(
      this.checkTimestamp(timestamp),
      key,
      namespace,
      this.keyGroupOf(key),
      mapKey(key),
      namespace == null ? undefined : mapKey(namespace),
    );
  }

  /** Deletes a processing-time timer; false when there was none. */
  deleteProcessingTimeTimer(key: K, namespace: N, timestamp: number): boolean {
    return this.processingTimers.remove(timestamp, this.keyGroupOf(key), mapKey(key), namespace == null ? undefined : mapKey(namespace));
  }

  /**
   * Sets the watermark and fires, one at a time in firing order, every event-time timer with
   * `timestamp <= watermark`. A timer is removed before its callback runs. Returns how many fired.
   */
  advanceWatermark(watermark: number, onTimer: (timer: InternalTimer<K, N>) => void): number {
    this.watermark = watermark;
    let fired = 0;
    for (let t = this.eventTimers.peek(); t !== undefined && t.timestamp <= watermark; t = this.eventTimers.peek()) {
      this.eventTimers.poll();
      fired++;
      onTimer(t);
    }
    return fired;
  }

  /** Removes and returns the next event-time timer due at `watermark`, or undefined (a pull-style {@link advanceWatermark}). */
  pollEventTimer(watermark: number): InternalTimer<K, N> | undefined {
    const t = this.eventTimers.peek();
    return t !== undefined && t.timestamp <= watermark ? this.eventTimers.poll() : undefined;
  }

  /** Fires, in firing order, every processing-time timer with `timestamp <= now`. Returns how many fired. */
  onProcessingTime(now: number, onTimer: (timer: InternalTimer<K, N>) => void): number {
    let fired = 0;
    for (let t = this.processingTimers.peek(); t !== undefined && t.timestamp <= now; t = this.processingTimers.peek()) {
      this.processingTimers.poll();
      fired++;
      onTimer(t);
    }
    return fired;
  }

  /** Removes and returns the next processing-time timer due at `now`, or undefined. */
  pollProcessingTimer(now: number): InternalTimer<K, N> | undefined {
    const t = this.processingTimers.peek();
    return t !== undefined && t.timestamp <= now ? this.processingTimers.poll() : undefined;
  }

  /** Timestamp of the earliest processing-time timer, for the runtime to arm its clock; undefined when there is none. */
  nextProcessingTime(): number | undefined {
    return this.processingTimers.peek()?.timestamp;
  }

  /** Timestamp of the earliest event-time timer; undefined when there is none. */
  nextEventTime(): number | undefined {
    return this.eventTimers.peek()?.timestamp;
  }

  /** Number of event-time timers. */
  numEventTimeTimers(): number {
    return this.eventTimers.size;
  }

  /** Number of processing-time timers. */
  numProcessingTimeTimers(): number {
    return this.processingTimers.size;
  }

  /** The timers of key group `kg` as plain data, in firing order. */
  snapshotKeyGroup(kg: number): TimerKeyGroupSnapshot {
    this.checkKeyGroup(kg);
    return {
      version: TIMER_SNAPSHOT_VERSION,
      keyGroup: kg,
      eventTime: columns(this.eventTimers.timersOfKeyGroup(kg)),
      processingTime: columns(this.processingTimers.timersOfKeyGroup(kg)),
    };
  }

  /** Adds the timers of a key group snapshot (the watermark is not part of it: it comes back with the stream). */
  restoreKeyGroup(kg: number, data: TimerKeyGroupSnapshot): void {
    this.checkKeyGroup(kg);
    const where = `timer service '${this.name}'`;
    if (data === null || typeof data !== 'object') throw restoreError(`malformed timer snapshot for key group ${kg} of ${where}`);
    if (data.version !== TIMER_SNAPSHOT_VERSION)
      throw restoreError(`timer snapshot version ${data.version} is not supported (expected ${TIMER_SNAPSHOT_VERSION})`);
    if (data.keyGroup !== kg)
      throw restoreError(`timer snapshot of key group ${data.keyGroup} cannot be restored as key group ${kg} of ${where}`);
    for (const [kind, cols, queue] of [
      ['event-time', data.eventTime, this.eventTimers],
      ['processing-time', data.processingTime, this.processingTimers],
    ] as const) {
      const n = cols?.timestamps?.length;
      if (
        !Array.isArray(cols?.timestamps) ||
        !Array.isArray(cols.keys) ||
        cols.keys.length !== n ||
        (cols.namespaces != null && cols.namespaces.length !== n)
      ) {
        throw restoreError(`malformed ${kind} timers for key group ${kg} of ${where}`);
      }
      for (let i = 0; i < (n as number); i++) {
        const key = cols.keys[i] as K;
        if (assignToKeyGroup(key, this.maxParallelism) !== kg)
          throw restoreError(`${kind} timer of ${where}: its key does not belong to key group ${kg}`);
        const ns = (cols.namespaces?.[i] ?? undefined) as N;
        queue.add(this.checkTimestamp(cols.timestamps[i]), key, ns, kg, mapKey(key), ns == null ? undefined : mapKey(ns));
      }
    }
  }

  /** Drops every timer. */
  dispose(): void {
    this.eventTimers.clear();
    this.processingTimers.clear();
  }

  private keyGroupOf(key: K): number {
    const kg = assignToKeyGroup(key, this.maxParallelism);
    if (kg < this.keyGroupRange.start || kg > this.keyGroupRange.end) {
      throw new WeirError(
        `timer for a key of key group ${kg}, outside this subtask's key groups ${this.keyGroupRange.start}..${this.keyGroupRange.end} (${this.name})`,
        {
          code: ErrorCodes.STATE_ACCESS,
          domain: 'internal',
        },
      );
    }
    return kg;
  }

  private checkTimestamp(timestamp: number): number {
    if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) {
      throw new WeirError(`a timer timestamp must be a number, got ${String(timestamp)} (${this.name})`, {
        code: ErrorCodes.STATE_ACCESS,
        domain: 'user',
      });
    }
    return timestamp;
  }

  private checkKeyGroup(kg: number): void {
    if (!Number.isInteger(kg) || kg < this.keyGroupRange.start || kg > this.keyGroupRange.end) {
      throw new WeirError(`key group ${kg} is not in the range ${this.keyGroupRange.start}..${this.keyGroupRange.end} of ${this.name}`, {
        code: ErrorCodes.INTERNAL,
        domain: 'internal',
      });
    }
  }
}

function columns(timers: InternalTimer[]): TimerColumns {
  const out: TimerColumns = { timestamps: [], keys: [] };
  let namespaces: unknown[] | undefined;
  for (const t of timers) {
    if (t.namespace != null && namespaces === undefined) namespaces = new Array(out.keys.length).fill(null);
    if (namespaces !== undefined) namespaces.push(t.namespace ?? null);
    out.timestamps.push(t.timestamp);
    out.keys.push(t.key);
  }
  if (namespaces !== undefined) out.namespaces = namespaces;
  return out;
}
