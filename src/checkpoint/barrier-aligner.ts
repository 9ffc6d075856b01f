//! Barrier alignment as an explicit state machine: exactly-once blocks channels until a checkpoint's barrier came on all of them; at-least-once only counts.

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
/** The aligner's state. */
export type AlignerState = Idle | Aligning;

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
 * Threading model: the owning actor's thread. Life cycle: lives as long as the subtask.
 */
export class BarrierAligner {
  private state: AlignerState = IDLE;
  private readonly ended = new Set<number>();
  private lastCompleted = 0;

  constructor(
    private readonly channels: number,
    private readonly mode: CheckpointingMode,
    private readonly hooks: AlignmentHooks,
  ) {}

  /** The current state (for tests and metrics). */
  get current(): AlignerState {
    return this.state;
  }

  /** A barrier arrived on `channel`. */
  onBarrier(channel: number, barrier: Barrier): void {
    if (barrier.id <= this.lastCompleted) return;
    let state = this.state;
    if (state.name === 'aligning' && barrier.id > state.barrier.id) {
      this.abort(state, `checkpoint ${state.barrier.id} was overtaken by checkpoint ${barrier.id} before alignment completed`);
      state = this.state;
    }
    if (state.name === 'idle') {
      state = { name: 'aligning', barrier, seen: new Set() };
      this.state = state;
    } else if (barrier.id < state.barrier.id) {
      return;
    }
    state.seen.add(channel);
    if (this.mode === 'exactly-once') this.hooks.block(channel);
    this.maybeComplete();
  }

  /** A channel ended: it will deliver no more barriers. */
  onEndOfChannel(channel: number): void {
    this.ended.add(channel);
    this.maybeComplete();
  }

  /** Whether every live channel has delivered the current barrier. */
  private maybeComplete(): void {
    const state = this.state;
    if (state.name !== 'aligning') return;
    for (let c = 0; c < this.channels; c++) if (!state.seen.has(c) && !this.ended.has(c)) return;
    this.state = IDLE;
    this.lastCompleted = state.barrier.id;
    if (this.mode === 'exactly-once') this.hooks.unblockAll();
    this.hooks.aligned(state.barrier);
  }

  private abort(state: Aligning, reason: string): void {
    this.state = IDLE;
    if (this.mode === 'exactly-once') this.hooks.unblockAll();
    this.hooks.aborted(state.barrier.id, reason);
  }

  /** Gives up the current alignment (checkpoint timed out or was aborted by the coordinator). */
  abortCurrent(checkpointId: number, reason: string): void {
    const state = this.state;
    if (state.name === 'aligning' && state.barrier.id === checkpointId) this.abort(state, reason);
  }
}
