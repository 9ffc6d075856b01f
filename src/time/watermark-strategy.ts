//! Watermark strategies (Flink's WatermarkStrategy): timestamp assigners, watermark generators, idleness.

/** Where a generator emits watermarks and idleness. */
export interface WatermarkOutput {
  /** Emits a watermark; an output ignores one that does not advance. */
  emitWatermark(timestamp: number): void;
  /** This input holds no watermark back until it emits again. */
  markIdle(): void;
  /** This input takes part in the watermark again. */
  markActive(): void;
}

/** Generates watermarks from events and/or periodically. */
export interface WatermarkGenerator<T> {
  /** Called for every record with its assigned timestamp. */
  onEvent(event: T, timestamp: number, output: WatermarkOutput): void;
  /**
   * Called every auto-watermark interval, and also when a source's reader has emitted records and
   * then has nothing more to read for now (the watermark then need not wait for the next tick).
   */
  onPeriodicEmit(output: WatermarkOutput): void;
}

/** Extracts a record's event time (ms). `recordTimestamp` is the timestamp it already carries, if any. */
export type TimestampAssigner<T> = (event: T, recordTimestamp: number | undefined) => number;

/** A clock for idleness detection; the runtime passes its processing-time clock. */
export interface Clock {
  now(): number;
}

/** Flink's lowest watermark, as JS sees it. */
export const MIN_WATERMARK = Number.NEGATIVE_INFINITY;

/**
 * Watermarks that trail the highest timestamp seen by a fixed bound: `max - bound - 1`
 * (Flink's BoundedOutOfOrdernessWatermarks), emitted periodically.
 */
export class BoundedOutOfOrdernessWatermarks<T> implements WatermarkGenerator<T> {
  private maxTimestamp = Number.NEGATIVE_INFINITY;
  constructor(private readonly outOfOrdernessMs: number) {}
  onEvent(_event: T, timestamp: number): void {
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
  }
  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.maxTimestamp !== Number.NEGATIVE_INFINITY) output.emitWatermark(this.maxTimestamp - this.outOfOrdernessMs - 1);
  }
}

export class NoWatermarks<T> implements WatermarkGenerator<T> {
  onEvent(): void {}
  onPeriodicEmit(): void {}
}

/**
 * Wraps a generator: an input that saw no event for `idleTimeoutMs` (by the clock) is marked
 * idle, and active again at its next event (Flink's WatermarksWithIdleness).
 */
export class WatermarksWithIdleness<T> implements WatermarkGenerator<T> {
  private lastEventAt: number;
  private idle = false;
  constructor(
    private readonly inner: WatermarkGenerator<T>,
    private readonly idleTimeoutMs: number,
    private readonly clock: Clock,
  ) {
    this.lastEventAt = clock.now();
  }
  onEvent(event: T, timestamp: number, output: WatermarkOutput): void {
    this.lastEventAt = this.clock.now();
    if (this.idle) {
      this.idle = false;
      output.markActive();
    }
    this.inner.onEvent(event, timestamp, output);
  }
  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.idle) return;
    if (this.clock.now() - this.lastEventAt >= this.idleTimeoutMs) {
      this.idle = true;
      output.markIdle();
      return;
    }
    this.inner.onPeriodicEmit(output);
  }
}

/** How a stream gets event time: a timestamp assigner, a watermark generator, optional idleness. */
export class WatermarkStrategy<T> {
  private constructor(
    private readonly generatorFactory: () => WatermarkGenerator<T>,
    /** The timestamp assigner, if records do not carry their timestamp already. */
    readonly timestampAssigner: TimestampAssigner<T> | undefined,
    /** Idle timeout in ms, if idleness detection is on. */
    readonly idleTimeoutMs: number | undefined,
  ) {}

  /** Watermarks trail the highest timestamp by `maxOutOfOrdernessMs`. */
  static forBoundedOutOfOrderness<T>(maxOutOfOrdernessMs: number): WatermarkStrategy<T> {
    if (!Number.isFinite(maxOutOfOrdernessMs) || maxOutOfOrdernessMs < 0) {
      throw new RangeError(`max out-of-orderness must be a non-negative number of ms, got ${maxOutOfOrdernessMs}`);
    }
    return new WatermarkStrategy<T>(() => new BoundedOutOfOrdernessWatermarks<T>(maxOutOfOrdernessMs), undefined, undefined);
  }

  /** Timestamps never decrease: the watermark is the highest timestamp seen minus 1 ms. */
  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return WatermarkStrategy.forBoundedOutOfOrderness<T>(0);
  }

  /** No watermarks at all (event time never advances, except at the end of a bounded input). */
  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => new NoWatermarks<T>(), undefined, undefined);
  }

  /** A custom generator. */
  static forGenerator<T>(factory: () => WatermarkGenerator<T>): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(factory, undefined, undefined);
  }

  /** Extracts the event time from each record. */
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    if (typeof assigner !== 'function') throw new TypeError('withTimestampAssigner() needs a function (event, recordTimestamp) => number');
    return new WatermarkStrategy<T>(this.generatorFactory, assigner, this.idleTimeoutMs);
  }

  /** Marks an input idle after `ms` without records, so it stops holding the watermark back. */
  withIdleness(ms: number): WatermarkStrategy<T> {
    if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`idle timeout must be a positive number of ms, got ${ms}`);
    return new WatermarkStrategy<T>(this.generatorFactory, this.timestampAssigner, ms);
  }

  /** A fresh generator for one input (a subtask or a source split). */
  createWatermarkGenerator(clock: Clock): WatermarkGenerator<T> {
    const generator = this.generatorFactory();
    return this.idleTimeoutMs === undefined ? generator : new WatermarksWithIdleness(generator, this.idleTimeoutMs, clock);
  }
}
