// The group aggregate of q15 and q16: bid counts and distinct bidders/auctions in all, and per price rank, as Flink's COUNT(*) / COUNT(DISTINCT) FILTER.
import {
  KeyedProcessFunction,
  MapStateDescriptor,
  ValueStateDescriptor,
  type Bid,
  type Collector,
  type MapState,
  type ValueState,
} from '../../../src/index.ts';

/** Price rank of the FILTER clauses: 1 below 10,000, 2 below 1,000,000, else 3. */
export function priceRank(price: number): 1 | 2 | 3 {
  return price < 10_000 ? 1 : price < 1_000_000 ? 2 : 3;
}

/**
 * Keeps one output row per key: `prefix` columns, then the twelve counts total_bids, rank1..3_bids,
 * total_bidders, rank1..3_bidders, total_auctions, rank1..3_auctions. Distinct bidders and auctions
 * are MapStates of value → bit mask of the ranks seen (Flink's distinct aggregation keeps a MapState
 * of value → count per filter). Each bid updates the row and emits it (a changelog, upsert by key).
 */
export class BidStats<K, R extends unknown[]> extends KeyedProcessFunction<K, Bid, R> {
  private row!: ValueState<R | undefined>;
  private bidders!: MapState<number, number>;
  private auctions!: MapState<number, number>;

  /** `prefix(bid, previous row)` = the row's leading columns; there are `width` of them. */
  constructor(
    private readonly width: number,
    private readonly prefix: (b: Bid, previous: R | undefined) => unknown[],
  ) {
    super();
  }

  override open(): void {
    const ctx = this.getRuntimeContext();
    this.row = ctx.getState(new ValueStateDescriptor<R | undefined>('row'));
    this.bidders = ctx.getMapState(new MapStateDescriptor<number, number>('bidders'));
    this.auctions = ctx.getMapState(new MapStateDescriptor<number, number>('auctions'));
  }

  processElement(b: Bid, _ctx: unknown, out: Collector<R>): void {
    const previous = this.row.value() ?? undefined;
    const w = this.width;
    const row = (previous === undefined ? [...this.prefix(b, undefined), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] : previous.slice()) as R;
    if (previous !== undefined) {
      const p = this.prefix(b, previous);
      for (let i = 0; i < w; i++) row[i] = p[i];
    }
    const r = priceRank(b.price);
    (row[w] as number)++;
    (row[w + r] as number)++;
    const bit = 1 << r;
    const bm = this.bidders.get(b.bidder) ?? 0;
    if ((bm & bit) === 0) {
      if (bm === 0) (row[w + 4] as number)++;
      (row[w + 4 + r] as number)++;
      this.bidders.put(b.bidder, bm | bit);
    }
    const am = this.auctions.get(b.auction) ?? 0;
    if ((am & bit) === 0) {
      if (am === 0) (row[w + 8] as number)++;
      (row[w + 8 + r] as number)++;
      this.auctions.put(b.auction, am | bit);
    }
    this.row.update(row);
    out.collect(row);
  }
}
