// Nexmark q21 (add channel id): bids of the four hot channels or with a channel_id in their URL, with that id.
import { defineJob, type Bid } from '../../../src/index.ts';
import { bidsOf, finish, nexmarkEventsOf, type Q21Out } from '../lib.ts';

const CHANNEL_ID = /(&|^)channel_id=([^&]*)/;
const HOT_IDS: Record<string, string> = { apple: '0', google: '1', facebook: '2', baidu: '3' };

/** `REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2)`, null when no match. */
function extractChannelId(url: string): string | null {
  const m = CHANNEL_ID.exec(url);
  return m === null ? null : m[2];
}

/** q21: the `CASE` on `lower(channel)`, else the id in the URL; rows with neither are filtered out. */
export default defineJob((env, params) => {
  const out = bidsOf(nexmarkEventsOf(env, params))
    .flatMap((b: Bid, collector: { collect(v: Q21Out): void }) => {
      const hot = HOT_IDS[b.channel.toLowerCase()];
      const id = hot ?? extractChannelId(b.url);
      if (id !== null && id !== undefined) collector.collect([b.auction, b.bidder, b.price, b.channel, id]);
    })
    .name('Q21 Channel Id');
  finish(out, 'q21', params);
});
