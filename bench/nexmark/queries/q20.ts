// Nexmark q20 (expand bid with auction): bids joined with their auction where the auction's category is 10, a regular join.
import {
  KeyedCoProcessFunction,
  ListStateDescriptor,
  ValueStateDescriptor,
  defineJob,
  type Auction,
  type Bid,
  type Collector,
  type ListState,
  type ValueState,
} from '../../../src/index.ts';
import { auctionsOf, bidsOf, finish, nexmarkEventsOf, type Q20Out } from '../lib.ts';

/**
 * The join keyed by auction id. Auction ids are unique, so once an auction is known a bid is
 * joined (or, for another category, dropped) at once and never stored; only bids that arrive
 * before their auction wait in state. The output equals Flink SQL's regular join, which cannot know
 * the ids are unique and keeps every bid.
 */
class BidAuctionJoin extends KeyedCoProcessFunction<number, Bid, Auction, Q20Out> {
  /** The category-10 auction, or false for an auction of another category. */
  private auction!: ValueState<Auction | false | undefined>;
  private early!: ListState<Bid>;

  override open(): void {
    this.auction = this.getRuntimeContext().getState(new ValueStateDescriptor<Auction | false | undefined>('auction'));
    this.early = this.getRuntimeContext().getListState(new ListStateDescriptor<Bid>('early'));
  }

  processElement1(b: Bid, _ctx: unknown, out: Collector<Q20Out>): void {
    const a = this.auction.value();
    if (a == null) this.early.add(b);
    else if (a !== false) out.collect([b, a]);
  }

  processElement2(a: Auction, _ctx: unknown, out: Collector<Q20Out>): void {
    if (a.category === 10) {
      this.auction.update(a);
      for (const b of this.early.get()) out.collect([b, a]);
    } else this.auction.update(false);
    this.early.clear();
  }
}

/** q20: (bid, auction) for every bid on a category-10 auction. */
export default defineJob((env, params) => {
  const events = nexmarkEventsOf(env, params);
  const out = bidsOf(events)
    .connect(auctionsOf(events))
    .keyBy(
      (b) => b.auction,
      (a) => a.id,
    )
    .process(new BidAuctionJoin())
    .name('Q20 Join');
  finish(out, 'q20', params);
});
