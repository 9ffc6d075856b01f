//! The worker entry: one piscina task per slot, exposing the slot's control plane over comlink on its own port.

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { threadId, type MessagePort } from 'node:worker_threads';
import { ErrorCodes, WeirError, encodeError } from '../core/errors.ts';
import type { DeployDescriptor, DeployOutcome, SlotControl, WorkerCallbacks } from '../core/protocol.ts';
import { ExecutionPlan } from './execution-plan.ts';
import { loadJobGraph } from './job-loader.ts';
import { TaskExecutor, type DeploymentRestore } from './task-executor.ts';

/** What the coordinator hands the piscina task. */
export interface SlotTask {
  /** The control-plane port (comlink). */
  controlPort: MessagePort;
}

/**
 * Runs one slot until the coordinator shuts it down: one attempt of the job after another (a
 * restart deploys into the same thread once the failed attempt's subtasks are cancelled). The
 * returned promise is the piscina task: aborting it terminates this thread, which is how a slot
 * that does not answer is stopped for sure.
 */
export default async function runSlot(task: SlotTask): Promise<{ slot: number }> {
  let executor: TaskExecutor | undefined;
  let slot = -1;
  let release!: () => void;
  const shutdown = new Promise<void>((resolve) => (release = resolve));

  const control: SlotControl = {
    async deploy(descriptor: DeployDescriptor, callbacks: WorkerCallbacks): Promise<DeployOutcome> {
      try {
        return { deployed: true, subtasks: await deploySlot(descriptor, callbacks) };
      } catch (error) {
        return { deployed: false, error: encodeError(error) };
      }
    },
    async start() {
      await executor?.start();
    },
    async cancel() {
      // The thread stays for the job's next attempt: nothing of this one may keep running.
      const cancelled = executor;
      executor = undefined;
      await cancelled?.cancel();
      releaseCallbacks();
    },
    triggerCheckpoint(barrier) {
      executor?.triggerCheckpoint(barrier);
    },
    async notifyCheckpointComplete(checkpointId) {
      await executor?.notifyCheckpointComplete(checkpointId);
    },
    abortCheckpoint(checkpointId) {
      executor?.abortCheckpoint(checkpointId);
    },
    finishAll() {
      executor?.finishAll();
    },
    sample() {
      return executor?.sample() ?? [];
    },
    async queryState(vertex, subtask, operatorId, stateName, key) {
      if (!executor)
        return { ok: false, code: ErrorCodes.JOB_NOT_RUNNING, message: 'the job is not running in this thread (deploying or restarting)' };
      return executor.queryState(vertex, subtask, operatorId, stateName, key);
    },
    ping() {
      return Date.now();
    },
    threadId() {
      return threadId;
    },
    shutdown() {
      release();
    },
  };

  /** The coordinator's callbacks of the attempt deployed here (a comlink proxy with a port of its own). */
  let attemptCallbacks: WorkerCallbacks | undefined;
  const releaseCallbacks = () => {
    (attemptCallbacks as Comlink.Remote<WorkerCallbacks> | undefined)?.[Comlink.releaseProxy]();
    attemptCallbacks = undefined;
  };

  async function deploySlot(descriptor: DeployDescriptor, callbacks: WorkerCallbacks): Promise<number> {
    // A thread kept after a failure: the previous attempt's subtasks go first.
    if (executor) {
      const previous = executor;
      executor = undefined;
      await previous.cancel();
    }
    releaseCallbacks();
    attemptCallbacks = callbacks;
    slot = descriptor.slot;
    const graph = await loadJobGraph(descriptor.jobModule, descriptor.options);
    if (graph.fingerprint !== descriptor.fingerprint) {
      throw new WeirError(
        `job graph of ${descriptor.jobModule} built in worker slot ${slot} differs from the coordinator's (fingerprint ${graph.fingerprint} vs ${descriptor.fingerprint}); the job module must build the same graph on every thread (no randomness or thread-dependent branches)`,
        { code: ErrorCodes.GRAPH_MISMATCH, domain: 'user' },
      );
    }
    const plan = new ExecutionPlan(graph);
    const ports = new Map(descriptor.ports.map((p) => [p.channel, p.port] as const));
    const report = (promise: Promise<unknown> | unknown) => {
      // A callback that cannot be posted (e.g. a record structured clone cannot copy) fails the job.
      if (promise instanceof Promise) promise.catch((error) => void callbacks.subtaskFailed(encodeError(error)));
    };
    executor = new TaskExecutor(
      graph,
      plan,
      {
        subtaskFinished: (metrics) => report(callbacks.subtaskFinished(metrics)),
        subtaskFailed: (error) => report(callbacks.subtaskFailed(error)),
        checkpointAcknowledged: (vertex, subtask, id, operators, alignmentMs) =>
          report(
            callbacks.checkpointAcknowledged(
              vertex,
              subtask,
              id,
              Comlink.transfer(
                operators,
                Object.values(operators).map((b) => b.buffer),
              ),
              alignmentMs,
            ),
          ),
        checkpointDeclined: (vertex, subtask, id, reason) => report(callbacks.checkpointDeclined(vertex, subtask, id, reason)),
        subtaskEnded: (vertex, subtask) => report(callbacks.subtaskEnded(vertex, subtask)),
        collect: (sinkId, subtask, records, commitKey, recovered) => {
          const sent = callbacks.collect(sinkId, subtask, records, commitKey, recovered) as unknown as Promise<void>;
          sent.catch((error: unknown) => {
            const failure = new WeirError(
              `collect sink '${sinkId}' (subtask ${subtask}) cannot send its records to the caller: ${(error as Error).message}`,
              { code: ErrorCodes.RECORD_NOT_ENCODABLE, domain: 'user', subtask, cause: error },
            );
            report(callbacks.subtaskFailed(encodeError(failure)));
          });
        },
      },
      ports,
      undefined,
      { metrics: descriptor.metrics },
    );
    executor.deploy(plan.slots[slot] ?? [], descriptor.restore as DeploymentRestore | undefined);
    return executor.subtaskCount;
  }

  Comlink.expose(control, nodeEndpoint(task.controlPort as unknown as Parameters<typeof nodeEndpoint>[0]));
  await shutdown;
  executor?.dispose();
  task.controlPort.close();
  return { slot };
}
