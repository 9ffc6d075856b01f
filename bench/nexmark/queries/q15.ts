// Nexmark q15 (bidding statistics per day): bid counts and distinct bidders/auctions, in all and per price rank, grouped by day.
import { defineJob } from '../../../src/index.ts';
import { bidsOf, dayOf, finish, nexmarkEventsOf, type Q15Out } from '../lib.ts';
import { BidStats } from './bid-stats.ts';

/** q15: GROUP BY DATE_FORMAT(dateTime, 'yyyy-MM-dd'), an upsert row per bid. */
export default defineJob((env, params) => {
  const out = bidsOf(nexmarkEventsOf(env, params))
    .keyBy((b) => dayOf(b.dateTime))
    .process(new BidStats<string, Q15Out>(1, (b) => [dayOf(b.dateTime)]))
    .name('Q15 Day Stats');
  finish(out, 'q15', params);
});
