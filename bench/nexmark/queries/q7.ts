// Nexmark q7 (highest bid): the bids with the top price of each 10 s tumbling window, as a local max over 64 auction buckets and a global max.
import { TumblingEventTimeWindows, defineJob, type AggregateFunction, type Bid, type Collector } from '../../../src/index.ts';
import { Q7_FANOUT, WINDOW_MS, bidsOf, finish, nexmarkEventsOf } from '../lib.ts';

/** The bids with the highest price seen, ties kept (Queries.MaxBids). */
export const MAX_BIDS: AggregateFunction<Bid, Bid[], Bid[]> = {
  createAccumulator: () => [],
  add(b, acc) {
    if (acc.length === 0 || b.price > acc[0].price) {
      acc.length = 0;
      acc.push(b);
    } else if (b.price === acc[0].price) {
      acc.push(b);
    }
    return acc;
  },
  getResult: (acc) => acc,
  merge(a, b) {
    for (const x of b) MAX_BIDS.add(x, a);
    return a;
  },
};

const unpack = (l: Bid[], out: Collector<Bid>): void => {
  for (const b of l) out.collect(b);
};

/** q7: two-phase windowed max of the bid price. */
export default defineJob((env, params) => {
  const local = bidsOf(nexmarkEventsOf(env, params))
    .keyBy((b) => b.auction % Q7_FANOUT)
    .window(TumblingEventTimeWindows.of(WINDOW_MS))
    .aggregate(MAX_BIDS)
    .name('Q7 Local Max')
    .flatMap(unpack)
    .name('Q7 Unpack');
  const out = local
    .windowAll(TumblingEventTimeWindows.of(WINDOW_MS))
    .aggregate(MAX_BIDS)
    .name('Q7 Global Max')
    .flatMap(unpack)
    .name('Q7 Result');
  finish(out, 'q7', params);
});
