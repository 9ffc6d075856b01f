//! Running a job: from a module (threads or local) or from a job definition (local), supervised by a job master.

import { JobMaster, describeJobEvent, type JobEvent, type JobResult } from '../actors/job-master.ts';
import { DEFAULT_CHECKPOINTING_RESTART_STRATEGY } from '../actors/restart-strategies.ts';
import type { CompletedCheckpoint } from '../checkpoint/coordinator.ts';
import { ErrorCodes, WeirError, type ErrorCode } from '../core/errors.ts';
import type { JobOptions, StateQueryAnswer } from '../core/protocol.ts';
import type { JobSample } from '../core/metrics.ts';
import { randomBytes } from 'node:crypto';
import { isJobDefinition, type JobDefinition } from '../graph/job-definition.ts';
import type { JobGraph } from '../graph/job-graph.ts';
import { loadJobDefinition, toModuleUrl } from './job-loader.ts';
import { deployLocal, type LocalOptions } from './local-runner.ts';
import { buildRestore } from './restore.ts';
import { checkStatePlan, planRestore } from './state-plan.ts';
import { bundleJobForWorkers } from './job-bundle.ts';
import { WorkerSlots } from './thread-runner.ts';
import { stat } from 'node:fs/promises';
import { assignToKeyGroup, computeOperatorIndexForKeyGroup } from '../state/key-groups.ts';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultRocksDbDir, loadRocksDbBinding, rocksDbDirPrefix, sweepRocksDbDirs } from '../state/rocksdb-store.ts';
import {
  CheckpointStorage,
  RUN_FOLDER,
  findResumeCheckpoint,
  listRuns,
  loadCheckpoint,
  newRunFolder,
  type CheckpointSnapshot,
  type LatestCheckpoint,
  type SkippedCheckpoint,
  type StoredCheckpoint,
} from '../checkpoint/storage.ts';

/** A job name as a folder name. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_') || 'job';
}

/** Without an `onEvent` listener, damaged checkpoints passed over and accepted replays still show, as process warnings. */
function warnOnly(event: JobEvent): void {
  if (event.kind === 'checkpoint-skipped' || event.kind === 'warning') process.emitWarning(`weir: ${describeJobEvent(event)}`);
}

/** How to run a job. */

/**
 * Whether worker threads load the job as one esbuild bundle (WEIR_WORKER_BUNDLE=1). Off by default:
 * the bundle boots a thread in ~120 ms instead of ~600 ms, but the bundled code ran Nexmark q0
 * 1.5–1.8× slower in the steady state than the same modules loaded one by one (2026-12-03, cause
 * not found yet), which costs more than start-up saves on any job longer than a second or two.
 */
function workerBundlesOn(): boolean {
  return process.env.WEIR_WORKER_BUNDLE === '1';
}
export interface ExecuteOptions extends JobOptions, LocalOptions {
  /** `threads` (default): one worker thread per slot; `local`: every subtask on the calling thread. */
  mode?: 'threads' | 'local';
  /**
   * Start from this checkpoint's states (a loaded savepoint or checkpoint); `committed`: every
   * commit of it happened before it was stored (true of savepoints).
   */
  restoreFrom?: { id: number; states: ReadonlyMap<string, Uint8Array>; committed?: boolean };
  /**
   * Start from the savepoint or retained checkpoint in this folder (`savepoint-…`, `chk-N`), or
   * from the newest valid checkpoint of a run's folder (`run-…`) or of a job's folder of runs.
   */
  fromSavepoint?: string;
  /**
   * Keep checkpoints in this folder, as Flink's `<checkpoint-dir>/<job-id>/chk-N`: each run writes
   * to a folder of its own, `<checkpointDir>/<job name>/run-<start time>-<hex>/chk-N` (see
   * {@link JobClient.checkpointPath}), restarts restore from its newest valid checkpoint, and
   * retention deletes only there. A new run never reads another's checkpoints unless told to
   * ({@link resume}).
   */
  checkpointDir?: string;
  /**
   * Resume from a checkpoint folder (`weir run --resume <dir>`): the newest valid checkpoint of
   * the newest run of this job there (`<dir>/<job name>/run-…`). The folder must exist; without a
   * checkpoint in it the job starts from scratch (told through {@link onEvent}). Without a
   * {@link checkpointDir}, the resumed run keeps its checkpoints in this folder too.
   */
  resume?: string;
  /**
   * Accept a restore that falls back past a damaged checkpoint whose commits already happened:
   * two-phase-commit sinks that cannot rewind then write that output again (duplicates). Off by
   * default: such a restore fails, naming both checkpoints and the sinks.
   */
  allowReplayOfCommitted?: boolean;
  /** Told of the checkpoint folder, the resumed checkpoint, every failure and restart (the CLI prints them). */
  onEvent?(event: JobEvent): void;
  /**
   * Watches the job once it is started: `startObserver()`'s observer (REST API, dashboard,
   * Prometheus) or a `MetricsRegistry`; told of every job these options start (a SQL
   * environment's too).
   */
  observer?: { addJob(client: JobClient): void };
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
  /**
   * Busy/idle/backpressured time accounting in the subtasks (default true; `false` skips it, for
   * the foundation bench's comparison). Samples are available either way.
   */
  metrics?: boolean;
  /** The job's id (32 lower-case hex chars, Flink's JobID format); random when not given. */
  jobId?: string;
}

/** How a savepoint request waits for a job that is not running yet. */
export interface SavepointOptions {
  /** How long to wait for a deploying (or restarting) job to run, in ms (default 30 000). */
  waitMs?: number;
}

/** A running job. */
export interface JobClient {
  /** The job's id: 32 lower-case hex chars (Flink's JobID format). */
  readonly id: string;
  /**
   * A live sample of the job (see {@link JobSample}): asks every slot for its subtasks' samples (a
   * slot that does not answer within 500 ms contributes its previous one). Works in every state:
   * before deploy with no subtasks, after the end the final sample with the end status.
   */
  sample(): Promise<JobSample>;
  /** Settles when the job ends. */
  readonly result: Promise<JobResult>;
  /** The job graph as deployed. */
  readonly graph: JobGraph;
  /** This run's checkpoint folder, when checkpoints are stored (`checkpointDir`). */
  readonly checkpointPath?: string;
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
  /**
   * Reads the current value of keyed state `stateName` for `key` in operator `uid` (its uid, or
   * the id weir derived for it) while the job runs (Flink's queryable state): the subtask that
   * owns the key's key group answers between two records, so the value is one the next checkpoint
   * could hold. Rejects with a WeirError naming the known operators or states when either is
   * unknown, and with `WEIR_JOB_NOT_RUNNING` while the job is not running.
   */
  queryState(uid: string, stateName: string, key: unknown, options?: { timeoutMs?: number }): Promise<LiveStateValue>;
}

/**
 * One key's keyed state read from a running job by {@link JobClient.queryState}: what the owning
 * subtask answered (kind, key group, subtask, whether the key has an entry in the default
 * namespace, the entry as a checkpoint holds it, entries under other namespaces), with the query.
 */
export type LiveStateValue = { uid: string; state: string; key: unknown } & Omit<Extract<StateQueryAnswer, { ok: true }>, 'ok'>;

/** How long a live state query waits for the subtask's answer by default. */
const QUERY_TIMEOUT_MS = 10_000;

/** Routes a live state query to the subtask owning the key (see {@link JobClient.queryState}). */
async function queryState(
  graph: JobGraph,
  master: JobMaster,
  uid: string,
  stateName: string,
  key: unknown,
  timeoutMs = QUERY_TIMEOUT_MS,
): Promise<LiveStateValue> {
  const fail = (message: string, code: string = ErrorCodes.STATE_ACCESS) =>
    new WeirError(message, { code: code as ErrorCode, domain: 'user', retriable: false });
  const node = graph.streamGraph.nodes.find((n) => graph.operatorIds[n.id] === uid);
  if (!node) {
    const known = graph.streamGraph.nodes.map((n) => `'${graph.operatorIds[n.id]}' (${graph.nodeNames[n.id]})`);
    throw fail(`job '${graph.config.jobName}' has no operator with uid '${uid}'; its operators: ${known.join(', ')}`);
  }
  if (!node.keyed) {
    const keyed = graph.streamGraph.nodes.filter((n) => n.keyed).map((n) => `'${graph.operatorIds[n.id]}'`);
    throw fail(
      `operator '${uid}' (${graph.nodeNames[node.id]}) does not read a keyed stream and has no keyed state; keyed operators: ${keyed.join(', ') || '(none)'}`,
    );
  }
  if (key === undefined || key === null) throw fail('a live state query needs a key');
  const maxParallelism = graph.config.maxParallelism;
  const keyGroup = assignToKeyGroup(key, maxParallelism);
  const subtask = computeOperatorIndexForKeyGroup(maxParallelism, graph.nodeParallelism[node.id], keyGroup);
  // Right after startJob, or during a restart, the query waits for the job to run (as a savepoint does).
  if (master.jobStatus === 'CREATED' || master.jobStatus === 'RESTARTING') await master.whenRunning(timeoutMs);
  const attempt = master.currentAttempt;
  if (master.jobStatus !== 'RUNNING' || !attempt?.queryState)
    throw fail(
      `job '${graph.config.jobName}' is ${master.jobStatus.toLowerCase()}, not running: its state can be read from a checkpoint`,
      ErrorCodes.JOB_NOT_RUNNING,
    );
  let timer: NodeJS.Timeout | undefined;
  const answer = await Promise.race([
    attempt.queryState(graph.vertexOfNode[node.id], subtask, uid, stateName, key),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs))),
  ]).finally(() => clearTimeout(timer));
  if (answer === undefined)
    throw fail(`subtask ${subtask} of operator '${uid}' did not answer within ${timeoutMs} ms`, ErrorCodes.JOB_NOT_RUNNING);
  if (!answer.ok) throw fail(answer.message, answer.code);
  const { ok: _ok, ...entries } = answer;
  return { uid, state: stateName, key, ...entries };
}

/**
 * Starts a job and returns a client; the job runs under a job master that checkpoints (when
 * enabled) and restarts from the last completed checkpoint on failure (as the restart strategy
 * allows).
 */
export async function startJob(job: string | URL | JobDefinition, given: ExecuteOptions = {}): Promise<JobClient> {
  const options: ExecuteOptions = { ...given, onEvent: given.onEvent ?? warnOnly };
  const {
    mode = 'threads',
    processingTime,
    simulation: _simulation,
    restoreFrom,
    allowNonRestoredState,
    storeCheckpoint,
    onCheckpoint,
    onCheckpointTriggered: _onCheckpointTriggered,
    onCheckpointCommitted: _onCheckpointCommitted,
    fromSavepoint,
    checkpointDir: _checkpointDir,
    savepointDir: _savepointDir,
    resume,
    allowReplayOfCommitted: _allowReplayOfCommitted,
    onEvent: _onEvent,
    metrics: _metrics,
    jobId: _jobId,
    observer: _observer,
    ...jobOptions
  } = options;
  if ((processingTime || options.simulation) && mode !== 'local') {
    throw new WeirError('a processing-time service can only be injected in local mode', { code: ErrorCodes.CONFIG, domain: 'user' });
  }
  let graph: JobGraph;
  let moduleUrl: string | undefined;
  let workerBundle: Promise<string | undefined> | undefined;
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
    // The workers' bundle is built (or read from the cache) by esbuild's own process while this
    // thread loads the job and builds its graph.
    if (mode === 'threads' && workerBundlesOn()) {
      workerBundle = bundleJobForWorkers(moduleUrl);
      workerBundle.catch(() => undefined);
    }
    graph = await (await loadJobDefinition(moduleUrl)).buildJobGraph(jobOptions);
  }
  let initial = restoreFrom;
  if (resume !== undefined && fromSavepoint !== undefined)
    throw new WeirError('give either resume (--resume) or fromSavepoint (--from-savepoint), not both', {
      code: ErrorCodes.CONFIG,
      domain: 'user',
      retriable: false,
    });
  // The state plan, before any worker starts: a restore that would fail (or drop state without
  // allowNonRestoredState) is refused here, with the reasons `weir plan` prints.
  const checkPlan = async (stored: StoredCheckpoint, from: string, resumed = false): Promise<void> => {
    const plan = await planRestore(graph, statesOf(stored), stored.info);
    checkStatePlan(
      plan,
      allowNonRestoredState,
      from,
      moduleUrl?.startsWith('file:') ? relative(process.cwd(), fileURLToPath(moduleUrl)) : undefined,
    );
    // What restores today but is worth knowing: TTL changes, state moved to another operator, derived ids.
    for (const message of plan.warnings) if (!message.includes(' has no uid: ')) options.onEvent?.({ kind: 'warning', message });
    // Resuming the job after a crash restores the graph that wrote the checkpoint: derived ids are the ones it had.
    if (plan.restoredByDerivedId.length > 0 && !resumed)
      options.onEvent?.({
        kind: 'warning',
        message: `state restored by derived operator id(s) ${plan.restoredByDerivedId.map((id) => `'${id}'`).join(', ')}: they change when the graph changes before those operators; give them .uid('...')`,
      });
  };
  if (fromSavepoint !== undefined) {
    const found = await findInFolder(fromSavepoint);
    if (found) {
      checkReplay(found, graph, options);
      options.onEvent?.({ kind: 'resumed', path: found.path, id: found.checkpoint.id });
    }
    const stored = found?.checkpoint ?? (await loadCheckpoint(fromSavepoint));
    await checkPlan(stored, found?.path ?? fromSavepoint);
    // A savepoint is written only once its sinks committed (the coordinator settles after the commits).
    initial = { id: stored.id, states: statesOf(stored), committed: stored.kind === 'savepoint' };
  }
  if (resume !== undefined) {
    const jobDir = join(resume, safeName(graph.config.jobName));
    try {
      await stat(resume);
    } catch (error) {
      throw new WeirError(`cannot resume from ${resume}: ${(error as Error).message}`, {
        code: ErrorCodes.CONFIG,
        domain: 'user',
        retriable: false,
        cause: error,
      });
    }
    const found = await findResumeCheckpoint(jobDir);
    if (found.kind === 'found') {
      checkReplay(found, graph, options);
      await checkPlan(found.checkpoint, found.path, true);
      options.onEvent?.({ kind: 'resumed', path: found.path, id: found.checkpoint.id });
      initial = { id: found.checkpoint.id, states: statesOf(found.checkpoint) };
    } else {
      const reason =
        found.kind === 'finished'
          ? `the newest run of job '${graph.config.jobName}' in ${resume} finished (${found.run}); nothing to resume`
          : `no checkpoint of job '${graph.config.jobName}' in ${resume}`;
      options.onEvent?.({ kind: 'fresh-start', reason });
    }
  }
  return startGraph(
    graph,
    { ...options, mode },
    moduleUrl,
    jobOptions,
    initial,
    allowNonRestoredState,
    storeCheckpoint,
    onCheckpoint,
    workerBundle,
  );
}

/**
 * The checkpoint a `fromSavepoint` folder names: a savepoint or `chk-N` folder as it is, or the
 * newest valid checkpoint of a run's folder or of a job's folder of runs (what `weir run
 * --from-savepoint` and `weir plan` restore from), with the folder it was read from.
 */
export async function loadRestoreCheckpoint(
  path: string,
): Promise<{ path: string; checkpoint: StoredCheckpoint; skipped: SkippedCheckpoint[] }> {
  const found = await findInFolder(path);
  if (found) return { path: found.path, checkpoint: found.checkpoint, skipped: found.skipped };
  return { path, checkpoint: await loadCheckpoint(path), skipped: [] };
}

/**
 * The newest valid checkpoint of a run folder (`run-…`) or of a folder of runs; undefined for
 * anything else (a savepoint or `chk-N` folder, read as one).
 */
async function findInFolder(path: string): Promise<LatestCheckpoint | undefined> {
  if (RUN_FOLDER.test(basename(path))) {
    const found = await new CheckpointStorage(path).latest();
    if (!found)
      throw new WeirError(`cannot restore from ${path}: the run has no completed checkpoint`, {
        code: ErrorCodes.STATE_RESTORE,
        domain: 'user',
        retriable: false,
      });
    return found;
  }
  const runs = (await listRuns(path).catch(() => [])).filter((r) => r !== path);
  if (runs.length === 0) return undefined;
  const found = await findResumeCheckpoint(path);
  if (found.kind === 'found') return found;
  const why = found.kind === 'finished' ? `its newest run ${found.run} finished` : 'none of its runs has a completed checkpoint';
  throw new WeirError(`cannot restore from ${path}: ${why}; give a chk-N folder to restore from`, {
    code: ErrorCodes.STATE_RESTORE,
    domain: 'user',
    retriable: false,
  });
}

/**
 * Refuses a restore that passes over a damaged checkpoint whose commits already happened, when a
 * two-phase-commit sink of the job would write that output again; tells of the damaged ones
 * passed over. With `allowReplayOfCommitted` the restore goes ahead with a warning.
 */
function checkReplay(
  found: { path: string; skipped: SkippedCheckpoint[] },
  graph: JobGraph,
  options: ExecuteOptions,
  tellSkipped = true,
): void {
  if (tellSkipped) for (const s of found.skipped) options.onEvent?.({ kind: 'checkpoint-skipped', reason: s.reason });
  const committed = found.skipped.filter((s) => s.committed);
  if (committed.length === 0) return;
  const sinks = graph.streamGraph.nodes
    .filter((n) => n.sink?.commitsOnCheckpoint && !n.sink.rewindsOnRestore)
    .map((n) => `'${graph.nodeNames[n.id]}'`);
  if (sinks.length === 0) return;
  const newest = committed[0];
  const text =
    `the newest checkpoint ${newest.path} is damaged (${newest.reason}) and its commits already happened; ` +
    `restoring the older ${found.path} makes sink(s) ${sinks.join(', ')} write again what they committed after it`;
  if (!options.allowReplayOfCommitted)
    throw new WeirError(
      `${text}: refused. Repair or remove the damaged checkpoint and the output committed after ${found.path}, or accept the duplicates with allowReplayOfCommitted (--allow-replay-of-committed)`,
      { code: ErrorCodes.STATE_RESTORE, domain: 'user', retriable: false },
    );
  options.onEvent?.({ kind: 'warning', message: `${text}: accepted (allowReplayOfCommitted), that output appears twice` });
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
  /** The workers' bundle of the job module (job-bundle.ts), if started already. */
  workerBundle?: Promise<string | undefined>,
): JobClient {
  options = { ...options, onEvent: options.onEvent ?? warnOnly };
  const mode = options.mode ?? 'threads';
  // The job's worker threads: started now, so they boot while the coordinator prepares, and kept
  // across restarts (a restart rebuilds only the subtasks).
  let workers: WorkerSlots | undefined;
  if (mode === 'threads' && moduleUrl) {
    workers = new WorkerSlots(
      moduleUrl,
      graph,
      jobOptions,
      (workerBundle ?? (workerBundlesOn() ? bundleJobForWorkers(moduleUrl) : Promise.resolve(undefined))).catch(() => undefined),
    );
  }
  // A resumed job keeps its checkpoints where it resumed from (a new run folder there), unless told otherwise:
  // a second crash resumes from the resumed run's progress, and its end marks that run finished.
  const checkpointDir = options.checkpointDir ?? options.resume;
  const storage = checkpointDir
    ? new CheckpointStorage(join(checkpointDir, safeName(graph.config.jobName), newRunFolder()), {
        retain: Math.max(2, graph.config.checkpointing?.retain ?? 2),
      })
    : undefined;
  if (storage) options.onEvent?.({ kind: 'checkpoint-folder', path: storage.jobDir });
  const tasks = graph.vertices.flatMap((v) => Array.from({ length: v.parallelism }, (_, s) => `${v.id}/${s}`));
  const jobId = options.jobId ?? randomBytes(16).toString('hex');
  if (!/^[0-9a-f]{32}$/.test(jobId))
    throw new WeirError(`a job id is 32 lower-case hex characters, got '${jobId}'`, { code: ErrorCodes.CONFIG, domain: 'user' });
  let client!: JobClient;
  // Checkpoint writes still in flight when the last subtask finishes; the result waits for them,
  // so nothing writes into the checkpoint folder after the job has ended.
  const writes = new Set<Promise<unknown>>();
  const settleWrites = () => Promise.allSettled([...writes]);
  const master = new JobMaster({
    jobId,
    jobName: graph.config.jobName,
    mode,
    clock: options.simulation?.clock,
    slots: mode === 'threads' ? graph.slots : 0,
    tasks,
    collectIds: graph.collectIds,
    checkpointing: graph.config.checkpointing,
    restartStrategy:
      graph.config.restartStrategy ?? (graph.config.checkpointing ? DEFAULT_CHECKPOINTING_RESTART_STRATEGY : { kind: 'none' }),
    initial: restoreFrom,
    initialCommitted: restoreFrom?.committed === true,
    prepare: storage ? () => storage.prepare() : undefined,
    markCommitted: storage ? (id) => storage.markCommitted(id) : undefined,
    onEvent: options.onEvent,
    store:
      storeCheckpoint || storage
        ? (c) => {
            const write = (async () => {
              if (storage) await storage.write(snapshotOf(c, graph));
              await storeCheckpoint?.(c, graph);
            })();
            const tracked = write.catch(() => undefined).finally(() => writes.delete(tracked));
            writes.add(tracked);
            return write;
          }
        : undefined,
    loadLatest: storage
      ? async () => {
          const latest = await storage.latest();
          if (!latest) return undefined;
          // The master tells of the skipped ones itself.
          checkReplay(latest, graph, options, false);
          return {
            id: latest.checkpoint.id,
            path: latest.path,
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
      if (mode === 'local')
        return deployLocal(graph, restore, events, {
          processingTime: options.processingTime,
          metrics: options.metrics,
          simulation: options.simulation,
        });
      if (!workers) throw new WeirError('running on worker threads needs the job module', { code: ErrorCodes.CONFIG, domain: 'user' });
      return workers.deploy(jobOptions, restore, events, { metrics: options.metrics });
    },
  });
  const takeSavepoint = async (
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
    const target = dir ?? options.savepointDir ?? (checkpointDir ? join(checkpointDir, 'savepoints') : undefined);
    if (target === undefined) return outcome.checkpoint;
    const written = await new CheckpointStorage(target).writeSavepoint(snapshotOf(outcome.checkpoint, graph), target);
    master.noteSavepointPath(outcome.checkpoint.id, written.path);
    return { ...outcome.checkpoint, path: written.path };
  };
  // Every savepoint is one line for the operator: where it went, or why it was declined.
  const savepoint = async (
    dir: string | undefined,
    stopping: boolean,
    waitMs: number | undefined,
  ): Promise<CompletedCheckpoint & { path?: string }> => {
    try {
      const taken = await takeSavepoint(dir, stopping, waitMs);
      let size = 0;
      for (const bytes of taken.states.values()) size += bytes.byteLength;
      options.onEvent?.({
        kind: 'checkpoint-completed',
        id: taken.id,
        savepoint: true,
        durationMs: taken.durationMs,
        sizeBytes: size,
        path: taken.path,
      });
      return taken;
    } catch (error) {
      options.onEvent?.({ kind: 'checkpoint-failed', savepoint: true, reason: (error as Error)?.message ?? String(error) });
      throw error;
    }
  };
  // A failed or cancelled run leaves no half-written output behind (what a checkpoint may still commit stays).
  const cleanup = async () => {
    for (const node of graph.streamGraph.nodes) await node.sink?.cleanupAfterFailure?.().catch(() => undefined);
  };
  const result = master.result.then(
    async (done) => {
      await workers?.close();
      await settleWrites();
      await storage?.markFinished().catch(() => undefined);
      return done;
    },
    async (error: unknown) => {
      // Threads kept for a restart that will not come end with the job.
      await workers?.close();
      await settleWrites();
      await cleanup();
      throw error;
    },
  );
  result.catch(() => undefined);
  client = {
    id: jobId,
    sample: () => master.sample(),
    result,
    graph,
    checkpointPath: storage?.jobDir,
    triggerSavepoint: (dir, opts) => savepoint(dir, false, opts?.waitMs),
    stopWithSavepoint: async (dir, opts) => {
      const taken = await savepoint(dir, true, opts?.waitMs);
      await master.stopWithSavepoint({ id: taken.id, path: taken.path });
      // The savepoint committed what preceded it; what sinks wrote after it is discarded (a resume
      // from the savepoint writes it again), so no half-written file stays behind.
      await settleWrites();
      await cleanup();
      return taken;
    },
    cancel: () => master.cancelJob(),
    queryState: (uid, stateName, key, opts) => queryState(graph, master, uid, stateName, key, opts?.timeoutMs),
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
    // Swept once the workers are gone: a database still closing in one would be removed under it.
    const sweep = (): void => sweepRocksDbDirs(backend.dir ?? defaultRocksDbDir(), rocksDbDirPrefix(graph.config.jobName));
    result.then(sweep, sweep);
  }
  void master.run();
  options.observer?.addJob(client);
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
