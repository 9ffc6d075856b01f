//! Event time: watermark combination across inputs (strategies and idleness arrive with the event-time work).

export { WatermarkValve } from './watermark-valve.ts';

/** The watermark a bounded source emits at its end: every event-time timer and window fires. */
export const MAX_WATERMARK = Number.POSITIVE_INFINITY;
