//! The window operator: hosts the window algorithm for a keyed stream, with its timers and outputs.

import { WeirError } from '../core/errors.ts';
import type { KeyedStateBackend } from '../state/keyed-backend.ts';
import type { InternalTimer } from '../state/timer-service.ts';
import { WindowProcessor, type WindowHost, type WindowSpec } from '../windows/window-processor.ts';
import type { WindowNamespace } from '../windows/windows.ts';
import type { OperatorSample } from '../core/metrics.ts';
import type { FunctionLifecycle, OperatorContext, Output } from './operator.ts';
import { OperatorTimers, type Triggerable } from './operator-timers.ts';
import { AbstractStreamOperator } from './operators.ts';

/** Timers a sample walks at most to count pending windows exactly (see {@link WindowOperator.sample}). */
export const SAMPLE_WALK_LIMIT = 100_000;

/** Flink's WindowOperator: records of a keyed stream into windows, emitted when triggers fire. */
export class WindowOperator extends AbstractStreamOperator implements Triggerable<WindowNamespace>, WindowHost {
  backend!: KeyedStateBackend;
  private timers!: OperatorTimers<WindowNamespace>;
  private processor!: WindowProcessor;

  constructor(
    name: string,
    private readonly spec: WindowSpec,
    readonly keySelector: (value: unknown) => unknown,
    lifecycle?: FunctionLifecycle,
  ) {
    super(name, lifecycle);
  }

  inputKeySelector(): (value: unknown) => unknown {
    return this.keySelector;
  }

  override setup(context: OperatorContext, output: Output): void {
    super.setup(context, output);
    this.backend = context.keyedBackend();
    this.timers = new OperatorTimers<WindowNamespace>(context, this.backend, this, 'window-timers');
    this.processor = new WindowProcessor(this.spec, this);
  }

  override async open(): Promise<void> {
    if (this.processor.namesWindowsByStart) this.restoreTextNamespaces();
    await super.open();
  }

  /**
   * Restored timers naming a window by its text key (a savepoint of a weir version that named
   * tumbling and sliding windows so): the processor moves their windows' state and timers to the
   * window's start. Runs once, before the first record; a key's state is cached (its timers pin it).
   */
  private restoreTextNamespaces(): void {
    const service = this.timers.service;
    if (service.numEventTimeTimers() === 0 && service.numProcessingTimeTimers() === 0) return;
    const found: { key: unknown; namespace: string; time: number; eventTime: boolean }[] = [];
    const { start, end } = this.backend.keyGroupRange;
    for (let kg = start; kg <= end; kg++) {
      const snapshot = service.snapshotKeyGroup(kg);
      for (const [cols, eventTime] of [
        [snapshot.eventTime, true],
        [snapshot.processingTime, false],
      ] as const) {
        const namespaces = cols.namespaces;
        if (namespaces === undefined) continue;
        for (let i = 0; i < namespaces.length; i++) {
          const namespace = namespaces[i];
          if (typeof namespace === 'string') found.push({ key: cols.keys[i], namespace, time: cols.timestamps[i], eventTime });
        }
      }
    }
    for (const t of found) {
      this.backend.setCurrentKey(t.key);
      this.processor.restoreTextNamespace(t.namespace, t.time, t.eventTime);
    }
  }

  /** A user function threw: the operator fails with it (the runtime's own errors pass through). No closure per record. */
  private failed(error: unknown): void {
    if (error instanceof WeirError || (error as { code?: string })?.code?.startsWith?.('WEIR_')) throw error;
    this.fail(error);
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    this.recordsIn++;
    try {
      this.backend.setCurrentKey(this.keySelector(value));
      this.processor.processElement(value, timestamp);
    } catch (error) {
      this.failed(error);
    }
  }

  override processWatermark(timestamp: number): void {
    try {
      this.timers.advanceWatermark(timestamp);
    } catch (error) {
      this.failed(error);
    }
    super.processWatermark(timestamp);
  }

  /** @internal */
  onEventTime(timer: InternalTimer<unknown, WindowNamespace>): void {
    try {
      this.processor.onTimer(timer.timestamp, timer.namespace, true);
    } catch (error) {
      this.failed(error);
    }
  }

  /** @internal */
  onProcessingTime(timer: InternalTimer<unknown, WindowNamespace>): void {
    try {
      this.processor.onTimer(timer.timestamp, timer.namespace, false);
    } catch (error) {
      this.failed(error);
    }
  }

  // ---- WindowHost

  currentWatermark(): number {
    return this.timers.currentWatermark();
  }
  currentProcessingTime(): number {
    return this.context.processingTime.now();
  }
  registerEventTimeTimer(namespace: WindowNamespace, time: number): void {
    this.timers.registerEventTimeTimer(namespace, time);
  }
  deleteEventTimeTimer(namespace: WindowNamespace, time: number): void {
    this.timers.deleteEventTimeTimer(namespace, time);
  }
  registerProcessingTimeTimer(namespace: WindowNamespace, time: number): void {
    this.timers.registerProcessingTimeTimer(namespace, time);
  }
  deleteProcessingTimeTimer(namespace: WindowNamespace, time: number): void {
    this.timers.deleteProcessingTimeTimer(namespace, time);
  }
  emit(value: unknown, timestamp: number): void {
    this.recordsOut++;
    this.output.collect(value, timestamp);
  }
  emitSide(tag: string, value: unknown, timestamp: number | undefined): void {
    this.output.collectSide(tag, value, timestamp);
  }

  /** Records dropped as late, and whether panes are used. */
  counters(): Record<string, number> {
    return { numLateRecordsDropped: this.processor.lateRecordsDropped, panes: this.processor.usesPanes ? 1 : 0 };
  }

  /**
   * Pending windows (holding a timer at their end, not fired) and the earliest with its number of
   * keys, done only when sampled: a walk over the operator's timers up to {@link SAMPLE_WALK_LIMIT}
   * of them; beyond, the walk would stall the thread for tens of ms every second, so the pending
   * count is the timer count and only the earliest timers are looked at.
   */
  sample(into: OperatorSample): void {
    const processor = this.processor;
    if (processor === undefined) return;
    if (processor.neverFires) into.neverFires = 'global-window-without-trigger';
    const service = this.timers.service;
    const eventTime = processor.firesOnEventTime;
    let pending = 0;
    let earliest: { start: number; end: number; keys: number } | undefined;
    const consider = (timestamp: number, namespace: unknown): void => {
      const window = processor.windowOfTimer(timestamp, namespace as WindowNamespace);
      if (window === undefined) return;
      pending++;
      if (earliest === undefined || window.end < earliest.end || (window.end === earliest.end && window.start < earliest.start))
        earliest = { start: window.start, end: window.end, keys: 1 };
      else if (window.end === earliest.end && window.start === earliest.start) earliest.keys++;
    };
    const total = eventTime ? service.numEventTimeTimers() : service.numProcessingTimeTimers();
    if (total > SAMPLE_WALK_LIMIT) {
      const first = eventTime ? service.nextEventTime() : service.nextProcessingTime();
      if (first !== undefined) service.forEachTimerAt(eventTime, first, (timestamp, _key, namespace) => consider(timestamp, namespace));
      pending = total;
    } else {
      service.forEachTimer(eventTime, (timestamp, _key, namespace) => consider(timestamp, namespace));
    }
    into.windows = earliest === undefined ? { pending } : { pending, earliest };
  }

  override async close(): Promise<void> {
    this.timers.dispose();
    await super.close();
  }
}
