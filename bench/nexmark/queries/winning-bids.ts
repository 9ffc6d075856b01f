// q9's winning-bid operator, shared by q9 and q4: per auction, the best valid bid, emitted at the auction's expiry.
import {
  KeyedCoProcessFunction,
  ListStateDescriptor,
  ValueStateDescriptor,
  type Auction,
  type Bid,
  type Collector,
  type DataStream,
  type KeyedProcessContext,
  type ListState,
  type OnTimerContext,
  type ValueState,
} from '../../../src/index.ts';
import type { Q9Out } from '../lib.ts';

/**
 * Keeps an auction and its best bid so far (price ≥ reserve, within [dateTime, expires), highest
 * price, then earliest); fires at the auction's expiry. Bids before their auction wait in state
 * (Queries.WinningBid).
 */
class WinningBid extends KeyedCoProcessFunction<number, Auction, Bid, Q9Out> {
  private auction!: ValueState<Auction | undefined>;
  private best!: ValueState<Bid | undefined>;
  private early!: ListState<Bid>;
  private closed!: ValueState<boolean | undefined>;

  override open(): void {
    const rc = this.getRuntimeContext();
    this.auction = rc.getState(new ValueStateDescriptor<Auction | undefined>('auction'));
    this.best = rc.getState(new ValueStateDescriptor<Bid | undefined>('best'));
    this.early = rc.getListState(new ListStateDescriptor<Bid>('early'));
    this.closed = rc.getState(new ValueStateDescriptor<boolean | undefined>('closed'));
  }

  private offer(a: Auction, b: Bid): void {
    if (b.price < a.reserve || b.dateTime < a.dateTime || b.dateTime >= a.expires) return;
    const cur = this.best.value();
    if (cur === undefined || cur === null || b.price > cur.price || (b.price === cur.price && b.dateTime < cur.dateTime))
      this.best.update(b);
  }

  processElement1(a: Auction, ctx: KeyedProcessContext<number>): void {
    this.auction.update(a);
    ctx.timerService().registerEventTimeTimer(a.expires);
    for (const b of [...this.early.get()]) this.offer(a, b);
    this.early.clear();
  }

  processElement2(b: Bid): void {
    const closed = this.closed.value();
    if (closed !== undefined && closed !== null) return;
    const a = this.auction.value();
    if (a === undefined || a === null) this.early.add(b);
    else this.offer(a, b);
  }

  override onTimer(_ts: number, _ctx: OnTimerContext<number>, out: Collector<Q9Out>): void {
    const a = this.auction.value();
    const b = this.best.value();
    if (a && b) out.collect([a.id, a.category, b.price, b.bidder]);
    this.auction.clear();
    this.best.clear();
    this.early.clear();
    this.closed.update(true);
  }
}

/** q9's stream: (auction, category, price, bidder) of each auction's winning bid. */
export function winningBids(auctions: DataStream<Auction>, bids: DataStream<Bid>): DataStream<Q9Out> {
  return auctions
    .connect(bids)
    .keyBy(
      (a) => a.id,
      (b) => b.auction,
    )
    .process(new WinningBid())
    .name('Q9 Winning Bids');
}
