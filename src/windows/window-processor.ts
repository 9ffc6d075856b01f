//! The window algorithm of one keyed operator (Flink's WindowOperator): contents per key and window, triggers, lateness, merging, and panes for sliding windows.

import { ValueStateDescriptor } from '../state/descriptors.ts';
import { ListStateDescriptor } from '../state/descriptors.ts';
import type { KeyedStateBackend } from '../state/keyed-backend.ts';
import type { InternalListState, InternalValueState } from '../state/state-types.ts';
import { isMerging, type MergingWindowAssigner, type WindowAssigner } from './assigners.ts';
import { MergingWindowSet } from './merging-window-set.ts';
import { EventTimeTrigger, fires, purges, type OnMergeContext, type Trigger, type TriggerContext } from './triggers.ts';
import { GlobalWindow, TimeWindow, windowFromKey, windowKey, windowStart, type Window } from './windows.ts';

/** Incremental aggregation (Flink's AggregateFunction). `merge` is needed for session windows and panes. */
export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
  merge?(a: ACC, b: ACC): ACC;
}

/** How a window keeps its contents: every record, a running reduce, or an accumulator. */
export type WindowContents =
  | { kind: 'list' }
  | { kind: 'reduce'; reduce: (a: unknown, b: unknown) => unknown }
  | { kind: 'aggregate'; aggregate: AggregateFunction<unknown, unknown, unknown> };

/** What a process window function's context offers. */
export interface WindowContext<W extends Window = Window> {
  /** The window being emitted. */
  window(): W;
  currentProcessingTime(): number;
  currentWatermark(): number;
  /** Keyed state scoped to this key and this window (cleared with the window by `clear`). */
  windowState(): KeyedStateStore;
  /** Keyed state of this key, shared by all its windows. */
  globalState(): KeyedStateStore;
  /** Emits to a side output. */
  output<X>(tag: { id: string }, value: X): void;
}

/** The value-state part of a keyed state store. */
export interface KeyedStateStore {
  getState<T>(descriptor: ValueStateDescriptor<T>): InternalValueState<T>;
}

/** Emits the results of a window; `elements` holds one value for reduce/aggregate contents. */
export type WindowEmitter = (key: unknown, context: WindowContext, elements: Iterable<unknown>, out: (value: unknown) => void) => void;

/** What the processor needs from the operator that hosts it. */
export interface WindowHost {
  readonly backend: KeyedStateBackend;
  currentWatermark(): number;
  currentProcessingTime(): number;
  registerEventTimeTimer(namespace: string, time: number): void;
  deleteEventTimeTimer(namespace: string, time: number): void;
  registerProcessingTimeTimer(namespace: string, time: number): void;
  deleteProcessingTimeTimer(namespace: string, time: number): void;
  /** Emits a window result with the window's max timestamp. */
  emit(value: unknown, timestamp: number): void;
  /** Emits to a side output. */
  emitSide(tag: string, value: unknown, timestamp: number | undefined): void;
}

/** How the processor is configured. */
export interface WindowSpec {
  assigner: WindowAssigner;
  trigger?: Trigger;
  contents: WindowContents;
  /** Emits results (a process window function, or the identity for reduce/aggregate). */
  emitter: WindowEmitter;
  /** Called when a window's state is cleared for good (ProcessWindowFunction.clear). */
  onClear?: (context: WindowContext) => void;
  allowedLatenessMs: number;
  /** Side output id for late records, if asked. */
  lateDataTag?: string;
}

const CONTENTS_LIST = new ListStateDescriptor<unknown>('window-contents');
const CONTENTS_VALUE = new ValueStateDescriptor<unknown>('window-contents');
const MERGING_WINDOWS = new ValueStateDescriptor<[string, string][]>('merging-window-set');
const PANES = new ValueStateDescriptor<number[]>('window-panes');

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Runs Flink's window semantics for the current key (set on the backend by the host):
 *
 * - a record goes into every window the assigner gives it that is not late (window end +
 *   allowed lateness > watermark); a record whose windows are all late is dropped and counted,
 *   or sent to the late-data side output;
 * - the trigger decides when a window fires and/or purges; the default event-time trigger fires
 *   at the window's end and again for each late-but-allowed record;
 * - a window's state is cleaned up when the watermark passes its end plus the allowed lateness;
 * - session windows merge, keeping their state in one namespace (MergingWindowSet);
 * - sliding event-time windows with a reduce or an aggregate that merges keep one partial result
 *   per pane (the gcd of size and slide) and combine panes when a window fires, so a record costs
 *   one update however many windows overlap it.
 *
 * Threading model: the host operator's thread; every call is for the backend's current key.
 */
export class WindowProcessor {
  private readonly trigger: Trigger;
  private readonly eventTime: boolean;
  private readonly merging: MergingWindowAssigner | undefined;
  private readonly list: InternalListState<unknown> | undefined;
  private readonly value: InternalValueState<unknown> | undefined;
  private readonly mergingState: InternalValueState<[string, string][]> | undefined;
  private readonly panes: { size: number; slide: number; offset: number; pane: number; state: InternalValueState<number[]> } | undefined;
  private currentWindow: Window = GlobalWindow.INSTANCE;
  private readonly triggerContext: OnMergeContext;
  private readonly windowContext: WindowContext;
  private mergedWindows: TimeWindow[] = [];
  private readonly paneWindows = new Map<number, TimeWindow>();
  /** Merging window sets by the array their key's state holds (see {@link mergingWindowSet}). */
  private readonly mergingSets = new WeakMap<object, MergingWindowSet>();
  /** Records dropped because every window they belong to was late. */
  lateRecordsDropped = 0;
  private readonly assignerContext = { currentProcessingTime: () => this.host.currentProcessingTime() };
  /** Whether the trigger is the stock event-time trigger (its per-record work can be skipped). */
  private readonly defaultEventTimeTrigger: boolean;
  /**
   * Whether a window's cleanup timer is the very timer the stock event-time trigger registers (no
   * allowed lateness): registering it a second time, or deleting it after it fired, does nothing.
   */
  private readonly cleanupIsTriggerTimer: boolean;
  /** The last window parsed from a timer's namespace (timers of one timestamp mostly share their window). */
  private timerNamespace: string | undefined = undefined;
  private timerWindow: Window = GlobalWindow.INSTANCE;
  private emitTimestamp = 0;
  private readonly emitOut = (v: unknown): void => this.host.emit(v, this.emitTimestamp);

  constructor(
    private readonly spec: WindowSpec,
    private readonly host: WindowHost,
  ) {
    this.trigger = spec.trigger ?? spec.assigner.defaultTrigger();
    this.defaultEventTimeTrigger = this.trigger instanceof EventTimeTrigger;
    this.eventTime = spec.assigner.eventTime;
    this.cleanupIsTriggerTimer = this.defaultEventTimeTrigger && this.eventTime && spec.allowedLatenessMs === 0;
    this.merging = isMerging(spec.assigner) ? spec.assigner : undefined;
    if (this.merging && this.trigger.canMerge?.() !== true) throw new Error('this trigger cannot be used with merging (session) windows');
    const backend = host.backend;
    if (spec.contents.kind === 'list') this.list = backend.getListState(CONTENTS_LIST);
    else this.value = backend.getValueState(CONTENTS_VALUE);
    if (this.merging) {
      this.mergingState = backend.getValueState(MERGING_WINDOWS);
      if (spec.contents.kind === 'aggregate' && !spec.contents.aggregate.merge) {
        throw new Error('session windows with aggregate() need an AggregateFunction with merge()');
      }
    }
    const a = spec.assigner;
    const panesPossible =
      a.eventTime &&
      a.slide !== undefined &&
      a.size !== undefined &&
      a.slide < a.size &&
      spec.trigger === undefined &&
      spec.allowedLatenessMs === 0 &&
      (spec.contents.kind === 'reduce' || (spec.contents.kind === 'aggregate' && spec.contents.aggregate.merge !== undefined));
    if (panesPossible) {
      this.panes = {
        size: a.size as number,
        slide: a.slide as number,
        offset: a.offset ?? 0,
        pane: gcd(a.size as number, a.slide as number),
        state: backend.getValueState(PANES),
      };
    }

    const self = this;
    this.triggerContext = {
      getCurrentWatermark: () => host.currentWatermark(),
      getCurrentProcessingTime: () => host.currentProcessingTime(),
      registerEventTimeTimer: (t) => host.registerEventTimeTimer(windowKey(self.currentWindow), t),
      deleteEventTimeTimer: (t) => host.deleteEventTimeTimer(windowKey(self.currentWindow), t),
      registerProcessingTimeTimer: (t) => host.registerProcessingTimeTimer(windowKey(self.currentWindow), t),
      deleteProcessingTimeTimer: (t) => host.deleteProcessingTimeTimer(windowKey(self.currentWindow), t),
      getPartitionedState: <T>(d: ValueStateDescriptor<T>) => {
        const state = host.backend.getValueState(d);
        state.setCurrentNamespace(windowKey(self.currentWindow));
        return state;
      },
      mergePartitionedState: <T>(d: ValueStateDescriptor<T>, combine: (a: T, b: T) => T) => {
        const state = host.backend.getValueState(d);
        let merged: T | undefined;
        for (const w of self.mergedWindows) {
          state.setCurrentNamespace(windowKey(w));
          const v = state.value();
          if (v !== undefined) merged = merged === undefined ? v : combine(merged, v);
        }
        state.setCurrentNamespace(windowKey(self.currentWindow));
        if (merged !== undefined) state.update(merged);
      },
    };
    const store = (namespaced: boolean): KeyedStateStore => ({
      getState: <T>(d: ValueStateDescriptor<T>) => {
        const state = host.backend.getValueState(d);
        state.setCurrentNamespace(namespaced ? windowKey(self.currentWindow) : undefined);
        return state;
      },
    });
    this.windowContext = {
      window: () => self.currentWindow,
      currentProcessingTime: () => host.currentProcessingTime(),
      currentWatermark: () => host.currentWatermark(),
      windowState: () => store(true),
      globalState: () => store(false),
      output: (tag, v) => host.emitSide(tag.id, v, self.currentWindow.maxTimestamp()),
    };
  }

  private cleanupTime(window: Window): number {
    if (window instanceof GlobalWindow) return Number.MAX_SAFE_INTEGER;
    return this.eventTime ? window.maxTimestamp() + this.spec.allowedLatenessMs : window.maxTimestamp();
  }

  private isWindowLate(window: Window): boolean {
    return this.eventTime && this.cleanupTime(window) <= this.host.currentWatermark();
  }

  private registerCleanupTimer(window: Window): void {
    if (window instanceof GlobalWindow) return;
    const time = this.cleanupTime(window);
    if (this.eventTime) this.host.registerEventTimeTimer(windowKey(window), time);
    else this.host.registerProcessingTimeTimer(windowKey(window), time);
  }

  private deleteCleanupTimer(window: Window): void {
    if (window instanceof GlobalWindow) return;
    const time = this.cleanupTime(window);
    if (this.eventTime) this.host.deleteEventTimeTimer(windowKey(window), time);
    else this.host.deleteProcessingTimeTimer(windowKey(window), time);
  }

  // ---- contents

  private setNamespace(window: Window): void {
    const ns = windowKey(window);
    if (this.list) this.list.setCurrentNamespace(ns);
    else (this.value as InternalValueState<unknown>).setCurrentNamespace(ns);
  }

  /** Adds a record to the current window's contents; returns whether the window had none before (always true for lists). */
  private addToContents(value: unknown): boolean {
    const contents = this.spec.contents;
    if (contents.kind === 'list') {
      (this.list as InternalListState<unknown>).add(value);
      return true;
    }
    const state = this.value as InternalValueState<unknown>;
    const current = state.value();
    if (contents.kind === 'reduce') state.update(current === undefined ? value : contents.reduce(current, value));
    else state.update(contents.aggregate.add(value, current === undefined ? contents.aggregate.createAccumulator() : current));
    return current === undefined;
  }

  /** The window's contents as the emitter's elements; undefined when empty. */
  private readContents(): Iterable<unknown> | undefined {
    const contents = this.spec.contents;
    if (contents.kind === 'list') {
      const items = [...(this.list as InternalListState<unknown>).get()];
      return items.length === 0 ? undefined : items;
    }
    const v = (this.value as InternalValueState<unknown>).value();
    if (v === undefined) return undefined;
    return [contents.kind === 'aggregate' ? contents.aggregate.getResult(v) : v];
  }

  private clearContents(): void {
    if (this.list) this.list.clear();
    else (this.value as InternalValueState<unknown>).clear();
  }

  private mergeContents(target: TimeWindow, sources: TimeWindow[]): void {
    if (sources.length === 0) return;
    const contents = this.spec.contents;
    if (contents.kind === 'list') {
      (this.list as InternalListState<unknown>).mergeNamespaces(windowKey(target), sources.map(windowKey));
      return;
    }
    const state = this.value as InternalValueState<unknown>;
    let merged: unknown;
    for (const w of [target, ...sources]) {
      state.setCurrentNamespace(windowKey(w));
      const v = state.value();
      if (w !== target) state.clear();
      if (v === undefined) continue;
      if (merged === undefined) merged = v;
      else if (contents.kind === 'reduce') merged = contents.reduce(merged, v);
      else merged = (contents.aggregate.merge as (a: unknown, b: unknown) => unknown)(merged, v);
    }
    state.setCurrentNamespace(windowKey(target));
    if (merged !== undefined) state.update(merged);
  }

  private fire(window: Window, elements: Iterable<unknown>): void {
    this.currentWindow = window;
    const key = this.host.backend.getCurrentKey();
    this.emitTimestamp = window.maxTimestamp();
    this.spec.emitter(key, this.windowContext, elements, this.emitOut);
  }

  /** Clears a window's contents, trigger state and timers; `firedTimer` is the timestamp of the timer being fired, if any (it is gone already). */
  private clearAllState(window: Window, firedTimer?: number): void {
    this.currentWindow = window;
    this.clearContents();
    // The stock event-time trigger only deletes its timer at the window's max timestamp.
    if (!(this.cleanupIsTriggerTimer && firedTimer === window.maxTimestamp())) this.trigger.clear(window, this.triggerContext);
    this.spec.onClear?.(this.windowContext);
  }

  /** The merge function of {@link MergingWindowSet.addWindow}: trigger and timers move to the result, contents fold into its state window. */
  private readonly onMergeWindows = (result: TimeWindow, merged: TimeWindow[], stateResult: TimeWindow, mergedState: TimeWindow[]): void => {
    if (this.eventTime && this.cleanupTime(result) <= this.host.currentWatermark()) {
      throw new Error(`merging made event-time window ${result.toString()} end before the current watermark`);
    }
    this.currentWindow = result;
    this.mergedWindows = merged;
    this.trigger.onMerge?.(result, this.triggerContext);
    for (const w of merged) {
      this.currentWindow = w;
      this.trigger.clear(w, this.triggerContext);
      // The stock event-time trigger's clear deleted the cleanup timer already.
      if (!this.cleanupIsTriggerTimer) this.deleteCleanupTimer(w);
    }
    this.mergedWindows = [];
    this.mergeContents(stateResult, mergedState);
  };

  private late(value: unknown, timestamp: number | undefined): void {
    if (this.spec.lateDataTag !== undefined) this.host.emitSide(this.spec.lateDataTag, value, timestamp);
    else this.lateRecordsDropped++;
  }

  // ---- records

  /** Processes a record of the current key. */
  processElement(value: unknown, timestamp: number | undefined): void {
    if (this.panes) {
      this.processIntoPane(value, timestamp as number);
      return;
    }
    const windows = this.spec.assigner.assignWindows(value, timestamp, this.assignerContext);
    let skipped = true;
    if (this.merging) {
      const set = this.mergingWindowSet();
      for (const window of windows as TimeWindow[]) {
        const actual = set.addWindow(window, this.onMergeWindows);
        if (this.isWindowLate(actual)) {
          set.retireWindow(actual);
          continue;
        }
        skipped = false;
        const stateWindow = set.getStateWindow(actual) as TimeWindow;
        this.setNamespace(stateWindow);
        this.addToContents(value);
        this.currentWindow = actual;
        const result = this.trigger.onElement(value, timestamp, actual, this.triggerContext);
        if (fires(result)) {
          this.setNamespace(stateWindow);
          const elements = this.readContents();
          if (elements) this.fire(actual, elements);
        }
        if (purges(result)) {
          this.setNamespace(stateWindow);
          this.clearContents();
        }
        if (!(this.cleanupIsTriggerTimer && result === 'CONTINUE')) this.registerCleanupTimer(actual);
      }
      this.persist(set);
    } else {
      const watermark = this.host.currentWatermark();
      for (let i = 0; i < windows.length; i++) {
        const window = windows[i];
        if (this.isWindowLate(window)) continue;
        skipped = false;
        this.setNamespace(window);
        const first = this.addToContents(value);
        this.currentWindow = window;
        // The default event-time trigger would only register, again, the timer the window's
        // first record registered, and answer CONTINUE; so would the cleanup timer.
        if (!first && this.defaultEventTimeTrigger && window.maxTimestamp() > watermark) continue;
        const result = this.trigger.onElement(value, timestamp, window, this.triggerContext);
        if (fires(result)) {
          const elements = this.readContents();
          if (elements) this.fire(window, elements);
        }
        if (purges(result)) {
          this.setNamespace(window);
          this.clearContents();
        }
        // The trigger registered that timer, unless the window fired at once (then it is late).
        if (!(this.cleanupIsTriggerTimer && result === 'CONTINUE')) this.registerCleanupTimer(window);
      }
    }
    if (skipped && this.isElementLate(timestamp)) this.late(value, timestamp);
  }

  private isElementLate(timestamp: number | undefined): boolean {
    return this.eventTime && timestamp !== undefined && timestamp + this.spec.allowedLatenessMs <= this.host.currentWatermark();
  }

  /**
   * The merging window set of the current key. A set is kept while its key's state holds the very
   * array it persists to (a heap backend, or a key still in a disk backend's cache); otherwise it
   * is read from the state.
   */
  private mergingWindowSet(): MergingWindowSet {
    const state = this.mergingState as InternalValueState<[string, string][]>;
    state.setCurrentNamespace(undefined);
    const persisted = state.value();
    let set = persisted === undefined ? undefined : this.mergingSets.get(persisted);
    if (set === undefined) {
      set = new MergingWindowSet(this.merging as MergingWindowAssigner, persisted);
      if (persisted !== undefined) this.mergingSets.set(persisted, set);
    }
    return set;
  }

  /** Writes the set back to the key's state if it changed. */
  private persist(set: MergingWindowSet): void {
    if (!set.changed) return;
    set.changed = false;
    const state = this.mergingState as InternalValueState<[string, string][]>;
    state.setCurrentNamespace(undefined);
    if (set.empty) state.clear();
    else {
      state.update(set.persisted);
      this.mergingSets.set(set.persisted, set);
    }
  }

  /** A timer of the current key fired; `namespace` is the window's key. */
  onTimer(time: number, namespace: string, eventTime: boolean): void {
    if (this.panes) {
      if (eventTime) this.firePaneWindow(time);
      return;
    }
    let window = this.timerWindow;
    if (namespace !== this.timerNamespace) {
      window = this.timerWindow = windowFromKey(namespace);
      this.timerNamespace = namespace;
    }
    let set: MergingWindowSet | undefined;
    let stateWindow: Window = window;
    if (this.merging) {
      set = this.mergingWindowSet();
      const sw = set.getStateWindow(window as TimeWindow);
      // The window was merged into another or already purged: its timer is stale.
      if (sw === undefined) return;
      stateWindow = sw;
    }
    this.currentWindow = window;
    const result = eventTime
      ? this.trigger.onEventTime(time, window, this.triggerContext)
      : this.trigger.onProcessingTime(time, window, this.triggerContext);
    this.setNamespace(stateWindow);
    if (fires(result)) {
      const elements = this.readContents();
      if (elements) this.fire(window, elements);
    }
    if (purges(result)) {
      this.setNamespace(stateWindow);
      this.clearContents();
    }
    if (eventTime === this.eventTime && time === this.cleanupTime(window)) {
      this.setNamespace(stateWindow);
      this.clearAllState(window, time);
      if (set) {
        set.retireWindow(window as TimeWindow);
        this.persist(set);
      }
    }
  }

  // ---- panes (sliding windows with reduce/aggregate)

  private processIntoPane(value: unknown, timestamp: number): void {
    const p = this.panes as NonNullable<typeof this.panes>;
    if (timestamp === undefined) {
      throw new Error('sliding event-time windows need records with event-time timestamps: use assignTimestampsAndWatermarks()');
    }
    const watermark = this.host.currentWatermark();
    // The last window holding this record ends at the record's slide start + size.
    const lastEnd = windowStart(timestamp, p.offset, p.slide) + p.size;
    if (lastEnd - 1 <= watermark) {
      this.late(value, timestamp);
      return;
    }
    const paneStart = windowStart(timestamp, p.offset, p.pane);
    this.setNamespace(this.paneWindow(paneStart));
    this.addToContents(value);
    p.state.setCurrentNamespace(undefined);
    const panes = p.state.value() ?? [];
    if (!panes.includes(paneStart)) {
      let i = panes.length;
      while (i > 0 && panes[i - 1] > paneStart) i--;
      panes.splice(i, 0, paneStart);
      p.state.update(panes);
    }
    // The first window holding this record that has not fired yet. Window starts are aligned to
    // the slide; the earliest window holding the record starts just after `timestamp - size`.
    let end = windowStart(timestamp - p.size, p.offset, p.slide) + p.slide + p.size;
    while (end - 1 <= watermark) end += p.slide;
    this.host.registerEventTimeTimer('panes', end - 1);
  }

  /** The pane starting at `start`; the panes in use (few: they follow event time) are kept with their keys. */
  private paneWindow(start: number): TimeWindow {
    const panes = this.paneWindows;
    let w = panes.get(start);
    if (w === undefined) {
      if (panes.size >= 256) panes.clear();
      const size = (this.panes as NonNullable<typeof this.panes>).pane;
      w = new TimeWindow(start, start + size);
      windowKey(w);
      panes.set(start, w);
    }
    return w;
  }

  private firePaneWindow(time: number): void {
    const p = this.panes as NonNullable<typeof this.panes>;
    const end = time + 1;
    const start = end - p.size;
    p.state.setCurrentNamespace(undefined);
    const panes = p.state.value() ?? [];
    let merged: unknown;
    const contents = this.spec.contents;
    const state = this.value as InternalValueState<unknown>;
    for (const paneStart of panes) {
      if (paneStart < start || paneStart >= end) continue;
      state.setCurrentNamespace(windowKey(this.paneWindow(paneStart)));
      const v = state.value();
      if (v === undefined) continue;
      // merge() may reuse its first accumulator (Flink's contract): never hand it a pane's stored one
      if (merged === undefined && contents.kind === 'aggregate')
        merged = (contents.aggregate.merge as (a: unknown, b: unknown) => unknown)(contents.aggregate.createAccumulator(), v);
      else if (merged === undefined) merged = v;
      else if (contents.kind === 'reduce') merged = contents.reduce(merged, v);
      else if (contents.kind === 'aggregate') merged = (contents.aggregate.merge as (a: unknown, b: unknown) => unknown)(merged, v);
    }
    const window = new TimeWindow(start, end);
    if (merged !== undefined) {
      this.fire(window, [contents.kind === 'aggregate' ? contents.aggregate.getResult(merged) : merged]);
    }
    // Panes before the next window's start are in no future window.
    const nextEnd = end + p.slide;
    const nextStart = nextEnd - p.size;
    const keep: number[] = [];
    for (const paneStart of panes) {
      if (paneStart < nextStart) {
        state.setCurrentNamespace(windowKey(this.paneWindow(paneStart)));
        state.clear();
      } else keep.push(paneStart);
    }
    p.state.setCurrentNamespace(undefined);
    if (keep.length === 0) p.state.clear();
    else {
      p.state.update(keep);
      this.host.registerEventTimeTimer('panes', nextEnd - 1);
    }
  }

  /** Whether this processor keeps panes (for tests and metrics). */
  get usesPanes(): boolean {
    return this.panes !== undefined;
  }
}
