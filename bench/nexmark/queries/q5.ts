// Nexmark q5 (hot items): per 10 s window sliding by 2 s, the auctions with the most bids.
import {
  KeyedProcessFunction,
  ListStateDescriptor,
  SlidingEventTimeWindows,
  ValueStateDescriptor,
  defineJob,
  type Collector,
  type KeyedProcessContext,
  type ListState,
  type OnTimerContext,
  type TimeWindow,
  type ValueState,
  type WindowContext,
} from '../../../src/index.ts';
import { COUNT, Q5_SLIDE_MS, WINDOW_MS, bidsOf, finish, nexmarkEventsOf, type Q5Out } from '../lib.ts';

/** (auction, count, window start, window end). */
type Counted = [number, number, number, number];

/** Per window end: the top count and its auctions, emitted when the watermark passes the window (Queries.MaxPerWindow). */
class MaxPerWindow extends KeyedProcessFunction<number, Counted, Q5Out> {
  private max!: ValueState<number | undefined>;
  private top!: ListState<number>;

  override open(): void {
    this.max = this.getRuntimeContext().getState(new ValueStateDescriptor<number | undefined>('max'));
    this.top = this.getRuntimeContext().getListState(new ListStateDescriptor<number>('top'));
  }

  processElement(t: Counted, ctx: KeyedProcessContext<number>): void {
    const m = this.max.value();
    if (m === undefined || m === null || t[1] > m) {
      this.max.update(t[1]);
      this.top.update([t[0]]);
      ctx.timerService().registerEventTimeTimer(t[3] - 1); // window results carry end - 1
    } else if (t[1] === m) {
      this.top.add(t[0]);
    }
  }

  override onTimer(_ts: number, ctx: OnTimerContext<number>, out: Collector<Q5Out>): void {
    const m = this.max.value() as number;
    const end = ctx.getCurrentKey();
    for (const auction of this.top.get()) out.collect([auction, m, end]);
    this.max.clear();
    this.top.clear();
  }
}

/** q5: sliding bid counts per auction, then the maximum per window. */
export default defineJob((env, params) => {
  // Only the auction crosses threads (projection pushdown, as Flink SQL plans q5).
  const counts = bidsOf(nexmarkEventsOf(env, params))
    .map((b) => b.auction)
    .name('Q5 Auction')
    .keyBy((auction) => auction)
    .window(SlidingEventTimeWindows.of(WINDOW_MS, Q5_SLIDE_MS))
    .aggregate(COUNT, (key: number, ctx: WindowContext<TimeWindow>, n: Iterable<number>, out: Collector<Counted>) => {
      const w = ctx.window();
      out.collect([key, n[Symbol.iterator]().next().value as number, w.start, w.end]);
    })
    .name('Q5 Count');
  const out = counts
    .keyBy((t) => t[3])
    .process(new MaxPerWindow())
    .name('Q5 Max');
  finish(out, 'q5', params);
});
