//! Event time and processing time: watermark strategies, combining watermarks across inputs, clocks and timers.

export { WatermarkValve } from './watermark-valve.ts';
export {
  BoundedOutOfOrdernessWatermarks,
  MIN_WATERMARK,
  WatermarkStrategy,
  WatermarksWithIdleness,
  type Clock,
  type TimestampAssigner,
  type WatermarkGenerator,
  type WatermarkOutput,
} from './watermark-strategy.ts';
export {
  ManualProcessingTimeService,
  SystemProcessingTimeService,
  type CancelTimer,
  type ProcessingTimeService,
} from './processing-time.ts';

/** The watermark a bounded source emits at its end: every event-time timer and window fires. */
export const MAX_WATERMARK = Number.POSITIVE_INFINITY;
