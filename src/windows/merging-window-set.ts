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

/**
 * For each live window of a key, the window whose namespace holds its state. When windows merge,
 * the result keeps one of the merged state windows, so merging moves no state except folding the
 * others into it. Persisted as plain pairs of window keys (in keyed state).
 */
export class MergingWindowSet {
  private readonly mapping: Map<string, string>;

  constructor(
    private readonly assigner: MergingWindowAssigner,
    persisted: readonly [string, string][] | undefined,
  ) {
    this.mapping = new Map(persisted ?? []);
  }

  /** The mapping as plain pairs, to persist. */
  persist(): [string, string][] {
    return [...this.mapping];
  }

  /** Whether the set is empty. */
  get empty(): boolean {
    return this.mapping.size === 0;
  }

  /** The state window of a live window, or undefined if it is not live. */
  getStateWindow(window: TimeWindow): TimeWindow | undefined {
    const key = this.mapping.get(windowKey(window));
    return key === undefined ? undefined : (windowFromKey(key) as TimeWindow);
  }

  /** Removes a window (it was purged or is late). */
  retireWindow(window: TimeWindow): void {
    if (!this.mapping.delete(windowKey(window))) throw new Error(`window ${window.toString()} is not in the merging window set`);
  }

  /**
   * Adds a new window, merging it with overlapping live windows; returns the window the new one
   * ended up in (itself or a merge result).
   */
  addWindow(newWindow: TimeWindow, merge: MergeFunction): TimeWindow {
    const windows = [...this.mapping.keys()].map((k) => windowFromKey(k) as TimeWindow);
    windows.push(newWindow);
    const newKey = windowKey(newWindow);
    let result = newWindow;
    let mergedNew = false;
    let mergedAny = false;
    this.assigner.mergeWindows(windows, (mergeResult, merged) => {
      mergedAny = true;
      if (merged.some((w) => windowKey(w) === newKey)) {
        mergedNew = true;
        result = mergeResult;
      }
      // The result keeps the state window of a merged window that already had state.
      const keeper = merged.find((w) => this.mapping.has(windowKey(w))) as TimeWindow;
      const stateWindowResult = windowFromKey(this.mapping.get(windowKey(keeper)) as string) as TimeWindow;
      const mergedStateWindows: TimeWindow[] = [];
      for (const w of merged) {
        const state = this.mapping.get(windowKey(w));
        if (state !== undefined) {
          this.mapping.delete(windowKey(w));
          if (state !== windowKey(stateWindowResult)) mergedStateWindows.push(windowFromKey(state) as TimeWindow);
        }
      }
      this.mapping.set(windowKey(mergeResult), windowKey(stateWindowResult));
      // A pre-existing window merged only with itself, unchanged: nothing to merge.
      if (!(merged.length === 1 && merged[0].equals(mergeResult))) merge(mergeResult, merged, stateWindowResult, mergedStateWindows);
    });
    if (!mergedAny || (result.equals(newWindow) && !mergedNew)) this.mapping.set(newKey, newKey);
    return result;
  }
}
