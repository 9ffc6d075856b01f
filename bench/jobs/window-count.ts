//! Window benchmark job: events → bounded-out-of-orderness watermarks → keyBy → tumbling, sliding or session event-time count → count sink (params: records, keys, shape, split).

import {
  EventTimeSessionWindows,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  defineJob,
  generatorSource,
} from '../../src/index.ts';
import { countSink } from './count-sink.ts';
import {
  OUT_OF_ORDERNESS_MS,
  SHAPES,
  generateEvent,
  interleavedEvents,
  windowCountChecksum,
  type KeyedEvent,
  type WindowShape,
} from './window-workloads.ts';

export default defineJob((env, params) => {
  const records = Number(params.records ?? 1_000_000);
  const keys = Number(params.keys ?? 1_000);
  const shape = SHAPES[String(params.shape ?? 'tumbling') as WindowShape['kind']];
  if (!shape) throw new RangeError(`param shape must be tumbling, sliding or session, got ${params.shape}`);
  // interleaved (default): readers side by side in event time; range: weir's generatorSource, a contiguous range each.
  const split = String(params.split ?? 'interleaved');
  if (split !== 'interleaved' && split !== 'range') throw new RangeError(`param split must be interleaved or range, got ${split}`);
  env
    .fromSource(
      split === 'range'
        ? generatorSource<KeyedEvent>({ count: records, generate: (i) => generateEvent(i, keys), name: 'Events' })
        : interleavedEvents(records, keys),
      WatermarkStrategy.forBoundedOutOfOrderness<KeyedEvent>(OUT_OF_ORDERNESS_MS).withTimestampAssigner((e) => e.ts),
      'Events',
    )
    .keyBy((e) => e.key)
    .window(
      shape.kind === 'tumbling'
        ? TumblingEventTimeWindows.of(shape.size)
        : shape.kind === 'sliding'
          ? SlidingEventTimeWindows.of(shape.size, shape.slide)
          : EventTimeSessionWindows.withGap(shape.size),
    )
    .count()
    .name(`Window Count (${shape.kind})`)
    .sinkTo(countSink(windowCountChecksum));
});
