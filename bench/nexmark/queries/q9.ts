// Nexmark q9 (winning bids): the highest valid bid of each auction, emitted at its expiry.
import { defineJob } from '../../../src/index.ts';
import { auctionsOf, bidsOf, finish, nexmarkEventsOf } from '../lib.ts';
import { winningBids } from './winning-bids.ts';

/** q9: (auction, category, price, bidder). */
export default defineJob((env, params) => {
  const events = nexmarkEventsOf(env, params);
  finish(winningBids(auctionsOf(events), bidsOf(events)), 'q9', params);
});
