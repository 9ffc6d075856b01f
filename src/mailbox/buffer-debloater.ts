//! Buffer debloating: sizes a subtask's input batches so that its credits hold a target time of its measured throughput.

/** Settings of a {@link BufferDebloater}. */
export interface BufferDebloatConfig {
  /** Time of throughput all of an input's credits together should hold, in ms (Flink's buffer-debloat.target). */
  targetMs: number;
  /** Largest batch (the configured batch size). */
  maxBatch: number;
  /** Credits per channel. */
  credits: number;
  /** Smallest batch asked for (default 4 elements). */
  minBatch?: number;
  /** How often throughput is measured and a new size decided, in ms (default 200, as Flink's buffer-debloat.period). */
  periodMs?: number;
  /** The batch size senders start with, before the first measurement (default {@link DEBLOAT_INITIAL_BATCH}). */
  initialBatch?: number;
}

/**
 * Batch size senders start with when debloating is on: small, so that a slow consumer does not
 * have full batches queued before its throughput is first measured (Flink starts at the full
 * buffer size; a job's first checkpoints then wait for them). The first measurement raises it.
 */
export const DEBLOAT_INITIAL_BATCH = 64;

/** Weight of the newest throughput sample in the moving average. */
const SMOOTHING = 0.3;
/** A new size is announced only when it differs from the last by more than this share (Flink's threshold-percentages, 25 %). */
const THRESHOLD = 0.25;

/**
 * Flink's buffer debloater for one subtask's input gate. Every period it measures the records the
 * subtask consumed per second of time it was not idle (waiting for input is not counted, so a
 * starved consumer is not mistaken for a slow one), smooths that, and computes the batch size at
 * which all live channels' credits together hold `targetMs` of it:
 * `throughput × target / (channels × credits)`, clamped to `minBatch..maxBatch`. Senders then
 * cut their batches at that size, so a slow consumer has about `targetMs` of work queued ahead of
 * a checkpoint barrier instead of `credits × batch size` records.
 *
 * Threading model: the owning actor's thread; no allocation per call. Life cycle: as the subtask.
 */
export class BufferDebloater {
  private readonly minBatch: number;
  private readonly periodMs: number;
  private periodStart = -1;
  private recordsAtStart = 0;
  private idleSince = -1;
  private idleMs = 0;
  private average = -1;
  /** The batch size last announced to the senders. */
  announced: number;

  constructor(private readonly config: BufferDebloatConfig) {
    this.minBatch = Math.min(config.maxBatch, config.minBatch ?? 4);
    this.periodMs = config.periodMs ?? 200;
    this.announced = Math.min(config.maxBatch, config.initialBatch ?? DEBLOAT_INITIAL_BATCH);
  }

  /** The subtask found no input: idle time starts. */
  idleStart(now: number): void {
    if (this.idleSince < 0) this.idleSince = now;
  }

  /** Input arrived: idle time ends. */
  idleEnd(now: number): void {
    if (this.idleSince >= 0) {
      this.idleMs += now - this.idleSince;
      this.idleSince = -1;
    }
  }

  /** Whether the subtask is waiting for input. */
  get idle(): boolean {
    return this.idleSince >= 0;
  }

  /**
   * Called after each run slice with the subtask's total records consumed: once per period,
   * returns a new batch size to announce, else undefined.
   */
  update(now: number, recordsConsumed: number, liveChannels: number): number | undefined {
    if (this.periodStart < 0) {
      this.periodStart = now;
      this.recordsAtStart = recordsConsumed;
      return undefined;
    }
    const elapsed = now - this.periodStart;
    if (elapsed < this.periodMs) return undefined;
    let idle = this.idleMs;
    if (this.idleSince >= 0) {
      idle += now - this.idleSince;
      this.idleSince = now;
    }
    const busy = elapsed - idle;
    const records = recordsConsumed - this.recordsAtStart;
    this.periodStart = now;
    this.recordsAtStart = recordsConsumed;
    this.idleMs = 0;
    if (liveChannels === 0) return undefined;
    const { targetMs, maxBatch, credits } = this.config;
    let next: number;
    if (busy < elapsed * 0.1) {
      // Mostly waiting for input: nothing queues, so batches may be as large (and cheap) as allowed.
      next = maxBatch;
    } else {
      const throughput = (records * 1000) / busy;
      this.average = this.average < 0 ? throughput : this.average + SMOOTHING * (throughput - this.average);
      const size = Math.round((this.average * targetMs) / 1000 / (liveChannels * credits));
      next = Math.max(this.minBatch, Math.min(maxBatch, size));
    }
    if (next === this.announced) return undefined;
    if (Math.abs(next - this.announced) <= this.announced * THRESHOLD && next !== maxBatch && next !== this.minBatch) return undefined;
    this.announced = next;
    return next;
  }
}
