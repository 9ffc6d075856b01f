// Nexmark q16 (channel statistics per day): q15's counts grouped by channel and day, with the latest minute seen.
import { defineJob } from '../../../src/index.ts';
import { bidsOf, dayOf, finish, minuteOf, nexmarkEventsOf, type Q16Out } from '../lib.ts';
import { BidStats } from './bid-stats.ts';

/** q16: GROUP BY channel, DATE_FORMAT(dateTime, 'yyyy-MM-dd'); MAX(DATE_FORMAT(dateTime, 'HH:mm')); an upsert row per bid. */
export default defineJob((env, params) => {
  const out = bidsOf(nexmarkEventsOf(env, params))
    .keyBy((b) => `${b.channel}|${dayOf(b.dateTime)}`)
    .process(
      new BidStats<string, Q16Out>(3, (b, previous) => {
        const minute = minuteOf(b.dateTime);
        return [b.channel, dayOf(b.dateTime), previous !== undefined && previous[2] > minute ? previous[2] : minute];
      }),
    )
    .name('Q16 Channel Stats');
  finish(out, 'q16', params);
});
