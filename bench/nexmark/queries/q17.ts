// Nexmark q17 (auction statistics per day): bid counts per price rank, min, max, average and sum of price per auction and day.
import { KeyedProcessFunction, ValueStateDescriptor, defineJob, type Bid, type Collector, type ValueState } from '../../../src/index.ts';
import { bidsOf, dayOf, finish, nexmarkEventsOf, type Q17Out } from '../lib.ts';
import { priceRank } from './bid-stats.ts';

/** One row per (auction, day), updated and emitted per bid; AVG of a BIGINT truncates, as in Flink SQL. */
class AuctionStats extends KeyedProcessFunction<number, Bid, Q17Out> {
  private row!: ValueState<Q17Out | undefined>;

  override open(): void {
    this.row = this.getRuntimeContext().getState(new ValueStateDescriptor<Q17Out | undefined>('row'));
  }

  processElement(b: Bid, _ctx: unknown, out: Collector<Q17Out>): void {
    const previous = this.row.value() ?? undefined;
    const p = b.price;
    const row: Q17Out = previous === undefined ? [b.auction, dayOf(b.dateTime), 0, 0, 0, 0, p, p, 0, 0] : (previous.slice() as Q17Out);
    row[2]++;
    (row[2 + priceRank(p)] as number)++;
    if (p < row[6]) row[6] = p;
    if (p > row[7]) row[7] = p;
    row[9] += p;
    row[8] = Math.trunc(row[9] / row[2]);
    this.row.update(row);
    out.collect(row);
  }
}

/** q17: GROUP BY auction, DATE_FORMAT(dateTime, 'yyyy-MM-dd'), keyed by auction × 2^15 + epoch day. */
export default defineJob((env, params) => {
  const out = bidsOf(nexmarkEventsOf(env, params))
    .keyBy((b) => b.auction * 32_768 + Math.floor(b.dateTime / 86_400_000))
    .process(new AuctionStats())
    .name('Q17 Auction Stats');
  finish(out, 'q17', params);
});
