// Window join (JoinedStreams): the cross product of both sides per key and window, inner-join semantics, window max timestamp on results, join function classes.
import { describe, expect, it } from 'vitest';
import {
  SlidingEventTimeWindows,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  type Collector,
  type DataStream,
  type RuntimeContext,
  type WindowAssigner,
} from '../../src/index.ts';
import { FlatJoinFunction, JoinFunction, JoinedStreams } from '../../src/api/joins.ts';
import { punctuated } from '../fixtures/punctuated.ts';

interface Ev {
  k: string;
  ts: number;
  id: string;
}
const ev = (id: string, k: string, ts: number): Ev => ({ id, k, ts });

// Swap for `a.join(b)` once DataStream has it.
const join = <L, R>(a: DataStream<L>, b: DataStream<R>) => a.join(b);

const LEFT = [
  ev('L1', 'a', 1000),
  ev('L2', 'a', 4000),
  ev('L3', 'b', 5000),
  ev('L4', 'a', 12000),
  ev('L5', 'c', 15000),
  ev('L6', 'a', 21000),
];
const RIGHT = [
  ev('R1', 'a', 2000),
  ev('R2', 'a', 8000),
  ev('R3', 'b', 9999),
  ev('R4', 'b', 11000),
  ev('R5', 'a', 13000),
  ev('R6', 'c', 29000),
];

/** `left+right@timestamp`, sorted: the join's output as a comparable list. */
type Row = string;
const sorted = (rows: Row[]) => [...rows].sort();

function run(left: Ev[], right: Ev[], assigner: WindowAssigner, parallelism: number) {
  const env = new StreamExecutionEnvironment({ parallelism });
  const a = env.fromCollection(left).assignTimestampsAndWatermarks(punctuated<Ev>()).setParallelism(1);
  const b = env.fromCollection(right).assignTimestampsAndWatermarks(punctuated<Ev>()).setParallelism(1);
  join(a, b)
    .where((l) => l.k)
    .equalTo((r) => r.k)
    .window(assigner)
    .apply((l, r) => `${l.id}+${r.id}`)
    .process((pair, ctx, out: Collector<Row>) => out.collect(`${pair}@${ctx.timestamp()}`))
    .collect();
  return env.execute().then((r) => sorted(r.collected.default as Row[]));
}

/** The reference: nested loops over both sides and every window start a pair shares. */
function reference(left: Ev[], right: Ev[], size: number, slide: number): Row[] {
  const rows: Row[] = [];
  const floorTo = (t: number) => t - (((t % slide) + slide) % slide);
  for (const l of left) {
    for (const r of right) {
      if (l.k !== r.k) continue;
      for (let start = floorTo(Math.max(l.ts, r.ts)); start > Math.min(l.ts, r.ts) - size; start -= slide) {
        if (l.ts >= start && r.ts >= start && l.ts < start + size && r.ts < start + size) rows.push(`${l.id}+${r.id}@${start + size - 1}`);
      }
    }
  }
  return sorted(rows);
}

describe('window join', () => {
  for (const parallelism of [1, 2]) {
    it(`joins every left with every right record of the same key and tumbling window, at parallelism ${parallelism}`, async () => {
      // [0,10000): a → L1,L2 × R1,R2; b → L3 × R3. [10000,20000): a → L4 × R5; b and c one-sided.
      // [20000,30000): a (L6) and c (R6) one-sided.
      const expected = sorted(['L1+R1@9999', 'L1+R2@9999', 'L2+R1@9999', 'L2+R2@9999', 'L3+R3@9999', 'L4+R5@19999']);
      expect(reference(LEFT, RIGHT, 10_000, 10_000)).toEqual(expected);
      expect(await run(LEFT, RIGHT, TumblingEventTimeWindows.of(10_000), parallelism)).toEqual(expected);
    });

    it(`joins pairs once per sliding window they share, at parallelism ${parallelism}`, async () => {
      // Size 10 s, slide 5 s: each record is in two windows; a pair is emitted once per window holding both.
      const expected = sorted([
        'L1+R1@4999',
        'L2+R1@4999',
        'L1+R1@9999',
        'L1+R2@9999',
        'L2+R1@9999',
        'L2+R2@9999',
        'L3+R3@9999',
        'L4+R2@14999',
        'L4+R5@14999',
        'L3+R3@14999',
        'L3+R4@14999',
        'L4+R5@19999',
      ]);
      expect(reference(LEFT, RIGHT, 10_000, 5000)).toEqual(expected);
      expect(await run(LEFT, RIGHT, SlidingEventTimeWindows.of(10_000, 5000), parallelism)).toEqual(expected);
    });
  }

  it('matches the nested-loop reference on a larger stream with many keys at parallelism 2', async () => {
    const left = Array.from({ length: 300 }, (_, i) => ev(`L${i}`, `k${(i * 7) % 11}`, i * 137));
    const right = Array.from({ length: 250 }, (_, i) => ev(`R${i}`, `k${(i * 5) % 11}`, i * 171 + 50));
    expect(await run(left, right, SlidingEventTimeWindows.of(3000, 1000), 2)).toEqual(reference(left, right, 3000, 1000));
    expect(await run(left, right, TumblingEventTimeWindows.of(2500), 2)).toEqual(reference(left, right, 2500, 2500));
  });

  it('emits nothing for windows that hold records of one side only', async () => {
    const env = new StreamExecutionEnvironment();
    const a = env.fromCollection([ev('L1', 'a', 1000), ev('L2', 'b', 15000)]).assignTimestampsAndWatermarks(punctuated<Ev>());
    const b = env.fromCollection([ev('R1', 'b', 2000), ev('R2', 'a', 16000)]).assignTimestampsAndWatermarks(punctuated<Ev>());
    join(a, b)
      .where('k')
      .equalTo('k')
      .window(TumblingEventTimeWindows.of(10_000))
      .apply((l, r) => `${l.id}+${r.id}`)
      .collect();
    expect((await env.execute()).collected.default).toEqual([]);
  });

  it('lets a flat join function emit any number of results per pair', async () => {
    const env = new StreamExecutionEnvironment({ parallelism: 2 });
    const a = env
      .fromCollection([ev('L1', 'a', 1000), ev('L2', 'a', 2000)])
      .assignTimestampsAndWatermarks(punctuated<Ev>())
      .setParallelism(1);
    const b = env
      .fromCollection([ev('R1', 'a', 1500), ev('R2', 'a', 3000)])
      .assignTimestampsAndWatermarks(punctuated<Ev>())
      .setParallelism(1);
    join(a, b)
      .where((l) => l.k)
      .equalTo((r) => r.k)
      .window(TumblingEventTimeWindows.of(10_000))
      .apply((l: Ev, r: Ev, out: Collector<string>) => {
        // Only pairs whose right record came later, twice each.
        if (r.ts > l.ts) for (const n of [1, 2]) out.collect(`${l.id}+${r.id}#${n}`);
      })
      .collect();
    expect(sorted((await env.execute()).collected.default as string[])).toEqual(
      sorted(['L1+R1#1', 'L1+R1#2', 'L1+R2#1', 'L1+R2#2', 'L2+R2#1', 'L2+R2#2']),
    );
  });

  it('opens JoinFunction and FlatJoinFunction classes with their runtime context, one instance per subtask', async () => {
    class Labelled extends JoinFunction<Ev, Ev, string> {
      private label = '';
      override open(ctx: RuntimeContext) {
        this.label = `${ctx.getOperatorName().startsWith('Window Join') ? 'J' : '?'}${ctx.getNumberOfParallelSubtasks()}`;
      }
      join(l: Ev, r: Ev) {
        return `${this.label}:${l.id}+${r.id}`;
      }
    }
    class Counting extends FlatJoinFunction<Ev, Ev, string> {
      private seen = 0;
      join(l: Ev, r: Ev, out: Collector<string>) {
        this.seen++;
        out.collect(`${l.id}+${r.id}/${this.seen}`);
      }
    }
    const env = new StreamExecutionEnvironment({ parallelism: 2 });
    const a = env.fromCollection(LEFT).assignTimestampsAndWatermarks(punctuated<Ev>()).setParallelism(1);
    const b = env.fromCollection(RIGHT).assignTimestampsAndWatermarks(punctuated<Ev>()).setParallelism(1);
    const joined = join(a, b).where('k').equalTo('k').window(TumblingEventTimeWindows.of(10_000));
    joined.apply(new Labelled()).collect('labelled');
    const counting = new Counting();
    joined.apply(counting).collect('counting');
    const result = await env.execute();
    expect(sorted(result.collected.labelled as string[])).toEqual(
      sorted(['L1+R1', 'L1+R2', 'L2+R1', 'L2+R2', 'L3+R3', 'L4+R5'].map((p) => `J2:${p}`)),
    );
    // Each subtask counts on its own copy; the instance handed to apply() is never used.
    const counts = (result.collected.counting as string[]).map((s) => Number(s.split('/')[1]));
    expect(counts.length).toBe(6);
    expect(Math.max(...counts)).toBeLessThanOrEqual(6);
    expect((counting as unknown as { seen: number }).seen).toBe(0);
  });

  it('with allowed lateness, joins a late record into its window again', async () => {
    // Left and right from one source, each element shipped as it is emitted (buffer timeout 0): the
    // window operator reads its two input channels round robin, so both reach watermark 11999
    // before R2 arrives, whatever the scheduling.
    const env = new StreamExecutionEnvironment({ bufferTimeoutMs: 0 });
    const all = env
      .fromCollection([ev('L1', 'a', 1000), ev('R1', 'a', 2000), ev('X', 'z', 12000), ev('R2', 'a', 3000)])
      .assignTimestampsAndWatermarks(punctuated<Ev>());
    join(
      all.filter((e) => e.id.startsWith('L')),
      all.filter((e) => e.id.startsWith('R')),
    )
      .where('k')
      .equalTo('k')
      .window(TumblingEventTimeWindows.of(10_000))
      .allowedLateness(5000)
      .apply((l, r) => `${l.id}+${r.id}`)
      .collect();
    // The window fires at watermark 11999 with L1+R1; R2 (late, within 5 s) fires it again with both pairs.
    expect((await env.execute()).collected.default).toEqual(['L1+R1', 'L1+R1', 'L1+R2']);
  });

  it('refuses streams of different environments and bad join functions', () => {
    const e1 = new StreamExecutionEnvironment();
    const e2 = new StreamExecutionEnvironment();
    expect(() => join(e1.fromElements(1), e2.fromElements(2))).toThrow(/same environment/);
    const w = join(e1.fromElements(1), e1.fromElements(2))
      .where((n) => n)
      .equalTo((n) => n)
      .window(TumblingEventTimeWindows.of(10));
    expect(() => w.apply({} as never)).toThrow(/apply\(\) needs a function or an object with a join\(\) method/);
    expect(() => w.allowedLateness(-1)).toThrow(/non-negative/);
  });
});
