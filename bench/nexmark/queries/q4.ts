// Nexmark q4 (average price per category): the running average of the winning prices of each category, updated per winning bid.
import { KeyedProcessFunction, ValueStateDescriptor, defineJob, type Collector, type ValueState } from '../../../src/index.ts';
import { auctionsOf, bidsOf, finish, nexmarkEventsOf, type Q4Out, type Q9Out } from '../lib.ts';
import { winningBids } from './winning-bids.ts';

/** Emits the updated average of the price per category on every winning bid (Queries.RunningAverage). */
class RunningAverage extends KeyedProcessFunction<number, Q9Out, Q4Out> {
  private sumCount!: ValueState<[number, number] | undefined>;

  override open(): void {
    this.sumCount = this.getRuntimeContext().getState(new ValueStateDescriptor<[number, number] | undefined>('sumCount'));
  }

  processElement(t: Q9Out, _ctx: unknown, out: Collector<Q4Out>): void {
    const sc = this.sumCount.value();
    const next: [number, number] = sc ? [sc[0] + t[2], sc[1] + 1] : [t[2], 1];
    this.sumCount.update(next);
    out.collect([t[1], next[0] / next[1]]);
  }
}

/** q4: (category, running average). */
export default defineJob((env, params) => {
  const events = nexmarkEventsOf(env, params);
  const out = winningBids(auctionsOf(events), bidsOf(events))
    .keyBy((t) => t[1])
    .process(new RunningAverage())
    .name('Q4 Average');
  finish(out, 'q4', params);
});
