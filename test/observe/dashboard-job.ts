// The dashboard browser test's job: a fast generator with event time, a keyed running sum (keyed state), an hourly event-time window (pending windows for the watermark explanation), and a sink ~1 ms per record slower than the rest (backpressure), checkpointed.
import { TumblingEventTimeWindows, WatermarkStrategy, defineJob, generatorSource } from '../../src/index.ts';
import { spin } from '../fixtures/sinks.ts';

const SPLIT = 1_000_000_000;

interface Reading {
  k: number;
  v: number;
}

/** Params: sinkMicros (busy time per record in the slow sink), interval (checkpoints, ms). */
export default defineJob((env, params) => {
  env.enableCheckpointing(Number(params.interval ?? 500));
  const sinkMicros = Number(params.sinkMicros ?? 1000);
  const readings = env
    .fromSource(
      generatorSource<Reading>({
        // Never ends in a test: each of the two splits has 10^9 readings.
        count: 2 * SPLIT,
        name: 'Readings',
        generate: (i) => ({ k: i % 16, v: i }),
        // One reading per ms of event time from 2026-01-01 in each split: the watermark moves ~1 s per 1,000 records.
        timestamp: (i) => Date.UTC(2026, 0, 1) + (i % SPLIT),
      }),
    )
    .uid('readings')
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Reading>(100))
    .uid('watermarks');
  readings
    .keyBy((r) => r.k)
    .window(TumblingEventTimeWindows.of(3_600_000))
    .reduce((a, b) => ({ k: a.k, v: a.v + b.v }))
    .uid('hourly')
    .sinkTo(() => undefined)
    .name('Hourly Sink')
    .uid('hourly-sink');
  readings
    .keyBy((r) => r.k)
    .sum('v')
    .uid('sum')
    .setParallelism(2)
    .sinkTo(() => spin(sinkMicros))
    .name('Slow Sink')
    .uid('slow-sink')
    .setParallelism(1);
});
