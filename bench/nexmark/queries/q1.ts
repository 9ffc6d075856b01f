// Nexmark q1 (currency conversion): each bid's price in euros, 0.908 × dollars.
import { defineJob } from '../../../src/index.ts';
import { bidsOf, finish, nexmarkEventsOf, type Q1Out } from '../lib.ts';

/** q1: (auction, bidder, 0.908 × price, dateTime, extra) per bid. */
export default defineJob((env, params) => {
  const out = bidsOf(nexmarkEventsOf(env, params))
    .map((b): Q1Out => [b.auction, b.bidder, 0.908 * b.price, b.dateTime, b.extra])
    .name('Q1 Convert');
  finish(out, 'q1', params);
});
