// Windows of an assigner derived from a built-in one (as SQL's windows over a time column): its own assignWindows decides, also for sliding reduce/aggregate.
import { describe, expect, it } from 'vitest';
import {
  SlidingEventTimeWindows,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  type Collector,
  type TimeWindow,
  type WindowAssigner,
  type WindowContext,
} from '../../src/index.ts';
import { punctuated } from '../fixtures/punctuated.ts';

interface Ev {
  k: string;
  ts: number;
  at: number;
  v: number;
}

/** The assigner, assigning each record by its `at` field instead of its timestamp (the rest inherited). */
function byAt(assigner: WindowAssigner<unknown, TimeWindow>): WindowAssigner<unknown, TimeWindow> {
  const derived = Object.create(assigner) as WindowAssigner<unknown, TimeWindow>;
  derived.assignWindows = (element, _timestamp, context) => assigner.assignWindows(element, (element as Ev).at, context);
  return derived;
}

const sums = (key: string, ctx: WindowContext, elements: Iterable<number>, out: Collector<string>) => {
  const w = ctx.window() as TimeWindow;
  for (const v of elements) out.collect(`${key}[${w.start},${w.end}):${v}`);
};

async function run(assigner: WindowAssigner<unknown, TimeWindow>): Promise<string[]> {
  const env = new StreamExecutionEnvironment();
  // Timestamps 10 s on from `at`: windows by timestamp would differ from windows by `at`.
  const events: Ev[] = [
    { k: 'a', ts: 11_000, at: 1_000, v: 1 },
    { k: 'a', ts: 12_500, at: 2_500, v: 2 },
    { k: 'a', ts: 14_000, at: 4_000, v: 4 },
  ];
  env
    .fromCollection(events)
    .assignTimestampsAndWatermarks(punctuated<Ev>(20_000))
    .keyBy((e) => e.k)
    .window(assigner)
    .reduce(
      (a: Ev, b: Ev) => ({ ...a, v: a.v + b.v }),
      (key: string, ctx: WindowContext, els: Iterable<Ev>, out: Collector<string>) =>
        sums(
          key,
          ctx,
          [...els].map((e) => e.v),
          out,
        ),
    )
    .collect();
  return ((await env.execute()).collected.default as string[]).sort();
}

describe('assigners derived from built-in ones', () => {
  it('tumbling: records go to the windows the derived assigner gives', async () => {
    expect(await run(byAt(TumblingEventTimeWindows.of(2_000)))).toEqual(['a[0,2000):1', 'a[2000,4000):2', 'a[4000,6000):4']);
  });

  it('sliding with a reduce: no panes by timestamp, the derived assigner decides', async () => {
    expect(await run(byAt(SlidingEventTimeWindows.of(4_000, 2_000)))).toEqual([
      'a[-2000,2000):1',
      'a[0,4000):3',
      'a[2000,6000):6',
      'a[4000,8000):4',
    ]);
  });
});
