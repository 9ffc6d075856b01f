// Nexmark q22 (URL directory split): each bid with the first three directories of its URL.
import { defineJob } from '../../../src/index.ts';
import { bidsOf, finish, nexmarkEventsOf, type Q22Out } from '../lib.ts';

/** q22: (auction, bidder, price, channel, SPLIT_INDEX(url, '/', 3), ... 4, ... 5); an index past the end is null, here ''. */
export default defineJob((env, params) => {
  const out = bidsOf(nexmarkEventsOf(env, params))
    .map((b): Q22Out => {
      const parts = b.url.split('/');
      return [b.auction, b.bidder, b.price, b.channel, parts[3] ?? '', parts[4] ?? '', parts[5] ?? ''];
    })
    .name('Q22 Split');
  finish(out, 'q22', params);
});
