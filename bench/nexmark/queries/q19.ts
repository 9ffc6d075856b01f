// Nexmark q19 (auction top-10 price): per auction the ten highest bids with their rank, as Flink's append-only Top-N.
import { KeyedProcessFunction, ValueStateDescriptor, defineJob, type Bid, type Collector, type ValueState } from '../../../src/index.ts';
import { bidsOf, finish, nexmarkEventsOf, type Q19Out } from '../lib.ts';

/** Top-N size. */
export const TOP_N = 10;

/** Keeps the top bids by price (equal prices in arrival order); a bid entering it emits every rank it shifts. */
class TopBids extends KeyedProcessFunction<number, Bid, Q19Out> {
  private top!: ValueState<Bid[] | undefined>;

  override open(): void {
    this.top = this.getRuntimeContext().getState(new ValueStateDescriptor<Bid[] | undefined>('top'));
  }

  processElement(b: Bid, _ctx: unknown, out: Collector<Q19Out>): void {
    const previous = this.top.value() ?? [];
    let i = previous.length;
    while (i > 0 && previous[i - 1].price < b.price) i--;
    if (i >= TOP_N) return;
    const next = previous.slice(0, i);
    next.push(b);
    for (let j = i; j < previous.length && next.length < TOP_N; j++) next.push(previous[j]);
    this.top.update(next);
    for (let j = i; j < next.length; j++) out.collect([next[j], j + 1]);
  }
}

/** q19: ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) ≤ 10, an upsert per (auction, rank). */
export default defineJob((env, params) => {
  const out = bidsOf(nexmarkEventsOf(env, params))
    .keyBy((b) => b.auction)
    .process(new TopBids())
    .name('Q19 Top 10');
  finish(out, 'q19', params);
});
