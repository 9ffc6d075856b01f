//! Barrier handling as an explicit state machine: aligned (block channels until a checkpoint's barrier came on all), unaligned (snapshot at the first barrier, capture what the barriers overtook), at-least-once (only count).

/** A checkpoint barrier as it travels in band. */
export interface Barrier {
  id: number;
  timestamp: number;
  kind: 'checkpoint' | 'savepoint';
}

/** What the aligner asks of its actor. */
export interface AlignmentHooks {
  /** Stop taking input from a channel (exactly-once, after its barrier). */
  block(channel: number): void;
  /** Take input from every channel again. */
  unblockAll(): void;
  /** The barrier arrived on every live channel: snapshot, forward the barrier, acknowledge. */
  aligned(barrier: Barrier): void;
  /** Alignment for a checkpoint was given up (a newer barrier overtook it): decline it. */
  aborted(checkpointId: number, reason: string): void;
  /**
   * Unaligned: the checkpoint starts now (first barrier, or the aligned timeout passed): snapshot
   * the operators, send the barrier ahead of the outputs' unshipped batches, and from now on
   * record the input consumed on every channel whose barrier has not come yet.
   */
  startUnaligned?(barrier: Barrier): void;
  /**
   * Unaligned: the barrier came on `channel`. `overtook`: it is a priority barrier, so the
   * channel's queued batches are in-flight data of the checkpoint; otherwise it came in band and
   * the recorded input up to it is the channel's in-flight data.
   */
  channelBarrier?(channel: number, overtook: boolean): void;
  /** Unaligned: every live channel's in-flight data is known: acknowledge. */
  unalignedComplete?(barrier: Barrier): void;
  /** Aligned with a timeout: call {@link BarrierAligner.alignmentTimedOut} after `delayMs` unless aligned. */
  armTimeout?(barrier: Barrier, delayMs: number): void;
  /** The clock barrier timestamps are compared with (`Date.now()` unless a simulation gives its own). */
  now?(): number;
}

/** Unaligned checkpoint settings of a {@link BarrierAligner}. */
export interface UnalignedOptions {
  /** Checkpoints (not savepoints) go unaligned. */
  enabled: boolean;
  /** Start aligned, switch after this long since the trigger; 0 = unaligned at once. */
  alignedTimeoutMs: number;
}

/** Checkpointing guarantee: exactly-once aligns; at-least-once does not block. */
export type CheckpointingMode = 'exactly-once' | 'at-least-once';

/** No checkpoint in progress. */
interface Idle {
  readonly name: 'idle';
}
/** Waiting for one checkpoint's barrier on the remaining channels. */
interface Aligning {
  readonly name: 'aligning';
  readonly barrier: Barrier;
  readonly seen: Set<number>;
}
/** Unaligned: snapshot taken at the first barrier; waiting for the barrier on the other channels, recording their input. */
interface Unaligned {
  readonly name: 'unaligned';
  readonly barrier: Barrier;
  readonly seen: Set<number>;
}
/** The aligner's state. */
export type AlignerState = Idle | Aligning | Unaligned;

const IDLE: Idle = { name: 'idle' };

/**
 * Flink's barrier handler for a subtask with several input channels.
 *
 * Exactly-once: the first barrier of checkpoint N moves Idle → Aligning(N) and blocks its channel;
 * every further barrier of N blocks its channel too; when every channel that has not ended has
 * delivered N, all channels are unblocked and the subtask snapshots (Aligning → Idle). Records of
 * blocked channels stay queued in the mailbox, within its bound (their senders run out of credit).
 * A barrier of a newer checkpoint while aligning aborts the older one. A barrier of an older
 * checkpoint than the last one completed is stale and ignored. An ended channel counts as having
 * delivered every later barrier.
 *
 * At-least-once: the same counting, no blocking: records after a barrier are processed before the
 * snapshot, so they may be replayed after a restore.
 *
 * Unaligned (Flink's unaligned checkpoints, exactly-once, checkpoints only): the first barrier of
 * N — a priority barrier that overtook its channel's queue, or an in-band one — moves Idle →
 * Unaligned(N) and the subtask snapshots at once, sending N ahead of its outputs' unshipped
 * batches. Then each channel's barrier marks where its in-flight data ends: the batches a
 * priority barrier overtook, or the input consumed since the snapshot up to an in-band barrier.
 * No channel is blocked. When every live channel has delivered N, the in-flight data is complete
 * (Unaligned → Idle). With an aligned timeout, N starts aligned and switches to Unaligned when the
 * timeout fires or a priority barrier of N comes (an upstream switched first); the channels
 * already aligned hold no in-flight data (they were blocked at their barrier).
 *
 * Threading model: the owning actor's thread. Life cycle: lives as long as the subtask.
 */
export class BarrierAligner {
  private state: AlignerState = IDLE;
  private readonly ended = new Set<number>();
  private lastCompleted = 0;
  /** True while an unaligned checkpoint records the input of channels whose barrier has not come. */
  recording = false;

  constructor(
    private readonly channels: number,
    private readonly mode: CheckpointingMode,
    private readonly hooks: AlignmentHooks,
    private readonly unaligned: UnalignedOptions = { enabled: false, alignedTimeoutMs: 0 },
  ) {}

  /** Whether the input of `channel` is in-flight data of the current unaligned checkpoint. */
  isRecording(channel: number): boolean {
    const state = this.state;
    return state.name === 'unaligned' && !state.seen.has(channel) && !this.ended.has(channel);
  }

  /** The unaligned checkpoint in progress, if any. */
  get unalignedBarrier(): Barrier | undefined {
    return this.state.name === 'unaligned' ? this.state.barrier : undefined;
  }

  /** The current state (for tests and metrics). */
  get current(): AlignerState {
    return this.state;
  }

  /** A barrier arrived on `channel`: in band, or as a priority barrier that overtook the channel's queue. */
  onBarrier(channel: number, barrier: Barrier, priority = false): void {
    if (barrier.id <= this.lastCompleted) return;
    let state = this.state;
    if (state.name !== 'idle' && barrier.id > state.barrier.id) {
      const what = state.name === 'aligning' ? 'alignment completed' : 'its barriers came on every channel';
      this.abort(state, `checkpoint ${state.barrier.id} was overtaken by checkpoint ${barrier.id} before ${what}`);
      state = this.state;
    }
    if (state.name === 'idle') {
      const unaligned = this.unalignedFor(barrier);
      if (unaligned && (priority || (this.hooks.now?.() ?? Date.now()) - barrier.timestamp >= this.unaligned.alignedTimeoutMs)) {
        state = this.enterUnaligned(barrier, new Set());
      } else {
        state = { name: 'aligning', barrier, seen: new Set() };
        this.state = state;
        if (unaligned)
          this.hooks.armTimeout?.(barrier, barrier.timestamp + this.unaligned.alignedTimeoutMs - (this.hooks.now?.() ?? Date.now()));
      }
    } else if (barrier.id < state.barrier.id) {
      return;
    }
    if (state.name === 'aligning' && priority) state = this.switchToUnaligned(state);
    if (state.seen.has(channel)) return;
    state.seen.add(channel);
    if (state.name === 'unaligned') this.hooks.channelBarrier?.(channel, priority);
    else if (this.mode === 'exactly-once') this.hooks.block(channel);
    this.maybeComplete();
  }

  /** The aligned timeout of checkpoint `checkpointId` fired: if it is still aligning, it goes unaligned. */
  alignmentTimedOut(checkpointId: number): void {
    const state = this.state;
    if (state.name !== 'aligning' || state.barrier.id !== checkpointId) return;
    this.switchToUnaligned(state);
    this.maybeComplete();
  }

  private unalignedFor(barrier: Barrier): boolean {
    return this.unaligned.enabled && this.mode === 'exactly-once' && barrier.kind === 'checkpoint';
  }

  private enterUnaligned(barrier: Barrier, seen: Set<number>): Unaligned {
    const state: Unaligned = { name: 'unaligned', barrier, seen };
    this.state = state;
    this.recording = true;
    this.hooks.startUnaligned?.(barrier);
    return state;
  }

  /** Aligning → Unaligned: the aligned channels' queues are after their barrier; the others are recorded from now. */
  private switchToUnaligned(state: Aligning): Unaligned {
    this.hooks.unblockAll();
    return this.enterUnaligned(state.barrier, state.seen);
  }

  /** A channel ended: it will deliver no more barriers. */
  onEndOfChannel(channel: number): void {
    this.ended.add(channel);
    this.maybeComplete();
  }

  /** Whether every live channel has delivered the current barrier. */
  private maybeComplete(): void {
    const state = this.state;
    if (state.name === 'idle') return;
    for (let c = 0; c < this.channels; c++) if (!state.seen.has(c) && !this.ended.has(c)) return;
    this.state = IDLE;
    this.lastCompleted = state.barrier.id;
    if (state.name === 'unaligned') {
      this.recording = false;
      this.hooks.unalignedComplete?.(state.barrier);
      return;
    }
    if (this.mode === 'exactly-once') this.hooks.unblockAll();
    this.hooks.aligned(state.barrier);
  }

  private abort(state: Aligning | Unaligned, reason: string): void {
    this.state = IDLE;
    this.recording = false;
    if (state.name === 'aligning' && this.mode === 'exactly-once') this.hooks.unblockAll();
    this.hooks.aborted(state.barrier.id, reason);
  }

  /** Gives up the current alignment (checkpoint timed out or was aborted by the coordinator). */
  abortCurrent(checkpointId: number, reason: string): void {
    const state = this.state;
    if (state.name !== 'idle' && state.barrier.id === checkpointId) this.abort(state, reason);
  }
}
