//! The job module every SQL job runs as: it reads the plan from the job params and rebuilds the graph (on the coordinator and on every worker), without the parser.

import { defineJob } from '../api/job.ts';
import { configError } from '../core/errors.ts';
import { PLAN_PARAM, type SqlPlan } from './plan.ts';
import { buildGraph } from './runtime.ts';
import { loadUserFunctions } from './user-functions.ts';

/** '10 s', '500 ms', '1 min', '2000' → ms. */
function durationMs(text: string): number {
  const m = /^\s*(\d+)\s*(ms|s|min|m)?\s*$/.exec(text);
  if (m === null) throw configError(`'execution.checkpointing.interval' must be a duration like '10 s', got '${text}'`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'min' || m[2] === 'm' ? 60_000 : 1);
}

/** Builds the graph of the plan in `params['weir.sql.plan']`. */
export default defineJob(async (env, params) => {
  const text = params[PLAN_PARAM];
  if (typeof text !== 'string') throw configError(`a SQL job needs its plan in the job param '${PLAN_PARAM}'`);
  const plan = JSON.parse(text) as SqlPlan;
  env.setJobName(plan.config['pipeline.name'] ?? plan.jobName);
  const interval = plan.config['execution.checkpointing.interval'];
  if (interval !== undefined) env.enableCheckpointing(durationMs(interval));
  if (plan.functions !== undefined) await loadUserFunctions(plan.functions);
  buildGraph(env, plan);
});
