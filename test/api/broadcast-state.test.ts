// Broadcast state: a rules stream broadcast to every subtask, read-only on the main side, applied with keyed state.
import { describe, expect, it } from 'vitest';
import {
  BroadcastProcessFunction,
  KeyedBroadcastProcessFunction,
  MapStateDescriptor,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  type BroadcastContext,
  type Collector,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { scriptedSource } from '../fixtures/scripted-source.ts';

const RULES = new MapStateDescriptor<string, number>('thresholds');

describe('broadcast state', () => {
  it('reaches every subtask, and the main side reads it', async () => {
    class Threshold extends BroadcastProcessFunction<number, [string, number], string> {
      processElement(n: number, ctx: BroadcastContext, out: Collector<string>) {
        const limit = ctx.getBroadcastState(RULES).get('limit');
        if (limit !== undefined && n > limit) out.collect(`${n}>${limit}`);
      }
      processBroadcastElement(rule: [string, number], ctx: BroadcastContext) {
        ctx.getBroadcastState(RULES).put(rule[0], rule[1]);
      }
    }
    const env = new StreamExecutionEnvironment({ parallelism: 3, bufferTimeoutMs: 0 });
    const rules = env.fromCollection<[string, number]>([['limit', 7]]).broadcast(RULES);
    // The numbers wait until the rule has surely been seen by every subtask.
    env
      .fromSource(scriptedSource([{ pauseMs: 100 }, ...Array.from({ length: 10 }, (_, i) => ({ value: i + 1 }))]))
      .rebalance()
      .connect(rules)
      .process(new Threshold())
      .collect();
    const out = (await env.execute()).collected.default as string[];
    expect(out.sort()).toEqual(['10>7', '8>7', '9>7']);
  });

  it('is read-only on the main side', async () => {
    const env = new StreamExecutionEnvironment();
    const rules = env.fromCollection<[string, number]>([]).broadcast(RULES);
    env
      .fromCollection([1])
      .connect(rules)
      .process({
        processElement: (_n: number, ctx: BroadcastContext) =>
          (ctx.getBroadcastState(RULES) as unknown as { put(k: string, v: number): void }).put('x', 1),
        processBroadcastElement: () => undefined,
      })
      .collect();
    await expect(env.execute()).rejects.toThrow(/read-only|not a function/);
  });

  it('keyed: the broadcast side applies a rule to the keyed state of every key', async () => {
    class Balances extends KeyedBroadcastProcessFunction<string, { acct: string; amount: number }, string, string> {
      private balance!: ValueState<number>;
      override open(ctx: RuntimeContext) {
        this.balance = ctx.getState(new ValueStateDescriptor<number>('balance', 0));
      }
      processElement(t: { acct: string; amount: number }, ctx: BroadcastContext, out: Collector<string>) {
        this.balance.update((this.balance.value() ?? 0) + t.amount);
        out.collect(`${ctx.getCurrentKey()}=${this.balance.value()}`);
      }
      processBroadcastElement(cmd: string, ctx: BroadcastContext, out: Collector<string>) {
        if (cmd === 'interest') {
          ctx.applyToKeyedState<ValueState<number>>(new ValueStateDescriptor<number>('balance', 0), (key, state) => {
            state.update((state.value() ?? 0) * 2);
            out.collect(`${key}*2`);
          });
        }
      }
    }
    const env = new StreamExecutionEnvironment({ parallelism: 2, bufferTimeoutMs: 0 });
    const commands = env.fromSource(scriptedSource([{ pauseMs: 150 }, { value: 'interest' }])).broadcast(RULES);
    env
      .fromSource(
        scriptedSource([
          { value: { acct: 'x', amount: 10 } },
          { value: { acct: 'y', amount: 5 } },
          { pauseMs: 300 },
          { value: { acct: 'x', amount: 1 } },
          { value: { acct: 'y', amount: 1 } },
        ]),
      )
      .keyBy((t) => (t as { acct: string }).acct)
      .connect(commands)
      .process(new Balances())
      .collect();
    const out = (await env.execute()).collected.default as string[];
    // Each subtask doubles the balances it holds; then x = 20 + 1, y = 10 + 1.
    expect(out.filter((l) => l.includes('='))).toEqual(expect.arrayContaining(['x=10', 'y=5', 'x=21', 'y=11']));
    expect(out.filter((l) => l.endsWith('*2')).sort()).toEqual(['x*2', 'y*2']);
  });
});
