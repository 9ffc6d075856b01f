// Nexmark q11 (user sessions): bids per bidder session, session gap 10 s.
import { EventTimeSessionWindows, defineJob, type Collector, type TimeWindow, type WindowContext } from '../../../src/index.ts';
import { COUNT, WINDOW_MS, bidsOf, finish, nexmarkEventsOf, type Q11Out } from '../lib.ts';

/** q11: (bidder, bids, session start, session end) per bidder session. */
export default defineJob((env, params) => {
  // Only the bidder crosses threads (the event time travels as the record's timestamp), as Flink
  // SQL's projection pushdown plans it; the whole bid would cost encoding its strings.
  const out = bidsOf(nexmarkEventsOf(env, params))
    .map((b) => b.bidder)
    .name('Q11 Bidder')
    .keyBy((bidder) => bidder)
    .window(EventTimeSessionWindows.withGap(WINDOW_MS))
    .aggregate(COUNT, (key: number, ctx: WindowContext<TimeWindow>, n: Iterable<number>, collector: Collector<Q11Out>) => {
      const w = ctx.window();
      collector.collect([key, n[Symbol.iterator]().next().value as number, w.start, w.end]);
    })
    .name('Q11 Sessions');
  finish(out, 'q11', params);
});
