//! Threaded mode: the coordinator on the main thread, one worker thread per slot from a piscina pool, channels as MessagePorts.

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { JobCoordinator, type JobResult } from '../actors/coordinator.ts';
import { ErrorCodes, WeirError, decodeError } from '../core/errors.ts';
import type { ChannelPort, JobOptions, SlotControl, WorkerCallbacks } from '../core/protocol.ts';
import type { JobGraph } from '../graph/job-graph.ts';
import { ExecutionPlan } from './execution-plan.ts';

const workerFile = new URL('./worker-entry.mjs', import.meta.url);

/** The parent's Node flags minus its TypeScript loader: the worker bootstrap registers its own. */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if ((a === '--import' || a === '--require' || a === '--loader' || a === '-r') && /tsx|vitest|vite-node/.test(args[i + 1] ?? '')) {
      i++;
      continue;
    }
    if (/^--(import|require|loader)=.*(tsx|vitest|vite-node)/.test(a)) continue;
    out.push(a);
  }
  return out;
}

interface SlotHandle {
  control: Comlink.Remote<SlotControl>;
  controlPort: MessagePort;
  abort: AbortController;
  task: Promise<unknown>;
}

/**
 * Runs a job graph on worker threads: one piscina worker per slot (slot sharing: slot i holds
 * subtask i of every task), a comlink control port per slot, and a MessageChannel per producer /
 * consumer subtask pair in different slots.
 */
export async function executeOnThreads(jobModule: string, options: JobOptions, graph: JobGraph): Promise<JobResult> {
  const plan = new ExecutionPlan(graph);
  const slotCount = graph.slots;
  const subtaskCount = plan.slots.reduce((n, s) => n + s.length, 0);
  const coordinator = new JobCoordinator(graph.config.jobName, subtaskCount, 'threads', slotCount, graph.collectIds);

  const pool = new Piscina({
    filename: workerFile.href,
    minThreads: slotCount,
    maxThreads: slotCount,
    concurrentTasksPerWorker: 1,
    idleTimeout: 1000,
    execArgv: workerExecArgv(),
    // A slot runs until its job ends; piscina must not time it out or queue past the pool.
    maxQueue: slotCount,
  });

  let ending = false;
  const slots: SlotHandle[] = [];
  for (let slot = 0; slot < slotCount; slot++) {
    const channel = new MessageChannel();
    const abort = new AbortController();
    const task = pool.run({ controlPort: channel.port2 }, { transferList: [channel.port2] as never, signal: abort.signal });
    task.catch((error: unknown) => {
      if (ending) return;
      coordinator.failFromOutside(
        new WeirError(`worker thread of slot ${slot} was lost: ${(error as Error)?.message ?? String(error)}`, {
          code: ErrorCodes.WORKER_LOST,
          domain: 'internal',
          retriable: true,
          cause: error,
        }),
      );
    });
    slots.push({ control: Comlink.wrap<SlotControl>(nodeEndpoint(channel.port1 as never)), controlPort: channel.port1, abort, task });
  }

  // Data channels between different slots become MessagePorts; same-slot channels stay in-thread.
  const ports: ChannelPort[][] = Array.from({ length: slotCount }, () => []);
  for (const c of plan.channels) {
    if (c.producerSubtask === c.consumerSubtask) continue;
    const mc = new MessageChannel();
    ports[c.producerSubtask].push({ channel: c.id, end: 'producer', port: mc.port1 });
    ports[c.consumerSubtask].push({ channel: c.id, end: 'consumer', port: mc.port2 });
  }

  const callbacks: WorkerCallbacks = {
    subtaskFinished: (metrics) => coordinator.tell({ type: 'subtask-finished', metrics }),
    subtaskFailed: (error) => coordinator.tell({ type: 'subtask-failed', error }),
    collect: (sinkId, subtask, records) => coordinator.tell({ type: 'collect', sinkId, subtask, records }),
  };
  const callbackProxy = Comlink.proxy(callbacks);

  const release = async () => {
    ending = true;
    for (const s of slots) {
      try {
        s.control.shutdown();
      } catch {
        // the slot is gone already
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(slots.map((s) => s.task)), new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    for (const s of slots) {
      s.control[Comlink.releaseProxy]();
      s.controlPort.close();
    }
    await pool.destroy();
  };
  const cancel = async () => {
    ending = true;
    // Aborting a piscina task terminates its thread: nothing of the job keeps running.
    for (const s of slots) s.abort.abort();
    await Promise.allSettled(slots.map((s) => s.task));
  };
  coordinator.started({ cancel, release: async () => undefined });

  try {
    const outcomes = await Promise.all(
      slots.map((s, slot) =>
        s.control.deploy(
          Comlink.transfer(
            { jobModule, options, fingerprint: graph.fingerprint, slot, ports: ports[slot] },
            ports[slot].map((p) => p.port) as unknown as Transferable[],
          ),
          callbackProxy,
        ),
      ),
    );
    for (const outcome of outcomes) if (!outcome.deployed) throw decodeError(outcome.error);
    await Promise.all(slots.map((s) => s.control.start()));
  } catch (error) {
    coordinator.failFromOutside(error);
  }

  try {
    return await coordinator.result;
  } finally {
    if (!ending) await release();
    else await pool.destroy().catch(() => undefined);
  }
}
