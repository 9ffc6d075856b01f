//! The scheduler: execution plan, per-thread task executor, the local and threaded runners, job loading.

export { ExecutionPlan, type ChannelSpec, type PlacedSubtask } from './execution-plan.ts';
export { executeJob, startGraph, startJob, type ExecuteOptions, type JobClient, type SavepointOptions } from './execute.ts';
export { loadJobDefinition, loadJobGraph, toModuleUrl } from './job-loader.ts';
export { deployLocal, type LocalOptions } from './local-runner.ts';
export { buildRestore, operatorsOf } from './restore.ts';
export { TaskExecutor, type DeploymentRestore, type ExecutorReporter } from './task-executor.ts';
export { deployThreads } from './thread-runner.ts';
