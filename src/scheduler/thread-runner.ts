//! Threaded mode: one worker thread per slot from a piscina pool, a comlink control port per slot, channels as MessagePorts.

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { Piscina } from 'piscina';
import type { Attempt, AttemptEvents } from '../actors/job-master.ts';
import { ErrorCodes, WeirError, decodeError } from '../core/errors.ts';
import type { ChannelPort, JobOptions, SlotControl, WorkerCallbacks } from '../core/protocol.ts';
import type { SubtaskSample } from '../core/metrics.ts';
import type { JobGraph } from '../graph/job-graph.ts';
import { ExecutionPlan } from './execution-plan.ts';
import type { DeploymentRestore } from './task-executor.ts';

const workerFile = new URL('./worker-entry.mjs', import.meta.url);

/**
 * Piscina, loaded when a job first deploys on threads: the workers' bundle holds this file too
 * (the job imports weir whole) and local mode needs no pool, so neither pays for loading it.
 */
let piscina: typeof Piscina | undefined;
function piscinaPool(): typeof Piscina {
  return (piscina ??= (createRequire(import.meta.url)('piscina') as { Piscina: typeof Piscina }).Piscina);
}

/** How long a sample waits for a slot; one that does not answer contributes its previous sample. */
const SAMPLE_TIMEOUT_MS = 500;

/** How often the coordinator pings each slot. */
const HEARTBEAT_INTERVAL_MS = 500;
/** How long a slot may stay silent by default before it counts as lost (Flink's default is 50 s). */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 30_000;

/**
 * The parent's Node flags minus its TypeScript loader (the worker bootstrap registers its own)
 * and minus V8 heap-size flags, which Node refuses in a worker's execArgv: those become the
 * worker's resource limits instead.
 */
function workerExecArgv(): { execArgv: string[]; maxOldGenerationSizeMb?: number } {
  const out: string[] = [];
  let maxOldGenerationSizeMb: number | undefined;
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const heap = /^--max-old-space-size=(\d+)$/.exec(a);
    if (heap) {
      maxOldGenerationSizeMb = Number(heap[1]);
      continue;
    }
    if (/^--max-(old|semi)-space-size/.test(a)) continue;
    if ((a === '--import' || a === '--require' || a === '--loader' || a === '-r') && /tsx|vitest|vite-node/.test(args[i + 1] ?? '')) {
      i++;
      continue;
    }
    if (/^--(import|require|loader)=.*(tsx|vitest|vite-node)/.test(a)) continue;
    out.push(a);
  }
  return { execArgv: out, maxOldGenerationSizeMb };
}

/** A worker that hit its heap limit: what to do about it depends on where keyed state lives. */
function outOfMemory(slot: number, limitMb: number | undefined, backend: string, cause: unknown): WeirError {
  const limit = limitMb === undefined ? "V8's default heap limit" : `its JS heap limit of ${limitMb} MB`;
  const advice =
    backend === 'heap'
      ? "keyed state is in the heap state backend, which keeps all of it in memory: for state larger than memory use RocksDB (env.setStateBackend('rocksdb') or weir run --state-backend rocksdb), or raise the limit (workerMaxHeapMb, --max-old-space-size)"
      : 'keyed state is in RocksDB: lower its cache (cacheKeys, --state-cache-keys) or raise the limit (workerMaxHeapMb, --max-old-space-size)';
  return new WeirError(`worker thread of slot ${slot} ran out of memory (${limit}); ${advice}`, {
    code: ErrorCodes.OUT_OF_MEMORY,
    domain: 'user',
    cause,
  });
}

/** A slot's piscina task: its thread, its control port, and the attempt it serves now. */
interface SlotHandle {
  control: Comlink.Remote<SlotControl>;
  controlPort: MessagePort;
  abort: AbortController;
  task: Promise<unknown>;
  /** False once the task ended or failed: the thread is gone or back in the pool. */
  alive: boolean;
  lastPong: number;
  /** Told when the thread dies while an attempt runs on it. */
  onLost?: (error: unknown) => void;
  /** The slot it serves (for messages); -1 for the standby thread. */
  slot: number;
}

/** How long a live slot may take to cancel its subtasks before its thread is terminated instead. */
const CANCEL_TIMEOUT_MS = 3000;

/**
 * The worker threads of one job, kept from its first attempt to its end: one piscina worker per
 * slot (slot sharing: slot i holds subtask i of every task), each running one long task that
 * serves the slot's control port. A restart after a failure reuses the live threads (only the
 * subtasks are rebuilt); only a thread that died is replaced.
 *
 * A job that can restart keeps one standby thread besides, booted with the job's code once the
 * first attempt runs: a lost thread is replaced by it at once (a thread's boot is most of a
 * restart otherwise), and a new standby boots once the next attempt runs.
 *
 * Threads start as soon as the job's slot count is known, while the worker bundle
 * (job-bundle.ts) is still being built or read and the coordinator is still preparing: their
 * boot overlaps the rest of the deployment.
 *
 * Threading model: main thread only. Life cycle: created → attempts deployed one after another
 * (each cancelled on failure, or released at the end) → closed (threads shut down, pool destroyed).
 */
export class WorkerSlots {
  private readonly pool: Piscina;
  private readonly handles: (SlotHandle | undefined)[];
  /** A booted thread that serves no slot yet (jobs that can restart only). */
  private standby: SlotHandle | undefined;
  private readonly keepStandby: boolean;
  private readonly maxOldGenerationSizeMb: number | undefined;
  private closed = false;

  constructor(
    private readonly jobModule: string,
    private readonly graph: JobGraph,
    options: JobOptions,
    /** The worker bundle (job and runtime in one file), or undefined to load module by module. */
    private readonly bundle: Promise<string | undefined>,
  ) {
    const slotCount = graph.slots;
    const { execArgv, maxOldGenerationSizeMb: inherited } = workerExecArgv();
    this.maxOldGenerationSizeMb = options.workerMaxHeapMb ?? inherited;
    const Pool = piscinaPool();
    this.pool = new Pool({
      filename: workerFile.href,
      minThreads: slotCount,
      // One more for the standby thread.
      maxThreads: slotCount + 1,
      concurrentTasksPerWorker: 1,
      idleTimeout: 1000,
      execArgv,
      ...(this.maxOldGenerationSizeMb ? { resourceLimits: { maxOldGenerationSizeMb: this.maxOldGenerationSizeMb } } : {}),
      maxQueue: slotCount + 1,
    });
    const restarts = graph.config.restartStrategy?.kind ?? (graph.config.checkpointing ? 'restarts' : 'none');
    this.keepStandby = restarts !== 'none';
    this.handles = Array.from({ length: slotCount }, () => undefined);
    for (let slot = 0; slot < slotCount; slot++) this.handles[slot] = this.spawn(slot);
  }

  /** Boots the standby thread if the job can restart and has none (after an attempt started, so it does not slow the start). */
  private ensureStandby(): void {
    if (!this.keepStandby || this.closed || this.standby?.alive) return;
    this.standby = this.spawn(-1);
  }

  /** Runs the task of a slot on a pool thread; calls on its control port wait in the port until it listens. */
  private spawn(slot: number): SlotHandle {
    const channel = new MessageChannel();
    const abort = new AbortController();
    const handle: SlotHandle = {
      control: Comlink.wrap<SlotControl>(nodeEndpoint(channel.port1 as never)),
      controlPort: channel.port1,
      abort,
      task: undefined as unknown as Promise<unknown>,
      alive: true,
      lastPong: Date.now(),
      slot,
    };
    handle.task = this.bundle.then((bundle) =>
      this.pool.run({ controlPort: channel.port2, bundle }, { transferList: [channel.port2] as never, signal: abort.signal }),
    );
    const ended = (error: unknown) => {
      handle.alive = false;
      if (this.closed || error === undefined) return;
      if ((error as { code?: string })?.code === 'ERR_WORKER_OUT_OF_MEMORY')
        error = outOfMemory(handle.slot, this.maxOldGenerationSizeMb, this.graph.config.stateBackend?.kind ?? 'heap', error);
      handle.onLost?.(error);
    };
    handle.task.then(
      () => ended(undefined),
      (error: unknown) => ended(error ?? new Error('worker thread ended')),
    );
    return handle;
  }

  /** The live handle of every slot, replacing threads that died (by the standby thread first). */
  private live(): SlotHandle[] {
    return this.handles.map((h, slot) => {
      if (h?.alive) return h;
      if (h) {
        h.control[Comlink.releaseProxy]();
        h.controlPort.close();
      }
      const standby = this.standby;
      this.standby = undefined;
      if (standby?.alive) {
        standby.slot = slot;
        return (this.handles[slot] = standby);
      }
      return (this.handles[slot] = this.spawn(slot));
    });
  }

  /** Terminates a slot's thread now (after it stopped answering, or when the job is cancelled). */
  private async terminate(handle: SlotHandle): Promise<void> {
    handle.alive = false;
    handle.onLost = undefined;
    handle.abort.abort();
    await handle.task.catch(() => undefined);
    handle.controlPort.close();
  }

  /**
   * Deploys an attempt on the slots: a MessageChannel per producer / consumer subtask pair in
   * different slots, the restore plan of each slot's own subtasks, and a heartbeat per slot.
   * Cancelling the attempt cancels the subtasks in each thread and keeps the threads; a thread
   * that does not answer within {@link CANCEL_TIMEOUT_MS} is terminated.
   */
  async deploy(
    options: JobOptions,
    restore: DeploymentRestore | undefined,
    events: AttemptEvents,
    runtime: { metrics?: boolean } = {},
  ): Promise<Attempt> {
    const graph = this.graph;
    const plan = new ExecutionPlan(graph);
    const slotCount = graph.slots;
    const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
    const slots = this.live();
    let ending = false;
    let heartbeat: NodeJS.Timeout | undefined;
    slots.forEach((s, slot) => {
      s.onLost = (error) => {
        if (ending) return;
        if ((error as { code?: string })?.code === ErrorCodes.OUT_OF_MEMORY) ending = true;
        events.workerLost(slot, error);
      };
    });

    // Data channels between different slots become MessagePorts; same-slot channels stay in-thread.
    const ports: ChannelPort[][] = Array.from({ length: slotCount }, () => []);
    for (const c of plan.channels) {
      if (c.producerSubtask === c.consumerSubtask) continue;
      const mc = new MessageChannel();
      ports[c.producerSubtask].push({ channel: c.id, end: 'producer', port: mc.port1 });
      ports[c.consumerSubtask].push({ channel: c.id, end: 'consumer', port: mc.port2 });
    }

    const callbacks: WorkerCallbacks = events;
    const callbackProxy = Comlink.proxy(callbacks);

    const stopHeartbeat = () => clearInterval(heartbeat);
    let cancelled: Promise<void> | undefined;
    const cancel = () => (cancelled ??= cancelSlots());
    const cancelSlots = async () => {
      ending = true;
      stopHeartbeat();
      await Promise.all(
        slots.map(async (s) => {
          s.onLost = undefined;
          if (!s.alive) return;
          let timer: NodeJS.Timeout | undefined;
          const answered = await Promise.race([
            s.control.cancel().then(
              () => true,
              () => false,
            ),
            s.task.then(
              () => false,
              () => false,
            ),
            new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CANCEL_TIMEOUT_MS))),
          ]);
          clearTimeout(timer);
          // A thread stuck in user code (or gone) cannot be reused: nothing of the attempt keeps running.
          if (!answered) await this.terminate(s);
        }),
      );
    };

    try {
      const outcomes = await Promise.all(
        slots.map((s, slot) => {
          // Each slot gets the restore plan of its own subtasks only.
          const mine = restore
            ? Object.fromEntries(Object.entries(restore).filter(([task]) => Number(task.split('/')[1]) === slot))
            : undefined;
          const deployed = s.control.deploy(
            Comlink.transfer(
              {
                jobModule: this.jobModule,
                options,
                fingerprint: graph.fingerprint,
                slot,
                ports: ports[slot],
                restore: mine,
                metrics: runtime.metrics,
              },
              ports[slot].map((p) => p.port) as unknown as Transferable[],
            ),
            callbackProxy,
          );
          // A thread that dies while deploying (it could not load the job) fails the deployment.
          return Promise.race([deployed, s.task.then(() => Promise.reject(new Error(`worker thread of slot ${slot} ended`)))]);
        }),
      );
      for (const outcome of outcomes) if (!outcome.deployed) throw decodeError(outcome.error);
    } catch (error) {
      await cancel();
      throw error;
    }

    const call = (fn: (s: SlotHandle) => Promise<unknown> | unknown) => {
      for (const s of slots) {
        try {
          const r = fn(s);
          if (r instanceof Promise) r.catch(() => undefined);
        } catch {
          // the slot is gone; its failure is reported through the task
        }
      }
    };

    // Each slot's last answer: a slot that does not answer in time contributes it again.
    const lastSamples: SubtaskSample[][] = slots.map(() => []);
    return {
      sample: () =>
        Promise.all(
          slots.map(async (s, slot) => {
            if (!s.alive) return lastSamples[slot];
            let timer: ReturnType<typeof setTimeout> | undefined;
            const answer = await Promise.race([
              s.control.sample().then(
                (samples) => samples,
                () => undefined,
              ),
              new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), SAMPLE_TIMEOUT_MS))),
            ]);
            clearTimeout(timer);
            if (answer !== undefined) lastSamples[slot] = answer;
            return lastSamples[slot];
          }),
        ).then((all) => all.flat()),
      // Subtask s of every vertex runs in slot s.
      queryState: async (vertex, subtask, operatorId, stateName, key) => {
        const s = slots[subtask];
        if (!s?.alive) return { ok: false, code: ErrorCodes.JOB_NOT_RUNNING, message: `the worker thread of subtask ${subtask} is gone` };
        return s.control.queryState(vertex, subtask, operatorId, stateName, key);
      },
      start: async () => {
        await Promise.all(slots.map((s) => s.control.start()));
        // Silence counts from now: deploying and starting (module loading, restoring state) may take
        // longer than the timeout on a loaded machine, and a slot that answered start() is alive.
        const started = Date.now();
        for (const s of slots) s.lastPong = started;
        heartbeat = setInterval(() => {
          const now = Date.now();
          slots.forEach((s, slot) => {
            if (ending) return;
            if (now - s.lastPong > heartbeatTimeoutMs) {
              ending = true;
              events.workerLost(slot, new Error(`missed heartbeats for ${now - s.lastPong} ms`));
              return;
            }
            s.control.ping().then(
              () => (s.lastPong = Date.now()),
              () => undefined,
            );
          });
        }, HEARTBEAT_INTERVAL_MS);
        heartbeat.unref();
        this.ensureStandby();
      },
      triggerCheckpoint: (barrier) => call((s) => s.control.triggerCheckpoint(barrier)),
      notifyCheckpointComplete: async (id) => {
        await Promise.allSettled(slots.map((s) => s.control.notifyCheckpointComplete(id)));
      },
      abortCheckpoint: (id) => call((s) => s.control.abortCheckpoint(id)),
      finishAll: () => call((s) => s.control.finishAll()),
      cancel,
      release: async () => {
        ending = true;
        stopHeartbeat();
        for (const s of slots) s.onLost = undefined;
        await this.close();
      },
      killSlot: async (slot) => {
        // Like killing a TaskManager: the thread dies without warning; the master sees the lost worker.
        const target = slots[slot] ?? slots[0];
        const id = await target.control.threadId();
        const threads = (this.pool as unknown as { threads: { threadId: number; terminate(): Promise<number> }[] }).threads;
        await threads.find((t) => t.threadId === id)?.terminate();
      },
    };
  }

  /** Ends every slot's task and destroys the pool (the job has ended). Safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const live = [...this.handles, this.standby].filter((h): h is SlotHandle => h?.alive === true);
    for (const s of live) {
      s.onLost = undefined;
      s.control.shutdown().catch(() => undefined);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(live.map((s) => s.task)), new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    for (const s of [...this.handles, this.standby]) {
      if (!s) continue;
      s.control[Comlink.releaseProxy]();
      s.controlPort.close();
    }
    await this.pool.destroy().catch(() => undefined);
  }
}

/**
 * Deploys one attempt on threads of its own, closed with the attempt (see {@link WorkerSlots}
 * for threads kept across attempts).
 */
export async function deployThreads(
  jobModule: string,
  options: JobOptions,
  graph: JobGraph,
  restore: DeploymentRestore | undefined,
  events: AttemptEvents,
  bundle: Promise<string | undefined> = Promise.resolve(undefined),
): Promise<Attempt> {
  const slots = new WorkerSlots(jobModule, graph, options, bundle);
  try {
    const attempt = await slots.deploy(options, restore, events);
    return {
      ...attempt,
      cancel: async () => {
        await attempt.cancel();
        await slots.close();
      },
    };
  } catch (error) {
    await slots.close();
    throw error;
  }
}
