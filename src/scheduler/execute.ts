//! Running a job: from a module (threads or local) or from a job definition (local).

import type { JobResult } from '../actors/coordinator.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { JobOptions } from '../core/protocol.ts';
import { isJobDefinition, type JobDefinition } from '../graph/job-definition.ts';
import { loadJobDefinition, toModuleUrl } from './job-loader.ts';
import { executeLocally, type LocalOptions } from './local-runner.ts';
import { executeOnThreads } from './thread-runner.ts';

/** How to run a job. */
export interface ExecuteOptions extends JobOptions, LocalOptions {
  /** `threads` (default): one worker thread per slot; `local`: every subtask on the calling thread. */
  mode?: 'threads' | 'local';
}

/**
 * Runs a job and resolves with its result when every subtask has finished; rejects with the
 * first failure (naming operator and subtask), after every worker has been stopped.
 *
 * `job` is the path or URL of a job module (whose default export is `defineJob(...)`), or a job
 * definition itself, which can only run in local mode since workers must import a module.
 */
export async function executeJob(job: string | URL | JobDefinition, options: ExecuteOptions = {}): Promise<JobResult> {
  const { mode = 'threads', processingTime, ...jobOptions } = options;
  if (processingTime && mode !== 'local') {
    throw new WeirError('a processing-time service can only be injected in local mode', { code: ErrorCodes.CONFIG, domain: 'user' });
  }
  if (isJobDefinition(job)) {
    if (mode !== 'local') {
      throw new WeirError('a job definition object can only run in local mode; pass the job module path to run on worker threads', {
        code: ErrorCodes.CONFIG,
        domain: 'user',
      });
    }
    return executeLocally(await job.buildJobGraph(jobOptions), { processingTime });
  }
  const url = toModuleUrl(job);
  const definition = await loadJobDefinition(url);
  const graph = await definition.buildJobGraph(jobOptions);
  if (mode === 'local') return executeLocally(graph, { processingTime });
  return executeOnThreads(url, jobOptions, graph);
}
