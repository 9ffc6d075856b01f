// Nexmark q3 (local item suggestion): persons in OR, ID or CA joined with the category-10 auctions they sell, an incremental (regular) join.
import {
  KeyedCoProcessFunction,
  ListStateDescriptor,
  ValueStateDescriptor,
  defineJob,
  type Auction,
  type Collector,
  type ListState,
  type Person,
  type ValueState,
} from '../../../src/index.ts';
import { auctionsOf, finish, nexmarkEventsOf, personsOf, type Q3Out } from '../lib.ts';

/** Emits each (person, auction) match once, as either side arrives; both sides stay in state (Queries.IncrementalJoin). */
class IncrementalJoin extends KeyedCoProcessFunction<number, Person, Auction, Q3Out> {
  private person!: ValueState<Person | undefined>;
  private auctions!: ListState<Auction>;

  override open(): void {
    this.person = this.getRuntimeContext().getState(new ValueStateDescriptor<Person | undefined>('person'));
    this.auctions = this.getRuntimeContext().getListState(new ListStateDescriptor<Auction>('auctions'));
  }

  processElement1(p: Person, _ctx: unknown, out: Collector<Q3Out>): void {
    this.person.update(p);
    for (const a of this.auctions.get()) out.collect([p.name, p.city, p.state, a.id]);
  }

  processElement2(a: Auction, _ctx: unknown, out: Collector<Q3Out>): void {
    this.auctions.add(a);
    const p = this.person.value();
    if (p !== undefined && p !== null) out.collect([p.name, p.city, p.state, a.id]);
  }
}

/** q3: (name, city, state, auction id). */
export default defineJob((env, params) => {
  const events = nexmarkEventsOf(env, params);
  const local = personsOf(events)
    .filter((p) => p.state === 'OR' || p.state === 'ID' || p.state === 'CA')
    .name('Q3 State');
  const cat10 = auctionsOf(events)
    .filter((a) => a.category === 10)
    .name('Q3 Category');
  const out = local
    .connect(cat10)
    .keyBy(
      (p) => p.id,
      (a) => a.seller,
    )
    .process(new IncrementalJoin())
    .name('Q3 Join');
  finish(out, 'q3', params);
});
