// Keyed timers and TTL at runtime: event-time timers fire in order and once per key and timestamp, processing-time timers and TTL follow a controllable clock.
import { describe, expect, it } from 'vitest';
import {
  KeyedProcessFunction,
  ManualProcessingTimeService,
  StateTtlConfig,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  executeJob,
  type Collector,
  type KeyedProcessContext,
  type OnTimerContext,
  type ProcessContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { punctuated } from '../fixtures/punctuated.ts';
import { scriptedSource } from '../fixtures/scripted-source.ts';

interface Ev {
  k: string;
  ts: number;
}

/** Registers event-time timers at ts + 100 and ts + 50 (twice), and reports each firing with the key and watermark. */
class Alarms extends KeyedProcessFunction<string, Ev, string> {
  processElement(e: Ev, ctx: KeyedProcessContext, _out: Collector<string>) {
    ctx.timerService().registerEventTimeTimer(e.ts + 100);
    ctx.timerService().registerEventTimeTimer(e.ts + 50);
    ctx.timerService().registerEventTimeTimer(e.ts + 50);
  }
  override onTimer(t: number, ctx: OnTimerContext, out: Collector<string>) {
    out.collect(`${ctx.getCurrentKey()}@${t} ${ctx.timeDomain()} ts=${ctx.timestamp()} wm=${ctx.currentWatermark()}`);
  }
}

describe('event-time timers', () => {
  it('fire in timestamp order, once per key and timestamp, when the watermark passes them', async () => {
    const env = new StreamExecutionEnvironment({ parallelism: 1 });
    env
      .fromCollection<Ev>([
        { k: 'a', ts: 1000 },
        { k: 'b', ts: 1010 },
        { k: 'a', ts: 1200 },
        { k: 'b', ts: 1500 },
      ])
      .assignTimestampsAndWatermarks(punctuated<Ev>())
      .keyBy((e) => e.k)
      .process(new Alarms())
      .collect();
    const fired = (await env.execute()).collected.default as string[];
    expect(fired).toEqual([
      // wm 1199 (after a@1200): timers at 1050, 1060, 1100, 1110 are due.
      'a@1050 EVENT_TIME ts=1050 wm=1199',
      'b@1060 EVENT_TIME ts=1060 wm=1199',
      'a@1100 EVENT_TIME ts=1100 wm=1199',
      'b@1110 EVENT_TIME ts=1110 wm=1199',
      // wm 1499 (after b@1500): 1250 and 1300 for a.
      'a@1250 EVENT_TIME ts=1250 wm=1499',
      'a@1300 EVENT_TIME ts=1300 wm=1499',
      // end of input: the final watermark fires the rest.
      'b@1550 EVENT_TIME ts=1550 wm=Infinity',
      'b@1600 EVENT_TIME ts=1600 wm=Infinity',
    ]);
  });

  it('fire the same way on worker threads across keys and subtasks', async () => {
    const result = await executeJob('test/fixtures/jobs/timers.ts', { parallelism: 2, params: { keys: 50, perKey: 20 } });
    const fired = result.collected.fired as [string, number][];
    expect(fired).toHaveLength(50 * 20);
    const byKey = new Map<string, number[]>();
    for (const [k, t] of fired) byKey.set(k, [...(byKey.get(k) ?? []), t]);
    for (const [, times] of byKey) expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(fired.map(([k, t]) => `${k}@${t}`)).size).toBe(1000);
  });

  it('cannot be registered on a stream that is not keyed', async () => {
    const env = new StreamExecutionEnvironment();
    env
      .fromCollection([1])
      .process((_n: number, ctx: ProcessContext) => ctx.timerService().registerEventTimeTimer(5))
      .name('Unkeyed')
      .collect();
    await expect(env.execute()).rejects.toThrow(/timers need a keyed stream: operator 'Unkeyed'/);
  });
});

describe('processing time', () => {
  it('fires processing-time timers when the clock reaches them, and deletes cancelled ones', async () => {
    const clock = new ManualProcessingTimeService(10_000);
    class Reminder extends KeyedProcessFunction<string, string, string> {
      processElement(cmd: string, ctx: KeyedProcessContext) {
        const [, action, at] = /(\w+) (\d+)/.exec(cmd) as RegExpExecArray;
        if (action === 'set') ctx.timerService().registerProcessingTimeTimer(Number(at));
        else ctx.timerService().deleteProcessingTimeTimer(Number(at));
      }
      override onTimer(t: number, ctx: OnTimerContext, out: Collector<string>) {
        out.collect(
          `${ctx.getCurrentKey()}@${t} ${ctx.timeDomain()} now=${ctx.timerService().currentProcessingTime()} ts=${ctx.timestamp()}`,
        );
      }
    }
    const env = new StreamExecutionEnvironment({ bufferTimeoutMs: 0 });
    env
      .fromSource(
        scriptedSource([
          { value: 'x set 10500' },
          { value: 'y set 10200' },
          { value: 'x set 12000' },
          { value: 'x del 12000' },
          { run: () => clock.advanceTo(10_300) },
          { value: 'y set 10250' },
          { run: () => clock.advanceTo(11_000) },
        ]),
      )
      .keyBy((cmd) => (cmd as string)[0])
      .process(new Reminder())
      .collect();
    const fired = (await env.execute({ processingTime: clock })).collected.default;
    expect(fired).toEqual([
      'y@10200 PROCESSING_TIME now=10300 ts=undefined',
      'y@10250 PROCESSING_TIME now=11000 ts=undefined',
      'x@10500 PROCESSING_TIME now=11000 ts=undefined',
    ]);
  });

  it('expires state with TTL at the configured time of the subtask clock', async () => {
    const clock = new ManualProcessingTimeService(0);
    const ttl = StateTtlConfig.newBuilder(1000).build();
    class Remember extends KeyedProcessFunction<string, string, string> {
      private last!: ValueState<string>;
      override open(ctx: RuntimeContext) {
        this.last = ctx.getState(new ValueStateDescriptor<string>('last').enableTimeToLive(ttl));
      }
      processElement(cmd: string, ctx: KeyedProcessContext, out: Collector<string>) {
        out.collect(`${cmd} saw ${this.last.value() ?? 'nothing'}`);
        this.last.update(cmd);
        void ctx;
      }
    }
    const env = new StreamExecutionEnvironment({ bufferTimeoutMs: 0 });
    env
      .fromSource(
        scriptedSource([
          { value: 'k1' },
          { run: () => clock.advanceTo(999) },
          { value: 'k2' },
          { run: () => clock.advanceTo(1998) },
          { value: 'k3' },
          { run: () => clock.advanceTo(2998) },
          { value: 'k4' },
        ]),
      )
      .keyBy(() => 'k')
      .process(new Remember())
      .collect();
    const out = (await env.execute({ processingTime: clock })).collected.default;
    // Written at 0, read at 999: alive; written at 999, read at 1998 (999 ms later): alive; written at 1998, read at 2998: expired.
    expect(out).toEqual(['k1 saw nothing', 'k2 saw k1', 'k3 saw k2', 'k4 saw nothing']);
  });
});
