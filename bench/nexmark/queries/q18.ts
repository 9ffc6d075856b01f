// Nexmark q18 (find last bid): per (bidder, auction) the bid with the latest dateTime, as Flink's row-time deduplication keeping the last row.
import { KeyedProcessFunction, ValueStateDescriptor, defineJob, type Bid, type Collector, type ValueState } from '../../../src/index.ts';
import { KEY_SHIFT, bidsOf, finish, nexmarkEventsOf } from '../lib.ts';

/** Replaces the kept bid when the new one is not older (ties: the later arrival wins) and emits it. */
class LastBid extends KeyedProcessFunction<number, Bid, Bid> {
  private last!: ValueState<Bid | undefined>;

  override open(): void {
    this.last = this.getRuntimeContext().getState(new ValueStateDescriptor<Bid | undefined>('last'));
  }

  processElement(b: Bid, _ctx: unknown, out: Collector<Bid>): void {
    const previous = this.last.value();
    if (previous != null && b.dateTime < previous.dateTime) return;
    this.last.update(b);
    out.collect(b);
  }
}

/** q18: ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY dateTime DESC) = 1, an upsert per newer bid. */
export default defineJob((env, params) => {
  const out = bidsOf(nexmarkEventsOf(env, params))
    .keyBy((b) => b.bidder * KEY_SHIFT + b.auction)
    .process(new LastBid())
    .name('Q18 Dedup');
  finish(out, 'q18', params);
});
