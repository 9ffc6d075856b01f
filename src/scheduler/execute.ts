//! Running a job: from a module (threads or local) or from a job definition (local), supervised by a job master.

import { JobMaster, type JobResult } from '../actors/job-master.ts';
import type { CompletedCheckpoint } from '../checkpoint/coordinator.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { JobOptions } from '../core/protocol.ts';
import { isJobDefinition, type JobDefinition } from '../graph/job-definition.ts';
import type { JobGraph } from '../graph/job-graph.ts';
import { loadJobDefinition, toModuleUrl } from './job-loader.ts';
import { deployLocal, type LocalOptions } from './local-runner.ts';
import { buildRestore } from './restore.ts';
import { deployThreads } from './thread-runner.ts';
import { join } from 'node:path';
import { defaultRocksDbDir, loadRocksDbBinding, rocksDbDirPrefix, sweepRocksDbDirs } from '../state/rocksdb-store.ts';
import { CheckpointStorage, loadCheckpoint, type CheckpointSnapshot, type StoredCheckpoint } from '../checkpoint/storage.ts';

/** A job name as a folder name. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_') || 'job';
}

/** How to run a job. */
export interface ExecuteOptions extends JobOptions, LocalOptions {
  /** `threads` (default): one worker thread per slot; `local`: every subtask on the calling thread. */
  mode?: 'threads' | 'local';
  /** Start from this checkpoint's states (a loaded savepoint or checkpoint). */
  restoreFrom?: { id: number; states: ReadonlyMap<string, Uint8Array> };
  /** Start from the savepoint (or retained checkpoint) in this folder. */
  fromSavepoint?: string;
  /**
   * Keep checkpoints in this folder (one sub-folder per job name): each completed checkpoint is
   * written there, and restarts restore from the newest one that verifies.
   */
  checkpointDir?: string;
  /** Where `triggerSavepoint()` writes savepoints (default: `<checkpointDir>/savepoints`). */
  savepointDir?: string;
  /** Drop state of operators the job no longer has instead of failing the restore. */
  allowNonRestoredState?: boolean;
  /** Makes each completed checkpoint durable (checkpoint storage). */
  storeCheckpoint?(checkpoint: CompletedCheckpoint, graph: JobGraph): Promise<void>;
  /** Called after each completed checkpoint is stored, before subtasks commit it, on the calling thread (tests inject faults here). */
  onCheckpoint?(checkpoint: CompletedCheckpoint, attempt: number, client: JobClient): void;
  /** Called when a checkpoint is triggered (barriers in flight). */
  onCheckpointTriggered?(checkpointId: number, attempt: number, client: JobClient): void;
  /** Called after every subtask committed a completed checkpoint. */
  onCheckpointCommitted?(checkpointId: number, attempt: number, client: JobClient): void;
}

/** How a savepoint request waits for a job that is not running yet. */
export interface SavepointOptions {
  /** How long to wait for a deploying (or restarting) job to run, in ms (default 30 000). */
  waitMs?: number;
}

/** A running job. */
export interface JobClient {
  /** Settles when the job ends. */
  readonly result: Promise<JobResult>;
  /** The job graph as deployed. */
  readonly graph: JobGraph;
  /**
   * Takes a savepoint now (needs checkpointing); resolves with the completed savepoint and, when
   * written, its folder. Right after `startJob` it waits for the job to run (up to 30 s; then it
   * rejects with `WEIR_JOB_NOT_RUNNING`, "the job is still deploying").
   */
  triggerSavepoint(dir?: string, options?: SavepointOptions): Promise<CompletedCheckpoint & { path?: string }>;
  /** Takes a savepoint, then stops the job (Flink's stop-with-savepoint): `result` resolves with `savepoint` set. */
  stopWithSavepoint(dir?: string, options?: SavepointOptions): Promise<CompletedCheckpoint & { path?: string }>;
  /** Cancels the job; `result` rejects with WEIR_JOB_CANCELLED. */
  cancel(): Promise<void>;
  /** Terminates one worker thread without warning (fault injection: like killing a TaskManager). */
  killWorker(index?: number): Promise<void>;
}

/**
 * Starts a job and returns a client; the job runs under a job master that checkpoints (when
 * enabled) and restarts from the last completed checkpoint on failure (as the restart strategy
 * allows).
 */
export async function startJob(job: string | URL | JobDefinition, options: ExecuteOptions = {}): Promise<JobClient> {
  const {
    mode = 'threads',
    processingTime,
    restoreFrom,
    allowNonRestoredState,
    storeCheckpoint,
    onCheckpoint,
    onCheckpointTriggered: _onCheckpointTriggered,
    onCheckpointCommitted: _onCheckpointCommitted,
    fromSavepoint,
    checkpointDir: _checkpointDir,
    savepointDir: _savepointDir,
    ...jobOptions
  } = options;
  if (processingTime && mode !== 'local') {
    throw new WeirError('a processing-time service can only be injected in local mode', { code: ErrorCodes.CONFIG, domain: 'user' });
  }
  let graph: JobGraph;
  let moduleUrl: string | undefined;
  if (isJobDefinition(job)) {
    if (mode !== 'local') {
      throw new WeirError('a job definition object can only run in local mode; pass the job module path to run on worker threads', {
        code: ErrorCodes.CONFIG,
        domain: 'user',
      });
    }
    graph = await job.buildJobGraph(jobOptions);
  } else {
    moduleUrl = toModuleUrl(job);
    graph = await (await loadJobDefinition(moduleUrl)).buildJobGraph(jobOptions);
  }
  let initial = restoreFrom;
  if (fromSavepoint !== undefined) {
    const stored = await loadCheckpoint(fromSavepoint);
    initial = { id: stored.id, states: statesOf(stored) };
  }
  return startGraph(graph, { ...options, mode }, moduleUrl, jobOptions, initial, allowNonRestoredState, storeCheckpoint, onCheckpoint);
}

/** The state entries of a stored checkpoint, by `operatorId/subtask`. */
function statesOf(stored: StoredCheckpoint): Map<string, Uint8Array> {
  const states = new Map<string, Uint8Array>();
  for (const entry of stored.entries) states.set(entry.name, entry.data as Uint8Array);
  return states;
}

/** What storage keeps of a completed checkpoint: one entry per operator subtask, operators described in `info`. */
function snapshotOf(checkpoint: CompletedCheckpoint, graph: JobGraph): CheckpointSnapshot {
  return {
    id: checkpoint.id,
    timestamp: checkpoint.timestamp,
    job: graph.config.jobName,
    info: {
      fingerprint: graph.fingerprint,
      maxParallelism: graph.config.maxParallelism,
      operators: graph.streamGraph.nodes.map((n) => ({
        id: graph.operatorIds[n.id],
        name: graph.nodeNames[n.id],
        parallelism: graph.nodeParallelism[n.id],
      })),
    },
    entries: [...checkpoint.states].map(([name, data]) => ({ name, data })),
  };
}

/** Starts an already built job graph (local mode, or threads when the module is known). */
export function startGraph(
  graph: JobGraph,
  options: ExecuteOptions,
  moduleUrl?: string,
  jobOptions: JobOptions = {},
  restoreFrom = options.restoreFrom,
  allowNonRestoredState = options.allowNonRestoredState,
  storeCheckpoint = options.storeCheckpoint,
  onCheckpoint = options.onCheckpoint,
): JobClient {
  const mode = options.mode ?? 'threads';
  const storage = options.checkpointDir
    ? new CheckpointStorage(join(options.checkpointDir, safeName(graph.config.jobName)), {
        retain: Math.max(2, graph.config.checkpointing?.retain ?? 2),
      })
    : undefined;
  const tasks = graph.vertices.flatMap((v) => Array.from({ length: v.parallelism }, (_, s) => `${v.id}/${s}`));
  let client!: JobClient;
  const master = new JobMaster({
    jobName: graph.config.jobName,
    mode,
    slots: mode === 'threads' ? graph.slots : 0,
    tasks,
    collectIds: graph.collectIds,
    checkpointing: graph.config.checkpointing,
    restartStrategy:
      graph.config.restartStrategy ??
      (graph.config.checkpointing ? { kind: 'fixed-delay', attempts: Number.MAX_SAFE_INTEGER, delayMs: 1000 } : { kind: 'none' }),
    initial: restoreFrom,
    store:
      storeCheckpoint || storage
        ? async (c) => {
            if (storage) await storage.write(snapshotOf(c, graph));
            await storeCheckpoint?.(c, graph);
          }
        : undefined,
    loadLatest: storage
      ? async () => {
          const latest = await storage.latest();
          if (!latest) return undefined;
          return {
            id: latest.checkpoint.id,
            states: statesOf(latest.checkpoint),
            skipped: latest.skipped.map((s) => `${s.path}: ${s.reason}`),
          };
        }
      : undefined,
    onCheckpoint: onCheckpoint ? (c, attempt) => onCheckpoint(c, attempt, client) : undefined,
    onCheckpointTriggered: options.onCheckpointTriggered
      ? (id, attempt) => options.onCheckpointTriggered?.(id, attempt, client)
      : undefined,
    onCheckpointCommitted: options.onCheckpointCommitted
      ? (id, attempt) => options.onCheckpointCommitted?.(id, attempt, client)
      : undefined,
    deploy: async (states, events) => {
      const restore = states ? buildRestore(graph, states, allowNonRestoredState) : undefined;
      if (mode === 'local') return deployLocal(graph, restore, events, { processingTime: options.processingTime });
      if (!moduleUrl) throw new WeirError('running on worker threads needs the job module', { code: ErrorCodes.CONFIG, domain: 'user' });
      return deployThreads(moduleUrl, jobOptions, graph, restore, events);
    },
  });
  const savepoint = async (
    dir: string | undefined,
    stopping: boolean,
    waitMs: number | undefined,
  ): Promise<CompletedCheckpoint & { path?: string }> => {
    const outcome = await master.triggerSavepoint(stopping, waitMs);
    if (outcome.status !== 'completed') {
      throw new WeirError(`savepoint ${outcome.id} failed: ${outcome.reason}`, {
        code: ErrorCodes.INTERNAL,
        domain: 'internal',
        retriable: true,
      });
    }
    const target = dir ?? options.savepointDir ?? (options.checkpointDir ? join(options.checkpointDir, 'savepoints') : undefined);
    if (target === undefined) return outcome.checkpoint;
    const written = await new CheckpointStorage(target).writeSavepoint(snapshotOf(outcome.checkpoint, graph), target);
    return { ...outcome.checkpoint, path: written.path };
  };
  client = {
    result: master.result,
    graph,
    triggerSavepoint: (dir, opts) => savepoint(dir, false, opts?.waitMs),
    stopWithSavepoint: async (dir, opts) => {
      const taken = await savepoint(dir, true, opts?.waitMs);
      await master.stopWithSavepoint({ id: taken.id, path: taken.path });
      return taken;
    },
    cancel: () => master.cancelJob(),
    killWorker: async (index = 0) => {
      const attempt = master.currentAttempt;
      if (!attempt?.killSlot)
        throw new WeirError('only a job on worker threads has workers to kill', { code: ErrorCodes.CONFIG, domain: 'user' });
      await attempt.killSlot(index);
    },
  };
  const backend = graph.config.stateBackend;
  if (backend?.kind === 'rocksdb') {
    loadRocksDbBinding();
    // Workers remove their RocksDB directories when they finish; a worker that died could not.
    const sweep = (): void => sweepRocksDbDirs(backend.dir ?? defaultRocksDbDir(), rocksDbDirPrefix(graph.config.jobName));
    master.result.then(sweep, sweep);
  }
  void master.run();
  return client;
}

/**
 * Runs a job and resolves with its result when every subtask has finished; rejects with the
 * failure that ended it (naming operator and subtask), after every worker has been stopped.
 *
 * `job` is the path or URL of a job module (whose default export is `defineJob(...)`), or a job
 * definition itself, which can only run in local mode since workers must import a module.
 */
export async function executeJob(job: string | URL | JobDefinition, options: ExecuteOptions = {}): Promise<JobResult> {
  return (await startJob(job, options)).result;
}
