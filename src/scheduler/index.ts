//! The scheduler: execution plan, per-thread task executor, the local and threaded runners, job loading.

export { ExecutionPlan, type ChannelSpec, type PlacedSubtask } from './execution-plan.ts';
export { executeJob, type ExecuteOptions } from './execute.ts';
export { loadJobDefinition, loadJobGraph, toModuleUrl } from './job-loader.ts';
export { executeLocally, type LocalOptions } from './local-runner.ts';
export { TaskExecutor, type ExecutorReporter } from './task-executor.ts';
export { executeOnThreads } from './thread-runner.ts';
