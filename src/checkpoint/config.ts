//! Checkpointing and restart settings, as a job's configuration carries them.

/** Checkpointing settings (Flink's CheckpointConfig). */
export interface CheckpointConfig {
  /** Time between checkpoint triggers. */
  intervalMs: number;
  /** exactly-once aligns barriers (default); at-least-once does not. */
  mode: 'exactly-once' | 'at-least-once';
  /** A checkpoint not complete after this long is aborted. */
  timeoutMs: number;
  /** Least time between the end of one checkpoint and the start of the next. */
  minPauseMs: number;
  /** Checkpoints in progress at once. */
  maxConcurrent: number;
  /** Failed checkpoints in a row the job tolerates before it fails. */
  tolerableFailures: number;
  /** Completed checkpoints to keep. */
  retain: number;
  /**
   * Unaligned checkpoints (Flink's `enableUnalignedCheckpoints`): barriers overtake queued batches
   * and the batches they overtook become part of the checkpoint, replayed on restore. Exactly-once
   * only; savepoints stay aligned. Default false.
   */
  unaligned?: boolean;
  /**
   * With {@link unaligned}: a checkpoint starts aligned and a subtask switches it to unaligned once
   * this long has passed since the checkpoint was triggered (Flink's
   * `execution.checkpointing.aligned-checkpoint-timeout`). 0 (default): unaligned from the start.
   */
  alignedCheckpointTimeoutMs?: number;
}

/** Restart strategies (Flink's): none, fixed delay, exponential delay, failure rate. */
export type RestartStrategy =
  | { kind: 'none' }
  | { kind: 'fixed-delay'; attempts: number; delayMs: number }
  | { kind: 'exponential-delay'; initialDelayMs: number; maxDelayMs: number; multiplier: number; attempts: number }
  | { kind: 'failure-rate'; maxFailures: number; intervalMs: number; delayMs: number };
