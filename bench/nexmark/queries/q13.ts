// Nexmark q13 (bounded side input join): each bid enriched with the side-input row of key auction mod 10,000.
import { MapFunction, defineJob, type Bid } from '../../../src/index.ts';
import { bidsOf, finish, nexmarkEventsOf, sideInput, type Q13Out } from '../lib.ts';

/** A lookup join against the bounded side input, loaded once per subtask in `open` (Flink's lookup join `FOR SYSTEM_TIME AS OF` proctime). */
class SideInputJoin extends MapFunction<Bid, Q13Out> {
  private table!: Map<number, string>;

  override open(): void {
    this.table = sideInput();
  }

  map(b: Bid): Q13Out {
    return [b.auction, b.bidder, b.price, b.dateTime, this.table.get(b.auction % 10_000) as string];
  }
}

/** q13: (auction, bidder, price, dateTime, value); every key 0..9999 is in the side input, so every bid matches. */
export default defineJob((env, params) => {
  const out = bidsOf(nexmarkEventsOf(env, params)).map(new SideInputJoin()).name('Q13 Side Input Join');
  finish(out, 'q13', params);
});
