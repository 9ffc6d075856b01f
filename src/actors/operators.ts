//! The built-in operators behind map, filter, flatMap, process, keyed process, rolling reduce and sinks.

import { ErrorCodes, WeirError, userFunctionError } from '../core/errors.ts';
import type { InternalTimer } from '../state/timer-service.ts';
import type { BroadcastState } from '../state/broadcast-state.ts';
import type { MapStateDescriptor, StateDescriptor } from '../state/descriptors.ts';
import type { HeapOperatorStateStore } from '../state/operator-state.ts';
import { OperatorTimers, type Triggerable } from './operator-timers.ts';
import type { KeyedStateBackend, ValueState } from '../state/keyed-backend.ts';
import { ValueStateDescriptor } from '../state/descriptors.ts';
import type { OutputTag } from './output-tag.ts';
import {
  createRuntimeContext,
  type FunctionLifecycle,
  type OperatorContext,
  type Output,
  type Sink,
  type SinkWriter,
  type StreamOperator,
} from './operator.ts';

/** Shared plumbing: context, output, counters, and the user function's open/close. */
export abstract class AbstractStreamOperator implements StreamOperator, Output {
  recordsIn = 0;
  recordsOut = 0;
  protected output!: Output;
  protected context!: OperatorContext;
  protected subtask = 0;
  /**
   * An operator is itself the output of the operator chained before it: `collect` is its
   * `processElement`, so a record costs one call per chained hop.
   */
  readonly collect: (value: unknown, timestamp: number | undefined) => void;

  constructor(
    readonly name: string,
    protected readonly lifecycle?: FunctionLifecycle,
  ) {
    this.collect = this.processElement;
  }

  /** Output side of chaining: side records of the upstream operator never reach a chained main consumer. */
  collectSide(): void {}
  /** The last watermark the operator chained before it handed on (for samples). */
  lastWatermark = Number.NEGATIVE_INFINITY;
  /** Output side of chaining: the upstream's watermark. */
  emitWatermark(timestamp: number): void {
    this.lastWatermark = timestamp;
    this.processWatermark(timestamp);
  }
  /** Output side of chaining: the upstream's idleness. */
  emitWatermarkStatus(idle: boolean): void {
    this.processWatermarkStatus(idle);
  }

  setup(context: OperatorContext, output: Output): void {
    this.context = context;
    this.output = output;
    this.subtask = context.subtaskIndex;
  }

  async open(): Promise<void> {
    const fn = this.lifecycle;
    if (!fn) return;
    const runtime = createRuntimeContext(this.context);
    try {
      fn.setRuntimeContext?.(runtime);
      await fn.open?.(runtime);
    } catch (error) {
      throw userFunctionError(error, this.name, this.subtask, 'open()');
    }
  }

  abstract processElement(value: unknown, timestamp: number | undefined): void;

  processWatermark(timestamp: number): void {
    this.output.emitWatermark(timestamp);
  }

  processWatermarkStatus(idle: boolean): void {
    this.output.emitWatermarkStatus(idle);
  }

  endInput(): void {}

  async close(): Promise<void> {
    try {
      await this.lifecycle?.close?.();
    } catch (error) {
      throw userFunctionError(error, this.name, this.subtask, 'close()');
    }
  }

  /** Wraps an exception from user code with this operator's name and subtask. */
  protected fail(error: unknown): never {
    throw userFunctionError(error, this.name, this.subtask);
  }
}

/** Applies a function to every record. */
export class MapOperator extends AbstractStreamOperator {
  constructor(
    name: string,
    private readonly fn: (value: unknown) => unknown,
    lifecycle?: FunctionLifecycle,
  ) {
    super(name, lifecycle);
  }
  processElement(value: unknown, timestamp: number | undefined): void {
    this.recordsIn++;
    let result: unknown;
    try {
      result = this.fn(value);
    } catch (error) {
      this.fail(error);
    }
    this.recordsOut++;
    this.output.collect(result, timestamp);
  }
}

/** Keeps the records a predicate accepts. */
export class FilterOperator extends AbstractStreamOperator {
  constructor(
    name: string,
    private readonly fn: (value: unknown) => boolean,
    lifecycle?: FunctionLifecycle,
  ) {
    super(name, lifecycle);
  }
  processElement(value: unknown, timestamp: number | undefined): void {
    this.recordsIn++;
    let keep: boolean;
    try {
      keep = this.fn(value);
    } catch (error) {
      this.fail(error);
    }
    if (keep) {
      this.recordsOut++;
      this.output.collect(value, timestamp);
    }
  }
}

/** Collects the records a function emits, carrying the input record's timestamp. */
export interface Collector<T> {
  /** Emits one record. */
  collect(value: T): void;
}

class TimestampedCollector implements Collector<unknown> {
  timestamp: number | undefined = undefined;
  constructor(private readonly owner: { emit(value: unknown, timestamp: number | undefined): void }) {}
  collect(value: unknown): void {
    this.owner.emit(value, this.timestamp);
  }
}

/** Emits zero or more records per record. */
export class FlatMapOperator extends AbstractStreamOperator {
  private readonly collector = new TimestampedCollector(this);
  constructor(
    name: string,
    private readonly fn: (value: unknown, out: Collector<unknown>) => void,
    lifecycle?: FunctionLifecycle,
  ) {
    super(name, lifecycle);
  }
  /** @internal */
  emit(value: unknown, timestamp: number | undefined): void {
    this.recordsOut++;
    this.output.collect(value, timestamp);
  }
  processElement(value: unknown, timestamp: number | undefined): void {
    this.recordsIn++;
    this.collector.timestamp = timestamp;
    try {
      this.fn(value, this.collector);
    } catch (error) {
      if (error instanceof Error && (error as { code?: string }).code?.startsWith('WEIR_')) throw error;
      this.fail(error);
    }
  }
}

/** The context a process function gets with each record. */
export interface ProcessContext {
  /** The record's event-time timestamp, or undefined. */
  timestamp(): number | undefined;
  /** The operator's current watermark. */
  currentWatermark(): number;
  /** Emits a record to a side output, with the current record's timestamp. */
  output<X>(tag: OutputTag<X>, value: X): void;
  /** Timers and clocks; registering timers needs a keyed stream. */
  timerService(): TimerService;
}

/** Timers of a keyed process function (Flink's TimerService). */
export interface TimerService {
  currentProcessingTime(): number;
  currentWatermark(): number;
  /** Calls `onTimer` when the watermark reaches `time`; one timer per key and timestamp. */
  registerEventTimeTimer(time: number): void;
  /** Calls `onTimer` when processing time reaches `time`; one timer per key and timestamp. */
  registerProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
}

/** The context a keyed process function gets with each record. */
export interface KeyedProcessContext<K = unknown> extends ProcessContext {
  /** The key of the record being processed (of the timer, in `onTimer`). */
  getCurrentKey(): K;
}

/** The context of a broadcast process function: broadcast state, writable only on the broadcast side. */
export interface BroadcastContext extends KeyedProcessContext {
  /** The broadcast state the descriptor names: read-only in `processElement`, writable in `processBroadcastElement`. */
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V>;
  /** On the broadcast side of a keyed function: runs `fn` on the state of every key that has one. */
  applyToKeyedState<S>(descriptor: StateDescriptor, fn: (key: unknown, state: S) => void): void;
}

/** The context of `onTimer`: which timer fired. */
export interface OnTimerContext<K = unknown> extends KeyedProcessContext<K> {
  /** `EVENT_TIME` or `PROCESSING_TIME`. */
  timeDomain(): 'EVENT_TIME' | 'PROCESSING_TIME';
}

/** The `onTimer` callback of a keyed process function. */
export type OnTimer = (timestamp: number, ctx: OnTimerContext, out: Collector<unknown>) => void;

/** Calls a process function per record, with a context and a collector; on a keyed stream, with keyed state and timers. */
export class ProcessOperator extends AbstractStreamOperator implements Triggerable<undefined> {
  private readonly collector = new TimestampedCollector(this);
  private currentTimestamp: number | undefined = undefined;
  private watermark = Number.NEGATIVE_INFINITY;
  private backend: KeyedStateBackend | undefined;
  private timers: OperatorTimers<undefined> | undefined;
  private domain: 'EVENT_TIME' | 'PROCESSING_TIME' = 'EVENT_TIME';

  constructor(
    name: string,
    private readonly fn: (value: unknown, ctx: KeyedProcessContext, out: Collector<unknown>) => void,
    lifecycle?: FunctionLifecycle,
    /** Present for a keyed process function: records are scoped to their key. */
    readonly keySelector?: (value: unknown) => unknown,
    private readonly onTimer?: OnTimer,
    /** For two inputs (co-process): the second input's function and key selector. */
    private readonly second?: {
      fn: (value: unknown, ctx: KeyedProcessContext, out: Collector<unknown>) => void;
      keySelector?: (value: unknown) => unknown;
      /** The second input is a broadcast stream with these broadcast states. */
      broadcastStates?: MapStateDescriptor<unknown, unknown>[];
    },
    /**
     * How far the output watermark stays behind the input's (Flink SQL's
     * KeyedCoProcessOperatorWithWatermarkDelay): for a function that may emit rows older than
     * its input watermark. Timers and `currentWatermark()` still follow the input watermark.
     */
    private readonly watermarkDelay = 0,
  ) {
    super(name, lifecycle);
    if (!(watermarkDelay >= 0))
      throw new WeirError(`operator '${name}': the watermark delay must be a non-negative number of ms, got ${watermarkDelay}`, {
        code: ErrorCodes.CONFIG,
        domain: 'user',
        operator: name,
      });
  }
  inputKeySelector(input: 1 | 2): ((value: unknown) => unknown) | undefined {
    if (input === 1) return this.keySelector;
    return this.second?.broadcastStates === undefined ? this.second?.keySelector : undefined;
  }
  override setup(context: OperatorContext, output: Output): void {
    super.setup(context, output);
    if (this.keySelector) {
      this.backend = context.keyedBackend();
      this.timers = new OperatorTimers<undefined>(context, this.backend, this, 'user-timers');
    }
  }
  /** @internal */
  emit(value: unknown, timestamp: number | undefined): void {
    this.recordsOut++;
    this.output.collect(value, timestamp);
  }
  private noTimers(): never {
    throw new WeirError(`timers need a keyed stream: operator '${this.name}' does not read one (use keyBy() before process())`, {
      code: ErrorCodes.STATE_ACCESS,
      domain: 'user',
      operator: this.name,
      subtask: this.subtask,
    });
  }
  private readonly timerServiceView: TimerService = {
    currentProcessingTime: () => this.context.processingTime.now(),
    currentWatermark: () => this.watermark,
    registerEventTimeTimer: (t) => (this.timers ? this.timers.registerEventTimeTimer(undefined, t) : this.noTimers()),
    registerProcessingTimeTimer: (t) => (this.timers ? this.timers.registerProcessingTimeTimer(undefined, t) : this.noTimers()),
    deleteEventTimeTimer: (t) => (this.timers ? this.timers.deleteEventTimeTimer(undefined, t) : this.noTimers()),
    deleteProcessingTimeTimer: (t) => (this.timers ? this.timers.deleteProcessingTimeTimer(undefined, t) : this.noTimers()),
  };
  private onBroadcastSide = false;
  private getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V> {
    const allowed = this.second?.broadcastStates;
    if (!allowed || !allowed.some((d) => d.name === descriptor.name)) {
      throw new WeirError(`broadcast state '${descriptor.name}' was not declared on the broadcast stream of operator '${this.name}'`, {
        code: ErrorCodes.STATE_ACCESS,
        domain: 'user',
        operator: this.name,
        subtask: this.subtask,
      });
    }
    const store = this.context.operatorStateStore() as HeapOperatorStateStore;
    return this.onBroadcastSide
      ? store.getBroadcastState(descriptor)
      : (store.getReadOnlyBroadcastState(descriptor) as BroadcastState<K, V>);
  }
  /** The context handed to the function with each record (and to onTimer). */
  protected readonly ctx: OnTimerContext & BroadcastContext = {
    timestamp: () => this.currentTimestamp,
    currentWatermark: () => this.watermark,
    getCurrentKey: () => (this.onBroadcastSide ? undefined : this.backend?.getCurrentKey()),
    output: <X>(tag: OutputTag<X>, value: X) => this.output.collectSide(tag.id, value, this.currentTimestamp),
    timerService: () => this.timerServiceView,
    timeDomain: () => this.domain,
    getBroadcastState: (descriptor) => this.getBroadcastState(descriptor),
    applyToKeyedState: <S>(descriptor: StateDescriptor, fn: (key: unknown, state: S) => void) => {
      if (!this.backend || !this.onBroadcastSide)
        throw new Error('applyToKeyedState() is for the broadcast side of a keyed broadcast process function');
      (this.backend as unknown as { applyToAllKeys(ns: unknown, d: StateDescriptor, f: (k: unknown, st: S) => void): void }).applyToAllKeys(
        undefined,
        descriptor,
        fn,
      );
    },
  };
  processElement(value: unknown, timestamp: number | undefined): void {
    this.recordsIn++;
    this.collector.timestamp = timestamp;
    this.currentTimestamp = timestamp;
    try {
      if (this.backend) this.backend.setCurrentKey((this.keySelector as (v: unknown) => unknown)(value));
      this.fn(value, this.ctx, this.collector);
    } catch (error) {
      if (error instanceof Error && (error as { code?: string }).code?.startsWith('WEIR_')) throw error;
      this.fail(error);
    }
  }
  /** A record of the second input (co-process functions). */
  processElement2(value: unknown, timestamp: number | undefined): void {
    const second = this.second as NonNullable<typeof this.second>;
    this.recordsIn++;
    this.collector.timestamp = timestamp;
    this.currentTimestamp = timestamp;
    this.onBroadcastSide = second.broadcastStates !== undefined;
    try {
      if (this.backend && second.keySelector) this.backend.setCurrentKey(second.keySelector(value));
      second.fn(value, this.ctx, this.collector);
    } catch (error) {
      if (error instanceof Error && (error as { code?: string }).code?.startsWith('WEIR_')) throw error;
      this.fail(error);
    } finally {
      this.onBroadcastSide = false;
    }
  }
  private fire(timestamp: number, domain: 'EVENT_TIME' | 'PROCESSING_TIME'): void {
    if (!this.onTimer) return;
    this.domain = domain;
    const ts = domain === 'EVENT_TIME' ? timestamp : undefined;
    this.collector.timestamp = ts;
    this.currentTimestamp = ts;
    try {
      this.onTimer(timestamp, this.ctx, this.collector);
    } catch (error) {
      if (error instanceof Error && (error as { code?: string }).code?.startsWith('WEIR_')) throw error;
      throw userFunctionError(error, this.name, this.subtask, 'onTimer()');
    }
  }
  /** @internal */
  onEventTime(timer: InternalTimer<unknown, undefined>): void {
    this.fire(timer.timestamp, 'EVENT_TIME');
  }
  /** @internal */
  onProcessingTime(timer: InternalTimer<unknown, undefined>): void {
    this.fire(timer.timestamp, 'PROCESSING_TIME');
  }
  override processWatermark(timestamp: number): void {
    this.watermark = timestamp;
    this.timers?.advanceWatermark(timestamp);
    // the timers fired above emitted their rows first; -Infinity and +Infinity (end of input) stay as they are
    super.processWatermark(timestamp - this.watermarkDelay);
  }
  override async close(): Promise<void> {
    this.timers?.dispose();
    await super.close();
  }
}

/**
 * Rolling reduce on a keyed stream: keeps the reduced value per key in value state and emits it
 * after every record (Flink's StreamGroupedReduceOperator).
 */
export class KeyedReduceOperator extends AbstractStreamOperator {
  private state!: ValueState<unknown>;
  constructor(
    name: string,
    private readonly reducer: (accumulated: unknown, value: unknown) => unknown,
    readonly keySelector: (value: unknown) => unknown,
    lifecycle?: FunctionLifecycle,
  ) {
    super(name, lifecycle);
  }
  private backend!: KeyedStateBackend;
  inputKeySelector(): (value: unknown) => unknown {
    return this.keySelector;
  }
  override setup(context: OperatorContext, output: Output): void {
    super.setup(context, output);
    this.backend = context.keyedBackend();
    this.state = this.backend.getValueState(new ValueStateDescriptor<unknown>('_reduce'));
  }
  processElement(value: unknown, timestamp: number | undefined): void {
    this.recordsIn++;
    let result: unknown;
    try {
      this.backend.setCurrentKey(this.keySelector(value));
      const previous = this.state.value();
      result = previous === undefined ? value : this.reducer(previous, value);
    } catch (error) {
      this.fail(error);
    }
    this.state.update(result);
    this.recordsOut++;
    this.output.collect(result, timestamp);
  }
}

/** Hands every record to a sink writer. */
export class SinkOperator extends AbstractStreamOperator {
  private writer!: SinkWriter<unknown>;
  constructor(
    name: string,
    private readonly sink: Sink<unknown>,
  ) {
    super(name);
  }
  override async open(): Promise<void> {
    this.writer = this.sink.createWriter(this.context);
    try {
      await this.writer.open?.(this.context.restoredFunctionStates);
    } catch (error) {
      throw userFunctionError(error, this.name, this.subtask, 'sink open()');
    }
  }
  processElement(value: unknown, timestamp: number | undefined): void {
    this.recordsIn++;
    try {
      this.writer.write(value, timestamp);
    } catch (error) {
      if (error instanceof Error && (error as { code?: string }).code?.startsWith('WEIR_')) throw error;
      this.fail(error);
    }
  }
  override processWatermark(): void {}
  override endInput(): void {
    this.writer.endInput?.();
  }
  /** The writer's pre-committed state at a barrier. */
  snapshotFunctionState(checkpointId: number): unknown {
    try {
      return this.writer.snapshotState?.(checkpointId);
    } catch (error) {
      throw userFunctionError(error, this.name, this.subtask, 'sink snapshotState()');
    }
  }
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    try {
      await this.writer.notifyCheckpointComplete?.(checkpointId);
    } catch (error) {
      throw userFunctionError(error, this.name, this.subtask, 'sink notifyCheckpointComplete()');
    }
  }
  notifyCheckpointAborted(checkpointId: number): void {
    this.writer.notifyCheckpointAborted?.(checkpointId);
  }
  override async close(): Promise<void> {
    try {
      await this.writer?.close?.();
    } catch (error) {
      throw userFunctionError(error, this.name, this.subtask, 'sink close()');
    }
  }
}
