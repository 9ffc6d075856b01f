// Nexmark q12 (processing-time windows): bids per bidder in 10 s tumbling windows of processing time (wall clock), as Queries.q12.
import { TumblingProcessingTimeWindows, defineJob, type Collector, type TimeWindow, type WindowContext } from '../../../src/index.ts';
import { COUNT, WINDOW_MS, bidsOf, finish, nexmarkEventsOf, type Q12Out } from '../lib.ts';

/** q12: (bidder, bids, window start, window end) per bidder and 10 s processing-time window (`windowMs` param: another size, for tests). */
export default defineJob((env, params) => {
  const windowMs = Number(params.windowMs ?? WINDOW_MS);
  const out = bidsOf(nexmarkEventsOf(env, params))
    .keyBy((b) => b.bidder)
    .window(TumblingProcessingTimeWindows.of(windowMs))
    .aggregate(COUNT, (key: number, ctx: WindowContext<TimeWindow>, n: Iterable<number>, collector: Collector<Q12Out>) => {
      const w = ctx.window();
      collector.collect([key, n[Symbol.iterator]().next().value as number, w.start, w.end]);
    })
    .name('Q12 Proctime Windows');
  finish(out, 'q12', params);
});
