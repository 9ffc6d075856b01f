//! Windows: assigners, triggers, merging window sets and the window algorithm operators run.

export {
  EventTimeSessionWindows,
  GlobalWindows,
  ProcessingTimeSessionWindows,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  isMerging,
  type MergingWindowAssigner,
  type WindowAssigner,
  type WindowAssignerContext,
} from './assigners.ts';
export { MergingWindowSet, type MergeFunction } from './merging-window-set.ts';
export {
  ContinuousEventTimeTrigger,
  ContinuousProcessingTimeTrigger,
  CountTrigger,
  EventTimeTrigger,
  NeverTrigger,
  ProcessingTimeTrigger,
  PurgingTrigger,
  fires,
  purges,
  type OnMergeContext,
  type Trigger,
  type TriggerContext,
  type TriggerResult,
} from './triggers.ts';
export {
  WindowProcessor,
  type AggregateFunction,
  type KeyedStateStore,
  type WindowContents,
  type WindowContext,
  type WindowEmitter,
  type WindowHost,
  type WindowSpec,
} from './window-processor.ts';
export { GlobalWindow, Time, TimeWindow, windowFromKey, windowKey, windowStart, type Window } from './windows.ts';
