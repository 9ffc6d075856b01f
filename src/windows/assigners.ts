//! Window assigners: tumbling, sliding, session (fixed or dynamic gap) and global, in event or processing time.

import { configError } from '../core/errors.ts';
import { EventTimeTrigger, NeverTrigger, ProcessingTimeTrigger, type Trigger } from './triggers.ts';
import { GlobalWindow, TimeWindow, windowStart, type Window } from './windows.ts';

/** What an assigner may ask of the runtime. */
export interface WindowAssignerContext {
  /** Current processing time (ms). */
  currentProcessingTime(): number;
}

/** Assigns each record to zero or more windows. */
export interface WindowAssigner<T = unknown, W extends Window = Window> {
  /** The windows a record with this timestamp belongs to. */
  assignWindows(element: T, timestamp: number | undefined, context: WindowAssignerContext): W[];
  /** The trigger used when `.trigger()` sets none. */
  defaultTrigger(): Trigger<T, W>;
  /** Whether windows are in event time (late data, watermarks) or processing time. */
  readonly eventTime: boolean;
  /** For sliding windows with incremental aggregation: the slide, so panes can be kept. */
  readonly slide?: number;
  /** For sliding windows: the size. */
  readonly size?: number;
  /** For sliding windows: the offset. */
  readonly offset?: number;
}

/** An assigner whose windows merge (sessions). */
export interface MergingWindowAssigner<T = unknown> extends WindowAssigner<T, TimeWindow> {
  readonly merging: true;
  /**
   * Whether windows merge exactly when they intersect, into the window covering them (sessions):
   * then a live window absorbs a new window inside it without a merge.
   */
  readonly mergesIntersecting?: boolean;
  /** Merges overlapping windows: calls `merge(result, mergedWindows)` for each group of two or more. */
  mergeWindows(windows: readonly TimeWindow[], merge: (result: TimeWindow, merged: TimeWindow[]) => void): void;
}

/** Whether an assigner merges windows. */
export function isMerging(assigner: WindowAssigner): assigner is MergingWindowAssigner {
  return (assigner as Partial<MergingWindowAssigner>).merging === true;
}

/** The fixed shape of the windows of an aligned assigner: every window is `[start, start + size)`, starts `slide` apart from `offset`. */
export interface AlignedWindowShape {
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
}

/**
 * The shape of the built-in tumbling and sliding assigners (a window is then named by its start),
 * undefined for any other assigner (their `size`, if any, does not fix every window's size), and
 * for an object derived from a built-in one (it may assign by another time, as SQL's windows over
 * a time column do).
 */
export function alignedWindowShape(assigner: WindowAssigner): AlignedWindowShape | undefined {
  const proto = Object.getPrototypeOf(assigner) as unknown;
  if (proto === Tumbling.prototype) {
    const a = assigner as Tumbling;
    return { size: a.size, slide: a.size, offset: a.offset };
  }
  if (proto === Sliding.prototype) {
    const a = assigner as Sliding;
    return { size: a.size, slide: a.slide, offset: a.offset };
  }
  return undefined;
}

function positive(ms: number, what: string): number {
  if (!Number.isFinite(ms) || ms <= 0) throw configError(`${what} must be a positive number of ms, got ${ms}`);
  return ms;
}

/** The timestamp a record is assigned by: its event time (which it must have), or the current processing time. */
export function timestampOf(timestamp: number | undefined, eventTime: boolean, context: WindowAssignerContext, assigner: string): number {
  if (!eventTime) return context.currentProcessingTime();
  if (timestamp === undefined) {
    throw new Error(
      `${assigner} needs records with event-time timestamps: use assignTimestampsAndWatermarks() or a source with a WatermarkStrategy (or a processing-time assigner)`,
    );
  }
  return timestamp;
}

class Tumbling implements WindowAssigner<unknown, TimeWindow> {
  constructor(
    readonly size: number,
    readonly offset: number,
    readonly eventTime: boolean,
  ) {
    positive(size, 'tumbling window size');
    if (Math.abs(offset) >= size) throw configError(`tumbling window offset must be smaller than the size (${size}), got ${offset}`);
  }
  private last: TimeWindow[] = [new TimeWindow(Number.NaN, Number.NaN)];
  assignWindows(_element: unknown, timestamp: number | undefined, context: WindowAssignerContext): TimeWindow[] {
    const ts = timestampOf(timestamp, this.eventTime, context, 'a tumbling event-time window');
    const start = windowStart(ts, this.offset, this.size);
    // Consecutive records mostly share a window: reuse it (windows are immutable).
    if (this.last[0].start !== start) this.last = [new TimeWindow(start, start + this.size)];
    return this.last;
  }
  defaultTrigger(): Trigger<unknown, TimeWindow> {
    return this.eventTime ? EventTimeTrigger.create() : ProcessingTimeTrigger.create();
  }
}

class Sliding implements WindowAssigner<unknown, TimeWindow> {
  constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
    readonly eventTime: boolean,
  ) {
    positive(size, 'sliding window size');
    positive(slide, 'sliding window slide');
    if (Math.abs(offset) >= slide) throw configError(`sliding window offset must be smaller than the slide (${slide}), got ${offset}`);
  }
  assignWindows(_element: unknown, timestamp: number | undefined, context: WindowAssignerContext): TimeWindow[] {
    const ts = timestampOf(timestamp, this.eventTime, context, 'a sliding event-time window');
    const windows: TimeWindow[] = [];
    const lastStart = windowStart(ts, this.offset, this.slide);
    for (let start = lastStart; start > ts - this.size; start -= this.slide) windows.push(new TimeWindow(start, start + this.size));
    return windows;
  }
  defaultTrigger(): Trigger<unknown, TimeWindow> {
    return this.eventTime ? EventTimeTrigger.create() : ProcessingTimeTrigger.create();
  }
}

class Session implements MergingWindowAssigner {
  readonly merging = true as const;
  readonly mergesIntersecting = true;
  constructor(
    private readonly gap: (element: unknown) => number,
    readonly eventTime: boolean,
  ) {}
  assignWindows(element: unknown, timestamp: number | undefined, context: WindowAssignerContext): TimeWindow[] {
    const ts = timestampOf(timestamp, this.eventTime, context, 'an event-time session window');
    const gap = this.gap(element);
    if (!Number.isFinite(gap) || gap <= 0) throw new Error(`session gap must be a positive number of ms, got ${gap}`);
    return [new TimeWindow(ts, ts + gap)];
  }
  defaultTrigger(): Trigger<unknown, TimeWindow> {
    return this.eventTime ? EventTimeTrigger.create() : ProcessingTimeTrigger.create();
  }
  mergeWindows(windows: readonly TimeWindow[], merge: (result: TimeWindow, merged: TimeWindow[]) => void): void {
    const sorted = [...windows].sort((a, b) => a.start - b.start || a.end - b.end);
    let current: TimeWindow | undefined;
    let group: TimeWindow[] = [];
    for (const w of sorted) {
      if (current === undefined) {
        current = w;
        group = [w];
      } else if (current.intersects(w)) {
        current = current.cover(w);
        group.push(w);
      } else {
        if (group.length > 1) merge(current, group);
        current = w;
        group = [w];
      }
    }
    if (current !== undefined && group.length > 1) merge(current, group);
  }
}

class Global implements WindowAssigner<unknown, GlobalWindow> {
  readonly eventTime = false;
  assignWindows(): GlobalWindow[] {
    return [GlobalWindow.INSTANCE];
  }
  defaultTrigger(): Trigger<unknown, GlobalWindow> {
    return NeverTrigger.create() as Trigger<unknown, GlobalWindow>;
  }
}

/** Fixed-size, non-overlapping event-time windows. */
export const TumblingEventTimeWindows = {
  of: (size: number, offset = 0): WindowAssigner<unknown, TimeWindow> => new Tumbling(size, offset, true),
};
/** Fixed-size, non-overlapping processing-time windows. */
export const TumblingProcessingTimeWindows = {
  of: (size: number, offset = 0): WindowAssigner<unknown, TimeWindow> => new Tumbling(size, offset, false),
};
/** Fixed-size event-time windows starting every `slide`. */
export const SlidingEventTimeWindows = {
  of: (size: number, slide: number, offset = 0): WindowAssigner<unknown, TimeWindow> => new Sliding(size, slide, offset, true),
};
/** Fixed-size processing-time windows starting every `slide`. */
export const SlidingProcessingTimeWindows = {
  of: (size: number, slide: number, offset = 0): WindowAssigner<unknown, TimeWindow> => new Sliding(size, slide, offset, false),
};
/** Event-time sessions: a window closes after a gap without records; the gap may depend on the record. */
export const EventTimeSessionWindows = {
  withGap: (gap: number): MergingWindowAssigner => new Session(() => positive(gap, 'session gap'), true),
  withDynamicGap: <T>(extractor: (element: T) => number): MergingWindowAssigner => new Session(extractor as (e: unknown) => number, true),
};
/** Processing-time sessions. */
export const ProcessingTimeSessionWindows = {
  withGap: (gap: number): MergingWindowAssigner => new Session(() => positive(gap, 'session gap'), false),
  withDynamicGap: <T>(extractor: (element: T) => number): MergingWindowAssigner => new Session(extractor as (e: unknown) => number, false),
};
/** One window for everything; fires only with a custom trigger (e.g. CountTrigger). */
export const GlobalWindows = {
  create: (): WindowAssigner<unknown, GlobalWindow> => new Global(),
};
