//! weir's public API: everything a user imports, listed by name.

export {
  CoProcessFunction,
  ConnectedStreams,
  DEFAULTS,
  DataStream,
  DataStreamSink,
  FilterFunction,
  FlatMapFunction,
  KeyedCoProcessFunction,
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
  ReaderOutput,
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

export { OutputTag } from './actors/output-tag.ts';
export { ManualProcessingTimeService, MAX_WATERMARK, WatermarkStrategy } from './time/index.ts';
export type { Clock, ProcessingTimeService, TimestampAssigner, WatermarkGenerator, WatermarkOutput } from './time/index.ts';

export { ErrorCodes, WeirError } from './core/index.ts';
export type { ErrorCode, ErrorDomain, JobOptions, JobParams, StreamElement, SubtaskMetrics } from './core/index.ts';

export type { JobDefinition } from './graph/index.ts';
