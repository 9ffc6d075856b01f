//! The merging window set of one key (Flink's MergingWindowSet): which session window keeps its state in which namespace.

import type { MergingWindowAssigner } from './assigners.ts';
import { TimeWindow, windowFromKey } from './windows.ts';

/**
 * Called when windows merge: the result, the windows merged into it, the state window kept, and
 * the state windows to fold in. The arrays are valid during the call only.
 */
export type MergeFunction = (
  result: TimeWindow,
  merged: TimeWindow[],
  stateWindowResult: TimeWindow,
  mergedStateWindows: TimeWindow[],
) => void;

const NONE = Object.freeze([]) as unknown as TimeWindow[];

/**
 * The persisted form of a merging window set: per live window, its start and end and its state
 * window's start and end, four numbers in a row. The form before it (pairs of window keys,
 * `[["start:end", "start:end"], …]`) is still read.
 */
export type PersistedWindowSet = number[];

/**
 * For each live window of a key, the window whose namespace holds its state. When windows merge,
 * the result keeps one of the merged state windows, so merging moves no state except folding the
 * others into it. Persisted as numbers (in keyed state, see {@link PersistedWindowSet}):
 * {@link persisted} is that array, changed in place with every change (so a set can be kept
 * between records while its state holds the same array, and written back only when
 * {@link changed}); a window that grows rewrites two numbers.
 *
 * Threading model: the window operator's thread. Life cycle: made from the persisted pairs of one
 * key (or empty), changed by {@link addWindow} and {@link retireWindow}.
 */
export class MergingWindowSet {
  /** Live windows; the window holding each one's state is at the same index of {@link stateWindows}. */
  private readonly windows: TimeWindow[] = [];
  private readonly stateWindows: TimeWindow[] = [];
  /** The numbers to persist (this very array, changed in place). */
  readonly persisted: PersistedWindowSet;
  /** Whether the set changed since it was made or since the caller last reset this. */
  changed = false;
  /** Whether the last {@link addWindow} found its window inside a live window, which it left unchanged. */
  absorbed = false;
  /** The one-window array handed to the merge function when a single live window grows. */
  private readonly single: TimeWindow[] = [];

  constructor(
    private readonly assigner: MergingWindowAssigner,
    persisted: PersistedWindowSet | [string, string][] | undefined,
  ) {
    if (persisted !== undefined && persisted.length > 0 && Array.isArray(persisted[0])) {
      // The earlier form: pairs of window keys. Written back in the new form with the next change.
      const numbers: number[] = [];
      for (const [w, s] of persisted as [string, string][]) {
        const window = windowFromKey(w) as TimeWindow;
        const state = windowFromKey(s) as TimeWindow;
        numbers.push(window.start, window.end, state.start, state.end);
      }
      this.persisted = numbers;
      this.changed = true;
    } else this.persisted = (persisted as PersistedWindowSet | undefined) ?? [];
    const p = this.persisted;
    for (let i = 0; i < p.length; i += 4) {
      const window = new TimeWindow(p[i], p[i + 1]);
      this.windows.push(window);
      this.stateWindows.push(p[i + 2] === p[i] && p[i + 3] === p[i + 1] ? window : new TimeWindow(p[i + 2], p[i + 3]));
    }
  }

  /** The persisted form (a copy). */
  persist(): PersistedWindowSet {
    return this.persisted.slice();
  }

  /** Whether the set is empty. */
  get empty(): boolean {
    return this.windows.length === 0;
  }

  private indexOf(window: TimeWindow): number {
    const windows = this.windows;
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i];
      if (w === window || (w.start === window.start && w.end === window.end)) return i;
    }
    return -1;
  }

  private removeAt(i: number): void {
    this.windows.splice(i, 1);
    this.stateWindows.splice(i, 1);
    this.persisted.splice(4 * i, 4);
    this.changed = true;
  }

  private put(window: TimeWindow, stateWindow: TimeWindow): void {
    this.windows.push(window);
    this.stateWindows.push(stateWindow);
    this.persisted.push(window.start, window.end, stateWindow.start, stateWindow.end);
    this.changed = true;
  }

  /**
   * {@link addWindow} for windows that merge when they intersect, without the assigner: live
   * windows never intersect each other, so the new window merges with exactly the live windows it
   * intersects, into their cover; they are merged in start order, as the assigner would.
   */
  private addIntersecting(newWindow: TimeWindow, merge: MergeFunction): TimeWindow {
    const windows = this.windows;
    let first = -1;
    let hits = 0;
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i];
      if (w.start <= newWindow.end && w.end >= newWindow.start) {
        // A live window that holds the new one absorbs it unchanged (a record inside its session).
        if (w.start <= newWindow.start && newWindow.end <= w.end) {
          this.absorbed = true;
          return w;
        }
        if (hits++ === 0) first = i;
      }
    }
    if (hits === 0) {
      this.put(newWindow, newWindow);
      return newWindow;
    }
    if (hits === 1) {
      // One live window grows: it is replaced where it is, keeping its state window.
      const w = windows[first];
      const result = new TimeWindow(Math.min(w.start, newWindow.start), Math.max(w.end, newWindow.end));
      const stateWindow = this.stateWindows[first];
      windows[first] = result;
      this.persisted[4 * first] = result.start;
      this.persisted[4 * first + 1] = result.end;
      this.changed = true;
      const single = this.single;
      single[0] = w;
      merge(result, single, stateWindow, NONE);
      single.length = 0;
      return result;
    }
    let merged: TimeWindow[];
    {
      merged = [];
      for (const w of windows) if (w.start <= newWindow.end && w.end >= newWindow.start) merged.push(w);
      merged.sort((a, b) => a.start - b.start || a.end - b.end);
    }
    let start = newWindow.start;
    let end = newWindow.end;
    for (const w of merged) {
      if (w.start < start) start = w.start;
      if (w.end > end) end = w.end;
    }
    const result = new TimeWindow(start, end);
    const stateWindowResult = this.stateWindows[this.indexOf(merged[0])];
    const mergedStateWindows: TimeWindow[] = [];
    for (const w of merged) {
      const i = this.indexOf(w);
      const state = this.stateWindows[i];
      this.removeAt(i);
      if (state !== stateWindowResult) mergedStateWindows.push(state);
    }
    this.put(result, stateWindowResult);
    merge(result, merged, stateWindowResult, mergedStateWindows);
    return result;
  }

  /** The state window of a live window, or undefined if it is not live. */
  getStateWindow(window: TimeWindow): TimeWindow | undefined {
    const i = this.indexOf(window);
    return i < 0 ? undefined : this.stateWindows[i];
  }

  /** Removes a window (it was purged or is late). */
  retireWindow(window: TimeWindow): void {
    const i = this.indexOf(window);
    if (i < 0) throw new Error(`window ${window.toString()} is not in the merging window set`);
    this.removeAt(i);
  }

  /**
   * Adds a new window, merging it with overlapping live windows; returns the window the new one
   * ended up in (itself or a merge result). As in Flink, the new window takes no part in the merge
   * function (it has no state and no timers), and a live window that only absorbs the new one
   * without growing merges nothing.
   */
  addWindow(newWindow: TimeWindow, merge: MergeFunction): TimeWindow {
    this.absorbed = false;
    if (this.assigner.mergesIntersecting === true) return this.addIntersecting(newWindow, merge);
    let result = newWindow;
    let mergedNew = false;
    const candidates = this.windows.slice();
    candidates.push(newWindow);
    this.assigner.mergeWindows(candidates, (mergeResult, mergedAll) => {
      const merged = mergedAll.filter((w) => w !== newWindow);
      if (merged.length !== mergedAll.length) {
        mergedNew = true;
        result = mergeResult;
      }
      if (merged.length === 0) return;
      // The result keeps the state window of the first merged window.
      const stateWindowResult = this.stateWindows[this.indexOf(merged[0])];
      const mergedStateWindows: TimeWindow[] = [];
      for (const w of merged) {
        const i = this.indexOf(w);
        if (i < 0) continue;
        const state = this.stateWindows[i];
        this.removeAt(i);
        if (state !== stateWindowResult) mergedStateWindows.push(state);
      }
      this.put(mergeResult, stateWindowResult);
      // A pre-existing window merged only with itself, unchanged: nothing to merge.
      if (!(merged.length === 1 && merged[0].equals(mergeResult))) merge(mergeResult, merged, stateWindowResult, mergedStateWindows);
    });
    if (!mergedNew) this.put(newWindow, newWindow);
    return result;
  }
}
