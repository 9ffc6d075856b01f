//! Actors: the actor base, operators and their interfaces, the subtask actor, and the job coordinator.

export { Actor } from './actor.ts';
export {
  JobMaster,
  describeJobEvent,
  type JobEvent,
  type Attempt,
  type AttemptEvents,
  type FaultToleranceStats,
  type JobMasterSpec,
  type JobResult,
  type OperatorTotals,
} from './job-master.ts';
export { DEFAULT_CHECKPOINTING_RESTART_STRATEGY, RestartBackoff, RestartStrategies } from './restart-strategies.ts';
export {
  createRuntimeContext,
  type FunctionLifecycle,
  type OperatorContext,
  type OperatorProcessingTime,
  type ReaderOutput,
  type Output,
  type RuntimeContext,
  type Sink,
  type SinkWriter,
  type Source,
  type SourceOutput,
  type SourceReader,
  type SourceReaderContext,
  type SourceStatus,
  type StreamOperator,
  type TaskReporter,
} from './operator.ts';
export {
  AbstractStreamOperator,
  FilterOperator,
  FlatMapOperator,
  KeyedReduceOperator,
  MapOperator,
  ProcessOperator,
  SinkOperator,
  type BroadcastContext,
  type Collector,
  type KeyedProcessContext,
  type OnTimer,
  type OnTimerContext,
  type ProcessContext,
  type TimerService,
} from './operators.ts';
export { OperatorTimers, type Triggerable } from './operator-timers.ts';
export { ChainingOutput, FanOutOutput, NoOutput, RecordWriterOutput, type ChannelSelector } from './outputs.ts';
export { SourceOperator, checkTimestamp } from './source-operator.ts';
export { SubtaskActor, type ActorScheduler, type SubtaskActorSpec, type SubtaskListener, type SubtaskState } from './subtask-actor.ts';

export { TimestampsAndWatermarksOperator } from './timestamps-operator.ts';
export { WindowOperator } from './window-operator.ts';
