//! The interval join operator: two keyed inputs buffered in map state by timestamp, joined on arrival, cleaned up by event-time timers (Flink's IntervalJoinOperator).

import { ErrorCodes, WeirError, userFunctionError } from '../core/errors.ts';
import { MapStateDescriptor } from '../state/descriptors.ts';
import type { KeyedStateBackend } from '../state/keyed-backend.ts';
import type { InternalMapState } from '../state/state-types.ts';
import type { InternalTimer } from '../state/timer-service.ts';
import type { FunctionLifecycle, OperatorContext, Output } from './operator.ts';
import { OperatorTimers, type Triggerable } from './operator-timers.ts';
import { AbstractStreamOperator, type Collector } from './operators.ts';
import type { OutputTag } from './output-tag.ts';

/** What a process join function gets with each joined pair (Flink's `ProcessJoinFunction.Context`). */
export interface ProcessJoinContext {
  /** Timestamp of the left record of the pair. */
  getLeftTimestamp(): number;
  /** Timestamp of the right record of the pair. */
  getRightTimestamp(): number;
  /** Timestamp of the result: the larger of the two. */
  getTimestamp(): number;
  /** Emits to a side output, with the result's timestamp. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** The call an interval join makes per matching pair. */
export type ProcessJoinCall = (left: unknown, right: unknown, ctx: ProcessJoinContext, out: Collector<unknown>) => void;

/** How an interval join matches: `right.ts ∈ [left.ts + lowerBound, left.ts + upperBound]`, each end inclusive or not. */
export interface IntervalJoinSpec {
  /** Lower bound in ms (may be negative); at most `upperBound`. */
  lowerBound: number;
  /** Upper bound in ms. */
  upperBound: number;
  lowerBoundInclusive: boolean;
  upperBoundInclusive: boolean;
  /** Side output id for late left records, if asked (otherwise they are dropped and counted). */
  leftLateDataTag?: string;
  /** Side output id for late right records, if asked. */
  rightLateDataTag?: string;
}

const LEFT = 'left';
const RIGHT = 'right';
type Side = typeof LEFT | typeof RIGHT;

/**
 * Flink's IntervalJoinOperator, for two inputs keyed by the same key:
 *
 * - each record goes into its side's buffer, a map state `timestamp → records` of its key, and is
 *   joined at once with every buffered record of the other side whose timestamp is in range;
 *   a pair is emitted with the larger of the two timestamps;
 * - a record behind the watermark is late: it is dropped and counted (or sent to the side's
 *   late-data output) and never buffered, so it cannot match anything;
 * - an event-time timer removes a buffered bucket once the watermark shows that no record of the
 *   other side that is still to come can match it: a left record at `t` at `t + upper` (at `t`
 *   when `upper <= 0`), a right record at `t` at `t - lower` (at `t` when `lower >= 0`), with
 *   the bounds made inclusive first (an exclusive bound moves by 1 ms, timestamps being integers).
 *
 * Threading model: the owning subtask actor's thread. Life cycle: state and timers are set up in
 * {@link setup}; timers are disposed at {@link close}.
 */
export class IntervalJoinOperator extends AbstractStreamOperator implements Triggerable<string> {
  /** Inclusive bounds: an exclusive bound is moved one millisecond inwards. */
  private readonly lower: number;
  private readonly upper: number;
  private backend!: KeyedStateBackend;
  private timers!: OperatorTimers<string>;
  private leftBuffer!: InternalMapState<number, unknown[]>;
  private rightBuffer!: InternalMapState<number, unknown[]>;
  private lateDropped = 0;
  private leftBuffered = 0;
  private rightBuffered = 0;
  private leftTs = 0;
  private rightTs = 0;
  private resultTs = 0;

  private readonly collector: Collector<unknown> = {
    collect: (value) => {
      this.recordsOut++;
      this.output.collect(value, this.resultTs);
    },
  };

  private readonly ctx: ProcessJoinContext = {
    getLeftTimestamp: () => this.leftTs,
    getRightTimestamp: () => this.rightTs,
    getTimestamp: () => this.resultTs,
    output: <X>(tag: OutputTag<X>, value: X) => this.output.collectSide(tag.id, value, this.resultTs),
  };

  constructor(
    name: string,
    private readonly spec: IntervalJoinSpec,
    private readonly fn: ProcessJoinCall,
    /** Key of a left record (also what the runtime reads for prefetching keys). */
    readonly keySelector: (value: unknown) => unknown,
    private readonly rightKeySelector: (value: unknown) => unknown,
    lifecycle?: FunctionLifecycle,
  ) {
    super(name, lifecycle);
    if (!(spec.lowerBound <= spec.upperBound))
      throw new WeirError(
        `interval join '${name}': the lower bound (${spec.lowerBound}) must not exceed the upper bound (${spec.upperBound})`,
        {
          code: ErrorCodes.CONFIG,
          domain: 'user',
          operator: name,
        },
      );
    this.lower = spec.lowerBoundInclusive ? spec.lowerBound : spec.lowerBound + 1;
    this.upper = spec.upperBoundInclusive ? spec.upperBound : spec.upperBound - 1;
  }

  override setup(context: OperatorContext, output: Output): void {
    super.setup(context, output);
    this.backend = context.keyedBackend();
    this.timers = new OperatorTimers<string>(context, this.backend, this, 'interval-join-timers');
    this.leftBuffer = this.backend.getMapState(new MapStateDescriptor<number, unknown[]>('interval-join-left'));
    this.rightBuffer = this.backend.getMapState(new MapStateDescriptor<number, unknown[]>('interval-join-right'));
  }

  inputKeySelector(input: 1 | 2): (value: unknown) => unknown {
    return input === 1 ? this.keySelector : this.rightKeySelector;
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    this.recordsIn++;
    const ts = this.checkTimestamp(timestamp, LEFT);
    this.setKey(this.keySelector, value);
    if (this.isLate(ts, value, LEFT)) return;
    this.buffer(this.leftBuffer, ts, value);
    this.leftBuffered++;
    for (const [otherTs, others] of this.rightBuffer.entries()) {
      if (otherTs < ts + this.lower || otherTs > ts + this.upper) continue;
      for (const other of others) this.join(value, other, ts, otherTs);
    }
    this.timers.registerEventTimeTimer(LEFT, this.upper > 0 ? ts + this.upper : ts);
  }

  processElement2(value: unknown, timestamp: number | undefined): void {
    this.recordsIn++;
    const ts = this.checkTimestamp(timestamp, RIGHT);
    this.setKey(this.rightKeySelector, value);
    if (this.isLate(ts, value, RIGHT)) return;
    this.buffer(this.rightBuffer, ts, value);
    this.rightBuffered++;
    // Seen from the right record, the left one must lie in [ts - upper, ts - lower].
    for (const [otherTs, others] of this.leftBuffer.entries()) {
      if (otherTs < ts - this.upper || otherTs > ts - this.lower) continue;
      for (const other of others) this.join(other, value, otherTs, ts);
    }
    this.timers.registerEventTimeTimer(RIGHT, this.lower < 0 ? ts - this.lower : ts);
  }

  override processWatermark(timestamp: number): void {
    this.timers.advanceWatermark(timestamp);
    super.processWatermark(timestamp);
  }

  /** @internal a buffered bucket can no longer match: remove it. */
  onEventTime(timer: InternalTimer<unknown, string>): void {
    if (timer.namespace === LEFT) {
      const ts = this.upper > 0 ? timer.timestamp - this.upper : timer.timestamp;
      this.leftBuffered -= this.leftBuffer.get(ts)?.length ?? 0;
      this.leftBuffer.remove(ts);
    } else {
      const ts = this.lower < 0 ? timer.timestamp + this.lower : timer.timestamp;
      this.rightBuffered -= this.rightBuffer.get(ts)?.length ?? 0;
      this.rightBuffer.remove(ts);
    }
  }

  /** @internal the interval join sets no processing-time timers. */
  onProcessingTime(): void {}

  /** Late records dropped, and records buffered now on either side (they return to 0 once the watermark passes them). */
  counters(): Record<string, number> {
    return { numLateRecordsDropped: this.lateDropped, leftBufferedRecords: this.leftBuffered, rightBufferedRecords: this.rightBuffered };
  }

  override async close(): Promise<void> {
    this.timers?.dispose();
    await super.close();
  }

  private checkTimestamp(timestamp: number | undefined, side: Side): number {
    if (timestamp !== undefined) return timestamp;
    throw new WeirError(
      `interval join '${this.name}' (subtask ${this.subtask}) got a ${side} record without a timestamp: interval joins work in event time; ` +
        'assign timestamps with assignTimestampsAndWatermarks() or a WatermarkStrategy on the source',
      { code: ErrorCodes.INVALID_TIMESTAMP, domain: 'user', operator: this.name, subtask: this.subtask },
    );
  }

  private setKey(selector: (value: unknown) => unknown, value: unknown): void {
    let key: unknown;
    try {
      key = selector(value);
    } catch (error) {
      throw userFunctionError(error, this.name, this.subtask, 'key selector');
    }
    this.backend.setCurrentKey(key);
  }

  private isLate(ts: number, value: unknown, side: Side): boolean {
    if (ts >= this.timers.currentWatermark()) return false;
    const tag = side === LEFT ? this.spec.leftLateDataTag : this.spec.rightLateDataTag;
    if (tag !== undefined) this.output.collectSide(tag, value, ts);
    else this.lateDropped++;
    return true;
  }

  private buffer(state: InternalMapState<number, unknown[]>, ts: number, value: unknown): void {
    const bucket = state.get(ts);
    if (bucket === undefined) state.put(ts, [value]);
    else {
      bucket.push(value);
      state.put(ts, bucket);
    }
  }

  private join(left: unknown, right: unknown, leftTs: number, rightTs: number): void {
    this.leftTs = leftTs;
    this.rightTs = rightTs;
    this.resultTs = Math.max(leftTs, rightTs);
    try {
      this.fn(left, right, this.ctx, this.collector);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && code.startsWith('WEIR_')) throw error;
      throw userFunctionError(error, this.name, this.subtask);
    }
  }
}
