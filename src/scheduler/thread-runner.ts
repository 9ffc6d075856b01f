//! Threaded mode: one worker thread per slot from a piscina pool, a comlink control port per slot, channels as MessagePorts.

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Attempt, AttemptEvents } from '../actors/job-master.ts';
import { ErrorCodes, WeirError, decodeError } from '../core/errors.ts';
import type { ChannelPort, JobOptions, SlotControl, WorkerCallbacks } from '../core/protocol.ts';
import type { JobGraph } from '../graph/job-graph.ts';
import { ExecutionPlan } from './execution-plan.ts';
import type { DeploymentRestore } from './task-executor.ts';

const workerFile = new URL('./worker-entry.mjs', import.meta.url);

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

interface SlotHandle {
  control: Comlink.Remote<SlotControl>;
  controlPort: MessagePort;
  abort: AbortController;
  task: Promise<unknown>;
  lastPong: number;
}

/**
 * Deploys an attempt on worker threads: one piscina worker per slot (slot sharing: slot i holds
 * subtask i of every task), a comlink control port per slot, a MessageChannel per producer /
 * consumer subtask pair in different slots, and a heartbeat per slot. Cancelling aborts the
 * piscina tasks, which terminates the threads.
 */
export async function deployThreads(
  jobModule: string,
  options: JobOptions,
  graph: JobGraph,
  restore: DeploymentRestore | undefined,
  events: AttemptEvents,
): Promise<Attempt> {
  const plan = new ExecutionPlan(graph);
  const slotCount = graph.slots;
  const { execArgv, maxOldGenerationSizeMb: inherited } = workerExecArgv();
  const maxOldGenerationSizeMb = options.workerMaxHeapMb ?? inherited;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
  const pool = new Piscina({
    filename: workerFile.href,
    minThreads: slotCount,
    maxThreads: slotCount,
    concurrentTasksPerWorker: 1,
    idleTimeout: 1000,
    execArgv,
    ...(maxOldGenerationSizeMb ? { resourceLimits: { maxOldGenerationSizeMb } } : {}),
    maxQueue: slotCount,
  });

  let ending = false;
  let heartbeat: NodeJS.Timeout | undefined;
  const slots: SlotHandle[] = [];
  for (let slot = 0; slot < slotCount; slot++) {
    const channel = new MessageChannel();
    const abort = new AbortController();
    const task = pool.run({ controlPort: channel.port2 }, { transferList: [channel.port2] as never, signal: abort.signal });
    task.catch((error: unknown) => {
      if (ending) return;
      if ((error as { code?: string })?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        ending = true;
        error = outOfMemory(slot, maxOldGenerationSizeMb, graph.config.stateBackend?.kind ?? 'heap', error);
      }
      events.workerLost(slot, error);
    });
    slots.push({
      control: Comlink.wrap<SlotControl>(nodeEndpoint(channel.port1 as never)),
      controlPort: channel.port1,
      abort,
      task,
      lastPong: Date.now(),
    });
  }

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
  const cancel = async () => {
    ending = true;
    stopHeartbeat();
    // Aborting a piscina task terminates its thread: nothing of the attempt keeps running.
    for (const s of slots) s.abort.abort();
    await Promise.allSettled(slots.map((s) => s.task));
    for (const s of slots) s.controlPort.close();
    await pool.destroy().catch(() => undefined);
  };

  try {
    const outcomes = await Promise.all(
      slots.map((s, slot) => {
        // Each slot gets the restore plan of its own subtasks only.
        const mine = restore
          ? Object.fromEntries(Object.entries(restore).filter(([task]) => Number(task.split('/')[1]) === slot))
          : undefined;
        return s.control.deploy(
          Comlink.transfer(
            { jobModule, options, fingerprint: graph.fingerprint, slot, ports: ports[slot], restore: mine },
            ports[slot].map((p) => p.port) as unknown as Transferable[],
          ),
          callbackProxy,
        );
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

  return {
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
      call((s) => s.control.shutdown());
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(slots.map((s) => s.task)), new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
      for (const s of slots) {
        s.control[Comlink.releaseProxy]();
        s.controlPort.close();
      }
      await pool.destroy();
    },
    killSlot: async (slot) => {
      // Like killing a TaskManager: the thread dies without warning; the master sees the lost worker.
      const threads = (pool as unknown as { threads: { terminate(): Promise<number> }[] }).threads;
      const victim = threads[slot] ?? threads[0];
      await victim?.terminate();
    },
  };
}
