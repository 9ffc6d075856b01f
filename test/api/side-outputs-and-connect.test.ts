// Side outputs (OutputTag, ctx.output, getSideOutput) and connected streams (co-process, keyed co-process with shared state).
import { describe, expect, it } from 'vitest';
import {
  KeyedCoProcessFunction,
  OutputTag,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  executeJob,
  type Collector,
  type KeyedProcessContext,
  type ProcessContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';

const sorted = <T>(xs: T[]) => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

describe('side outputs', () => {
  for (const [label, chain] of [
    ['chained', true],
    ['across a rebalance', false],
  ] as const) {
    it(`route tagged records to getSideOutput() only (${label})`, async () => {
      const odd = new OutputTag<string>('odd');
      const env = new StreamExecutionEnvironment({ parallelism: 2 });
      const main = env.fromSequence(1, 10).process((n: number, ctx: ProcessContext, out: Collector<number>) => {
        if (n % 2 === 0) out.collect(n);
        else ctx.output(odd, `odd-${n}`);
      });
      const side = main.getSideOutput(odd);
      (chain ? side : side.rebalance()).map((s) => s.toUpperCase()).collect('odd');
      main.collect('even');
      const result = await env.execute();
      expect(sorted(result.collected.even as number[])).toEqual([10, 2, 4, 6, 8]);
      expect(sorted(result.collected.odd as string[])).toEqual(['ODD-1', 'ODD-3', 'ODD-5', 'ODD-7', 'ODD-9']);
    });
  }

  it('drops side records nobody reads', async () => {
    const env = new StreamExecutionEnvironment();
    env
      .fromCollection([1, 2])
      .process((n: number, ctx: ProcessContext, out: Collector<number>) => {
        ctx.output(new OutputTag<number>('unused'), n);
        out.collect(n);
      })
      .collect();
    expect((await env.execute()).collected.default).toEqual([1, 2]);
  });
});

class MatchPayments extends KeyedCoProcessFunction<string, { order: string; amount: number }, { order: string; paid: number }, string> {
  private pending!: ValueState<number>;
  private paid!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.pending = ctx.getState(new ValueStateDescriptor<number>('pending'));
    this.paid = ctx.getState(new ValueStateDescriptor<number>('paid'));
  }
  processElement1(o: { order: string; amount: number }, ctx: KeyedProcessContext, out: Collector<string>) {
    const paid = this.paid.value();
    if (paid !== undefined) out.collect(`${ctx.getCurrentKey()}:${o.amount}=${paid}`);
    else this.pending.update(o.amount);
  }
  processElement2(p: { order: string; paid: number }, ctx: KeyedProcessContext, out: Collector<string>) {
    const amount = this.pending.value();
    if (amount !== undefined) out.collect(`${ctx.getCurrentKey()}:${amount}=${p.paid}`);
    else this.paid.update(p.paid);
  }
}

describe('connected streams', () => {
  it('map with one function per input', async () => {
    const env = new StreamExecutionEnvironment();
    env
      .fromCollection([1, 2])
      .connect(env.fromCollection(['a']))
      .map(
        (n) => `n${n}`,
        (s) => `s${s}`,
      )
      .collect();
    expect(sorted((await env.execute()).collected.default as string[])).toEqual(['n1', 'n2', 'sa']);
  });

  it('share keyed state between both inputs of a keyed co-process function', async () => {
    const orders = Array.from({ length: 200 }, (_, i) => ({ order: `o${i}`, amount: i * 10 }));
    const payments = Array.from({ length: 200 }, (_, i) => ({ order: `o${199 - i}`, paid: (199 - i) * 10 }));
    for (const parallelism of [1, 3]) {
      const env = new StreamExecutionEnvironment({ parallelism });
      env
        .fromCollection(orders)
        .connect(env.fromCollection(payments))
        .keyBy(
          (o) => o.order,
          (p) => p.order,
        )
        .process(new MatchPayments())
        .collect();
      const result = await env.execute();
      expect(sorted(result.collected.default as string[])).toEqual(sorted(orders.map((o) => `${o.order}:${o.amount}=${o.amount}`)));
    }
  });

  it('refuse keying only one side', () => {
    const env = new StreamExecutionEnvironment();
    const a = env.fromCollection([1]).keyBy((n) => n);
    expect(() => a.connect(env.fromCollection([2])).process(new MatchPayments() as never)).toThrow(/key both streams \(or neither\)/);
  });
});

describe('on worker threads', () => {
  it('runs side outputs and a keyed co-process across threads', async () => {
    const result = await executeJob('test/fixtures/jobs/co-process.ts', { parallelism: 2 });
    expect(result.collected.matched).toHaveLength(500);
    expect(sorted(result.collected.unmatched as string[])).toEqual(['p-extra']);
  });
});
