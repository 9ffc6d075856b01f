//! The two-phase-commit sink base (Flink's TwoPhaseCommitSinkFunction): pre-commit at the barrier, commit when the checkpoint completes, recover on restore.

import type { SinkWriter } from '../actors/operator.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';

/** Version of {@link TwoPhaseCommitState}. */
export const TWO_PHASE_COMMIT_STATE_VERSION = 1;

/** A pre-committed transaction waiting for its checkpoint to complete. */
export interface PendingTransaction<TXN> {
  /** The checkpoint whose barrier pre-committed it. */
  checkpointId: number;
  /** The transaction (plain data). */
  transaction: TXN;
}

/**
 * The state a {@link TwoPhaseCommitSinkWriter} returns at each barrier (plain, msgpack-friendly
 * data): the pre-committed transactions not yet committed, by checkpoint, oldest first; the
 * transaction begun right after the barrier; and the subclass's context.
 */
export interface TwoPhaseCommitState<TXN, C> {
  /** {@link TWO_PHASE_COMMIT_STATE_VERSION}. */
  version: number;
  /** Pre-committed, not yet committed. */
  pending: PendingTransaction<TXN>[];
  /** The open transaction at the barrier (aborted on restore: what it held is replayed). */
  current: TXN;
  /** What the subclass keeps beside its transactions (see {@link TwoPhaseCommitSinkWriter.snapshotContext}). */
  context: C;
}

/** Where a writer runs, for error messages. */
export interface SinkWriterSite {
  /** Operator name. */
  operator: string;
  /** Subtask index. */
  subtask: number;
}

/**
 * A sink writer that takes part in checkpoints with transactions, as Flink's
 * TwoPhaseCommitSinkFunction: records go into the current transaction; at a barrier
 * ({@link snapshotState}) it is pre-committed (flushed, made durable, still invisible) and kept
 * as pending under the checkpoint id, and a new one begins; when a checkpoint completes, every
 * pending transaction up to its id is committed (made visible). Output is visible exactly once
 * when the job restores from its last completed checkpoint.
 *
 * Subclasses implement {@link beginTransaction}, {@link invoke}, {@link preCommit},
 * {@link commit} and {@link abort}. Transactions must be plain, structured-cloneable data (file
 * names, transaction ids): they go into checkpoints. Commit must be idempotent — a restore commits
 * again what may already have been committed.
 *
 * **Without checkpointing** (the runtime calls {@link endInput} then {@link close}, no barrier
 * ever) {@link close} pre-commits and commits everything, so a bounded job still produces output.
 * The same happens when a job with checkpointing ends its input: what arrived after the last
 * barrier is committed at close. A {@link close} without {@link endInput} (cancellation, failure)
 * aborts the current transaction and leaves pending ones to the next restore.
 *
 * **Threading model.** One subtask's writer runs on its actor, one call at a time.
 * {@link write}, {@link snapshotState} and {@link preCommit} are synchronous (the barrier's
 * synchronous part); {@link commit} and {@link abort} may be asynchronous. Completions are
 * committed one after the other, in order, even when the runtime does not await them, and a
 * barrier arriving while a commit runs is safe: the snapshot still lists what is not yet committed,
 * and committing it again on restore is harmless.
 *
 * **Life cycle.** {@link open} (recover: commit the restored pending transactions, abort the
 * restored current ones, then {@link initializeContext} and begin a transaction) → {@link write}*
 * interleaved with {@link snapshotState} / {@link notifyCheckpointComplete} /
 * {@link notifyCheckpointAborted} → {@link endInput}? → {@link close}.
 */
export abstract class TwoPhaseCommitSinkWriter<T, TXN, C = null> implements SinkWriter<T> {
  private current: TXN | undefined;
  /** Pre-committed transactions by checkpoint id; insertion order is checkpoint order. */
  private readonly pending = new Map<number, TXN>();
  private state: 'created' | 'open' | 'closed' = 'created';
  private inputEnded = false;
  private commits: Promise<void> = Promise.resolve();

  constructor(protected readonly site: SinkWriterSite) {}

  /** Begins a transaction: cheap, called at open and after every barrier (open resources lazily). */
  protected abstract beginTransaction(): TXN;
  /** Writes one record into `transaction`. */
  protected abstract invoke(transaction: TXN, value: T, timestamp: number | undefined): void;
  /** Makes `transaction` durable and ready to commit (flush, fsync, close); it gets no more records. Synchronous: it runs at the barrier. */
  protected abstract preCommit(transaction: TXN): void;
  /** Makes a pre-committed transaction visible. Must be idempotent: committing twice is harmless. */
  protected abstract commit(transaction: TXN): void | Promise<void>;
  /** Discards a transaction and what it wrote (idempotent too). */
  protected abstract abort(transaction: TXN): void | Promise<void>;

  /** Commits a pending transaction found in restored state; default {@link commit}. */
  protected recoverAndCommit(transaction: TXN): void | Promise<void> {
    return this.commit(transaction);
  }

  /** Aborts a transaction that was open in restored state; default {@link abort}. */
  protected recoverAndAbort(transaction: TXN): void | Promise<void> {
    return this.abort(transaction);
  }

  /**
   * Called in {@link open} after restored transactions are committed or aborted, before the first
   * transaction begins: `restored` holds the contexts of the restored states (undefined on a fresh
   * start). Clean leftovers here.
   */
  protected initializeContext(_restored: readonly C[] | undefined): void | Promise<void> {}

  /** The context stored beside the transactions at each barrier (plain data; default `null`). */
  protected snapshotContext(): C {
    return null as C;
  }

  /** Checkpoint ids with a pre-committed transaction not yet committed, oldest first. */
  get pendingCheckpointIds(): number[] {
    return [...this.pending.keys()];
  }

  /** Recovers from `restored` (states of this subtask's share, from {@link snapshotState}), then begins a transaction. */
  async open(restored?: readonly unknown[]): Promise<void> {
    if (this.state !== 'created') throw this.internal('open() called twice');
    let contexts: C[] | undefined;
    if (restored !== undefined) {
      const states = restored.map((s, i) => this.validateRestored(s, i));
      for (const s of states) {
        for (const p of s.pending)
          await this.run(
            () => this.recoverAndCommit(p.transaction),
            `committing the transaction of checkpoint ${p.checkpointId} on restore`,
          );
        await this.run(() => this.recoverAndAbort(s.current), 'aborting the transaction open at the restored checkpoint');
      }
      contexts = states.map((s) => s.context);
    }
    await this.run(() => this.initializeContext(contexts), 'recovering');
    this.current = this.beginTransaction();
    this.state = 'open';
  }

  /** Writes a record into the current transaction. */
  write(value: T, timestamp: number | undefined): void {
    if (this.state !== 'open') throw this.internal(`write() on a writer that is ${this.state}`);
    this.invoke(this.current as TXN, value, timestamp);
  }

  /** Remembers that input ended: {@link close} then commits what is left. */
  endInput(): void {
    this.inputEnded = true;
  }

  /** At the barrier: pre-commits the current transaction as pending for `checkpointId`, begins the next, returns the state. */
  snapshotState(checkpointId: number): TwoPhaseCommitState<TXN, C> {
    if (this.state !== 'open') throw this.internal(`snapshotState(${checkpointId}) on a writer that is ${this.state}`);
    if (this.pending.has(checkpointId)) throw this.internal(`checkpoint ${checkpointId} was already snapshotted`);
    const txn = this.current as TXN;
    this.guard(() => this.preCommit(txn), `pre-committing for checkpoint ${checkpointId}`);
    this.pending.set(checkpointId, txn);
    this.current = this.beginTransaction();
    // A copy: the runtime may encode the state after this writer has moved on.
    return structuredClone({
      version: TWO_PHASE_COMMIT_STATE_VERSION,
      pending: [...this.pending].map(([id, transaction]) => ({ checkpointId: id, transaction })),
      current: this.current,
      context: this.snapshotContext(),
    });
  }

  /** Commits, in order, every pending transaction of a checkpoint up to `checkpointId`. */
  notifyCheckpointComplete(checkpointId: number): Promise<void> {
    const run = this.commits
      .catch(() => undefined)
      .then(async () => {
        for (const [id, txn] of [...this.pending]) {
          if (id > checkpointId) break;
          await this.run(() => this.commit(txn), `committing the transaction of checkpoint ${id}`);
          this.pending.delete(id);
        }
      });
    this.commits = run;
    return run;
  }

  /** Nothing to do: the aborted checkpoint's transaction stays pending and is committed with the next completed one. */
  notifyCheckpointAborted(_checkpointId: number): void {}

  /**
   * After {@link endInput}: pre-commits the current transaction and commits everything. Without
   * it (cancellation, failure): aborts the current transaction and leaves the pending ones.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    await this.commits.catch(() => undefined);
    if (!wasOpen) return;
    const txn = this.current as TXN;
    this.current = undefined;
    if (!this.inputEnded) {
      await this.run(() => this.abort(txn), 'aborting the open transaction at close');
      return;
    }
    this.guard(() => this.preCommit(txn), 'pre-committing at the end of input');
    for (const [id, pendingTxn] of [...this.pending]) {
      await this.run(() => this.commit(pendingTxn), `committing the transaction of checkpoint ${id} at the end of input`);
      this.pending.delete(id);
    }
    await this.run(() => this.commit(txn), 'committing at the end of input');
  }

  private validateRestored(state: unknown, index: number): TwoPhaseCommitState<TXN, C> {
    const s = state as Partial<TwoPhaseCommitState<TXN, C>> | null;
    const bad = (why: string) =>
      new WeirError(`restored state ${index} of sink '${this.site.operator}' (subtask ${this.site.subtask}) ${why}`, {
        code: ErrorCodes.STATE_RESTORE,
        domain: 'internal',
        operator: this.site.operator,
        subtask: this.site.subtask,
      });
    if (s === null || typeof s !== 'object' || !Array.isArray(s.pending) || !('current' in s))
      throw bad('is not two-phase-commit sink state');
    if (s.version !== TWO_PHASE_COMMIT_STATE_VERSION)
      throw bad(`has version ${String(s.version)}; expected ${TWO_PHASE_COMMIT_STATE_VERSION}`);
    for (const p of s.pending)
      if (typeof p?.checkpointId !== 'number' || !('transaction' in p)) throw bad('has a malformed pending transaction');
    return s as TwoPhaseCommitState<TXN, C>;
  }

  private internal(message: string): WeirError {
    return new WeirError(`sink '${this.site.operator}' (subtask ${this.site.subtask}): ${message}`, {
      code: ErrorCodes.INTERNAL,
      domain: 'internal',
      operator: this.site.operator,
      subtask: this.site.subtask,
    });
  }

  /** Runs a subclass hook, naming the sink and the step in what it throws. */
  private async run(hook: () => void | Promise<void>, step: string): Promise<void> {
    try {
      await hook();
    } catch (error) {
      throw this.wrap(error, step);
    }
  }

  private guard(hook: () => void, step: string): void {
    try {
      hook();
    } catch (error) {
      throw this.wrap(error, step);
    }
  }

  private wrap(error: unknown, step: string): WeirError {
    if (error instanceof WeirError) return error;
    return new WeirError(
      `sink '${this.site.operator}' (subtask ${this.site.subtask}) failed ${step}: ${error instanceof Error ? error.message : String(error)}`,
      {
        code: ErrorCodes.SINK_IO,
        domain: 'external',
        retriable: true,
        operator: this.site.operator,
        subtask: this.site.subtask,
        cause: error,
      },
    );
  }
}
