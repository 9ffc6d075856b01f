//! What a running job reports about itself: live samples of every subtask (taken by the job master over the control plane at a fixed interval, off the hot path) and the job's own history (checkpoints, restarts, exceptions). `src/observe` turns these into the REST API, Prometheus, the dashboard and the watermark explainer.

/** One input split of a source subtask as the watermark explainer needs it. */
export interface SplitSample {
  /** The split as a user names it: `orders-3` (topic-partition), a file path, `generator 1/2`. */
  split: string;
  /** The split's own watermark (ms since the epoch; `-Infinity` before its first). */
  watermark: number;
  /** Marked idle (by `withIdleness`), so it does not hold the source's watermark back. */
  idle: boolean;
  /** Event time of the split's last record, if it had one. */
  lastEventTime?: number;
  /** Wall time (ms since the epoch) when the split's last record arrived. */
  lastRecordAt?: number;
  /** Records read from the split. */
  records: number;
}

/** One operator of a subtask's chain. */
export interface OperatorSample {
  /** The operator's display name (unique within the job; see `JobGraph.nodeNames`). */
  name: string;
  /** The operator's stable id (its uid, or the generated one). */
  id: string;
  recordsIn: number;
  recordsOut: number;
  /** Extra counters, with Flink's names where they exist (`numLateRecordsDropped`, ...). */
  counters?: Record<string, number>;
  /** Watermark this operator last received, per logical input (one entry for one-input operators). */
  inputWatermarks?: number[];
  /** Watermark this operator last emitted. */
  outputWatermark?: number;
  /** Keyed state: entries and an estimate of their bytes. */
  state?: { keys: number; bytes: number };
  /** Event-time timers registered and not fired; the earliest one's time and how many keys wait for it. */
  timers?: { pending: number; earliest?: number; earliestKeys?: number };
  /** Window operators: windows holding contents and not yet fired; the earliest one (by end) and its number of keys. */
  windows?: { pending: number; earliest?: { start: number; end: number; keys: number } };
  /** Never fires on watermarks: `global-window-without-trigger`, `no-watermarks` (the explainer says why). */
  neverFires?: string;
}

/** A live sample of one subtask. Counters are cumulative since the attempt started. */
export interface SubtaskSample {
  /** Vertex (task, a chain of operators) index in the job graph. */
  vertex: number;
  subtask: number;
  /** Task (chain) name. */
  task: string;
  /** Wall time of the sample (ms since the epoch). */
  at: number;
  /** The subtask's life-cycle state (`running`, `draining`, `ended`, `finished`, ...), when known. */
  state?: string;
  operators: OperatorSample[];
  /** Milliseconds spent processing (busy), waiting for input (idle), and stopped for want of credit (backpressured). */
  busyMs: number;
  idleMs: number;
  backPressuredMs: number;
  /** The subtask's input watermark per input channel (mailbox order), and the combined one. */
  inputWatermarks: number[];
  currentInputWatermark: number;
  currentOutputWatermark: number;
  /** Mailbox occupancy: batches queued now and the bound. */
  mailbox?: { queued: number; bound: number };
  /** Output credits available now and the total (credit occupancy). */
  credits?: { available: number; total: number };
  /** Source subtasks: their splits. */
  splits?: SplitSample[];
}

/** One checkpoint or savepoint in the job's history. */
export interface CheckpointEntry {
  id: number;
  kind: 'checkpoint' | 'savepoint';
  status: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  /** Wall time when triggered (ms since the epoch). */
  triggerTime: number;
  durationMs?: number;
  sizeBytes?: number;
  /** Longest barrier alignment among the subtasks. */
  alignmentMs?: number;
  path?: string;
  failure?: string;
}

/** A failure of the job, and what happened next. */
export interface ExceptionEntry {
  time: number;
  message: string;
  operator?: string;
  subtask?: number;
  /** The attempt that failed, from 1. */
  attempt: number;
  action: 'restart' | 'fail';
}

/** Flink's job states, as far as weir has them. */
export type JobStatus = 'CREATED' | 'RUNNING' | 'RESTARTING' | 'FINISHED' | 'FAILED' | 'CANCELED';

/** A live sample of a whole job: what `JobClient.sample()` answers. */
export interface JobSample {
  jobId: string;
  name: string;
  status: JobStatus;
  /** Wall times (ms since the epoch). */
  startTime: number;
  /** When the job ended (FINISHED, FAILED, CANCELED). */
  endTime?: number;
  now: number;
  /** The current attempt, from 1. */
  attempt: number;
  numRestarts: number;
  /** The latest sample of every subtask of the current attempt (empty while deploying). */
  subtasks: SubtaskSample[];
  checkpoints: {
    completed: number;
    failed: number;
    inProgress: number;
    /** The latest entries, oldest first (at most 100). */
    history: CheckpointEntry[];
  };
  /** Oldest first (at most 100). */
  exceptions: ExceptionEntry[];
}
