//! The source operator: polls a source reader, assigns timestamps, and generates watermarks per split with idleness.

import { preview } from '../core/codec.ts';
import { ErrorCodes, WeirError, userFunctionError } from '../core/errors.ts';
import { NoWatermarks, type WatermarkGenerator, type WatermarkOutput, type WatermarkStrategy } from '../time/watermark-strategy.ts';
import type { OperatorSample, SplitSample } from '../core/metrics.ts';
import type {
  OperatorContext,
  Output,
  ReaderOutput,
  Source,
  SourceOutput,
  SourceReader,
  SourceStatus,
  StreamOperator,
} from './operator.ts';

/** Checks an assigned timestamp: integer milliseconds, as Flink's long timestamps. */
export function checkTimestamp(timestamp: unknown, record: unknown, operator: string, subtask: number): number {
  if (typeof timestamp === 'number' && Number.isSafeInteger(timestamp)) return timestamp;
  const what = typeof timestamp === 'number' ? String(timestamp) : `a ${timestamp === null ? 'null' : typeof timestamp}`;
  throw new WeirError(
    `timestamp assigner of operator '${operator}' (subtask ${subtask}) returned ${what} for record ${preview(record)}; event timestamps must be integer milliseconds (safe integers, negative allowed)`,
    { code: ErrorCodes.INVALID_TIMESTAMP, domain: 'user', operator, subtask },
  );
}

/** Calls `tick` every auto-watermark interval, as actor mails, until `ended()`; returns a cancel function. */
export function everyWatermarkInterval(context: OperatorContext, ended: () => boolean, tick: () => void): () => void {
  const interval = context.autoWatermarkIntervalMs;
  const time = context.processingTime;
  let cancel: (() => void) | undefined;
  const arm = () => {
    if (interval <= 0 || ended()) return;
    cancel = time.registerTimer(time.now() + interval, () => {
      if (ended()) return;
      tick();
      arm();
    });
  };
  arm();
  return () => cancel?.();
}

/** Runs a timestamp assigner on a record, naming the operator when it throws or returns something that is not a timestamp. */
export function assignTimestamp(
  assigner: (value: unknown, recordTimestamp: number | undefined) => unknown,
  value: unknown,
  timestamp: number | undefined,
  operator: string,
  subtask: number,
): number {
  let assigned: unknown;
  try {
    assigned = assigner(value, timestamp);
  } catch (error) {
    throw userFunctionError(error, operator, subtask, 'timestamp assigner');
  }
  return checkTimestamp(assigned, value, operator, subtask);
}

/** Watermark bookkeeping of one input of a source (the whole subtask, or one split). */
class InputWatermark implements WatermarkOutput {
  watermark = Number.NEGATIVE_INFINITY;
  idle = false;
  released = false;
  /** Records of this input, the last one's event time, and the wall time of the poll that brought it (for samples). */
  records = 0;
  lastEventTime: number | undefined = undefined;
  lastRecordAt = 0;
  constructor(
    readonly generator: WatermarkGenerator<unknown> | undefined,
    private readonly owner: SourceOperator,
  ) {}
  emitWatermark(timestamp: number): void {
    if (timestamp > this.watermark) this.watermark = timestamp;
    if (this.idle) this.idle = false;
    this.owner.combine();
  }
  markIdle(): void {
    this.idle = true;
    this.owner.combine();
  }
  markActive(): void {
    this.idle = false;
    this.owner.combine();
  }
}

class SplitOutput implements SourceOutput {
  constructor(
    private readonly owner: SourceOperator,
    readonly input: InputWatermark,
  ) {}
  collect(value: unknown, timestamp?: number): void {
    this.owner.emit(value, timestamp, this.input);
  }
}

/** Reads a source within a chain: the chain's head when the task starts with a source. */
export class SourceOperator implements StreamOperator, ReaderOutput {
  recordsIn = 0;
  recordsOut = 0;
  private output!: Output;
  private context!: OperatorContext;
  private subtask = 0;
  private readonly main: InputWatermark;
  private readonly splits = new Map<string, SplitOutput>();
  private emittedWatermark = Number.NEGATIVE_INFINITY;
  private emittedIdle = false;
  private cancelPeriodic: (() => void) | undefined;
  private mainUsed = false;
  private ended = false;
  /** {@link recordsOut} when the generators were last asked for a watermark because the reader waited. */
  private recordsAtWaitEmit = 0;
  /** Wall time of the current poll: the arrival time of the records it emits (one clock read per poll, not per record). */
  private pollAt = 0;
  /** The reader of this subtask's share, created at setup. */
  reader!: SourceReader;

  constructor(
    readonly name: string,
    private readonly source: Source,
    private readonly strategy?: WatermarkStrategy<unknown>,
  ) {
    this.main = new InputWatermark(undefined, this);
  }

  setup(context: OperatorContext, output: Output): void {
    this.output = output;
    this.context = context;
    this.subtask = context.subtaskIndex;
    if (this.strategy) (this.main as { generator: WatermarkGenerator<unknown> | undefined }).generator = this.newGenerator();
    try {
      this.reader = this.source.createReader({
        operatorName: this.name,
        subtaskIndex: context.subtaskIndex,
        parallelism: context.parallelism,
        restoredStates: context.restoredFunctionStates,
      });
    } catch (error) {
      throw userFunctionError(error, this.name, this.subtask, 'source createReader()');
    }
  }

  private newGenerator(): WatermarkGenerator<unknown> {
    return (this.strategy as WatermarkStrategy<unknown>).createWatermarkGenerator(this.context.processingTime);
  }

  async open(): Promise<void> {
    try {
      await this.reader.open?.();
    } catch (error) {
      throw userFunctionError(error, this.name, this.subtask, 'source open()');
    }
    if (this.strategy)
      this.cancelPeriodic = everyWatermarkInterval(
        this.context,
        () => this.ended,
        () => this.onPeriodicEmit(),
      );
  }

  /** Asks every generator for its periodic watermark. */
  onPeriodicEmit(): void {
    if (this.mainUsed || this.splits.size === 0) this.main.generator?.onPeriodicEmit(this.main);
    for (const split of this.splits.values()) if (!split.input.released) split.input.generator?.onPeriodicEmit(split.input);
  }

  /**
   * The reader has nothing to read for now: if it emitted records since the last time, the generators
   * are asked for their periodic watermark at once, so that a window whose end those records passed
   * fires now rather than at the next auto-watermark tick (up to the whole interval later). A source
   * that never waits (a backlog, a bounded input read at full speed) keeps the periodic ticks only.
   */
  onReaderWaiting(): void {
    if (this.strategy === undefined || this.recordsOut === this.recordsAtWaitEmit || this.ended) return;
    if (this.context.autoWatermarkIntervalMs <= 0) return; // periodic watermarks are off
    this.recordsAtWaitEmit = this.recordsOut;
    this.onPeriodicEmit();
  }

  /** Recomputes the source's watermark: the minimum over active inputs; all idle means idle. */
  combine(): void {
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    const consider = (input: InputWatermark) => {
      if (input.released || input.idle) return;
      active++;
      if (input.watermark < min) min = input.watermark;
    };
    if (this.mainUsed || this.splits.size === 0) consider(this.main);
    for (const split of this.splits.values()) consider(split.input);
    if (active === 0) {
      if (!this.emittedIdle) {
        this.emittedIdle = true;
        this.output.emitWatermarkStatus(true);
      }
      return;
    }
    if (this.emittedIdle) {
      this.emittedIdle = false;
      this.output.emitWatermarkStatus(false);
    }
    if (min > this.emittedWatermark && min !== Number.NEGATIVE_INFINITY) {
      this.emittedWatermark = min;
      this.output.emitWatermark(min);
    }
  }

  /** @internal emits a record of an input, assigning its timestamp and feeding its generator. */
  emit(value: unknown, timestamp: number | undefined, input: InputWatermark): void {
    let ts = timestamp;
    const strategy = this.strategy;
    if (strategy) {
      const assigner = strategy.timestampAssigner;
      if (assigner) ts = assignTimestamp(assigner, value, timestamp, this.name, this.subtask);
    }
    // A record from a source marked idle makes it active first (Flink's WatermarkToDataOutput):
    // downstream, an idle channel does not hold the watermark back, so its records would be late.
    if (this.emittedIdle) {
      this.emittedIdle = false;
      this.output.emitWatermarkStatus(false);
    }
    // As Flink: the record first, then the generator sees it (a punctuated watermark follows it).
    this.recordsOut++;
    input.records++;
    input.lastEventTime = ts;
    input.lastRecordAt = this.pollAt;
    this.output.collect(value, ts);
    if (strategy && ts !== undefined) input.generator?.onEvent(value, ts, input);
  }

  collect(value: unknown, timestamp?: number): void {
    this.mainUsed = true;
    this.emit(value, timestamp, this.main);
  }

  collectSide(tag: string, value: unknown, timestamp?: number): void {
    this.output.collectSide(tag, value, timestamp);
  }

  createOutputForSplit(splitId: string): SourceOutput {
    let split = this.splits.get(splitId);
    if (!split) {
      split = new SplitOutput(this, new InputWatermark(this.strategy ? this.newGenerator() : undefined, this));
      this.splits.set(splitId, split);
    }
    return split;
  }

  releaseOutputForSplit(splitId: string): void {
    const split = this.splits.get(splitId);
    if (split) {
      split.input.released = true;
      this.combine();
    }
  }

  /** Polls the reader for up to `maxRecords` records. */
  poll(maxRecords: number): SourceStatus {
    this.pollAt = Date.now();
    try {
      return this.reader.pollNext(this, maxRecords);
    } catch (error) {
      if (error instanceof WeirError || (error as { code?: string })?.code?.startsWith?.('WEIR_')) throw error;
      throw userFunctionError(error, this.name, this.subtask, 'source');
    }
  }

  processElement(): void {
    throw new Error('a source has no input');
  }

  /** The reader's position (its replay point after a restore). */
  snapshotFunctionState(checkpointId: number): unknown {
    return this.reader.snapshotState?.(checkpointId);
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.reader.notifyCheckpointComplete?.(checkpointId);
  }

  /** Each split's watermark, idleness, last record (for samples); the subtask's own input when it has no splits. */
  splitSamples(): SplitSample[] {
    const out: SplitSample[] = [];
    const add = (split: string, input: InputWatermark) => {
      const sample: SplitSample = { split, watermark: input.watermark, idle: input.idle, records: input.records };
      if (input.lastEventTime !== undefined) sample.lastEventTime = input.lastEventTime;
      if (input.records > 0) sample.lastRecordAt = input.lastRecordAt;
      out.push(sample);
    };
    if (this.mainUsed || this.splits.size === 0) {
      const context = this.context;
      add(this.reader?.mainSplitName ?? `${context?.subtaskIndex ?? 0}/${context?.parallelism ?? 1}`, this.main);
    }
    // A file source's last, empty split ('') only releases the watermark.
    for (const [id, split] of this.splits) if (id !== '' || split.input.records > 0) add(id, split.input);
    return out;
  }

  /** Output watermark; `no-watermarks` when the strategy is `noWatermarks()`. */
  sample(into: OperatorSample): void {
    into.outputWatermark = this.emittedWatermark;
    if (this.main.generator instanceof NoWatermarks) into.neverFires = 'no-watermarks';
  }

  /** The reader's own counters, if it keeps any. */
  counters(): Record<string, number> {
    return this.reader?.counters?.() ?? {};
  }

  processWatermark(timestamp: number): void {
    // Only the end of input reaches here: the final watermark closes every window.
    this.ended = true;
    this.cancelPeriodic?.();
    if (this.emittedIdle) {
      this.emittedIdle = false;
      this.output.emitWatermarkStatus(false);
    }
    if (timestamp > this.emittedWatermark) {
      this.emittedWatermark = timestamp;
      this.output.emitWatermark(timestamp);
    }
  }

  endInput(): void {}

  async close(): Promise<void> {
    this.ended = true;
    this.cancelPeriodic?.();
    try {
      await this.reader.close?.();
    } catch (error) {
      throw userFunctionError(error, this.name, this.subtask, 'source close()');
    }
  }
}
