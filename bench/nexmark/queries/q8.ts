// Nexmark q8 (new users): persons who opened an auction in the 10 s tumbling window they registered in, as Flink's window coGroup.
import { TumblingEventTimeWindows, defineJob, type Auction, type Collector, type Person } from '../../../src/index.ts';
import { WINDOW_MS, auctionsOf, finish, nexmarkEventsOf, personsOf, windowStart, type Q8Out } from '../lib.ts';

/** One side of the coGroup: a person (side 0) or an auction (side 1). */
type Tagged = { side: 0; p: Person } | { side: 1; a: Auction };

/**
 * q8: persons and auctions, tagged and unioned, keyed by person id / seller, in 10 s tumbling
 * windows; a window with at least one auction emits each of its persons once (a coGroup, which
 * weir's `join` is built from, written out here since weir has no `coGroup`).
 */
export default defineJob((env, params) => {
  const events = nexmarkEventsOf(env, params);
  const persons = personsOf(events).map((p): Tagged => ({ side: 0, p }));
  const auctions = auctionsOf(events).map((a): Tagged => ({ side: 1, a }));
  const out = persons
    .union(auctions)
    .keyBy((t) => (t.side === 0 ? t.p.id : t.a.seller))
    .window(TumblingEventTimeWindows.of(WINDOW_MS))
    .process((_key: number, _ctx: unknown, elements: Iterable<Tagged>, collector: Collector<Q8Out>) => {
      const ps: Person[] = [];
      let anyAuction = false;
      for (const t of elements) {
        if (t.side === 0) ps.push(t.p);
        else anyAuction = true;
      }
      if (!anyAuction) return;
      const seen = new Set<number>();
      for (const p of ps) {
        if (seen.has(p.id)) continue;
        seen.add(p.id);
        collector.collect([p.id, p.name, windowStart(p.dateTime, WINDOW_MS)]);
      }
    })
    .name('Q8 Window Join');
  finish(out, 'q8', params);
});
