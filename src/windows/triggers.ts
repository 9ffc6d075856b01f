//! Triggers decide when a window's contents are emitted: event time, processing time, count, continuous, purging, or custom.

import { ValueStateDescriptor } from '../state/descriptors.ts';
import type { ValueState } from '../state/keyed-backend.ts';
import type { Window } from './windows.ts';

/** What a trigger answers: keep going, emit, drop the contents, or both. */
export type TriggerResult = 'CONTINUE' | 'FIRE' | 'PURGE' | 'FIRE_AND_PURGE';

/** Whether a result emits the window. */
export const fires = (r: TriggerResult): boolean => r === 'FIRE' || r === 'FIRE_AND_PURGE';
/** Whether a result clears the window's contents. */
export const purges = (r: TriggerResult): boolean => r === 'PURGE' || r === 'FIRE_AND_PURGE';

/** What a trigger may do for the current key and window. */
export interface TriggerContext {
  getCurrentWatermark(): number;
  getCurrentProcessingTime(): number;
  registerEventTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  registerProcessingTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
  /** Value state scoped to the current key and window. */
  getPartitionedState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
}

/** The context of {@link Trigger.onMerge}: state of the merged windows can be combined into the new one. */
export interface OnMergeContext extends TriggerContext {
  /** Combines the value state of every merged window into the current (merged) window with `combine`. */
  mergePartitionedState<T>(descriptor: ValueStateDescriptor<T>, combine: (a: T, b: T) => T): void;
}

/** Decides when a window fires (Flink's Trigger). */
export interface Trigger<T = unknown, W extends Window = Window> {
  onElement(element: T, timestamp: number | undefined, window: W, ctx: TriggerContext): TriggerResult;
  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  /** Removes the trigger's timers and state for a window that is purged for good. */
  clear(window: W, ctx: TriggerContext): void;
  /** Whether the trigger supports merging windows (sessions). */
  canMerge?(): boolean;
  /** Windows merged into `window`: re-register timers and merge state. */
  onMerge?(window: W, ctx: OnMergeContext): void;
}

/** Fires when the watermark passes the window's end; late-but-allowed records fire at once. */
export class EventTimeTrigger implements Trigger {
  static create(): EventTimeTrigger {
    return new EventTimeTrigger();
  }
  onElement(_e: unknown, _t: number | undefined, window: Window, ctx: TriggerContext): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) return 'FIRE';
    ctx.registerEventTimeTimer(window.maxTimestamp());
    return 'CONTINUE';
  }
  onEventTime(time: number, window: Window): TriggerResult {
    return time === window.maxTimestamp() ? 'FIRE' : 'CONTINUE';
  }
  onProcessingTime(): TriggerResult {
    return 'CONTINUE';
  }
  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteEventTimeTimer(window.maxTimestamp());
  }
  canMerge(): boolean {
    return true;
  }
  onMerge(window: Window, ctx: OnMergeContext): void {
    if (window.maxTimestamp() > ctx.getCurrentWatermark()) ctx.registerEventTimeTimer(window.maxTimestamp());
  }
}

/** Fires when processing time passes the window's end. */
export class ProcessingTimeTrigger implements Trigger {
  static create(): ProcessingTimeTrigger {
    return new ProcessingTimeTrigger();
  }
  onElement(_e: unknown, _t: number | undefined, window: Window, ctx: TriggerContext): TriggerResult {
    ctx.registerProcessingTimeTimer(window.maxTimestamp());
    return 'CONTINUE';
  }
  onEventTime(): TriggerResult {
    return 'CONTINUE';
  }
  onProcessingTime(): TriggerResult {
    return 'FIRE';
  }
  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteProcessingTimeTimer(window.maxTimestamp());
  }
  canMerge(): boolean {
    return true;
  }
  onMerge(window: Window, ctx: OnMergeContext): void {
    if (window.maxTimestamp() > ctx.getCurrentProcessingTime()) ctx.registerProcessingTimeTimer(window.maxTimestamp());
  }
}

/** Never fires (the global window's default). */
export class NeverTrigger implements Trigger {
  static create(): NeverTrigger {
    return new NeverTrigger();
  }
  onElement(): TriggerResult {
    return 'CONTINUE';
  }
  onEventTime(): TriggerResult {
    return 'CONTINUE';
  }
  onProcessingTime(): TriggerResult {
    return 'CONTINUE';
  }
  clear(): void {}
}

const COUNT = new ValueStateDescriptor<number>('count-trigger', 0);

/** Fires once a window holds `count` records (then counts again from zero). */
export class CountTrigger implements Trigger {
  private constructor(private readonly count: number) {}
  static of(count: number): CountTrigger {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`CountTrigger needs a positive count, got ${count}`);
    return new CountTrigger(count);
  }
  onElement(_e: unknown, _t: number | undefined, _w: Window, ctx: TriggerContext): TriggerResult {
    const state = ctx.getPartitionedState(COUNT);
    const n = (state.value() ?? 0) + 1;
    if (n >= this.count) {
      state.clear();
      return 'FIRE';
    }
    state.update(n);
    return 'CONTINUE';
  }
  onEventTime(): TriggerResult {
    return 'CONTINUE';
  }
  onProcessingTime(): TriggerResult {
    return 'CONTINUE';
  }
  clear(_w: Window, ctx: TriggerContext): void {
    ctx.getPartitionedState(COUNT).clear();
  }
  canMerge(): boolean {
    return true;
  }
  onMerge(_w: Window, ctx: OnMergeContext): void {
    ctx.mergePartitionedState(COUNT, (a, b) => a + b);
  }
}

const NEXT_EVENT_FIRE = new ValueStateDescriptor<number>('continuous-event-fire');

/** Fires every `interval` of event time while the window is open, and at its end. */
export class ContinuousEventTimeTrigger implements Trigger {
  private constructor(private readonly interval: number) {}
  static of(interval: number): ContinuousEventTimeTrigger {
    if (!Number.isFinite(interval) || interval <= 0)
      throw new RangeError(`ContinuousEventTimeTrigger needs a positive interval, got ${interval}`);
    return new ContinuousEventTimeTrigger(interval);
  }
  onElement(_e: unknown, timestamp: number | undefined, window: Window, ctx: TriggerContext): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) return 'FIRE';
    ctx.registerEventTimeTimer(window.maxTimestamp());
    const state = ctx.getPartitionedState(NEXT_EVENT_FIRE);
    if (state.value() === undefined && timestamp !== undefined) {
      const start = timestamp - (((timestamp % this.interval) + this.interval) % this.interval);
      this.registerNext(start + this.interval, window, ctx);
    }
    return 'CONTINUE';
  }
  private registerNext(time: number, window: Window, ctx: TriggerContext): void {
    const next = Math.min(time, window.maxTimestamp());
    ctx.getPartitionedState(NEXT_EVENT_FIRE).update(next);
    ctx.registerEventTimeTimer(next);
  }
  onEventTime(time: number, window: Window, ctx: TriggerContext): TriggerResult {
    if (time === window.maxTimestamp()) return 'FIRE';
    const state = ctx.getPartitionedState(NEXT_EVENT_FIRE);
    if (state.value() === time) {
      state.clear();
      this.registerNext(time + this.interval, window, ctx);
      return 'FIRE';
    }
    return 'CONTINUE';
  }
  onProcessingTime(): TriggerResult {
    return 'CONTINUE';
  }
  clear(window: Window, ctx: TriggerContext): void {
    const state = ctx.getPartitionedState(NEXT_EVENT_FIRE);
    const next = state.value();
    if (next !== undefined) ctx.deleteEventTimeTimer(next);
    state.clear();
  }
  canMerge(): boolean {
    return true;
  }
  onMerge(window: Window, ctx: OnMergeContext): void {
    ctx.mergePartitionedState(NEXT_EVENT_FIRE, (a, b) => Math.min(a, b));
    const next = ctx.getPartitionedState(NEXT_EVENT_FIRE).value();
    if (next !== undefined) ctx.registerEventTimeTimer(next);
    if (window.maxTimestamp() > ctx.getCurrentWatermark()) ctx.registerEventTimeTimer(window.maxTimestamp());
  }
}

const NEXT_PROCESSING_FIRE = new ValueStateDescriptor<number>('continuous-processing-fire');

/** Fires every `interval` of processing time while the window is open. */
export class ContinuousProcessingTimeTrigger implements Trigger {
  private constructor(private readonly interval: number) {}
  static of(interval: number): ContinuousProcessingTimeTrigger {
    if (!Number.isFinite(interval) || interval <= 0)
      throw new RangeError(`ContinuousProcessingTimeTrigger needs a positive interval, got ${interval}`);
    return new ContinuousProcessingTimeTrigger(interval);
  }
  onElement(_e: unknown, _t: number | undefined, window: Window, ctx: TriggerContext): TriggerResult {
    const state = ctx.getPartitionedState(NEXT_PROCESSING_FIRE);
    if (state.value() === undefined) {
      const now = ctx.getCurrentProcessingTime();
      const next = Math.min(now - (now % this.interval) + this.interval, window.maxTimestamp());
      state.update(next);
      ctx.registerProcessingTimeTimer(next);
    }
    return 'CONTINUE';
  }
  onEventTime(): TriggerResult {
    return 'CONTINUE';
  }
  onProcessingTime(time: number, window: Window, ctx: TriggerContext): TriggerResult {
    const state = ctx.getPartitionedState(NEXT_PROCESSING_FIRE);
    if (state.value() === time) {
      const next = Math.min(time + this.interval, window.maxTimestamp());
      if (next > time) {
        state.update(next);
        ctx.registerProcessingTimeTimer(next);
      } else state.clear();
      return 'FIRE';
    }
    return 'CONTINUE';
  }
  clear(_w: Window, ctx: TriggerContext): void {
    const state = ctx.getPartitionedState(NEXT_PROCESSING_FIRE);
    const next = state.value();
    if (next !== undefined) ctx.deleteProcessingTimeTimer(next);
    state.clear();
  }
  canMerge(): boolean {
    return true;
  }
  onMerge(_w: Window, ctx: OnMergeContext): void {
    ctx.mergePartitionedState(NEXT_PROCESSING_FIRE, (a, b) => Math.min(a, b));
    const next = ctx.getPartitionedState(NEXT_PROCESSING_FIRE).value();
    if (next !== undefined) ctx.registerProcessingTimeTimer(next);
  }
}

/** Turns every FIRE of the wrapped trigger into FIRE_AND_PURGE. */
export class PurgingTrigger<T, W extends Window> implements Trigger<T, W> {
  private constructor(private readonly nested: Trigger<T, W>) {}
  static of<T, W extends Window>(nested: Trigger<T, W>): PurgingTrigger<T, W> {
    return new PurgingTrigger(nested);
  }
  private purge(r: TriggerResult): TriggerResult {
    return r === 'FIRE' ? 'FIRE_AND_PURGE' : r;
  }
  onElement(e: T, t: number | undefined, w: W, ctx: TriggerContext): TriggerResult {
    return this.purge(this.nested.onElement(e, t, w, ctx));
  }
  onEventTime(time: number, w: W, ctx: TriggerContext): TriggerResult {
    return this.purge(this.nested.onEventTime(time, w, ctx));
  }
  onProcessingTime(time: number, w: W, ctx: TriggerContext): TriggerResult {
    return this.purge(this.nested.onProcessingTime(time, w, ctx));
  }
  clear(w: W, ctx: TriggerContext): void {
    this.nested.clear(w, ctx);
  }
  canMerge(): boolean {
    return this.nested.canMerge?.() ?? false;
  }
  onMerge(w: W, ctx: OnMergeContext): void {
    this.nested.onMerge?.(w, ctx);
  }
}
