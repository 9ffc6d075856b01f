// Idleness and windows: a source split that goes quiet stalls event-time windows until it is marked idle.
import { describe, expect, it } from 'vitest';
import { StreamExecutionEnvironment, Time, TumblingEventTimeWindows, WatermarkStrategy } from '../../src/index.ts';
import { scriptedSource, type Step } from '../fixtures/scripted-source.ts';

interface Ev {
  id: string;
  ts: number;
}

async function order(idleMs: number | undefined): Promise<string[]> {
  const steps: Step[] = [{ split: 'quiet', value: { id: 'q', ts: 1000 } }];
  for (let i = 1; i <= 5; i++) steps.push({ split: 'busy', value: { id: `b${i}`, ts: i * 10_000 } }, { pauseMs: 40 });
  steps.push({ split: 'busy', value: { id: 'last', ts: 60_000 } });
  let strategy = WatermarkStrategy.forBoundedOutOfOrderness<unknown>(0).withTimestampAssigner((e) => (e as Ev).ts);
  if (idleMs !== undefined) strategy = strategy.withIdleness(idleMs);
  const env = new StreamExecutionEnvironment({ parallelism: 1, autoWatermarkIntervalMs: 5 });
  const events = env.fromSource(scriptedSource(steps), strategy);
  const windows = events
    .keyBy(() => 'all')
    .window(TumblingEventTimeWindows.of(Time.seconds(10)))
    .process<string>((_k, ctx, elements, out) =>
      out.collect(`window ${(ctx.window() as { start: number }).start}: ${[...elements].length}`),
    );
  // One sink for both streams: the order shows whether windows fired before the input ended.
  windows.union(events.map((e) => `record ${(e as Ev).id}`)).collect();
  return (await env.execute()).collected.default as string[];
}

describe('idleness with windows', () => {
  it('without idleness, a quiet split holds every window back until the end of input', async () => {
    const out = await order(undefined);
    expect(out.indexOf('window 0: 1')).toBeGreaterThan(out.indexOf('record last'));
  });

  it('with idleness, windows fire while the input is still running', async () => {
    const out = await order(20);
    expect(out.indexOf('window 0: 1')).toBeGreaterThan(-1);
    expect(out.indexOf('window 0: 1')).toBeLessThan(out.indexOf('record last'));
    expect(out.indexOf('window 30000: 1')).toBeLessThan(out.indexOf('record last'));
  });
});
