//! Local mode: every subtask of the job on the calling thread, with the same actors, mailboxes and credits.

import { JobCoordinator, type JobResult } from '../actors/coordinator.ts';
import type { JobGraph } from '../graph/job-graph.ts';
import { ExecutionPlan } from './execution-plan.ts';
import { TaskExecutor } from './task-executor.ts';
import type { ProcessingTimeService } from '../time/processing-time.ts';

/** Options only local mode has: they cannot cross threads. */
export interface LocalOptions {
  /** The clock and timers of the job (a `ManualProcessingTimeService` lets a test move time). */
  processingTime?: ProcessingTimeService;
}

/**
 * Runs a job graph on the calling thread. Semantics are those of the threaded runtime (same
 * chaining, partitioning, batches, credits and backpressure); only the thread boundary, and with
 * it the encoding of batches, is gone. Meant for unit tests of user functions and small jobs.
 */
export async function executeLocally(graph: JobGraph, options: LocalOptions = {}): Promise<JobResult> {
  const plan = new ExecutionPlan(graph);
  const subtasks = plan.slots.flat();
  const coordinator = new JobCoordinator(graph.config.jobName, subtasks.length, 'local', 0, graph.collectIds);
  const executor = new TaskExecutor(
    graph,
    plan,
    {
      subtaskFinished: (metrics) => coordinator.tell({ type: 'subtask-finished', metrics }),
      subtaskFailed: (error) => coordinator.tell({ type: 'subtask-failed', error }),
      collect: (sinkId, subtask, records) => coordinator.tell({ type: 'collect', sinkId, subtask, records }),
    },
    new Map(),
    options.processingTime,
  );
  executor.deploy(subtasks);
  coordinator.started({
    cancel: () => executor.cancel(),
    release: async () => executor.dispose(),
  });
  await executor.start();
  return coordinator.result;
}
