// Nexmark q2 (selection): (auction, price) of the bids on auctions whose id is a multiple of 123.
import { defineJob } from '../../../src/index.ts';
import { bidsOf, finish, nexmarkEventsOf, type Q2Out } from '../lib.ts';

/** q2: bids with auction % 123 == 0, projected to (auction, price). */
export default defineJob((env, params) => {
  const out = bidsOf(nexmarkEventsOf(env, params))
    .filter((b) => b.auction % 123 === 0)
    .name('Q2 Filter')
    .map((b): Q2Out => [b.auction, b.price])
    .name('Q2 Project');
  finish(out, 'q2', params);
});
