//! The job master: coordinator and supervisor of one job — runs attempts, coordinates checkpoints, restarts from the last one.

import { CheckpointCoordinator, type CheckpointOutcome, type CompletedCheckpoint } from '../checkpoint/coordinator.ts';
import type { Barrier } from '../checkpoint/barrier-aligner.ts';
import { ErrorCodes, WeirError, decodeError, encodeError, isNonRetriable, type EncodedError } from '../core/errors.ts';
import type { StateQueryAnswer, SubtaskMetrics, WorkerCallbacks } from '../core/protocol.ts';
import type { CheckpointEntry, ExceptionEntry, JobSample, JobStatus, SubtaskSample } from '../core/metrics.ts';
import type { CheckpointConfig, RestartStrategy } from '../checkpoint/config.ts';
import { Actor } from './actor.ts';
import { RestartBackoff } from './restart-strategies.ts';
import { SYSTEM_RUNTIME_CLOCK, type RuntimeClock } from '../time/processing-time.ts';

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
  /** Wall time from the first deploy to the last subtask's end. */
  durationMs: number;
  /** Worker threads (task slots) used; 0 in local mode. */
  slots: number;
  /** Totals per operator name (of the last attempt). */
  operators: Record<string, OperatorTotals>;
  /** Records of each `collect` sink, by sink id. */
  collected: Record<string, unknown[]>;
  /** Every subtask's counters (of the last attempt). */
  subtasks: SubtaskMetrics[];
  /** Checkpoints and restarts. */
  faultTolerance: FaultToleranceStats;
  /** Set when the job was stopped with a savepoint (Flink's stop-with-savepoint): the savepoint it ended with. */
  savepoint?: { id: number; path?: string };
}

/**
 * What a job reports to its operator while it runs, one event per line of the CLI's stderr (see
 * {@link describeJobEvent}): where its checkpoints go, what it resumed from, every failure with
 * what happens next, and the damaged checkpoints passed over on restore.
 */
export type JobEvent =
  | { kind: 'checkpoint-folder'; path: string }
  | { kind: 'resumed'; path: string; id: number }
  | { kind: 'fresh-start'; reason: string }
  | { kind: 'checkpoint-skipped'; reason: string }
  | { kind: 'warning'; message: string }
  /** A checkpoint or savepoint completed (a savepoint's path once written). */
  | { kind: 'checkpoint-completed'; id: number; savepoint: boolean; durationMs: number; sizeBytes: number; path?: string }
  /** A checkpoint or savepoint failed or was declined, with the cause. */
  | { kind: 'checkpoint-failed'; id?: number; savepoint: boolean; reason: string }
  | {
      kind: 'attempt-failed';
      /** The attempt that failed, from 1. */
      attempt: number;
      error: Error;
      operator: string | undefined;
      subtask: number | undefined;
      /** What happens next: a restart (its number, the limit if any, the delay, the checkpoint it restores) or the end. */
      next:
        | { action: 'restart'; restart: number; limit: number | undefined; delayMs: number; from: string }
        | { action: 'give-up'; reason: string };
    };

/** One line for an operator: `attempt 2 failed in 'Parse' (subtask 1): …; restart 2/3 in 1000 ms from chk-4`. */
export function describeJobEvent(event: JobEvent): string {
  switch (event.kind) {
    case 'checkpoint-folder':
      return `checkpoints go to ${event.path}`;
    case 'resumed':
      return `resuming from checkpoint ${event.id} at ${event.path}`;
    case 'fresh-start':
      return `starting from scratch: ${event.reason}`;
    case 'checkpoint-skipped':
      return `skipped a damaged checkpoint: ${event.reason}`;
    case 'warning':
      return `warning: ${event.message}`;
    case 'checkpoint-completed':
      return `${event.savepoint ? 'savepoint' : 'checkpoint'} ${event.id} completed in ${Math.round(event.durationMs)} ms, ${event.sizeBytes} bytes${event.path ? ` at ${event.path}` : ''}`;
    case 'checkpoint-failed':
      return `${event.savepoint ? 'savepoint' : 'checkpoint'}${event.id === undefined ? '' : ` ${event.id}`} ${event.savepoint ? 'declined' : 'failed'}: ${event.reason}`;
    case 'attempt-failed': {
      const where =
        event.operator === undefined ? '' : ` in '${event.operator}'${event.subtask === undefined ? '' : ` (subtask ${event.subtask})`}`;
      const code = event.error instanceof WeirError ? ` [${event.error.code}]` : '';
      const head = `attempt ${event.attempt} failed${where}${code}: ${event.error.message.split('\n')[0]}`;
      const next = event.next;
      if (next.action === 'give-up') return `${head}; ${next.reason}`;
      const count = next.limit === undefined ? `${next.restart}` : `${next.restart}/${next.limit}`;
      return `${head}; restart ${count} in ${next.delayMs} ms from ${next.from}`;
    }
  }
}

/** The operator and subtask an error names, looking through its causes. */
function siteOf(error: unknown): { operator: string | undefined; subtask: number | undefined } {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof WeirError && e.operator !== undefined) return { operator: e.operator, subtask: e.subtask };
  }
  return { operator: undefined, subtask: undefined };
}

/** What a running attempt reports (from worker callbacks or the local executor). */
export interface AttemptEvents extends WorkerCallbacks {
  /** A worker thread died or stopped answering. */
  workerLost(slot: number, error: unknown): void;
}

/** A deployed attempt of the job: what the master can ask of it. */
export interface Attempt {
  /** Starts processing (operators opened). */
  start(): Promise<void>;
  triggerCheckpoint(barrier: Barrier): void;
  notifyCheckpointComplete(checkpointId: number): Promise<void>;
  abortCheckpoint(checkpointId: number): void;
  /** Closes every subtask after the final checkpoint. */
  finishAll(): void;
  /** Stops everything now (threads are terminated). */
  cancel(): Promise<void>;
  /** Releases threads and channels after a successful end. */
  release(): Promise<void>;
  /** Terminates the worker thread of a slot (fault injection in tests, like killing a TaskManager). */
  killSlot?(slot: number): Promise<void>;
  /** A live sample of every subtask (a slot that does not answer in time contributes its previous one). */
  sample?(): Promise<SubtaskSample[]>;
  /** Reads one key of a keyed state in the subtask `vertex/subtask`, between records (live state queries). */
  queryState?(vertex: number, subtask: number, operatorId: string, stateName: string, key: unknown): Promise<StateQueryAnswer>;
}

/** Entries kept of the checkpoint history and of the exceptions. */
const HISTORY_MAX = 100;

/** What the master needs to know about the job. */
export interface JobMasterSpec {
  jobName: string;
  mode: 'local' | 'threads';
  slots: number;
  /** Every `vertex/subtask` of the job. */
  tasks: string[];
  collectIds: readonly string[];
  checkpointing?: CheckpointConfig;
  restartStrategy: RestartStrategy;
  /** Deploys an attempt, restoring the given checkpoint states (undefined: a fresh start). */
  deploy(restore: ReadonlyMap<string, Uint8Array> | undefined, events: AttemptEvents): Promise<Attempt>;
  /** Makes a completed checkpoint durable (checkpoint storage), if configured. */
  store?(checkpoint: CompletedCheckpoint): Promise<void>;
  /**
   * Reads the checkpoint to restore from on a restart (checkpoint storage): the newest that
   * verifies, with the damaged newer ones it skipped. Without it, restarts use the last
   * checkpoint completed in this process.
   */
  loadLatest?(): Promise<{ id: number; path: string; states: ReadonlyMap<string, Uint8Array>; skipped: string[] } | undefined>;
  /** Records, before subtasks are told to commit checkpoint `id`, that its commits are under way (checkpoint storage). */
  markCommitted?(id: number): Promise<void>;
  /** Runs before the first attempt (creates the checkpoint folder); its failure fails the job. */
  prepare?(): Promise<void>;
  /** Told of failures, restarts and restores, for the operator (the CLI prints them). */
  onEvent?(event: JobEvent): void;
  /** The checkpoint to start from (a savepoint), if any. */
  initial?: { id: number; states: ReadonlyMap<string, Uint8Array> };
  /**
   * Whether every commit of {@link initial} happened before it was written (a savepoint: written
   * only after its sinks committed), so its transactions committed again on restore were already
   * delivered by the run that took it (the collect sink's records are not delivered twice).
   */
  initialCommitted?: boolean;
  /** Told after each completed checkpoint is stored, before subtasks are told to commit (tests inject faults from here). */
  onCheckpoint?(checkpoint: CompletedCheckpoint, attempt: number): void;
  /** Told when a checkpoint is triggered (its barriers are on their way). */
  onCheckpointTriggered?(checkpointId: number, attempt: number): void;
  /** Told after every subtask committed a completed checkpoint. */
  onCheckpointCommitted?(checkpointId: number, attempt: number): void;
  /** The job's id (32 hex), for samples. */
  jobId?: string;
  /** Checkpoint timers, restart delays and timestamps: the wall clock, or a simulation's virtual one (weir/testing). */
  clock?: RuntimeClock;
}

/** Checkpoint and restart counters of a run. */
export interface FaultToleranceStats {
  checkpointsCompleted: number;
  checkpointsFailed: number;
  restarts: number;
  lastCheckpointId: number | undefined;
  /** Per restart: milliseconds from the failure to the new attempt running again. */
  recoveryMs: number[];
  /** Damaged checkpoints skipped on restore, with the file and reason. */
  skippedCheckpoints: string[];
}

type Message =
  | { type: 'finished'; attempt: number; metrics: SubtaskMetrics }
  | { type: 'failed'; attempt: number; error: EncodedError }
  | { type: 'ended'; attempt: number; task: string }
  | {
      type: 'collect';
      sinkId: string;
      records: unknown[];
      commitKey?: string;
      /** A transaction of the savepoint the job started from, committed again on restore: its run delivered it. */
      delivered?: boolean;
    }
  /** Answered once every message told before it was handled. */
  | { type: 'sync'; done: () => void };

/**
 * Runs a job to its end through as many attempts as the restart strategy allows.
 *
 * Per attempt: deploy (restoring the last completed checkpoint), start, checkpoint periodically;
 * when every subtask has consumed its input, take a final checkpoint (so two-phase-commit sinks
 * commit everything), then let the subtasks close. On the first failure of an attempt (a user
 * error, a lost worker, a failed restore, too many failed checkpoints) the attempt is cancelled —
 * every worker thread terminated — and, if the strategy allows, a new attempt is deployed from the
 * last completed checkpoint after the strategy's delay. When the strategy gives up, the job fails
 * with the last cause.
 *
 * Threading model: main thread; messages are handled one at a time (an actor). Life cycle: one
 * per job run; `result` settles once.
 */
export class JobMaster extends Actor<Message> {
  private attemptNo = 0;
  private attemptCounter = 0;
  private attempt: Attempt | undefined;
  private coordinator: CheckpointCoordinator | undefined;
  private latest: { id: number; states: ReadonlyMap<string, Uint8Array> } | undefined;
  private nextCheckpointId = 1;
  private finished: SubtaskMetrics[] = [];
  private finishedSamples: SubtaskSample[] = [];
  private ended = new Set<string>();
  private endingAttempt = -1;
  private readonly collected = new Map<string, unknown[]>();
  private readonly committed = new Set<string>();
  private readonly backoff: RestartBackoff;
  private readonly stats: FaultToleranceStats = {
    checkpointsCompleted: 0,
    checkpointsFailed: 0,
    restarts: 0,
    lastCheckpointId: undefined,
    recoveryMs: [],
    skippedCheckpoints: [],
  };
  private startedAt = 0;
  private failedAt = 0;
  /** For samples: the job's state, wall start time, checkpoint history, exceptions, and the subtasks' samples. */
  private status: JobStatus = 'CREATED';
  private readonly startWall = Date.now();
  private endWall: number | undefined;
  private readonly history: CheckpointEntry[] = [];
  private readonly exceptions: ExceptionEntry[] = [];
  private lastSubtasks: SubtaskSample[] = [];
  private checkpointCounts = { completed: 0, failed: 0 };
  private runningWaiters: Array<() => void> = [];
  private settled = false;
  private resolveResult!: (r: JobResult) => void;
  private rejectResult!: (e: Error) => void;
  /** Settles when the job ends. */
  readonly result: Promise<JobResult>;

  private readonly clock: RuntimeClock;

  constructor(private readonly spec: JobMasterSpec) {
    super();
    this.clock = spec.clock ?? SYSTEM_RUNTIME_CLOCK;
    this.backoff = new RestartBackoff(spec.restartStrategy);
    for (const id of spec.collectIds) this.collected.set(id, []);
    if (spec.initial) {
      this.latest = spec.initial;
      this.nextCheckpointId = spec.initial.id + 1;
    }
    this.result = new Promise((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    this.result.catch(() => undefined);
  }

  /** The attempt running now (for savepoints and fault injection). */
  get currentAttempt(): Attempt | undefined {
    return this.attempt;
  }

  /** Starts the first attempt. */
  async run(): Promise<void> {
    this.startedAt = this.clock.monotonic();
    this.result.then(
      () => this.end('FINISHED'),
      (error: unknown) => this.end((error as { code?: string })?.code === ErrorCodes.JOB_CANCELLED ? 'CANCELED' : 'FAILED'),
    );
    if (this.spec.prepare) {
      try {
        await this.spec.prepare();
      } catch (error) {
        const { operator, subtask } = siteOf(error);
        const reason = `not starting: ${isNonRetriable(error) ? 'a restart cannot fix this error' : 'the job could not be prepared'}`;
        this.keep(this.exceptions, {
          time: this.clock.now(),
          message: (error as Error)?.message ?? String(error),
          attempt: 1,
          action: 'fail',
        });
        this.spec.onEvent?.({
          kind: 'attempt-failed',
          attempt: 1,
          error: error as Error,
          operator,
          subtask,
          next: { action: 'give-up', reason },
        });
        this.fail(error as Error);
        return;
      }
    }
    await this.startAttempt();
  }

  /** The job's state now (Flink's names). */
  get jobStatus(): JobStatus {
    return this.status;
  }

  /** The attempt running or last run, from 1 (0 before the first deploy). */
  get attemptNumber(): number {
    return this.attemptCounter;
  }

  /**
   * A live sample of the job: every subtask of the current attempt (asked now; empty while
   * deploying), and after the end the subtasks' last samples with the end status.
   */
  async sample(): Promise<JobSample> {
    const attempt = this.attempt;
    if (attempt?.sample && (this.status === 'RUNNING' || this.status === 'CREATED') && !this.settled) {
      const attemptNo = this.attemptNo;
      try {
        const subtasks = await attempt.sample();
        if (attemptNo === this.attemptNo && !this.settled)
          this.lastSubtasks = subtasks.sort((a, b) => a.vertex - b.vertex || a.subtask - b.subtask);
      } catch {
        // the attempt is going away: its previous sample stands
      }
    } else if (this.status === 'RESTARTING' || (this.status === 'CREATED' && !attempt)) {
      if (this.status === 'CREATED') this.lastSubtasks = [];
    }
    const inProgress = this.history.filter((h) => h.status === 'IN_PROGRESS').length;
    return {
      jobId: this.spec.jobId ?? '',
      name: this.spec.jobName,
      status: this.status,
      startTime: this.startWall,
      ...(this.endWall !== undefined ? { endTime: this.endWall } : {}),
      now: Date.now(),
      attempt: Math.max(1, this.attemptCounter),
      numRestarts: this.backoff.attempts,
      subtasks: this.lastSubtasks.slice(),
      checkpoints: {
        completed: this.checkpointCounts.completed,
        failed: this.checkpointCounts.failed,
        inProgress,
        history: this.history.map((h) => ({ ...h })),
      },
      exceptions: this.exceptions.map((e) => ({ ...e })),
    };
  }

  /** Sets the folder a savepoint was written to, in the checkpoint history. */
  noteSavepointPath(id: number, path: string): void {
    const entry = this.history.find((h) => h.id === id);
    if (entry) entry.path = path;
  }

  private end(status: JobStatus): void {
    this.status = status;
    this.endWall = Date.now();
    for (const h of this.history) if (h.status === 'IN_PROGRESS') h.status = 'FAILED';
  }

  private historyEntry(id: number): CheckpointEntry | undefined {
    for (let i = this.history.length - 1; i >= 0; i--) if (this.history[i].id === id) return this.history[i];
    return undefined;
  }

  private keep<T>(list: T[], entry: T): void {
    list.push(entry);
    if (list.length > HISTORY_MAX) list.splice(0, list.length - HISTORY_MAX);
  }

  /** Counters and samples of subtasks that finished: the job's final sample. */
  private finalSamples(): void {
    const samples = this.finishedSamples;
    if (samples.length > 0) this.lastSubtasks = samples.sort((a, b) => a.vertex - b.vertex || a.subtask - b.subtask);
  }

  /**
   * Triggers a savepoint on the running attempt; `stopping` suspends periodic checkpoints first.
   * While the job deploys (or restarts) it waits up to `waitMs` for it to run, then refuses with
   * "the job is still deploying".
   */
  async triggerSavepoint(stopping = false, waitMs: number = 30_000): Promise<CheckpointOutcome> {
    if (!this.spec.checkpointing) {
      throw new WeirError('savepoints need checkpointing: call env.enableCheckpointing(intervalMs) or run with --checkpoint-interval', {
        code: ErrorCodes.CONFIG,
        domain: 'user',
      });
    }
    // The coordinator exists before its attempt's subtasks open; a barrier sent to them then is lost.
    const started = () => (this.status === 'RUNNING' ? this.coordinator : undefined);
    if (!started() && !this.settled) await this.whenRunning(waitMs);
    const coordinator = started();
    if (this.settled) {
      throw new WeirError(`job '${this.spec.jobName}' has ended: no savepoint can be taken`, {
        code: ErrorCodes.JOB_NOT_RUNNING,
        domain: 'user',
      });
    }
    if (!coordinator) {
      throw new WeirError(`job '${this.spec.jobName}' is still deploying (waited ${waitMs} ms): try the savepoint again when it runs`, {
        code: ErrorCodes.JOB_NOT_RUNNING,
        domain: 'user',
        retriable: true,
      });
    }
    if (stopping) coordinator.suspendPeriodic();
    return coordinator.trigger('savepoint');
  }

  /** Resolves when an attempt runs (or the job settles), or after `timeoutMs` (live state queries wait with it too). */
  whenRunning(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiters = this.runningWaiters;
      function done(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  private wakeRunningWaiters(): void {
    for (const wake of this.runningWaiters.splice(0)) wake();
  }

  /**
   * Ends the job after a stop-with-savepoint: every subtask is cancelled and `result` resolves
   * with the savepoint it ended with (counters of the stopped attempt are not collected).
   */
  async stopWithSavepoint(savepoint: { id: number; path?: string }): Promise<void> {
    if (this.settled) return;
    // The savepoint's commits were told before it settled: let their records (collect sinks) in
    // first — one turn of the event loop for messages still in ports, then the mailbox's queue.
    await new Promise<void>((resolve) => this.clock.defer(resolve));
    await Promise.race([new Promise<void>((resolve) => this.tell({ type: 'sync', done: resolve })), this.result.catch(() => undefined)]);
    if (this.settled) return;
    this.settled = true;
    this.wakeRunningWaiters();
    this.coordinator?.stop();
    const durationMs = this.clock.monotonic() - this.startedAt;
    await this.attempt?.cancel().catch(() => undefined);
    this.stop();
    this.resolveResult({ ...this.resultOf(durationMs, []), savepoint });
  }

  /** Cancels the job: the result rejects with a cancellation error. */
  async cancelJob(reason = 'cancelled'): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    this.wakeRunningWaiters();
    this.coordinator?.stop();
    await this.attempt?.cancel().catch(() => undefined);
    this.stop();
    this.rejectResult(new WeirError(`job '${this.spec.jobName}' was ${reason}`, { code: ErrorCodes.JOB_CANCELLED, domain: 'user' }));
  }

  private events(attemptNo: number, fromCommittedSavepoint: boolean): AttemptEvents {
    const current = () => attemptNo === this.attemptNo;
    return {
      subtaskFinished: (metrics) => this.tell({ type: 'finished', attempt: attemptNo, metrics }),
      subtaskFailed: (error) => this.tell({ type: 'failed', attempt: attemptNo, error }),
      collect: (sinkId, _subtask, records, commitKey, recovered) => {
        if (current()) this.tell({ type: 'collect', sinkId, records, commitKey, delivered: recovered === true && fromCommittedSavepoint });
      },
      checkpointAcknowledged: (vertex, subtask, id, operators, alignmentMs) => {
        if (current() && alignmentMs !== undefined) {
          const entry = this.historyEntry(id);
          if (entry && (entry.alignmentMs === undefined || alignmentMs > entry.alignmentMs))
            entry.alignmentMs = Math.round(alignmentMs * 1000) / 1000;
        }
        if (current()) this.coordinator?.acknowledge(`${vertex}/${subtask}`, id, operators, subtask);
      },
      checkpointDeclined: (vertex, subtask, id, reason) => {
        if (current()) this.coordinator?.decline(`${vertex}/${subtask}`, id, reason);
      },
      subtaskEnded: (vertex, subtask) => this.tell({ type: 'ended', attempt: attemptNo, task: `${vertex}/${subtask}` }),
      workerLost: (slot, error) =>
        this.tell({
          type: 'failed',
          attempt: attemptNo,
          error: encodeError(
            // Out of memory already says what was lost and why.
            error instanceof WeirError && error.code === ErrorCodes.OUT_OF_MEMORY
              ? error
              : new WeirError(`worker thread of slot ${slot} was lost: ${(error as Error)?.message ?? String(error)}`, {
                  code: ErrorCodes.WORKER_LOST,
                  domain: 'internal',
                  retriable: true,
                  cause: error,
                }),
          ),
        }),
    };
  }

  private async startAttempt(): Promise<void> {
    const attemptNo = ++this.attemptCounter;
    this.attemptNo = attemptNo;
    this.lastSubtasks = [];
    this.finished = [];
    this.finishedSamples = [];
    this.ended = new Set();
    let attempt: Attempt;
    try {
      const fromCommittedSavepoint = this.spec.initialCommitted === true && this.latest === this.spec.initial;
      attempt = await this.spec.deploy(this.latest?.states, this.events(attemptNo, fromCommittedSavepoint));
    } catch (error) {
      this.tell({ type: 'failed', attempt: attemptNo, error: encodeError(error) });
      return;
    }
    if (attemptNo !== this.attemptNo || this.settled) {
      await attempt.cancel();
      return;
    }
    this.attempt = attempt;
    const checkpointing = this.spec.checkpointing;
    if (checkpointing) {
      this.coordinator = new CheckpointCoordinator(
        checkpointing,
        this.spec.tasks,
        {
          trigger: (barrier) => {
            this.keep(this.history, { id: barrier.id, kind: barrier.kind, status: 'IN_PROGRESS', triggerTime: barrier.timestamp });
            attempt.triggerCheckpoint(barrier);
            this.spec.onCheckpointTriggered?.(barrier.id, attemptNo);
          },
          store: async (checkpoint) => {
            await this.spec.store?.(checkpoint);
            this.latest = { id: checkpoint.id, states: checkpoint.states };
            this.stats.checkpointsCompleted++;
            this.stats.lastCheckpointId = checkpoint.id;
            this.checkpointCounts.completed++;
            const entry = this.historyEntry(checkpoint.id);
            if (entry) {
              let size = 0;
              for (const bytes of checkpoint.states.values()) size += bytes.byteLength;
              entry.status = 'COMPLETED';
              entry.durationMs = this.clock.now() - entry.triggerTime;
              entry.sizeBytes = size;
              // A savepoint is told once its folder is written (noteSavepointPath), or by its caller.
              if (entry.kind === 'checkpoint')
                this.spec.onEvent?.({
                  kind: 'checkpoint-completed',
                  id: checkpoint.id,
                  savepoint: false,
                  durationMs: entry.durationMs,
                  sizeBytes: size,
                });
            }
            this.spec.onCheckpoint?.(checkpoint, attemptNo);
          },
          notifyComplete: async (id) => {
            try {
              await this.spec.markCommitted?.(id);
            } catch (error) {
              // Not committed: the restart restores this checkpoint and commits it then.
              this.tell({ type: 'failed', attempt: attemptNo, error: encodeError(error) });
              return;
            }
            await attempt.notifyCheckpointComplete(id);
            this.spec.onCheckpointCommitted?.(id, attemptNo);
          },
          abort: (id, reason) => {
            this.stats.checkpointsFailed++;
            this.checkpointCounts.failed++;
            const entry = this.historyEntry(id);
            if (entry) {
              entry.status = 'FAILED';
              entry.durationMs = this.clock.now() - entry.triggerTime;
              if (reason !== undefined) entry.failure = reason;
            }
            // A savepoint's failure is told by its caller (startJob's client), with every other way it can fail.
            if (entry?.kind !== 'savepoint')
              this.spec.onEvent?.({ kind: 'checkpoint-failed', id, savepoint: false, reason: reason ?? 'aborted' });
            attempt.abortCheckpoint(id);
          },
          failJob: (reason, cause) =>
            this.tell({
              type: 'failed',
              attempt: attemptNo,
              error: encodeError(cause ?? new WeirError(reason, { code: ErrorCodes.INTERNAL, domain: 'internal', retriable: true })),
            }),
        },
        this.nextCheckpointId,
        this.clock,
      );
    }
    try {
      await attempt.start();
    } catch (error) {
      this.tell({ type: 'failed', attempt: attemptNo, error: encodeError(error) });
      return;
    }
    if (this.failedAt > 0) {
      this.stats.recoveryMs.push(this.clock.monotonic() - this.failedAt);
      this.failedAt = 0;
    }
    this.status = 'RUNNING';
    this.coordinator?.start();
    this.wakeRunningWaiters();
  }

  protected async receive(message: Message): Promise<void> {
    if (message.type === 'sync') return message.done();
    if (this.settled) return;
    switch (message.type) {
      case 'collect': {
        if (message.commitKey !== undefined) {
          // Two-phase-commit collect sinks may commit again after a restore: once is enough.
          if (this.committed.has(message.commitKey)) return;
          this.committed.add(message.commitKey);
          if (message.delivered === true) return;
        }
        const list = this.collected.get(message.sinkId);
        if (list) for (const r of message.records) list.push(r);
        else this.collected.set(message.sinkId, message.records.slice());
        return;
      }
      case 'ended': {
        if (message.attempt !== this.attemptNo) return;
        this.ended.add(message.task);
        if (this.ended.size === this.spec.tasks.length && this.endingAttempt !== this.attemptNo) {
          this.endingAttempt = this.attemptNo;
          await this.finalCheckpoint(this.attemptNo);
        }
        return;
      }
      case 'finished':
        if (message.attempt !== this.attemptNo) return;
        {
          // The last sample goes to the job's final sample, not into the result's counters.
          const { sample, ...metrics } = message.metrics;
          if (sample !== undefined) this.finishedSamples.push(sample);
          this.finished.push(metrics);
        }
        if (this.finished.length === this.spec.tasks.length) await this.succeed();
        return;
      case 'failed':
        if (message.attempt !== this.attemptNo) return;
        await this.onFailure(decodeError(message.error));
        return;
    }
  }

  private async finalCheckpoint(attemptNo: number): Promise<void> {
    const coordinator = this.coordinator;
    const attempt = this.attempt as Attempt;
    if (!coordinator) {
      attempt.finishAll();
      return;
    }
    // Sinks commit what they pre-committed when it completes; then the subtasks may close.
    void coordinator.trigger('checkpoint').then((outcome) => {
      if (attemptNo !== this.attemptNo) return;
      if (outcome.status === 'completed') attempt.finishAll();
      else
        this.tell({
          type: 'failed',
          attempt: attemptNo,
          error: encodeError(
            new WeirError(`the final checkpoint failed: ${outcome.reason}`, {
              code: ErrorCodes.INTERNAL,
              domain: 'internal',
              retriable: true,
            }),
          ),
        });
    });
  }

  private async succeed(): Promise<void> {
    this.finalSamples();
    this.settled = true;
    this.wakeRunningWaiters();
    this.coordinator?.stop();
    const durationMs = this.clock.monotonic() - this.startedAt;
    await this.attempt?.release();
    this.stop();
    this.resolveResult(this.resultOf(durationMs, this.finished));
  }

  /** The job's result from the counters of its subtasks (of the last attempt). */
  private resultOf(durationMs: number, subtasks: SubtaskMetrics[]): JobResult {
    const operators: Record<string, OperatorTotals> = {};
    for (const m of subtasks) {
      for (const op of m.operators) {
        const totals = (operators[op.name] ??= { recordsIn: 0, recordsOut: 0, subtasks: 0 });
        totals.recordsIn += op.recordsIn;
        totals.recordsOut += op.recordsOut;
        totals.subtasks++;
      }
    }
    this.stats.restarts = this.backoff.attempts;
    return {
      jobName: this.spec.jobName,
      mode: this.spec.mode,
      durationMs,
      slots: this.spec.slots,
      operators,
      collected: Object.fromEntries(this.collected),
      subtasks,
      faultTolerance: this.stats,
    };
  }

  private async onFailure(error: Error): Promise<void> {
    this.failedAt = this.clock.monotonic();
    const failedAttempt = this.attemptCounter;
    const coordinator = this.coordinator;
    this.coordinator = undefined;
    if (coordinator) this.nextCheckpointId = Math.max(this.nextCheckpointId, coordinator.nextCheckpointId);
    coordinator?.stop();
    const attempt = this.attempt;
    this.attempt = undefined;
    // Everything of this attempt stops: late messages from it are ignored from here on.
    this.attemptNo = -1;
    await attempt?.cancel().catch(() => undefined);
    const { operator, subtask } = siteOf(error);
    const report = (next: Extract<JobEvent, { kind: 'attempt-failed' }>['next']) => {
      this.keep(this.exceptions, {
        time: this.clock.now(),
        message: error.message,
        ...(operator !== undefined ? { operator } : {}),
        ...(subtask !== undefined ? { subtask } : {}),
        attempt: failedAttempt,
        action: next.action === 'restart' ? 'restart' : 'fail',
      });
      if (next.action === 'restart') this.status = 'RESTARTING';
      this.spec.onEvent?.({ kind: 'attempt-failed', attempt: failedAttempt, error, operator, subtask, next });
    };
    // A restart cannot fix it (a full or read-only checkpoint folder, malformed input under 'fail').
    const delay = isNonRetriable(error) ? undefined : this.backoff.onFailure(this.clock.now());
    if (delay === undefined) {
      const reason = isNonRetriable(error)
        ? 'not restarting: a restart cannot fix this error'
        : this.backoff.limit === 0
          ? 'not restarting: the job has no restart strategy'
          : `giving up: ${this.backoff.describe()}`;
      report({ action: 'give-up', reason });
      if (this.backoff.attempts > 0 && error instanceof WeirError) {
        (error as Error).message =
          `${error.message} (the job gave up after ${this.backoff.attempts} restart(s): ${this.backoff.describe()})`;
      }
      this.fail(error);
      return;
    }
    let from = this.latest ? `checkpoint ${this.latest.id}` : 'the start';
    if (this.spec.loadLatest) {
      try {
        const stored = await this.spec.loadLatest();
        if (stored) {
          for (const reason of stored.skipped) {
            this.stats.skippedCheckpoints.push(reason);
            this.spec.onEvent?.({ kind: 'checkpoint-skipped', reason });
          }
          this.latest = { id: stored.id, states: stored.states };
          from = stored.path;
        }
      } catch (loadError) {
        report({ action: 'give-up', reason: `not restarting: ${(loadError as Error).message.split('\n')[0]}` });
        this.fail(loadError as Error);
        return;
      }
    }
    report({ action: 'restart', restart: this.backoff.attempts, limit: this.backoff.limit, delayMs: delay, from });
    await new Promise<void>((resolve) => this.clock.setTimer(delay, resolve, 'restart delay'));
    if (!this.settled) await this.startAttempt();
  }

  private fail(error: Error): void {
    this.settled = true;
    this.wakeRunningWaiters();
    this.stop();
    this.rejectResult(error);
  }
}
