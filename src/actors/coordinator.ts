//! The job coordinator actor (Flink's JobManager role for one job): tracks subtasks, gathers collected output, ends the job.

import { decodeError, encodeError, type EncodedError } from '../core/errors.ts';
import { Actor } from './actor.ts';
import type { SubtaskMetrics } from '../core/protocol.ts';

/** Per-operator totals over all subtasks. */
export interface OperatorTotals {
  recordsIn: number;
  recordsOut: number;
  subtasks: number;
}

/** What `execute()` resolves with. */
export interface JobResult {
  /** The job's name. */
  jobName: string;
  /** How the job ran: `local` on the calling thread, `threads` on worker threads. */
  mode: 'local' | 'threads';
  /** Wall time from deploy to the last subtask's end. */
  durationMs: number;
  /** Worker threads (task slots) used; 0 in local mode. */
  slots: number;
  /** Totals per operator name. */
  operators: Record<string, OperatorTotals>;
  /** Records of each `collect` sink, by sink id. */
  collected: Record<string, unknown[]>;
  /** Every subtask's counters. */
  subtasks: SubtaskMetrics[];
}

/** What the coordinator can ask of the deployment it watches. */
export interface Deployment {
  /** Stops every subtask now (failure or cancel). */
  cancel(reason: unknown): Promise<void>;
  /** Releases threads and channels after the job ended. */
  release(): Promise<void>;
}

/** Messages the coordinator handles. */
export type CoordinatorMessage =
  | { type: 'subtask-finished'; metrics: SubtaskMetrics }
  | { type: 'subtask-failed'; error: EncodedError }
  | { type: 'collect'; sinkId: string; subtask: number; records: unknown[] }
  | { type: 'cancel'; reason: EncodedError };

/**
 * Watches one job run: counts finished subtasks, keeps collected records, and on the first
 * failure cancels the deployment and rejects the job's result with that failure. (A supervisor
 * that restarts from checkpoints takes the failure path over later.)
 *
 * Threading model: main thread; messages arrive from worker callbacks or the local executor.
 * Life cycle: waiting → finished | failed; the result promise settles once.
 */
export class JobCoordinator extends Actor<CoordinatorMessage> {
  private readonly metrics: SubtaskMetrics[] = [];
  private readonly collected = new Map<string, unknown[]>();
  private settled = false;
  private deployment: Deployment | undefined;
  private startedAt = 0;
  private resolveResult!: (result: JobResult) => void;
  private rejectResult!: (error: Error) => void;
  /** Settles when the job ends. */
  readonly result: Promise<JobResult>;

  constructor(
    private readonly jobName: string,
    private readonly expectedSubtasks: number,
    private readonly mode: 'local' | 'threads',
    private readonly slots: number,
    collectSinks: readonly string[],
  ) {
    super();
    for (const id of collectSinks) this.collected.set(id, []);
    this.result = new Promise<JobResult>((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    // A job whose caller never awaits must not crash the process with an unhandled rejection.
    this.result.catch(() => undefined);
  }

  /** Starts the clock and remembers what to cancel on failure. */
  started(deployment: Deployment): void {
    this.deployment = deployment;
    this.startedAt = performance.now();
    if (this.expectedSubtasks === 0) this.tell({ type: 'subtask-finished', metrics: undefined as never });
  }

  protected async receive(message: CoordinatorMessage): Promise<void> {
    if (this.settled) return;
    switch (message.type) {
      case 'collect': {
        const list = this.collected.get(message.sinkId);
        if (list) for (const record of message.records) list.push(record);
        else this.collected.set(message.sinkId, message.records.slice());
        return;
      }
      case 'subtask-finished':
        if (message.metrics) this.metrics.push(message.metrics);
        if (this.metrics.length >= this.expectedSubtasks) await this.finish();
        return;
      case 'subtask-failed':
      case 'cancel':
        await this.failJob(decodeError(message.type === 'cancel' ? message.reason : message.error));
        return;
    }
  }

  /** Fails the job from outside the message flow (a lost worker, a deploy error). */
  failFromOutside(error: unknown): void {
    this.tell({ type: 'cancel', reason: encodeError(error) });
  }

  private async finish(): Promise<void> {
    this.settled = true;
    const durationMs = performance.now() - this.startedAt;
    await this.deployment?.release();
    const operators: Record<string, OperatorTotals> = {};
    for (const m of this.metrics) {
      for (const op of m.operators) {
        const totals = (operators[op.name] ??= { recordsIn: 0, recordsOut: 0, subtasks: 0 });
        totals.recordsIn += op.recordsIn;
        totals.recordsOut += op.recordsOut;
        totals.subtasks++;
      }
    }
    this.stop();
    this.resolveResult({
      jobName: this.jobName,
      mode: this.mode,
      durationMs,
      slots: this.slots,
      operators,
      collected: Object.fromEntries(this.collected),
      subtasks: this.metrics,
    });
  }

  private async failJob(error: Error): Promise<void> {
    this.settled = true;
    this.stop();
    try {
      await this.deployment?.cancel(error);
    } finally {
      await this.deployment?.release().catch(() => undefined);
      this.rejectResult(error);
    }
  }
}
