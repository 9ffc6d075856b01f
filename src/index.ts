//! weir's public API: everything a user imports, listed by name.

export {
  DEFAULTS,
  DataStream,
  DataStreamSink,
  FilterFunction,
  FlatMapFunction,
  KeyedProcessFunction,
  KeyedStream,
  MapFunction,
  ProcessFunction,
  ReduceFunction,
  RichFunction,
  StreamExecutionEnvironment,
  defineJob,
} from './api/index.ts';
export type { JobBuilder, KeySelector } from './api/index.ts';

export { executeJob } from './scheduler/index.ts';
export type { ExecuteOptions } from './scheduler/index.ts';

export { collectSink, collectionSource, fileSink, generatorSource, printSink, sequenceSource } from './connectors/index.ts';
export type { FileSinkOptions, GeneratorSourceOptions } from './connectors/index.ts';

export type {
  Collector,
  JobResult,
  KeyedProcessContext,
  OperatorContext,
  OperatorTotals,
  TaskReporter,
  ProcessContext,
  RuntimeContext,
  Sink,
  SinkWriter,
  Source,
  SourceOutput,
  SourceReader,
  SourceReaderContext,
  SourceStatus,
} from './actors/index.ts';

export { ValueStateDescriptor, assignKeyToParallelOperator, assignToKeyGroup, keyGroupRangeForSubtask } from './state/index.ts';
export type { KeyGroupRange, ValueState } from './state/index.ts';

export { ErrorCodes, WeirError } from './core/index.ts';
export type { ErrorCode, ErrorDomain, JobOptions, JobParams, StreamElement, SubtaskMetrics } from './core/index.ts';

export type { JobDefinition } from './graph/index.ts';
