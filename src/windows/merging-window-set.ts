//! The merging window set of one key (Flink's MergingWindowSet): which session window keeps its state in which namespace.

import type { MergingWindowAssigner } from './assigners.ts';
import { TimeWindow, windowFromKey, windowKey } from './windows.ts';

/** Called when windows merge: the result, the windows merged into it, the state window kept, and the state windows to fold in. */
export type MergeFunction = (
  result: TimeWindow,
  merged: TimeWindow[],
  stateWindowResult: TimeWindow,
  mergedStateWindows: TimeWindow[],
) => void;

const NONE = Object.freeze([]) as unknown as TimeWindow[];

/**
 * For each live window of a key, the window whose namespace holds its state. When windows merge,
 * the result keeps one of the merged state windows, so merging moves no state except folding the
 * others into it. Persisted as plain pairs of window keys (in keyed state): {@link persisted} is
 * that array, kept in step with every change (so a set can be kept between records while its
 * state holds the same array, and written back only when {@link changed}).
 *
 * Threading model: the window operator's thread. Life cycle: made from the persisted pairs of one
 * key (or empty), changed by {@link addWindow} and {@link retireWindow}.
 */
export class MergingWindowSet {
  /** Live windows; the window holding each one's state is at the same index of {@link stateWindows}. */
  private readonly windows: TimeWindow[] = [];
  private readonly stateWindows: TimeWindow[] = [];
  /** The pairs of window keys to persist (this very array, changed in place). */
  readonly persisted: [string, string][];
  /** Whether the set changed since it was made or since the caller last reset this. */
  changed = false;

  constructor(
    private readonly assigner: MergingWindowAssigner,
    persisted: [string, string][] | undefined,
  ) {
    this.persisted = persisted ?? [];
    for (const [w, s] of this.persisted) {
      const window = windowFromKey(w) as TimeWindow;
      this.windows.push(window);
      this.stateWindows.push(s === w ? window : (windowFromKey(s) as TimeWindow));
    }
  }

  /** The mapping as plain pairs, to persist (a copy). */
  persist(): [string, string][] {
    return this.persisted.map(([w, s]) => [w, s]);
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
    this.persisted.splice(i, 1);
    this.changed = true;
  }

  private put(window: TimeWindow, stateWindow: TimeWindow): void {
    this.windows.push(window);
    this.stateWindows.push(stateWindow);
    this.persisted.push([windowKey(window), windowKey(stateWindow)]);
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
        if (w.start <= newWindow.start && newWindow.end <= w.end) return w;
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
      this.persisted[first] = [windowKey(result), this.persisted[first][1]];
      this.changed = true;
      merge(result, [w], stateWindow, NONE);
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
