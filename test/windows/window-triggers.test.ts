// Triggers (count, continuous, purging, custom), processing-time windows, windowAll, global windows and per-window state.
import { describe, expect, it } from 'vitest';
import {
  ContinuousEventTimeTrigger,
  CountTrigger,
  EventTimeSessionWindows,
  GlobalWindows,
  ManualProcessingTimeService,
  ProcessWindowFunction,
  PurgingTrigger,
  StreamExecutionEnvironment,
  Time,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  ValueStateDescriptor,
  type Collector,
  type Trigger,
  type TriggerContext,
  type TriggerResult,
  type Window,
  type WindowContext,
} from '../../src/index.ts';
import { punctuated } from '../fixtures/punctuated.ts';
import { scriptedSource } from '../fixtures/scripted-source.ts';

interface Ev {
  k: string;
  ts: number;
  v: number;
}
const ev = (ts: number, v: number, k = 'a'): Ev => ({ k, ts, v });

const listing = (key: unknown, ctx: WindowContext, elements: Iterable<Ev>, out: Collector<string>) => {
  const w = ctx.window();
  const where = 'start' in w ? `${(w as { start: number }).start}` : 'global';
  out.collect(`${key}[${where}]:${[...elements].map((e) => e.v).join(',')}`);
};

describe('triggers', () => {
  it('count trigger fires every n records of a window (global window)', async () => {
    const env = new StreamExecutionEnvironment();
    env
      .fromCollection([1, 2, 3, 4, 5, 6, 7].map((v) => ev(v, v)))
      .keyBy((e) => e.k)
      .window(GlobalWindows.create())
      .trigger(CountTrigger.of(3))
      .process(listing)
      .collect();
    // Without purging the window keeps its contents: each firing sees everything so far.
    expect((await env.execute()).collected.default).toEqual(['a[global]:1,2,3', 'a[global]:1,2,3,4,5,6']);
  });

  it('count trigger keeps counting in a session that a record falls inside (as Flink: no merge, the trigger state stays)', async () => {
    const env = new StreamExecutionEnvironment();
    // ts 500 three times and 600 once: each record's window lies inside the session [500, 1600) after the 600.
    env
      .fromCollection([ev(600, 1), ev(500, 2), ev(500, 3), ev(550, 4)])
      .assignTimestampsAndWatermarks(punctuated<Ev>())
      .keyBy((e) => e.k)
      .window(EventTimeSessionWindows.withGap(1000))
      .trigger(CountTrigger.of(3))
      .process(listing)
      .collect();
    // The third record (after a merge that extends the session to start at 500) fires with the three so far.
    expect((await env.execute()).collected.default).toEqual(['a[500]:1,2,3']);
  });

  it('purging trigger clears the window after each firing', async () => {
    const env = new StreamExecutionEnvironment();
    env
      .fromCollection([1, 2, 3, 4, 5, 6, 7].map((v) => ev(v, v)))
      .keyBy((e) => e.k)
      .window(GlobalWindows.create())
      .trigger(PurgingTrigger.of(CountTrigger.of(3)))
      .process(listing)
      .collect();
    expect((await env.execute()).collected.default).toEqual(['a[global]:1,2,3', 'a[global]:4,5,6']);
  });

  it('continuous event-time trigger fires every interval of event time and at the window end', async () => {
    const env = new StreamExecutionEnvironment();
    env
      .fromCollection([ev(100, 1), ev(1200, 2), ev(2500, 3), ev(9000, 4), ev(12000, 5)])
      .assignTimestampsAndWatermarks(punctuated<Ev>())
      .keyBy((e) => e.k)
      .window(TumblingEventTimeWindows.of(Time.seconds(10)))
      .trigger(ContinuousEventTimeTrigger.of(Time.seconds(2)))
      .process(listing)
      .collect();
    expect((await env.execute()).collected.default).toEqual([
      'a[0]:1,2,3', // wm 2499 (after the record at 2500) passes the first fire time, 2000
      'a[0]:1,2,3,4', // wm 8999 passes 4000, then 6000 and 8000, each registered as the last fires
      'a[0]:1,2,3,4',
      'a[0]:1,2,3,4',
      'a[0]:1,2,3,4', // window end 9999, at wm 11999
      'a[10000]:5', // end of input: 14000, 16000, 18000 and the window end 19999
      'a[10000]:5',
      'a[10000]:5',
      'a[10000]:5',
    ]);
  });

  it('a custom trigger fires when a record says so', async () => {
    const fireOnBig: Trigger<Ev, Window> = {
      onElement: (e: Ev): TriggerResult => (e.v >= 100 ? 'FIRE_AND_PURGE' : 'CONTINUE'),
      onEventTime: () => 'CONTINUE',
      onProcessingTime: () => 'CONTINUE',
      clear: (_w: Window, _ctx: TriggerContext) => undefined,
    };
    const env = new StreamExecutionEnvironment();
    env
      .fromCollection([ev(1, 1), ev(2, 100), ev(3, 3), ev(4, 4), ev(5, 200)])
      .keyBy((e) => e.k)
      .window(GlobalWindows.create())
      .trigger(fireOnBig)
      .process(listing)
      .collect();
    expect((await env.execute()).collected.default).toEqual(['a[global]:1,100', 'a[global]:3,4,200']);
  });
});

describe('processing-time windows', () => {
  it('assign by the subtask clock and fire when it passes the window end', async () => {
    const clock = new ManualProcessingTimeService(1_000);
    const env = new StreamExecutionEnvironment({ bufferTimeoutMs: 0 });
    env
      .fromSource(
        scriptedSource([
          { value: ev(0, 1) },
          { value: ev(0, 2) },
          { run: () => clock.advanceTo(4_500) },
          { value: ev(0, 3) },
          { run: () => clock.advanceTo(10_000) },
          { value: ev(0, 4) },
        ]),
      )
      .keyBy((e) => (e as Ev).k)
      .window(TumblingProcessingTimeWindows.of(Time.seconds(2)))
      .process(listing as never)
      .collect();
    const out = (await env.execute({ processingTime: clock })).collected.default;
    // [0,2000) fires when the clock passes 1999; [4000,6000) at 10000; [10000,12000) never fires: the job ends first.
    expect(out).toEqual(['a[0]:1,2', 'a[4000]:3']);
  });
});

describe('windowAll and per-window state', () => {
  it('windowAll gathers every key into one subtask', async () => {
    const env = new StreamExecutionEnvironment({ parallelism: 3 });
    env
      .fromCollection([ev(1, 1, 'a'), ev(2, 2, 'b'), ev(3, 3, 'c'), ev(11000, 4, 'a')])
      .assignTimestampsAndWatermarks(punctuated<Ev>())
      .setParallelism(1)
      .windowAll(TumblingEventTimeWindows.of(Time.seconds(10)))
      .sum('v')
      .collect();
    const result = await env.execute();
    expect(result.collected.default).toEqual([ev(1, 6, 'a'), ev(11000, 4, 'a')]);
    expect(result.operators['Window(Reduce)'].subtasks).toBe(1);
  });

  it('a process window function keeps state per window, across firings, until the window is cleared', async () => {
    class Firings extends ProcessWindowFunction<Ev, string, string> {
      process(key: string, ctx: WindowContext, elements: Iterable<Ev>, out: Collector<string>) {
        const fired = ctx.windowState().getState(new ValueStateDescriptor<number>('fired', 0));
        const total = ctx.globalState().getState(new ValueStateDescriptor<number>('total', 0));
        fired.update((fired.value() ?? 0) + 1);
        total.update((total.value() ?? 0) + 1);
        out.collect(
          `${key}[${(ctx.window() as { start: number }).start}] firing ${fired.value()} of ${[...elements].length}, total ${total.value()}`,
        );
      }
      override clear(ctx: WindowContext) {
        ctx.windowState().getState(new ValueStateDescriptor<number>('fired', 0)).clear();
      }
    }
    const env = new StreamExecutionEnvironment();
    env
      .fromCollection([ev(1000, 1), ev(11000, 2), ev(2000, 3), ev(12000, 4)])
      .assignTimestampsAndWatermarks(punctuated<Ev>())
      .keyBy((e) => e.k)
      .window(TumblingEventTimeWindows.of(Time.seconds(10)))
      .allowedLateness(Time.seconds(5))
      .process(new Firings())
      .collect();
    expect((await env.execute()).collected.default).toEqual([
      'a[0] firing 1 of 1, total 1',
      'a[0] firing 2 of 2, total 2',
      'a[10000] firing 1 of 2, total 3',
    ]);
  });
});
