//! The messages that cross threads: job options, deploy descriptors, subtask reports, and the control-plane APIs.

import type { MessagePort } from 'node:worker_threads';
import type { EncodedError } from './errors.ts';
import type { SubtaskSample } from './metrics.ts';

/** Values a job module may receive as parameters (they cross threads, so plain data only). */
export type JobParams = Record<string, string | number | boolean>;

/** How to run a job; every field crosses to the workers, which build the same graph from it. */
export interface JobOptions {
  /** Default parallelism (operators and `env.setParallelism` in job code may override it). */
  parallelism?: number;
  /** Number of key groups (default 128). */
  maxParallelism?: number;
  /** Buffer timeout in ms (default 5; 0 flushes every record; -1 only full batches). */
  bufferTimeoutMs?: number;
  /** Elements per batch (default 1024). */
  batchSize?: number;
  /** Credits per input channel, in batches (default 4). */
  credits?: number;
  /** Buffer debloating target in ms (default 1000; 0 = off): batches shrink so credits hold about this much of a consumer's throughput. */
  bufferDebloatTargetMs?: number;
  /** Periodic watermark interval in ms (default 200). */
  autoWatermarkIntervalMs?: number;
  /** How long a worker may miss heartbeats before it counts as lost, in ms (default 30 000). */
  heartbeatTimeoutMs?: number;
  /** Job name (default: from the job, else the module's file name). */
  jobName?: string;
  /** Parameters handed to the job's build function. */
  params?: JobParams;
  /** JS heap limit of each worker thread in MB (default: the parent's `--max-old-space-size`, else V8's). */
  workerMaxHeapMb?: number;
  /** Where keyed state lives (default: heap, or the `WEIR_STATE_BACKEND` environment variable). */
  stateBackend?: StateBackendConfig;
  /**
   * Checkpoint every this many ms, overriding the job's own interval (Flink's
   * `execution.checkpointing.interval`; `weir run --checkpoint-interval`).
   */
  checkpointIntervalMs?: number;
  /** With `checkpointIntervalMs`: exactly-once (default, or the job's own mode) or at-least-once. */
  checkpointMode?: 'exactly-once' | 'at-least-once';
}

/**
 * Where keyed state lives (Flink's state backend): on the heap, or in RocksDB on local disk with
 * a cache of `cacheKeys` keys on the heap, under `dir` (default: the OS temp directory).
 */
export type StateBackendConfig = { kind: 'heap' } | { kind: 'rocksdb'; dir?: string; cacheKeys?: number };

/** Counters of one output channel. */
export interface OutputChannelMetrics {
  name: string;
  credits: number;
  maxInFlight: number;
  maxBacklog: number;
  batchesSent: number;
  recordsOut: number;
  creditStalls: number;
  bytesEncoded: number;
}

/** Counters a subtask reports when it ends. */
export interface SubtaskMetrics {
  /** Task (chain) name. */
  task: string;
  subtask: number;
  operators: { name: string; recordsIn: number; recordsOut: number; counters?: Record<string, number> }[];
  mailbox?: { bound: number; maxQueued: number; channels: { name: string; maxQueued: number; received: number; bound: number }[] };
  outputs: OutputChannelMetrics[];
  /** Bytes encoded by this subtask's channels; zero when all its consumers share its thread. */
  bytesEncoded: number;
  /** Times the actor stopped because an output had no credit. */
  backpressureStalls: number;
  /** The subtask's last live sample, taken as it finished (the job's final sample). */
  sample?: SubtaskSample;
}

/** What a worker reports to the coordinator (called through a comlink proxy). */
export interface WorkerCallbacks {
  subtaskFinished(metrics: SubtaskMetrics): void;
  subtaskFailed(error: EncodedError): void;
  collect(sinkId: string, subtask: number, records: unknown[], commitKey?: string, recovered?: boolean): void;
  /** A subtask's part of a checkpoint: encoded operator states (transferred), and how long its barriers took to align (ms), if they did. */
  checkpointAcknowledged(
    vertex: number,
    subtask: number,
    checkpointId: number,
    operators: Record<string, Uint8Array>,
    alignmentMs?: number,
  ): void;
  checkpointDeclined(vertex: number, subtask: number, checkpointId: number, reason: string): void;
  subtaskEnded(vertex: number, subtask: number): void;
}

/** A checkpoint barrier as the control plane carries it. */
export interface BarrierMessage {
  id: number;
  timestamp: number;
  kind: 'checkpoint' | 'savepoint';
}

/** The remote end of one data channel handed to a worker. */
export interface ChannelPort {
  /** Channel id in the execution plan. */
  channel: number;
  /** Which end this worker holds. */
  end: 'producer' | 'consumer';
  port: MessagePort;
}

/** Everything a worker needs to deploy its slot. */
export interface DeployDescriptor {
  /** URL of the job module. */
  jobModule: string;
  options: JobOptions;
  /** The coordinator's graph fingerprint; the worker's must match. */
  fingerprint: string;
  /** State to restore, per `vertex/subtask` and operator id (a plain-data restore plan), if any. */
  restore?: Record<string, Record<string, unknown>>;
  /** The slot this worker hosts. */
  slot: number;
  /** Remote channel ends for this slot. */
  ports: ChannelPort[];
  /** `false`: no busy/idle/backpressure time accounting (`ExecuteOptions.metrics`). */
  metrics?: boolean;
}

/** How a deploy went: errors come back as data, since comlink would turn them into plain Errors. */
/**
 * The answer to a live state query (see `JobClient.queryState`): one key's entries of one keyed
 * state, read in the subtask between records, as plain data; or why not (`code` is a WeirError code).
 */
export type StateQueryAnswer =
  | {
      ok: true;
      /** The state's kind (value, list, map, reducing, aggregating). */
      kind: string;
      keyGroup: number;
      /** The subtask that owns the key group. */
      subtask: number;
      /** Whether the key has an entry in the default namespace. */
      found: boolean;
      /**
       * The entry as a checkpoint holds it: the value (value, reducing state), the accumulator
       * (aggregating), the elements (list), or `[key, value]` entries (map).
       */
      value?: unknown;
      /** Entries of the key under other namespaces (window state), if any. */
      namespaces?: { namespace: unknown; value: unknown }[];
    }
  | { ok: false; code: string; message: string; known?: string[] };

export type DeployOutcome = { deployed: true; subtasks: number } | { deployed: false; error: EncodedError };

/** The control plane a worker exposes (through comlink) for its slot. */
export interface SlotControl {
  /** Builds the graph from the job module, checks the fingerprint, creates the slot's subtasks. */
  deploy(descriptor: DeployDescriptor, callbacks: WorkerCallbacks): Promise<DeployOutcome>;
  /** Opens operators and starts processing. */
  start(): Promise<void>;
  /** Stops processing (best effort; the coordinator may also terminate the thread). */
  cancel(): Promise<void>;
  /** Starts a checkpoint on this slot's subtasks. */
  triggerCheckpoint(barrier: BarrierMessage): void;
  /** A checkpoint completed: resolves once this slot's subtasks committed. */
  notifyCheckpointComplete(checkpointId: number): Promise<void>;
  abortCheckpoint(checkpointId: number): void;
  /** Closes every ended subtask (after the final checkpoint). */
  finishAll(): void;
  /** A live sample of this slot's subtasks (empty before deploy and between attempts). */
  sample(): SubtaskSample[];
  /** Reads one key of a keyed state in subtask `vertex/subtask` between records (see {@link StateQueryAnswer}). */
  queryState(vertex: number, subtask: number, operatorId: string, stateName: string, key: unknown): Promise<StateQueryAnswer>;
  /** Heartbeat: answers as long as the thread is responsive. */
  ping(): number;
  /** The worker thread's id (`worker_threads.threadId`), to terminate the thread of a slot. */
  threadId(): number;
  /** Ends the slot's task so the thread returns to the pool. */
  shutdown(): void;
}
