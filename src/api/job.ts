//! defineJob: a job module's default export, built the same way on the coordinator and on every worker.

import type { JobOptions, JobParams } from '../core/protocol.ts';
import { RUNTIME_COPY, type JobDefinition } from '../graph/job-definition.ts';
import type { JobGraph } from '../graph/job-graph.ts';
import { StreamExecutionEnvironment } from './environment.ts';

/** Builds a job's graph on the environment it is given. */
export type JobBuilder = (env: StreamExecutionEnvironment, params: JobParams) => void | Promise<void>;

/**
 * Declares a job. The module's default export must be the result:
 *
 * ```ts
 * export default defineJob((env) => {
 *   env.fromSequence(1, 1000).map((n) => n * 2).print();
 * });
 * ```
 *
 * The builder runs on the coordinator and on every worker; it must build the same graph each
 * time (the runtime checks a fingerprint), so it may read `params` but not thread-dependent state.
 */
export function defineJob(build: JobBuilder): JobDefinition & { readonly build: JobBuilder } {
  if (typeof build !== 'function') throw new TypeError('defineJob() needs a function (env, params) => void');
  return {
    kind: 'weir.job',
    runtime: RUNTIME_COPY,
    build,
    async buildJobGraph(options: JobOptions): Promise<JobGraph> {
      const env = new StreamExecutionEnvironment(options);
      await build(env, options.params ?? {});
      env.applySubmittedCheckpointing(options);
      return env.buildJobGraph();
    },
  };
}
