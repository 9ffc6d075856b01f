//! The checkpoint coordinator (Flink's CheckpointCoordinator): triggers checkpoints, collects acknowledgements, completes, notifies.

import { isNonRetriable } from '../core/errors.ts';
import type { Barrier } from './barrier-aligner.ts';
import { SYSTEM_RUNTIME_CLOCK, type CancelTimer, type RuntimeClock } from '../time/processing-time.ts';

/** A checkpoint every subtask acknowledged. */
export interface CompletedCheckpoint {
  id: number;
  timestamp: number;
  kind: 'checkpoint' | 'savepoint';
  /** Encoded operator state per `operatorId/subtask`. */
  states: Map<string, Uint8Array>;
  /** Total encoded bytes. */
  bytes: number;
  /** Trigger to last acknowledgement. */
  durationMs: number;
}

/** How a checkpoint ended: expected outcomes are values, not exceptions. */
export type CheckpointOutcome =
  | { status: 'completed'; checkpoint: CompletedCheckpoint }
  | { status: 'declined'; id: number; reason: string }
  | { status: 'aborted'; id: number; reason: string };

/** What the coordinator needs from the job it coordinates. */
export interface CheckpointIo {
  /** Sends a trigger (with its barrier) to every subtask. */
  trigger(barrier: Barrier): void;
  /** Makes a completed checkpoint durable (storage); completion waits for it. */
  store(checkpoint: CompletedCheckpoint): Promise<void>;
  /** Tells every subtask the checkpoint completed (two-phase commits commit). */
  notifyComplete(id: number): Promise<void>;
  /** Tells every subtask a checkpoint was given up (`reason`, for the job's checkpoint history). */
  abort(id: number, reason?: string): void;
  /** Too many checkpoints failed in a row, or storage failed in a way no retry cures (`cause`): the job must fail. */
  failJob(reason: string, cause?: Error): void;
}

/** Checkpoint coordinator settings. */
export interface CheckpointCoordinatorConfig {
  intervalMs: number;
  timeoutMs: number;
  minPauseMs: number;
  maxConcurrent: number;
  tolerableFailures: number;
}

interface Pending {
  barrier: Barrier;
  startedAt: number;
  waiting: Set<string>;
  states: Map<string, Uint8Array>;
  bytes: number;
  cancelTimer: CancelTimer;
  settle: (outcome: CheckpointOutcome) => void;
  done: Promise<CheckpointOutcome>;
}

/**
 * Coordinates checkpoints of one job attempt.
 *
 * Threading model: main thread; acknowledgements arrive from worker callbacks or the local
 * executor. Life cycle: created per job attempt with the next checkpoint id (ids keep increasing
 * across restarts), {@link start}ed once the subtasks run, {@link stop}ped when the attempt ends.
 */
export class CheckpointCoordinator {
  private readonly pending = new Map<number, Pending>();
  private nextId: number;
  private periodic: CancelTimer | undefined;
  private lastFinishedAt = 0;
  private consecutiveFailures = 0;
  private stopped = false;
  /** The newest completed checkpoint of this attempt. */
  latest: CompletedCheckpoint | undefined;
  /** Checkpoints completed / failed in this attempt (metrics). */
  completedCount = 0;
  failedCount = 0;

  constructor(
    private config: CheckpointCoordinatorConfig,
    /** Every `vertex/subtask` that must acknowledge. */
    private readonly tasks: readonly string[],
    private readonly io: CheckpointIo,
    firstId = 1,
    /** Timers and timestamps: the wall clock, or a simulation's virtual one. */
    private readonly clock: RuntimeClock = SYSTEM_RUNTIME_CLOCK,
  ) {
    this.nextId = firstId;
  }

  /** The id the next checkpoint will get. */
  get nextCheckpointId(): number {
    return this.nextId;
  }

  /** Starts periodic checkpoints. */
  start(): void {
    this.schedule(this.config.intervalMs);
  }

  private schedule(delay: number): void {
    if (this.stopped || this.config.intervalMs <= 0) return;
    this.periodic?.();
    this.periodic = this.clock.setTimer(Math.max(0, delay), () => this.periodicTrigger(), 'checkpoint interval');
  }

  private periodicTrigger(): void {
    if (this.stopped) return;
    const sinceLast = this.clock.now() - this.lastFinishedAt;
    if (this.pending.size >= this.config.maxConcurrent || sinceLast < this.config.minPauseMs) {
      this.schedule(Math.max(this.config.minPauseMs - sinceLast, 10));
      return;
    }
    void this.trigger('checkpoint');
    this.schedule(this.config.intervalMs);
  }

  /** Triggers a checkpoint (or savepoint) now; resolves when it completed or failed. */
  trigger(kind: 'checkpoint' | 'savepoint' = 'checkpoint'): Promise<CheckpointOutcome> {
    const id = this.nextId++;
    if (this.stopped) return Promise.resolve({ status: 'aborted', id, reason: 'the job attempt has ended' });
    const barrier: Barrier = { id, timestamp: this.clock.now(), kind };
    let settle!: (outcome: CheckpointOutcome) => void;
    const done = new Promise<CheckpointOutcome>((resolve) => (settle = resolve));
    const pending: Pending = {
      barrier,
      startedAt: this.clock.monotonic(),
      waiting: new Set(this.tasks),
      states: new Map(),
      bytes: 0,
      cancelTimer: this.clock.setTimer(
        this.config.timeoutMs,
        () => this.fail(id, 'aborted', `checkpoint ${id} expired after ${this.config.timeoutMs} ms`),
        `checkpoint ${id} timeout`,
      ),
      settle,
      done,
    };
    this.pending.set(id, pending);
    this.io.trigger(barrier);
    return done;
  }

  /** A subtask's part of a checkpoint. */
  acknowledge(task: string, id: number, operators: Record<string, Uint8Array>, subtask: number): void {
    const pending = this.pending.get(id);
    if (!pending || !pending.waiting.delete(task)) return;
    for (const [operatorId, bytes] of Object.entries(operators)) {
      pending.states.set(`${operatorId}/${subtask}`, bytes);
      pending.bytes += bytes.byteLength;
    }
    if (pending.waiting.size === 0) void this.complete(pending);
  }

  /** A subtask could not take its part. */
  decline(task: string, id: number, reason: string): void {
    if (this.pending.has(id)) this.fail(id, 'declined', `checkpoint ${id} declined by ${task}: ${reason}`);
  }

  private async complete(pending: Pending): Promise<void> {
    const id = pending.barrier.id;
    pending.cancelTimer();
    const checkpoint: CompletedCheckpoint = {
      id,
      timestamp: pending.barrier.timestamp,
      kind: pending.barrier.kind,
      states: pending.states,
      bytes: pending.bytes,
      durationMs: this.clock.monotonic() - pending.startedAt,
    };
    try {
      await this.io.store(checkpoint);
    } catch (error) {
      this.fail(id, 'declined', `checkpoint ${id} could not be stored: ${(error as Error).message}`);
      // A full or read-only folder stays so: the job fails now, not after the tolerable failures.
      if (isNonRetriable(error) && !this.stopped) this.io.failJob(`checkpoint ${id} could not be stored`, error as Error);
      return;
    }
    if (!this.pending.delete(id)) return;
    // Older checkpoints still in flight are subsumed.
    for (const older of [...this.pending.keys()]) if (older < id) this.fail(older, 'aborted', `subsumed by checkpoint ${id}`);
    this.latest = checkpoint;
    this.completedCount++;
    this.consecutiveFailures = 0;
    this.lastFinishedAt = this.clock.now();
    // Whoever waits for this checkpoint (the final one, a savepoint) may rely on every subtask
    // having committed it: settle only after the notification went through.
    if (!this.stopped) await this.io.notifyComplete(id);
    pending.settle({ status: 'completed', checkpoint });
  }

  private fail(id: number, status: 'declined' | 'aborted', reason: string): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    pending.cancelTimer();
    this.failedCount++;
    this.lastFinishedAt = this.clock.now();
    if (!this.stopped) this.io.abort(id, reason);
    pending.settle({ status, id, reason });
    if (status === 'declined' || reason.includes('expired')) {
      if (++this.consecutiveFailures > this.config.tolerableFailures && !this.stopped) {
        this.io.failJob(
          `${this.consecutiveFailures} checkpoints failed in a row (tolerable: ${this.config.tolerableFailures}); last: ${reason}`,
        );
      }
    }
  }

  /** Stops periodic triggers (stop-with-savepoint: no checkpoint may commit after the savepoint). */
  suspendPeriodic(): void {
    this.config = { ...this.config, intervalMs: 0 };
    this.periodic?.();
  }

  /** Stops triggering and abandons checkpoints in flight. */
  stop(): void {
    this.stopped = true;
    this.periodic?.();
    for (const id of [...this.pending.keys()]) this.fail(id, 'aborted', 'the job attempt ended');
  }
}
