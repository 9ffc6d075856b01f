//! Local mode: every subtask of the job on the calling thread, with the same actors, mailboxes and credits.

import type { Attempt, AttemptEvents } from '../actors/job-master.ts';
import type { JobGraph } from '../graph/job-graph.ts';
import type { ProcessingTimeService } from '../time/processing-time.ts';
import { ExecutionPlan } from './execution-plan.ts';
import { TaskExecutor, type DeploymentRestore, type ExecutorSimulation } from './task-executor.ts';

/** A deterministic simulation of the job (weir/testing): it drives every attempt's executor. */
export interface LocalSimulation extends ExecutorSimulation {
  /** Told of each attempt's executor once its subtasks are built, before they start. */
  deployed(executor: TaskExecutor): void;
}

/** Options only local mode has: they cannot cross threads. */
export interface LocalOptions {
  /** The clock and timers of the job (a `ManualProcessingTimeService` lets a test move time). */
  processingTime?: ProcessingTimeService;
  /** Run under a deterministic simulation (weir/testing's `simulateJob` sets it; with `processingTime` on its virtual clock). */
  simulation?: LocalSimulation;
}

/**
 * Deploys an attempt of a job graph on the calling thread. Semantics are those of the threaded
 * runtime (same chaining, partitioning, batches, credits, backpressure, checkpoints); only the
 * thread boundary, and with it the encoding of batches, is gone.
 */
export async function deployLocal(
  graph: JobGraph,
  restore: DeploymentRestore | undefined,
  events: AttemptEvents,
  options: LocalOptions & { metrics?: boolean } = {},
): Promise<Attempt> {
  const plan = new ExecutionPlan(graph);
  // The attempt's events are the executor's reporter: no forwarding layer in between.
  const executor = new TaskExecutor(graph, plan, events, new Map(), options.processingTime, {
    metrics: options.metrics,
    simulation: options.simulation,
  });
  try {
    executor.deploy(plan.slots.flat(), restore);
  } catch (error) {
    // Subtasks built before the failing one hold state backends (RocksDB opening its database):
    // they are closed before the failure ends the job, so nothing of this attempt outlives it.
    await executor.dispose();
    throw error;
  }
  options.simulation?.deployed(executor);
  return {
    start: () => executor.start(),
    triggerCheckpoint: (barrier) => executor.triggerCheckpoint(barrier),
    notifyCheckpointComplete: (id) => executor.notifyCheckpointComplete(id),
    abortCheckpoint: (id) => executor.abortCheckpoint(id),
    finishAll: () => executor.finishAll(),
    cancel: () => executor.cancel(),
    release: () => executor.dispose(),
    sample: async () => executor.sample(),
    queryState: (vertex, subtask, operatorId, stateName, key) => executor.queryState(vertex, subtask, operatorId, stateName, key),
  };
}
