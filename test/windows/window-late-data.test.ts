// Late data as Flink documents it: dropped and counted by default, to a side output when asked, updated results within allowed lateness, sessions bridged by a late record.
import { describe, expect, it } from 'vitest';
import {
  EventTimeSessionWindows,
  OutputTag,
  StreamExecutionEnvironment,
  Time,
  TumblingEventTimeWindows,
  type JobResult,
  type WindowedStream,
} from '../../src/index.ts';
import { punctuated } from '../fixtures/punctuated.ts';

interface Ev {
  k: string;
  ts: number;
  v: number;
}
const ev = (ts: number, v: number, k = 'a'): Ev => ({ k, ts, v });

function windowSums(events: Ev[], configure: (w: WindowedStream<Ev, string>) => void, parallelism = 2) {
  const env = new StreamExecutionEnvironment({ parallelism });
  const w = env
    .fromCollection(events)
    .assignTimestampsAndWatermarks(punctuated<Ev>())
    .setParallelism(1)
    .keyBy((e) => e.k)
    .window(TumblingEventTimeWindows.of(Time.seconds(10)));
  configure(w);
  return { env, w };
}

const lateDropped = (r: JobResult) =>
  r.subtasks.flatMap((s) => s.operators).reduce((n, o) => n + (o.counters?.numLateRecordsDropped ?? 0), 0);

const STREAM = [ev(1000, 1), ev(2000, 2), ev(12000, 3), ev(3000, 4), ev(16000, 5), ev(4000, 6)];

const summed = (stream: WindowedStream<Ev, string>) =>
  stream.reduce<string>(
    (a, b) => ({ ...a, v: a.v + b.v }),
    (key, ctx, sums, out) => {
      for (const s of sums) out.collect(`${key}[${(ctx.window() as { start: number }).start}]=${s.v}`);
    },
  );

describe('late data in event-time windows', () => {
  it('is dropped and counted by default', async () => {
    const { env, w } = windowSums(STREAM, () => undefined);
    summed(w).collect().setParallelism(1);
    const result = await env.execute();
    // wm 11999 fires [0,10000) with 1+2; 3000 and 4000 arrive after it and are dropped.
    expect(result.collected.default).toEqual(['a[0]=3', 'a[10000]=8']);
    expect(lateDropped(result)).toBe(2);
  });

  it('goes to the side output when asked, and nowhere else', async () => {
    const late = new OutputTag<Ev>('late');
    const { env, w } = windowSums(STREAM, (x) => x.sideOutputLateData(late));
    const sums = summed(w);
    sums.collect('main').setParallelism(1);
    sums.getSideOutput(late).collect('late');
    const result = await env.execute();
    expect(result.collected.main).toEqual(['a[0]=3', 'a[10000]=8']);
    expect(result.collected.late).toEqual([ev(3000, 4), ev(4000, 6)]);
    expect(lateDropped(result)).toBe(0);
  });

  it('with allowed lateness, fires again with the updated result, then drops what comes after the lateness', async () => {
    const late = new OutputTag<Ev>('late');
    const { env, w } = windowSums(STREAM, (x) => x.allowedLateness(Time.seconds(5)).sideOutputLateData(late));
    const sums = summed(w);
    sums.collect('main').setParallelism(1);
    sums.getSideOutput(late).collect('late');
    const result = await env.execute();
    // [0,10000) fires at wm 11999 (=3), again for 3000 (=7: late but within 5 s); wm 15999 passes
    // 9999 + 5000, so the window is gone and 4000 is late for good.
    expect(result.collected.main).toEqual(['a[0]=3', 'a[0]=7', 'a[10000]=8']);
    expect(result.collected.late).toEqual([ev(4000, 6)]);
  });

  it('keeps a window late records cannot reach in an unchanged result for other keys', async () => {
    const { env, w } = windowSums([ev(1000, 1, 'a'), ev(1500, 10, 'b'), ev(30000, 1, 'c'), ev(2000, 5, 'b')], () => undefined, 3);
    summed(w).collect().setParallelism(1);
    const result = await env.execute();
    expect([...(result.collected.default as string[])].sort()).toEqual(['a[0]=1', 'b[0]=10', 'c[30000]=1']);
    expect(lateDropped(result)).toBe(1);
  });
});

describe('session windows', () => {
  it('merge when a late-but-allowed record bridges two sessions, and fire the merged result', async () => {
    const env = new StreamExecutionEnvironment({ parallelism: 2 });
    env
      .fromCollection([ev(1000, 1), ev(5000, 1), ev(20000, 1), ev(3500, 1)])
      .assignTimestampsAndWatermarks(punctuated<Ev>())
      .setParallelism(1)
      .keyBy((e) => e.k)
      .window(EventTimeSessionWindows.withGap(Time.seconds(3)))
      .allowedLateness(Time.seconds(20))
      .count()
      .collect()
      .setParallelism(1);
    const result = await env.execute();
    expect(result.collected.default).toEqual([
      { key: 'a', start: 1000, end: 4000, count: 1 },
      { key: 'a', start: 5000, end: 8000, count: 1 },
      { key: 'a', start: 1000, end: 8000, count: 3 },
      { key: 'a', start: 20000, end: 23000, count: 1 },
    ]);
  });

  it('use a gap taken from each record (dynamic gap)', async () => {
    const env = new StreamExecutionEnvironment();
    env
      .fromCollection([ev(0, 100), ev(150, 1000), ev(1200, 5), ev(5000, 5)])
      .assignTimestampsAndWatermarks(punctuated<Ev>())
      .setParallelism(1)
      .keyBy((e) => e.k)
      .window(EventTimeSessionWindows.withDynamicGap<Ev>((e) => e.v))
      .count()
      .collect();
    // [0,100) and [150,1150) do not touch; [1200,1205) touches nothing either.
    expect((await env.execute()).collected.default).toEqual([
      { key: 'a', start: 0, end: 100, count: 1 },
      { key: 'a', start: 150, end: 1150, count: 1 },
      { key: 'a', start: 1200, end: 1205, count: 1 },
      { key: 'a', start: 5000, end: 5005, count: 1 },
    ]);
  });
});
