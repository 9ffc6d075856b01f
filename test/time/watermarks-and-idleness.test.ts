// Event time: assigned timestamps, bounded out-of-orderness watermarks, per-split idleness, and bad timestamps.
import { describe, expect, it } from 'vitest';
import {
  ErrorCodes,
  StreamExecutionEnvironment,
  WatermarkStrategy,
  WeirError,
  type Collector,
  type ProcessContext,
} from '../../src/index.ts';
import { scriptedSource, type Step } from '../fixtures/scripted-source.ts';

interface Event {
  id: string;
  ts: number;
}

/** Runs the script through a source with `strategy` and records, per record, the watermark seen downstream. */
async function watermarksSeen(steps: Step[], strategy: WatermarkStrategy<unknown>, parallelism = 2) {
  const env = new StreamExecutionEnvironment({ parallelism, autoWatermarkIntervalMs: 5 });
  env
    .fromSource(scriptedSource(steps), strategy)
    .rebalance()
    .process((e: unknown, ctx: ProcessContext, out: Collector<[string, number | undefined, number]>) => {
      out.collect([(e as Event).id, ctx.timestamp(), ctx.currentWatermark()]);
    })
    .collect();
  const result = await env.execute();
  lastDurationMs = result.durationMs;
  return new Map((result.collected.default as [string, number | undefined, number][]).map(([id, ts, wm]) => [id, { ts, wm }]));
}
let lastDurationMs = 0;

const byTs = WatermarkStrategy.forBoundedOutOfOrderness<unknown>(1000).withTimestampAssigner((e) => (e as Event).ts);

describe('watermarks', () => {
  it('trail the highest timestamp by the bound, emitted periodically, and never go back', async () => {
    const seen = await watermarksSeen(
      [
        { value: { id: 'a', ts: 1000 } },
        { value: { id: 'b', ts: 5000 } },
        { value: { id: 'c', ts: 3000 } },
        { pauseMs: 80 },
        { value: { id: 'd', ts: 4000 } },
        { value: { id: 'e', ts: 2000 } },
        { pauseMs: 80 },
        { value: { id: 'f', ts: 9000 } },
      ],
      byTs,
      1,
    );
    expect(seen.get('a')).toEqual({ ts: 1000, wm: Number.NEGATIVE_INFINITY });
    expect(seen.get('c')?.ts).toBe(3000);
    // After a pause the periodic emission has run: 5000 - 1000 - 1.
    expect(seen.get('d')).toEqual({ ts: 4000, wm: 3999 });
    expect(seen.get('e')).toEqual({ ts: 2000, wm: 3999 });
    expect(seen.get('f')).toEqual({ ts: 9000, wm: 3999 });
    // Regression: a timer mail once woke the source while it waited, skipping its pauses.
    expect(lastDurationMs).toBeGreaterThanOrEqual(155);
  });

  it('accept negative timestamps', async () => {
    const seen = await watermarksSeen(
      [{ value: { id: 'a', ts: -5000 } }, { pauseMs: 60 }, { value: { id: 'b', ts: -4000 } }],
      WatermarkStrategy.forMonotonousTimestamps<unknown>().withTimestampAssigner((e) => (e as Event).ts),
      1,
    );
    expect(seen.get('b')).toEqual({ ts: -4000, wm: -5001 });
  });

  it.each([
    ['NaN', Number.NaN, 'returned NaN'],
    ['a string', 'soon', 'returned a string'],
    ['a fraction', 1.5, 'returned 1.5'],
    ['beyond 2^53', 2 ** 60, `returned ${2 ** 60}`],
  ])('fail the job when the assigner returns %s, naming operator and record', async (_what, bad, phrase) => {
    const env = new StreamExecutionEnvironment();
    env
      .fromCollection([
        { id: 'ok', ts: 1 },
        { id: 'bad', ts: bad as number },
      ])
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Event>().withTimestampAssigner((e) => e.ts))
      .name('Stamp')
      .collect();
    const error = (await env.execute().catch((e: unknown) => e)) as WeirError;
    expect(error).toBeInstanceOf(WeirError);
    expect(error.code).toBe(ErrorCodes.INVALID_TIMESTAMP);
    expect(error.operator).toBe('Stamp');
    expect(error.message).toContain(`timestamp assigner of operator 'Stamp' (subtask 0) ${phrase} for record {"id":"bad"`);
  });

  it('reach Infinity at the end of a bounded input', async () => {
    const env = new StreamExecutionEnvironment();
    env
      .fromCollection([{ id: 'a', ts: 10 }])
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Event>().withTimestampAssigner((e) => e.ts))
      .process((e: Event, ctx: ProcessContext, out: Collector<number>) => out.collect(ctx.timestamp() as number))
      .collect();
    expect((await env.execute()).collected.default).toEqual([10]);
  });
});

describe('idleness', () => {
  // Split "slow" sends once and goes quiet; split "busy" keeps sending, with pauses.
  const script = (): Step[] => {
    const steps: Step[] = [{ split: 'slow', value: { id: 'slow-1', ts: 1000 } }];
    for (let i = 1; i <= 6; i++) {
      steps.push({ split: 'busy', value: { id: `busy-${i}`, ts: i * 10_000 } }, { pauseMs: 40 });
    }
    steps.push({ split: 'busy', value: { id: 'last', ts: 70_000 } });
    return steps;
  };

  it('without idleness, a quiet split holds the watermark back', async () => {
    const seen = await watermarksSeen(script(), byTs);
    expect(seen.get('last')?.wm).toBe(-1); // 1000 - 1000 - 1: the quiet split's watermark
  });

  it('with idleness, a quiet split stops holding the watermark back', async () => {
    const seen = await watermarksSeen(script(), byTs.withIdleness(20));
    expect(seen.get('last')?.wm).toBe(60_000 - 1000 - 1);
  });
});
