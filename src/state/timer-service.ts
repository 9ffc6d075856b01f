//! The timer service of one operator: event-time and processing-time timers per (key, namespace, timestamp), in a heap of timestamp buckets with a per-key-group dedup index.

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

/** One timer: its mapped key and namespace, key group, and where it is indexed and queued. */
class TimerEntry<K, N> implements InternalTimer<K, N> {
  /** The next timer of the same key (the key's chain), or of the same key and timestamp once the key has a {@link KeyTimers} map. */
  next: TimerEntry<K, N> | undefined = undefined;
  /** False once deleted or fired (its bucket may still hold it until the bucket is compacted). */
  live = true;
  constructor(
    readonly timestamp: number,
    readonly key: K,
    readonly namespace: N,
    readonly keyGroup: number,
    readonly mk: unknown,
    readonly nk: unknown,
  ) {}
}

/** Order inside one timestamp: key group, key, namespace (the timestamp is equal); numbers, the common keys and window namespaces, compare directly. */
function compareSameTimestamp(a: TimerEntry<unknown, unknown>, b: TimerEntry<unknown, unknown>): number {
  if (a.keyGroup !== b.keyGroup) return a.keyGroup - b.keyGroup;
  const ak = a.mk;
  const bk = b.mk;
  if (typeof ak === 'number' && typeof bk === 'number') {
    if (ak < bk) return -1;
    if (ak > bk) return 1;
  } else {
    const byKey = compareMappedKeys(ak, bk);
    if (byKey !== 0) return byKey;
  }
  const an = a.nk;
  const bn = b.nk;
  if (typeof an === 'number' && typeof bn === 'number') return an < bn ? -1 : an > bn ? 1 : 0;
  return compareMappedKeys(an, bn);
}

/** Firing order: timestamp, then key group, key and namespace, so that equal timestamps fire in the same order in every run and after a restore. */
function compareTimers(a: TimerEntry<unknown, unknown>, b: TimerEntry<unknown, unknown>): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return compareSameTimestamp(a, b);
}

/**
 * The timers of one timestamp. Added timers are appended; the bucket is sorted once, when it is
 * first peeked at (it is due then), and from then on timers added to it are inserted in order.
 * Deleted timers stay in the array as dead entries until the bucket is sorted or compacted.
 */
class Bucket<K, N> {
  entries: TimerEntry<K, N>[] = [];
  /** Index of the first entry not yet handed out (sorted buckets only). */
  cursor = 0;
  sorted = false;
  /** Live entries. */
  live = 0;
  /** Position in the timestamp heap. */
  heapIndex = 0;
  constructor(public timestamp: number) {}
}

/** From this many timers of one timestamp, a bucket is sorted by key group first (see `sortByKeyGroup`). */
const SORT_BY_KEY_GROUP_FROM = 64;

/** Emptied buckets kept for reuse: timers with timestamps of their own (session ends) come and go one per record. */
const BUCKET_POOL_MAX = 64;

/** The timers of one key when it has more than {@link CHAIN_MAX}: timestamp → timers of that timestamp (chained by `next`). */
type KeyTimers<K, N> = Map<number, TimerEntry<K, N>>;

/** Up to this many timers, a key's timers are one chain (found by walking it); beyond, a {@link KeyTimers} map. */
const CHAIN_MAX = 8;

/**
 * A priority queue of timers with at most one timer per (key, namespace, timestamp) (Flink's
 * `HeapPriorityQueueSet`, shaped for timers that come in large groups of one timestamp, as window
 * ends do): a binary min-heap of timestamps, each with a {@link Bucket} of its timers, and per key
 * group an index mapped key → the key's timers, for deduplication, deletion and snapshots by key
 * group. A key's few timers (windows in flight) are a chain of entries, so a key with timers costs
 * one Map entry and one object per timer; registering an existing timer walks that chain and
 * changes nothing. Adding, deleting and firing a timer move no heap element unless its timestamp
 * is new or its last timer goes.
 */
class TimerQueue<K, N> {
  private readonly heap: Bucket<K, N>[] = [];
  private readonly buckets = new Map<number, Bucket<K, N>>();
  private readonly byKeyGroup: (Map<unknown, TimerEntry<K, N> | KeyTimers<K, N>> | undefined)[];
  private readonly pool: Bucket<K, N>[] = [];
  /** Scratch of {@link sortByKeyGroup}: run starts by key group. */
  private groupCounts: Int32Array | undefined = undefined;
  private count = 0;

  constructor(maxParallelism: number) {
    this.byKeyGroup = new Array(maxParallelism);
  }

  get size(): number {
    return this.count;
  }

  /** Live timers at `timestamp` (for samples). */
  countAt(timestamp: number): number {
    return this.buckets.get(timestamp)?.live ?? 0;
  }

  /** Calls `fn` for every live timer, in no particular order (for samples; nothing changes). */
  forEachLive(fn: (timestamp: number, key: K, namespace: N) => void): void {
    for (const bucket of this.buckets.values()) {
      const entries = bucket.entries;
      for (let i = bucket.sorted ? bucket.cursor : 0; i < entries.length; i++) {
        const e = entries[i];
        if (e.live) fn(e.timestamp, e.key, e.namespace);
      }
    }
  }

  /** Calls `fn` for every live timer at `timestamp` (for samples; nothing changes). */
  forEachLiveAt(timestamp: number, fn: (timestamp: number, key: K, namespace: N) => void): void {
    const bucket = this.buckets.get(timestamp);
    if (bucket === undefined) return;
    const entries = bucket.entries;
    for (let i = bucket.sorted ? bucket.cursor : 0; i < entries.length; i++) {
      const e = entries[i];
      if (e.live && e.timestamp === timestamp) fn(e.timestamp, e.key, e.namespace);
    }
  }

  /** Timestamp of the first timer, without sorting its bucket. */
  peekTimestamp(): number | undefined {
    return this.heap.length === 0 ? undefined : this.heap[0].timestamp;
  }

  /** The first timer (sorts its bucket if it is not sorted yet). */
  peek(): TimerEntry<K, N> | undefined {
    const bucket = this.heap[0];
    if (bucket === undefined) return undefined;
    if (!bucket.sorted) this.sortBucket(bucket);
    const entries = bucket.entries;
    while (!entries[bucket.cursor].live) bucket.cursor++;
    return entries[bucket.cursor];
  }

  /** Adds a timer; false when it already exists. */
  add(timestamp: number, key: K, namespace: N, keyGroup: number, mk: unknown, nk: unknown): boolean {
    let byKey = this.byKeyGroup[keyGroup];
    if (byKey === undefined) byKey = this.byKeyGroup[keyGroup] = new Map();
    const slot = byKey.get(mk);
    let entry: TimerEntry<K, N>;
    if (slot === undefined) {
      entry = new TimerEntry(timestamp, key, namespace, keyGroup, mk, nk);
      byKey.set(mk, entry);
    } else if (slot instanceof TimerEntry) {
      let last = slot;
      let n = 1;
      for (let e: TimerEntry<K, N> | undefined = slot; e !== undefined; e = e.next) {
        if (e.timestamp === timestamp && e.nk === nk) return false;
        last = e;
        n++;
      }
      entry = new TimerEntry(timestamp, key, namespace, keyGroup, mk, nk);
      if (n <= CHAIN_MAX) last.next = entry;
      else {
        // Many timers for one key: index them by timestamp.
        const timers: KeyTimers<K, N> = new Map();
        for (let e: TimerEntry<K, N> | undefined = slot; e !== undefined;) {
          const next: TimerEntry<K, N> | undefined = e.next;
          e.next = timers.get(e.timestamp);
          timers.set(e.timestamp, e);
          e = next;
        }
        entry.next = timers.get(timestamp);
        timers.set(timestamp, entry);
        byKey.set(mk, timers);
      }
    } else {
      const head = slot.get(timestamp);
      for (let e = head; e !== undefined; e = e.next) if (e.nk === nk) return false;
      entry = new TimerEntry(timestamp, key, namespace, keyGroup, mk, nk);
      entry.next = head;
      slot.set(timestamp, entry);
    }
    this.count++;
    let bucket = this.buckets.get(timestamp);
    if (bucket === undefined) {
      bucket = this.pool.pop();
      if (bucket === undefined) bucket = new Bucket(timestamp);
      else bucket.timestamp = timestamp;
      this.buckets.set(timestamp, bucket);
      bucket.entries.push(entry);
      bucket.live = 1;
      bucket.heapIndex = this.heap.length;
      this.heap.push(bucket);
      this.siftUp(bucket.heapIndex);
      return true;
    }
    bucket.live++;
    if (!bucket.sorted) bucket.entries.push(entry);
    else {
      // A bucket being fired: insert in order after what was handed out.
      const entries = bucket.entries;
      let lo = bucket.cursor;
      let hi = entries.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareSameTimestamp(entries[mid] as TimerEntry<unknown, unknown>, entry as TimerEntry<unknown, unknown>) < 0) lo = mid + 1;
        else hi = mid;
      }
      entries.splice(lo, 0, entry);
    }
    return true;
  }

  /** Removes a timer; false when there was none. */
  remove(timestamp: number, keyGroup: number, mk: unknown, nk: unknown): boolean {
    const byKey = this.byKeyGroup[keyGroup];
    if (byKey === undefined) return false;
    const slot = byKey.get(mk);
    if (slot === undefined) return false;
    let entry: TimerEntry<K, N> | undefined;
    if (slot instanceof TimerEntry) {
      for (let e: TimerEntry<K, N> | undefined = slot; e !== undefined; e = e.next) {
        if (e.timestamp === timestamp && e.nk === nk) {
          entry = e;
          break;
        }
      }
      if (entry === undefined) return false;
    } else {
      for (let e = slot.get(timestamp); e !== undefined; e = e.next) {
        if (e.nk === nk) {
          entry = e;
          break;
        }
      }
      if (entry === undefined) return false;
    }
    this.unindex(entry);
    this.dequeue(entry);
    return true;
  }

  /** Removes and returns the first timer. */
  poll(): TimerEntry<K, N> | undefined {
    const bucket = this.heap[0];
    if (bucket === undefined) return undefined;
    if (!bucket.sorted) this.sortBucket(bucket);
    const entries = bucket.entries;
    let cursor = bucket.cursor;
    while (!entries[cursor].live) cursor++;
    const top = entries[cursor];
    bucket.cursor = cursor + 1;
    this.unindex(top);
    top.live = false;
    this.count--;
    if (--bucket.live === 0) {
      this.buckets.delete(bucket.timestamp);
      this.removeBucketAt(0);
      this.recycle(bucket);
    }
    return top;
  }

  /** The timers of one key group, in firing order. */
  timersOfKeyGroup(keyGroup: number): TimerEntry<K, N>[] {
    const out: TimerEntry<K, N>[] = [];
    const byKey = this.byKeyGroup[keyGroup];
    if (byKey !== undefined) {
      for (const slot of byKey.values()) {
        if (slot instanceof TimerEntry) for (let e: TimerEntry<K, N> | undefined = slot; e !== undefined; e = e.next) out.push(e);
        else for (const head of slot.values()) for (let e: TimerEntry<K, N> | undefined = head; e !== undefined; e = e.next) out.push(e);
      }
    }
    return out.sort(compareTimers as (a: TimerEntry<K, N>, b: TimerEntry<K, N>) => number);
  }

  clear(): void {
    this.heap.length = 0;
    this.buckets.clear();
    this.byKeyGroup.fill(undefined);
    this.count = 0;
  }

  private sortBucket(bucket: Bucket<K, N>): void {
    const entries = bucket.entries;
    let kept = 0;
    for (let i = 0; i < entries.length; i++) if (entries[i].live) entries[kept++] = entries[i];
    entries.length = kept;
    if (kept > SORT_BY_KEY_GROUP_FROM) this.sortByKeyGroup(bucket);
    else if (kept > 1) entries.sort(compareSameTimestamp as (a: TimerEntry<K, N>, b: TimerEntry<K, N>) => number);
    bucket.sorted = true;
    bucket.cursor = 0;
  }

  /**
   * Sorts a large bucket (the timers of a window end: one per key) by key group with a counting
   * sort, then each key group's few timers by key and namespace with an insertion sort.
   */
  private sortByKeyGroup(bucket: Bucket<K, N>): void {
    const entries = bucket.entries;
    const n = entries.length;
    const groups = this.byKeyGroup.length;
    let counts = this.groupCounts;
    if (counts === undefined || counts.length !== groups + 1) counts = this.groupCounts = new Int32Array(groups + 1);
    else counts.fill(0);
    for (let i = 0; i < n; i++) counts[entries[i].keyGroup + 1]++;
    for (let g = 1; g <= groups; g++) counts[g] += counts[g - 1];
    const sorted: TimerEntry<K, N>[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const e = entries[i];
      sorted[counts[e.keyGroup]++] = e;
    }
    // counts[g] is now the end of key group g's run (and the start of g + 1's).
    let from = 0;
    for (let g = 0; g < groups && from < n; g++) {
      const to = counts[g];
      for (let i = from + 1; i < to; i++) {
        const e = sorted[i];
        let j = i - 1;
        while (j >= from && compareSameTimestamp(sorted[j] as TimerEntry<unknown, unknown>, e as TimerEntry<unknown, unknown>) > 0) {
          sorted[j + 1] = sorted[j];
          j--;
        }
        sorted[j + 1] = e;
      }
      from = to;
    }
    bucket.entries = sorted;
  }

  /** Drops a timer from the key's index. */
  private unindex(entry: TimerEntry<K, N>): void {
    const byKey = this.byKeyGroup[entry.keyGroup] as Map<unknown, TimerEntry<K, N> | KeyTimers<K, N>>;
    const slot = byKey.get(entry.mk) as TimerEntry<K, N> | KeyTimers<K, N>;
    if (slot instanceof TimerEntry) {
      if (slot === entry) {
        if (entry.next === undefined) byKey.delete(entry.mk);
        else byKey.set(entry.mk, entry.next);
      } else {
        let prev = slot;
        while (prev.next !== entry) prev = prev.next as TimerEntry<K, N>;
        prev.next = entry.next;
      }
      entry.next = undefined;
      return;
    }
    const timers = slot;
    const head = timers.get(entry.timestamp) as TimerEntry<K, N>;
    if (head === entry) {
      if (entry.next === undefined) {
        timers.delete(entry.timestamp);
        if (timers.size === 0) byKey.delete(entry.mk);
      } else timers.set(entry.timestamp, entry.next);
    } else {
      let prev = head;
      while (prev.next !== entry) prev = prev.next as TimerEntry<K, N>;
      prev.next = entry.next;
    }
    entry.next = undefined;
  }

  /** Takes a timer out of its bucket, and the bucket out of the heap with its last timer. */
  private dequeue(entry: TimerEntry<K, N>): void {
    entry.live = false;
    this.count--;
    const bucket = this.buckets.get(entry.timestamp) as Bucket<K, N>;
    if (--bucket.live === 0) {
      this.buckets.delete(bucket.timestamp);
      this.removeBucketAt(bucket.heapIndex);
      this.recycle(bucket);
      return;
    }
    const entries = bucket.entries;
    if (bucket.sorted && entries[bucket.cursor] === entry) {
      bucket.cursor++;
      return;
    }
    // Many dead entries (timers deleted before they were due): compact.
    const dead = entries.length - bucket.cursor - bucket.live;
    if (dead > 32 && dead > bucket.live) {
      let kept = 0;
      for (let i = bucket.cursor; i < entries.length; i++) if (entries[i].live) entries[kept++] = entries[i];
      entries.length = kept;
      bucket.cursor = 0;
    }
  }

  /** Keeps an emptied bucket (out of the heap and the Map) for a later timestamp. */
  private recycle(bucket: Bucket<K, N>): void {
    if (this.pool.length >= BUCKET_POOL_MAX) return;
    bucket.entries.length = 0;
    bucket.cursor = 0;
    bucket.sorted = false;
    this.pool.push(bucket);
  }

  private removeBucketAt(index: number): void {
    const heap = this.heap;
    const last = heap.pop() as Bucket<K, N>;
    if (index === heap.length) return;
    heap[index] = last;
    last.heapIndex = index;
    if (index > 0 && last.timestamp < heap[(index - 1) >> 1].timestamp) this.siftUp(index);
    else this.siftDown(index);
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const bucket = heap[index];
    const ts = bucket.timestamp;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (ts >= parent.timestamp) break;
      heap[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    heap[index] = bucket;
    bucket.heapIndex = index;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const n = heap.length;
    const bucket = heap[index];
    const ts = bucket.timestamp;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1].timestamp < heap[child].timestamp) child++;
      if (heap[child].timestamp >= ts) break;
      heap[index] = heap[child];
      heap[index].heapIndex = index;
      index = child;
    }
    heap[index] = bucket;
    bucket.heapIndex = index;
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

  /**
   * {@link registerEventTimeTimer} for a key whose key group and mapped key ({@link mapKey}) the
   * caller already has (a keyed backend's current key): no hashing. The key group must be the key's.
   */
  registerEventTimeTimerIn(keyGroup: number, key: K, mappedKey: unknown, namespace: N, timestamp: number): boolean {
    if (keyGroup < this.keyGroupRange.start || keyGroup > this.keyGroupRange.end)
      return this.registerEventTimeTimer(key, namespace, timestamp);
    return this.eventTimers.add(
      this.checkTimestamp(timestamp),
      key,
      namespace,
      keyGroup,
      mappedKey,
      namespace == null ? undefined : mapKey(namespace),
    );
  }

  /** {@link deleteEventTimeTimer} for a key whose key group and mapped key the caller already has. */
  deleteEventTimeTimerIn(keyGroup: number, key: K, mappedKey: unknown, namespace: N, timestamp: number): boolean {
    if (keyGroup < this.keyGroupRange.start || keyGroup > this.keyGroupRange.end)
      return this.deleteEventTimeTimer(key, namespace, timestamp);
    return this.eventTimers.remove(timestamp, keyGroup, mappedKey, namespace == null ? undefined : mapKey(namespace));
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
    for (let ts = this.eventTimers.peekTimestamp(); ts !== undefined && ts <= watermark; ts = this.eventTimers.peekTimestamp()) {
      const t = this.eventTimers.poll() as TimerEntry<K, N>;
      fired++;
      onTimer(t);
    }
    return fired;
  }

  /** Removes and returns the next event-time timer due at `watermark`, or undefined (a pull-style {@link advanceWatermark}). */
  pollEventTimer(watermark: number): InternalTimer<K, N> | undefined {
    const ts = this.eventTimers.peekTimestamp();
    return ts !== undefined && ts <= watermark ? this.eventTimers.poll() : undefined;
  }

  /** Fires, in firing order, every processing-time timer with `timestamp <= now`. Returns how many fired. */
  onProcessingTime(now: number, onTimer: (timer: InternalTimer<K, N>) => void): number {
    let fired = 0;
    for (let ts = this.processingTimers.peekTimestamp(); ts !== undefined && ts <= now; ts = this.processingTimers.peekTimestamp()) {
      const t = this.processingTimers.poll() as TimerEntry<K, N>;
      fired++;
      onTimer(t);
    }
    return fired;
  }

  /** Removes and returns the next processing-time timer due at `now`, or undefined. */
  pollProcessingTimer(now: number): InternalTimer<K, N> | undefined {
    const ts = this.processingTimers.peekTimestamp();
    return ts !== undefined && ts <= now ? this.processingTimers.poll() : undefined;
  }

  /** Timestamp of the earliest processing-time timer, for the runtime to arm its clock; undefined when there is none. */
  nextProcessingTime(): number | undefined {
    return this.processingTimers.peekTimestamp();
  }

  /** Timestamp of the earliest event-time timer; undefined when there is none. */
  nextEventTime(): number | undefined {
    return this.eventTimers.peekTimestamp();
  }

  /** Event-time timers at `timestamp` (for samples: how many keys wait for the earliest). */
  eventTimersAt(timestamp: number): number {
    return this.eventTimers.countAt(timestamp);
  }

  /** Every live timer of one kind, in no particular order (for samples, when asked; nothing changes). */
  forEachTimer(eventTime: boolean, fn: (timestamp: number, key: K, namespace: N) => void): void {
    (eventTime ? this.eventTimers : this.processingTimers).forEachLive(fn);
  }

  /** The live timers of one kind at `timestamp` (for samples: the earliest ones without walking them all). */
  forEachTimerAt(eventTime: boolean, timestamp: number, fn: (timestamp: number, key: K, namespace: N) => void): void {
    (eventTime ? this.eventTimers : this.processingTimers).forEachLiveAt(timestamp, fn);
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
