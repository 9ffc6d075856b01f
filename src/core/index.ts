//! What every layer shares: stream elements, errors, the batch codec and the cross-thread protocol.

export {
  TAG_BARRIER,
  TAG_END,
  TAG_LATENCY,
  TAG_RECORD,
  TAG_TIMED_RECORD,
  TAG_WATERMARK,
  TAG_WATERMARK_STATUS,
  appendElement,
  batchToElements,
  elementWidth,
  elementsToBatch,
  type BarrierElement,
  type ElementBatch,
  type EndElement,
  type LatencyMarkerElement,
  type RecordElement,
  type StreamElement,
  type WatermarkElement,
  type WatermarkStatusElement,
} from './elements.ts';
export { BatchCodec, preview, type CodecSite } from './codec.ts';
export {
  ErrorCodes,
  WeirError,
  configError,
  decodeError,
  encodeError,
  graphError,
  userFunctionError,
  type EncodedError,
  type ErrorCode,
  type ErrorDomain,
  type ErrorLocation,
} from './errors.ts';
export type {
  BarrierMessage,
  ChannelPort,
  DeployDescriptor,
  DeployOutcome,
  JobOptions,
  JobParams,
  OutputChannelMetrics,
  SlotControl,
  StateBackendConfig,
  SubtaskMetrics,
  WorkerCallbacks,
} from './protocol.ts';
export type { CheckpointEntry, ExceptionEntry, JobSample, JobStatus, OperatorSample, SplitSample, SubtaskSample } from './metrics.ts';
