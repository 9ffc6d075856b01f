//! weir's public API: everything a user imports, listed by name.

export {
  BroadcastConnectedStream,
  BroadcastProcessFunction,
  BroadcastStream,
  CoProcessFunction,
  ConnectedStreams,
  KeyedBroadcastProcessFunction,
  DEFAULTS,
  DataStream,
  DataStreamSink,
  FilterFunction,
  FlatJoinFunction,
  FlatMapFunction,
  IntervalJoin,
  IntervalJoined,
  JoinEqualTo,
  JoinFunction,
  JoinWhere,
  JoinWithWindow,
  JoinedStreams,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  KeyedStream,
  MapFunction,
  ProcessFunction,
  ProcessJoinFunction,
  ProcessWindowFunction,
  ReduceFunction,
  RichFunction,
  StreamExecutionEnvironment,
  WindowedStream,
  defineJob,
} from './api/index.ts';
export type {
  FlatJoinFunctionLike,
  JobBuilder,
  JoinFunctionLike,
  KeySelector,
  ProcessJoinContext,
  ProcessJoinFunctionLike,
  ProcessWindowFunctionLike,
} from './api/index.ts';

export { executeJob, startJob } from './scheduler/index.ts';
export type { ExecuteOptions, JobClient, SavepointOptions } from './scheduler/index.ts';

export {
  TwoPhaseCommitSinkWriter,
  collectSink,
  collectionSource,
  exactlyOnceFileSink,
  fileSink,
  fileSource,
  generatorSource,
  printSink,
  sequenceSource,
} from './connectors/index.ts';
export type {
  CsvColumnType,
  CsvOptions,
  CsvSourceOptions,
  ExactlyOnceFileSinkOptions,
  FileDeadLetter,
  FileSinkOptions,
  FileSourceOptions,
  FileSourceState,
  FileSplitState,
  GeneratorSourceOptions,
  SkippedRecordsLogOptions,
  TwoPhaseCommitState,
} from './connectors/index.ts';
export { CheckpointStorage, loadCheckpoint } from './checkpoint/index.ts';
export type { CheckpointConfig, CheckpointOutcome, CompletedCheckpoint, RestartStrategy, StoredCheckpoint } from './checkpoint/index.ts';
export { DEFAULT_CHECKPOINTING_RESTART_STRATEGY, RestartStrategies, describeJobEvent } from './actors/index.ts';
export type { FaultToleranceStats, JobEvent } from './actors/index.ts';

export type {
  BroadcastContext,
  Collector,
  JobResult,
  KeyedProcessContext,
  OnTimerContext,
  OperatorContext,
  OperatorTotals,
  TaskReporter,
  ProcessContext,
  ReaderOutput,
  RuntimeContext,
  Sink,
  SinkWriter,
  Source,
  SourceOutput,
  SourceReader,
  SourceReaderContext,
  SourceStatus,
  TimerService,
} from './actors/index.ts';

export {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateTtlConfig,
  StateVisibility,
  UpdateType,
  ValueStateDescriptor,
  assignKeyToParallelOperator,
  assignToKeyGroup,
  keyGroupRangeForSubtask,
} from './state/index.ts';
export type {
  AggregatingState,
  BroadcastState,
  KeyGroupRange,
  ReadOnlyBroadcastState,
  ListState,
  MapState,
  ReducingState,
  TtlTimeProvider,
  ValueState,
} from './state/index.ts';

export {
  ContinuousEventTimeTrigger,
  ContinuousProcessingTimeTrigger,
  CountTrigger,
  EventTimeSessionWindows,
  EventTimeTrigger,
  GlobalWindow,
  GlobalWindows,
  NeverTrigger,
  ProcessingTimeSessionWindows,
  ProcessingTimeTrigger,
  PurgingTrigger,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  Time,
  TimeWindow,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
} from './windows/index.ts';
export type {
  AggregateFunction,
  KeyedStateStore,
  OnMergeContext,
  Trigger,
  TriggerContext,
  TriggerResult,
  Window,
  WindowAssigner,
  WindowContext,
} from './windows/index.ts';

export { OutputTag } from './actors/output-tag.ts';
export {
  BoundedOutOfOrdernessWatermarks,
  ManualProcessingTimeService,
  MAX_WATERMARK,
  WatermarkStrategy,
  WatermarksWithIdleness,
} from './time/index.ts';
export type { Clock, ProcessingTimeService, TimestampAssigner, WatermarkGenerator, WatermarkOutput } from './time/index.ts';

export { ErrorCodes, WeirError } from './core/index.ts';
export type { ErrorCode, ErrorDomain, JobOptions, JobParams, StateBackendConfig, StreamElement, SubtaskMetrics } from './core/index.ts';

export type { JobDefinition } from './graph/index.ts';

export { NEXMARK_DEFAULTS, NexmarkGenerator, nexmarkEvent, nexmarkEvents, nexmarkSource } from './connectors/nexmark/index.ts';
export type { Auction, Bid, NexmarkConfig, NexmarkEvent, Person } from './connectors/nexmark/index.ts';

export { DEAD_LETTER_HEADERS, kafkaSink, kafkaSource } from './connectors/kafka/index.ts';
export type {
  KafkaDeserializer,
  KafkaRecordMeta,
  KafkaSerializer,
  KafkaSinkOptions,
  KafkaSinkTransaction,
  KafkaSourceOptions,
  KafkaSourceState,
} from './connectors/kafka/index.ts';

export { Table, TableEnvironment, SqlSyntaxError, explainPlan, ROW_KIND, MaterializedTable, foldChangelog } from './sql/index.ts';
export { Schema, StreamTable, StreamTableEnvironment } from './sql/index.ts';
export type { TableEnvironmentSettings, TableResult, SqlPlan, RowKind } from './sql/index.ts';

// The registry and the explainer are plain code; the server loads on the first startObserver().
export { MetricsRegistry } from './observe/registry.ts';
export { explainWatermarks } from './observe/explain.ts';
export { startObserver } from './observe/start.ts';
export type {
  ExplainedOperator,
  JobRates,
  MetricsRegistryOptions,
  ObservedJob,
  Observer,
  ObserverOptions,
  RateSample,
  SubtaskRates,
  WatermarkExplanation,
  WatermarkHop,
  WatermarkOrigin,
} from './observe/index.ts';
export type { CheckpointEntry, ExceptionEntry, JobSample, JobStatus, OperatorSample, SplitSample, SubtaskSample } from './core/index.ts';

// tools: plan and live state
export { formatPlan, planJob } from './tools/plan.ts';
export type { JobPlan, PlanJobOptions } from './tools/plan.ts';
export type { OperatorPlan, PlanVerdict, StatePlan, StatePlanEntry } from './scheduler/state-plan.ts';
export type { LiveStateValue } from './scheduler/execute.ts';
// tools: state inspector
export { diffSavepoints, entriesFromFile, readSavepoint, writeSavepoint } from './tools/index.ts';
export type {
  BroadcastStateInfo,
  ChangedEntry,
  DiffOptions,
  EntriesFileOptions,
  KeyGroupInfo,
  KeyedStateBootstrap,
  KeyedStateEntry,
  KeyedStateInfo,
  LoneEntry,
  OperatorBootstrap,
  OperatorDiff,
  OperatorInfo,
  OperatorReader,
  OperatorStateInfo,
  SavepointDiff,
  SavepointInfo,
  SavepointReader,
  StateDiff,
  StateEntries,
  TimerEntry,
  TimerServiceInfo,
  WriteSavepointOptions,
  WrittenSavepoint,
} from './tools/index.ts';
