// Property tests: for random keyed streams whose disorder stays within the watermark bound, the interval join (any bounds, inclusive or not) and the window join (tumbling, sliding) equal nested-loop references at parallelism 1 to 3.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SlidingEventTimeWindows,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  type Collector,
  type DataStream,
  type KeyedStream,
} from '../../src/index.ts';
import { IntervalJoin, JoinedStreams } from '../../src/api/joins.ts';
import { punctuated } from '../fixtures/punctuated.ts';

interface Ev {
  k: number;
  ts: number;
  id: string;
}

// Swap for `a.join(b)` / `a.intervalJoin(b)` once DataStream and KeyedStream have them.
const join = <L, R>(a: DataStream<L>, b: DataStream<R>) => a.join(b);
const intervalJoin = <L, R, K>(a: KeyedStream<L, K>, b: KeyedStream<R, K>) => a.intervalJoin(b);

const BOUND = 1500;

/**
 * A side's records: non-decreasing base time minus a jitter within the bound, so none is late.
 * Times are multiples of 100 ms, as are the bounds, so that records often sit exactly on a bound.
 */
const sideArb = (prefix: string) =>
  fc
    .array(
      fc.record({
        k: fc.integer({ min: 0, max: 2 }),
        step: fc.integer({ min: 0, max: 6 }).map((n) => n * 100),
        jitter: fc.integer({ min: 0, max: BOUND / 100 }).map((n) => n * 100),
      }),
      { maxLength: 60, size: 'large' },
    )
    .map((raw) => {
      let base = 0;
      return raw.map((r, i): Ev => {
        base += r.step;
        return { k: r.k, ts: base - r.jitter, id: `${prefix}${i}` };
      });
    });

const boundsArb = fc.record({
  lower: fc.integer({ min: -40, max: 30 }).map((n) => n * 100),
  width: fc.integer({ min: 0, max: 50 }).map((n) => n * 100),
  lowerExclusive: fc.boolean(),
  upperExclusive: fc.boolean(),
});

/**
 * Both sides with event time. The side whose source is created first tends to run ahead on the
 * calling thread, so the cases alternate it: each side's buffer then gets to wait for the other.
 */
function sources(left: Ev[], right: Ev[], parallelism: number, rightFirst: boolean) {
  const env = new StreamExecutionEnvironment({ parallelism });
  const timed = (events: Ev[]) => env.fromCollection(events).assignTimestampsAndWatermarks(punctuated<Ev>(BOUND)).setParallelism(1);
  const b = rightFirst ? timed(right) : undefined;
  const a = timed(left);
  return { env, a, b: b ?? timed(right) };
}

describe('joins against nested-loop references', () => {
  it('interval join emits exactly the pairs within the bounds, with the larger timestamp', async () => {
    await fc.assert(
      fc.asyncProperty(
        sideArb('L'),
        sideArb('R'),
        boundsArb,
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        async (left, right, bounds, parallelism, rightFirst) => {
          const upper = bounds.lower + bounds.width;
          const { env, a, b } = sources(left, right, parallelism, rightFirst);
          const joined = intervalJoin(
            a.keyBy((e) => e.k),
            b.keyBy((e) => e.k),
          ).between(bounds.lower, upper);
          if (bounds.lowerExclusive) joined.lowerBoundExclusive();
          if (bounds.upperExclusive) joined.upperBoundExclusive();
          joined
            .process((l, r, _ctx, out: Collector<string>) => out.collect(`${l.id}+${r.id}`))
            .process((pair, ctx, out: Collector<string>) => out.collect(`${pair}@${ctx.timestamp()}`))
            .collect();
          const result = await env.execute();

          const expected: string[] = [];
          for (const l of left) {
            for (const r of right) {
              if (l.k !== r.k) continue;
              const lo = l.ts + bounds.lower;
              const hi = l.ts + upper;
              if ((bounds.lowerExclusive ? r.ts > lo : r.ts >= lo) && (bounds.upperExclusive ? r.ts < hi : r.ts <= hi))
                expected.push(`${l.id}+${r.id}@${Math.max(l.ts, r.ts)}`);
            }
          }
          expect((result.collected.default as string[]).sort()).toEqual(expected.sort());
          const counters = result.subtasks.flatMap((s) => s.operators).filter((o) => o.name.startsWith('IntervalJoin'));
          for (const o of counters)
            expect(o.counters).toEqual({ numLateRecordsDropped: 0, leftBufferedRecords: 0, rightBufferedRecords: 0 });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('window join emits every pair once per window both records fall in, with the window max timestamp', async () => {
    const windowArb = fc.oneof(
      fc.record({ size: fc.constantFrom(500, 1000, 3000), slide: fc.constant(0) }),
      fc.record({ size: fc.constantFrom(2000, 3000, 4000), slide: fc.constantFrom(500, 1000, 1500) }).filter((w) => w.slide < w.size),
    );
    await fc.assert(
      fc.asyncProperty(
        sideArb('L'),
        sideArb('R'),
        windowArb,
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        async (left, right, w, parallelism, rightFirst) => {
          const slide = w.slide === 0 ? w.size : w.slide;
          const { env, a, b } = sources(left, right, parallelism, rightFirst);
          join(a, b)
            .where((e) => e.k)
            .equalTo((e) => e.k)
            .window(w.slide === 0 ? TumblingEventTimeWindows.of(w.size) : SlidingEventTimeWindows.of(w.size, w.slide))
            .apply((l, r) => `${l.id}+${r.id}`)
            .process((pair, ctx, out: Collector<string>) => out.collect(`${pair}@${ctx.timestamp()}`))
            .collect();
          const result = await env.execute();

          const expected: string[] = [];
          const floorTo = (t: number) => t - (((t % slide) + slide) % slide);
          for (const l of left) {
            for (const r of right) {
              if (l.k !== r.k) continue;
              // Every window start that both timestamps fall in.
              for (let start = floorTo(Math.min(l.ts, r.ts)); start > Math.max(l.ts, r.ts) - w.size; start -= slide)
                expected.push(`${l.id}+${r.id}@${start + w.size - 1}`);
            }
          }
          expect((result.collected.default as string[]).sort()).toEqual(expected.sort());
        },
      ),
      { numRuns: 40 },
    );
  });
});
