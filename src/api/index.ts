//! The user-facing API: environment, streams, function classes, job definitions.

export {
  BroadcastConnectedStream,
  BroadcastStream,
  ConnectedStreams,
  DataStream,
  DataStreamSink,
  KeyedStream,
  type KeySelector,
} from './datastream.ts';
export { DEFAULTS, StreamExecutionEnvironment } from './environment.ts';
export {
  BroadcastProcessFunction,
  CoProcessFunction,
  KeyedBroadcastProcessFunction,
  FilterFunction,
  KeyedCoProcessFunction,
  FlatMapFunction,
  KeyedProcessFunction,
  MapFunction,
  ProcessFunction,
  ReduceFunction,
  RichFunction,
} from './functions.ts';
export { defineJob, type JobBuilder } from './job.ts';
export {
  FlatJoinFunction,
  IntervalJoin,
  IntervalJoined,
  JoinEqualTo,
  JoinFunction,
  JoinWhere,
  JoinWithWindow,
  JoinedStreams,
  ProcessJoinFunction,
  type FlatJoinFunctionLike,
  type JoinFunctionLike,
  type ProcessJoinContext,
  type ProcessJoinFunctionLike,
} from './joins.ts';
export { ProcessWindowFunction, WindowedStream, type ProcessWindowFunctionLike } from './windowed-stream.ts';
