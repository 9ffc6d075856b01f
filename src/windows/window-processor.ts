//! The window algorithm of one keyed operator (Flink's WindowOperator): contents per key and window, triggers, lateness, merging, and panes for sliding windows.

import { ValueStateDescriptor } from '../state/descriptors.ts';
import { ListStateDescriptor } from '../state/descriptors.ts';
import type { KeyedStateBackend } from '../state/keyed-backend.ts';
import type { InternalListState, InternalValueState } from '../state/state-types.ts';
import { alignedWindowShape, isMerging, type AlignedWindowShape, type MergingWindowAssigner, type WindowAssigner } from './assigners.ts';
import { MergingWindowSet, type PersistedWindowSet } from './merging-window-set.ts';
import { EventTimeTrigger, NeverTrigger, fires, purges, type OnMergeContext, type Trigger, type TriggerContext } from './triggers.ts';
import { GlobalWindow, TimeWindow, windowFromKey, windowKey, windowStart, type Window, type WindowNamespace } from './windows.ts';

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
  registerEventTimeTimer(namespace: WindowNamespace, time: number): void;
  deleteEventTimeTimer(namespace: WindowNamespace, time: number): void;
  registerProcessingTimeTimer(namespace: WindowNamespace, time: number): void;
  deleteProcessingTimeTimer(namespace: WindowNamespace, time: number): void;
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
const MERGING_WINDOWS = new ValueStateDescriptor<PersistedWindowSet>('merging-window-set');
const PANES = new ValueStateDescriptor<number[]>('window-panes');
/**
 * Where a key's persisted merging window set keeps the set made from it (a symbol: encoders and
 * copies of the state skip it, and a copy without it is read again), so the set of a key whose
 * state still holds that very array is not rebuilt; a property, not a WeakMap, which the garbage
 * collector would have to trace for every live key's set.
 */
const WINDOW_SET = Symbol('merging window set');
type CachedWindowSet = PersistedWindowSet & { [WINDOW_SET]?: MergingWindowSet };

/** The namespace of the timers of a key's panes (one per window end). */
const PANES_TIMER = 'panes';

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
 * - a window of the tumbling and sliding assigners is named by its start (a number) in state and
 *   timers, and a record reaches its windows' state without a window object; other windows are
 *   named by {@link windowKey};
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
  private readonly mergingState: InternalValueState<PersistedWindowSet> | undefined;
  private readonly panes: { size: number; slide: number; offset: number; pane: number; state: InternalValueState<number[]> } | undefined;
  /** The shape of a tumbling or sliding assigner's windows: then a window's namespace is its start. */
  private readonly aligned: AlignedWindowShape | undefined;
  /** Windows of an aligned assigner by start, for triggers and emitters (few: they follow event time). */
  private readonly alignedWindows = new Map<number, TimeWindow>();
  private currentWindow: Window = GlobalWindow.INSTANCE;
  private readonly triggerContext: OnMergeContext;
  private readonly windowContext: WindowContext;
  private mergedWindows: TimeWindow[] = [];
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
  /** The last window made from a timer's namespace (timers of one timestamp mostly share their window). */
  private timerNamespace: WindowNamespace | undefined = undefined;
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
    this.aligned = alignedWindowShape(a);
    // Panes assume the record's timestamp places it, as the built-in sliding assigner does.
    const panesPossible =
      a.eventTime &&
      this.aligned !== undefined &&
      this.aligned.slide < this.aligned.size &&
      spec.trigger === undefined &&
      spec.allowedLatenessMs === 0 &&
      (spec.contents.kind === 'reduce' || (spec.contents.kind === 'aggregate' && spec.contents.aggregate.merge !== undefined));
    if (panesPossible) {
      const { size, slide, offset } = this.aligned as AlignedWindowShape;
      this.panes = {
        size,
        slide,
        offset,
        pane: gcd(size, slide),
        state: backend.getValueState(PANES),
      };
    }

    const self = this;
    this.triggerContext = {
      getCurrentWatermark: () => host.currentWatermark(),
      getCurrentProcessingTime: () => host.currentProcessingTime(),
      registerEventTimeTimer: (t) => host.registerEventTimeTimer(self.namespaceOf(self.currentWindow), t),
      deleteEventTimeTimer: (t) => host.deleteEventTimeTimer(self.namespaceOf(self.currentWindow), t),
      registerProcessingTimeTimer: (t) => host.registerProcessingTimeTimer(self.namespaceOf(self.currentWindow), t),
      deleteProcessingTimeTimer: (t) => host.deleteProcessingTimeTimer(self.namespaceOf(self.currentWindow), t),
      getPartitionedState: <T>(d: ValueStateDescriptor<T>) => {
        const state = host.backend.getValueState(d);
        state.setCurrentNamespace(self.namespaceOf(self.currentWindow));
        return state;
      },
      mergePartitionedState: <T>(d: ValueStateDescriptor<T>, combine: (a: T, b: T) => T) => {
        const state = host.backend.getValueState(d);
        let merged: T | undefined;
        for (const w of self.mergedWindows) {
          state.setCurrentNamespace(self.namespaceOf(w));
          const v = state.value();
          if (v !== undefined) merged = merged === undefined ? v : combine(merged, v);
        }
        state.setCurrentNamespace(self.namespaceOf(self.currentWindow));
        if (merged !== undefined) state.update(merged);
      },
    };
    const store = (namespaced: boolean): KeyedStateStore => ({
      getState: <T>(d: ValueStateDescriptor<T>) => {
        const state = host.backend.getValueState(d);
        state.setCurrentNamespace(namespaced ? self.namespaceOf(self.currentWindow) : undefined);
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

  /** A window's state and timer namespace: its start for an aligned assigner, else its {@link windowKey}. */
  private namespaceOf(window: Window): WindowNamespace {
    return this.aligned !== undefined ? (window as TimeWindow).start : windowKey(window);
  }

  /** The window of an aligned assigner that starts at `start` (kept while in use). */
  private alignedWindow(start: number): TimeWindow {
    const windows = this.alignedWindows;
    let w = windows.get(start);
    if (w === undefined) {
      if (windows.size >= 256) windows.clear();
      w = new TimeWindow(start, start + (this.aligned as AlignedWindowShape).size);
      windows.set(start, w);
    }
    return w;
  }

  /** Whether the windows fire on event time (their timers are event-time timers). */
  get firesOnEventTime(): boolean {
    return this.eventTime;
  }

  /** Global windows with the never trigger: their contents are never emitted (the explainer says so). */
  get neverFires(): boolean {
    return this.trigger instanceof NeverTrigger;
  }

  /**
   * For samples: the window a timer fires, when it is a window's own timer (at its max timestamp),
   * or a key's panes timer (the next window end); undefined for other timers. Changes nothing.
   */
  windowOfTimer(timestamp: number, namespace: WindowNamespace): { start: number; end: number } | undefined {
    if (namespace === PANES_TIMER) {
      const p = this.panes;
      return p === undefined ? undefined : { start: timestamp + 1 - p.size, end: timestamp + 1 };
    }
    let window: Window;
    if (this.aligned !== undefined) {
      if (typeof namespace !== 'number') return undefined;
      window = new TimeWindow(namespace, namespace + this.aligned.size);
    } else {
      if (typeof namespace !== 'string') return undefined;
      try {
        window = windowFromKey(namespace);
      } catch {
        return undefined;
      }
    }
    if (!(window instanceof TimeWindow) || window.maxTimestamp() !== timestamp) return undefined;
    return { start: window.start, end: window.end };
  }

  /** The window a namespace names (see {@link namespaceOf}). */
  private windowOf(namespace: WindowNamespace): Window {
    return this.aligned !== undefined ? this.alignedWindow(namespace as number) : windowFromKey(namespace as string);
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
    if (this.eventTime) this.host.registerEventTimeTimer(this.namespaceOf(window), time);
    else this.host.registerProcessingTimeTimer(this.namespaceOf(window), time);
  }

  private deleteCleanupTimer(window: Window): void {
    if (window instanceof GlobalWindow) return;
    const time = this.cleanupTime(window);
    if (this.eventTime) this.host.deleteEventTimeTimer(this.namespaceOf(window), time);
    else this.host.deleteProcessingTimeTimer(this.namespaceOf(window), time);
  }

  // ---- contents

  /** Scopes the contents state to a window's namespace. */
  private setNamespace(window: Window): void {
    this.setContentsNamespace(this.namespaceOf(window));
  }

  private setContentsNamespace(ns: WindowNamespace): void {
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
      (this.list as InternalListState<unknown>).mergeNamespaces(
        this.namespaceOf(target),
        sources.map((w) => this.namespaceOf(w)),
      );
      return;
    }
    const state = this.value as InternalValueState<unknown>;
    let merged: unknown;
    for (const w of [target, ...sources]) {
      state.setCurrentNamespace(this.namespaceOf(w));
      const v = state.value();
      if (w !== target) state.clear();
      if (v === undefined) continue;
      if (merged === undefined) merged = v;
      else if (contents.kind === 'reduce') merged = contents.reduce(merged, v);
      else merged = (contents.aggregate.merge as (a: unknown, b: unknown) => unknown)(merged, v);
    }
    state.setCurrentNamespace(this.namespaceOf(target));
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
  private readonly onMergeWindows = (
    result: TimeWindow,
    merged: TimeWindow[],
    stateResult: TimeWindow,
    mergedState: TimeWindow[],
  ): void => {
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
    if (this.aligned !== undefined) {
      this.processAligned(value, timestamp);
      return;
    }
    const windows = this.spec.assigner.assignWindows(value, timestamp, this.assignerContext);
    let skipped = true;
    if (this.merging) {
      const set = this.mergingWindowSet();
      const watermark = this.host.currentWatermark();
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
        // A live window that absorbed the record has its timers, and a merge result got the stock
        // event-time trigger's timer in onMerge (with no allowed lateness, the cleanup timer too):
        // the trigger would only register them again and answer CONTINUE.
        if (
          this.defaultEventTimeTrigger &&
          actual !== window &&
          (set.absorbed || this.cleanupIsTriggerTimer) &&
          actual.maxTimestamp() > watermark
        )
          continue;
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
        this.triggerOnElement(value, timestamp, window);
      }
    }
    if (skipped && this.isElementLate(timestamp)) this.late(value, timestamp);
  }

  /** Runs the trigger for a record just added to `window` (of a non-merging assigner), and registers its cleanup timer. */
  private triggerOnElement(value: unknown, timestamp: number | undefined, window: Window): void {
    this.currentWindow = window;
    const result = this.trigger.onElement(value, timestamp, window, this.triggerContext);
    if (fires(result)) {
      this.setNamespace(window);
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

  /**
   * {@link processElement} for tumbling and sliding windows: the record's windows are walked by
   * start, as the assigner would list them, with no window objects; the stock event-time trigger
   * is only asked for a window's first record (and for late-but-allowed ones).
   */
  private processAligned(value: unknown, timestamp: number | undefined): void {
    const { size, slide, offset } = this.aligned as AlignedWindowShape;
    let ts: number;
    if (this.eventTime) {
      // The assigner says what is missing.
      if (timestamp === undefined) this.spec.assigner.assignWindows(value, timestamp, this.assignerContext);
      ts = timestamp as number;
    } else ts = this.host.currentProcessingTime();
    const watermark = this.eventTime ? this.host.currentWatermark() : Number.NEGATIVE_INFINITY;
    const lateness = this.eventTime ? this.spec.allowedLatenessMs : 0;
    const skipTrigger = this.defaultEventTimeTrigger;
    let skipped = true;
    for (let start = windowStart(ts, offset, slide); start > ts - size; start -= slide) {
      const maxTimestamp = start + size - 1;
      if (maxTimestamp + lateness <= watermark) continue;
      skipped = false;
      this.setContentsNamespace(start);
      const first = this.addToContents(value);
      // The default event-time trigger would only register, again, the timer the window's
      // first record registered, and answer CONTINUE; so would the cleanup timer.
      if (!first && skipTrigger && maxTimestamp > watermark) continue;
      this.triggerOnElement(value, timestamp, this.alignedWindow(start));
    }
    if (skipped && this.isElementLate(timestamp)) this.late(value, timestamp);
  }

  private isElementLate(timestamp: number | undefined): boolean {
    return this.eventTime && timestamp !== undefined && timestamp + this.spec.allowedLatenessMs <= this.host.currentWatermark();
  }

  /**
   * The merging window set of the current key. A set is kept (on the array, see {@link WINDOW_SET})
   * while its key's state holds the very array it persists to (a heap backend, or a key still in a
   * disk backend's cache); otherwise it is read from the state.
   */
  private mergingWindowSet(): MergingWindowSet {
    const state = this.mergingState as InternalValueState<PersistedWindowSet>;
    state.setCurrentNamespace(undefined);
    const persisted = state.value() as CachedWindowSet | undefined;
    let set = persisted?.[WINDOW_SET];
    if (set === undefined) {
      set = new MergingWindowSet(this.merging as MergingWindowAssigner, persisted);
      if (persisted !== undefined) persisted[WINDOW_SET] = set;
    }
    return set;
  }

  /** Writes the set back to the key's state if it changed. */
  private persist(set: MergingWindowSet): void {
    if (!set.changed) return;
    set.changed = false;
    const state = this.mergingState as InternalValueState<PersistedWindowSet>;
    state.setCurrentNamespace(undefined);
    if (set.empty) state.clear();
    else {
      const persisted = set.persisted as CachedWindowSet;
      persisted[WINDOW_SET] = set;
      state.update(persisted);
    }
  }

  /** A timer of the current key fired; `namespace` is the window's (see {@link namespaceOf}). */
  onTimer(time: number, namespace: WindowNamespace, eventTime: boolean): void {
    if (this.panes) {
      if (eventTime) this.firePaneWindow(time);
      return;
    }
    let window = this.timerWindow;
    if (namespace !== this.timerNamespace) {
      window = this.timerWindow = this.windowOf(namespace);
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
    // A pane is named by its start.
    const paneStart = windowStart(timestamp, p.offset, p.pane);
    this.setContentsNamespace(paneStart);
    this.addToContents(value);
    p.state.setCurrentNamespace(undefined);
    const panes = p.state.value() ?? [];
    // A pane already listed has its timer: the end of the first window holding it that has not
    // fired (each firing registers the next window's end while the pane is in it).
    if (panes.includes(paneStart)) return;
    let i = panes.length;
    while (i > 0 && panes[i - 1] > paneStart) i--;
    panes.splice(i, 0, paneStart);
    p.state.update(panes);
    // The first window holding this record that has not fired yet. Window starts are aligned to
    // the slide; the earliest window holding the record starts just after `timestamp - size`.
    let end = windowStart(timestamp - p.size, p.offset, p.slide) + p.slide + p.size;
    while (end - 1 <= watermark) end += p.slide;
    this.host.registerEventTimeTimer(PANES_TIMER, end - 1);
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
      state.setCurrentNamespace(paneStart);
      const v = state.value();
      if (v === undefined) continue;
      // merge() may reuse its first accumulator (Flink's contract): never hand it a pane's stored one
      if (merged === undefined && contents.kind === 'aggregate')
        merged = (contents.aggregate.merge as (a: unknown, b: unknown) => unknown)(contents.aggregate.createAccumulator(), v);
      else if (merged === undefined) merged = v;
      else if (contents.kind === 'reduce') merged = contents.reduce(merged, v);
      else if (contents.kind === 'aggregate') merged = (contents.aggregate.merge as (a: unknown, b: unknown) => unknown)(merged, v);
    }
    if (merged !== undefined) {
      this.fire(this.alignedWindow(start), [contents.kind === 'aggregate' ? contents.aggregate.getResult(merged) : merged]);
    }
    // Panes before the next window's start are in no future window: dropped from the sorted list in place.
    const nextEnd = end + p.slide;
    const nextStart = nextEnd - p.size;
    let gone = 0;
    while (gone < panes.length && panes[gone] < nextStart) {
      state.setCurrentNamespace(panes[gone]);
      state.clear();
      gone++;
    }
    p.state.setCurrentNamespace(undefined);
    if (gone === panes.length) p.state.clear();
    else {
      if (gone > 0) {
        panes.splice(0, gone);
        p.state.update(panes);
      }
      this.host.registerEventTimeTimer(PANES_TIMER, nextEnd - 1);
    }
  }

  /**
   * Whether restored timers may name a window by its text key "start:end", which weir wrote for
   * tumbling and sliding windows (and panes) before they were named by their start: see
   * {@link restoreTextNamespace}.
   */
  get namesWindowsByStart(): boolean {
    return this.aligned !== undefined;
  }

  /**
   * Moves a window's state from the text key "start:end" of a savepoint written before windows of
   * the tumbling and sliding assigners were named by their start, to its start; `namespace` and
   * `time` are a restored timer of the current key with a text namespace (every such window, and
   * every key with panes, has one). A window's state (contents, and what its trigger and window function
   * keep per window) moves and its timer is registered again by start; a key's panes (listed by
   * start already) move their contents; the panes timer stays as it is. Other text namespaces are
   * left alone.
   */
  restoreTextNamespace(namespace: string, time: number, eventTime: boolean): void {
    if (this.aligned === undefined) return;
    if (namespace === PANES_TIMER) {
      const p = this.panes;
      if (p === undefined) return;
      p.state.setCurrentNamespace(undefined);
      for (const paneStart of p.state.value() ?? []) this.host.backend.moveNamespace(`${paneStart}:${paneStart + p.pane}`, paneStart);
      return;
    }
    const match = /^(-?\d+):(-?\d+)$/.exec(namespace);
    if (match === null) return;
    const start = Number(match[1]);
    this.host.backend.moveNamespace(namespace, start);
    if (eventTime) {
      this.host.deleteEventTimeTimer(namespace, time);
      this.host.registerEventTimeTimer(start, time);
    } else {
      this.host.deleteProcessingTimeTimer(namespace, time);
      this.host.registerProcessingTimeTimer(start, time);
    }
  }

  /** Whether this processor keeps panes (for tests and metrics). */
  get usesPanes(): boolean {
    return this.panes !== undefined;
  }
}
