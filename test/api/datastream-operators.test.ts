// The DataStream API's operators behave as in Flink: map, filter, flatMap, process, keyed state, rolling reduce/sum, partitioning, union, sinks.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  FilterFunction,
  FlatMapFunction,
  KeyedProcessFunction,
  MapFunction,
  ProcessFunction,
  ReduceFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  executeJob,
  type Collector,
  type KeyedProcessContext,
  type ProcessContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { lifecycleLog } from '../fixtures/jobs/lifecycle.ts';

const env = (parallelism = 1) => new StreamExecutionEnvironment({ parallelism });
const sorted = <T>(xs: T[]) => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

describe('stateless operators', () => {
  it('maps, filters and flat-maps, with lambdas or function classes', async () => {
    class Double extends MapFunction<number, number> {
      map(n: number) {
        return n * 2;
      }
    }
    class Even extends FilterFunction<number> {
      filter(n: number) {
        return n % 4 === 0;
      }
    }
    class Repeat extends FlatMapFunction<number, string> {
      flatMap(n: number, out: Collector<string>) {
        for (let i = 0; i < n % 3; i++) out.collect(`${n}:${i}`);
      }
    }
    const e = env(2);
    e.fromSequence(1, 20).map(new Double()).filter(new Even()).flatMap(new Repeat()).collect('a');
    e.fromSequence(1, 20)
      .map((n) => n * 2)
      .filter((n) => n % 4 === 0)
      .flatMap((n: number, out: Collector<string>) => {
        for (let i = 0; i < n % 3; i++) out.collect(`${n}:${i}`);
      })
      .collect('b');
    const result = await e.execute();
    const expected: string[] = [];
    for (let n = 1; n <= 20; n++) {
      const d = n * 2;
      if (d % 4 === 0) for (let i = 0; i < d % 3; i++) expected.push(`${d}:${i}`);
    }
    expect(sorted(result.collected.a)).toEqual(sorted(expected));
    expect(sorted(result.collected.b)).toEqual(sorted(expected));
  });

  it('gives process functions the record timestamp and a collector', async () => {
    class Stamp extends ProcessFunction<number, string> {
      processElement(n: number, ctx: ProcessContext, out: Collector<string>) {
        out.collect(`${n}@${ctx.timestamp()}`);
      }
    }
    const e = env();
    e.fromCollection([1, 2, 3]).process(new Stamp()).collect();
    const result = await e.execute();
    expect(result.collected.default).toEqual(['1@undefined', '2@undefined', '3@undefined']);
  });

  it('keeps collection order at parallelism 1 and reads sequences in parallel', async () => {
    const e = env(3);
    e.fromCollection(['a', 'b', 'c', 'd']).collect('ordered').setParallelism(1);
    e.fromSequence(1, 1000).collect('seq');
    const result = await e.execute();
    expect(result.collected.ordered).toEqual(['a', 'b', 'c', 'd']);
    expect(result.operators['Collection Source'].subtasks).toBe(1);
    expect(result.operators['Sequence Source'].subtasks).toBe(3);
    expect(sorted(result.collected.seq as number[])).toEqual(sorted(Array.from({ length: 1000 }, (_, i) => i + 1)));
  });
});

describe('keyed operators', () => {
  it('keeps ValueState per key in a KeyedProcessFunction', async () => {
    class CountFn extends KeyedProcessFunction<string, string, [string, number]> {
      private count!: ValueState<number>;
      override open(ctx: RuntimeContext) {
        this.count = ctx.getState(new ValueStateDescriptor<number>('count', 0));
      }
      processElement(word: string, ctx: KeyedProcessContext, out: Collector<[string, number]>) {
        const c = (this.count.value() ?? 0) + 1;
        this.count.update(c);
        out.collect([ctx.getCurrentKey() as string, c]);
      }
    }
    const words = ['a', 'b', 'a', 'c', 'a', 'b'];
    for (const p of [1, 3]) {
      const e = env(p);
      e.fromCollection(words)
        .keyBy((w) => w)
        .process(new CountFn())
        .collect();
      const result = await e.execute();
      expect(sorted(result.collected.default)).toEqual(
        sorted([
          ['a', 1],
          ['b', 1],
          ['a', 2],
          ['c', 1],
          ['a', 3],
          ['b', 2],
        ]),
      );
    }
  });

  it('emits the rolling reduce and sum per key, keeping the first record for other fields', async () => {
    class Max extends ReduceFunction<number> {
      reduce(a: number, b: number) {
        return Math.max(a, b);
      }
    }
    const e = env(2);
    const orders = [
      { customer: 'x', amount: 5, note: 'first' },
      { customer: 'y', amount: 1, note: 'first' },
      { customer: 'x', amount: 7, note: 'second' },
      { customer: 'x', amount: -2, note: 'third' },
    ];
    e.fromCollection(orders).keyBy('customer').sum('amount').collect('sum').setParallelism(1);
    e.fromCollection([3, 1, 4, 1, 5, 9, 2, 6])
      .keyBy((n) => n % 2)
      .reduce(new Max())
      .collect('max')
      .setParallelism(1);
    e.fromCollection([1, 2, 3])
      .keyBy(() => 'all')
      .sum()
      .collect('plain')
      .setParallelism(1);
    const result = await e.execute();
    const byCustomer = (c: string) => (result.collected.sum as typeof orders).filter((o) => o.customer === c);
    expect(byCustomer('x')).toEqual([
      { customer: 'x', amount: 5, note: 'first' },
      { customer: 'x', amount: 12, note: 'first' },
      { customer: 'x', amount: 10, note: 'first' },
    ]);
    expect(byCustomer('y')).toEqual([{ customer: 'y', amount: 1, note: 'first' }]);
    const odd = (result.collected.max as number[]).filter((n) => n % 2 === 1);
    const even = (result.collected.max as number[]).filter((n) => n % 2 === 0);
    expect(odd).toEqual([3, 3, 3, 5, 9]);
    expect(even).toEqual([4, 4, 6]);
    expect(result.collected.plain).toEqual([1, 3, 6]);
  });

  it('rejects keyed state on a stream that is not keyed', async () => {
    class Bad extends MapFunction<number, number> {
      override open(ctx: RuntimeContext) {
        ctx.getState(new ValueStateDescriptor('s'));
      }
      map(n: number) {
        return n;
      }
    }
    const e = env();
    e.fromCollection([1]).map(new Bad()).name('Stateless').collect();
    await expect(e.execute()).rejects.toThrow(/keyed state 's' requested in operator 'Stateless'.*use keyBy\(\) first/);
  });

  it('gives every subtask its own copy of a function instance, opened and closed once', async () => {
    lifecycleLog.length = 0;
    const result = await executeJob('test/fixtures/jobs/lifecycle.ts', { mode: 'local', parallelism: 3, params: { count: 999 } });
    expect(sorted(lifecycleLog.map((l) => l.tag))).toEqual([
      'Source: Sequence Source -> Tagger#0/3',
      'Source: Sequence Source -> Tagger#1/3',
      'Source: Sequence Source -> Tagger#2/3',
    ]);
    expect(lifecycleLog.reduce((n, l) => n + l.calls, 0)).toBe(1000);
    const finals = new Map<number, number>();
    for (const [k, c] of result.collected.counts as [number, number][]) finals.set(k, Math.max(finals.get(k) ?? 0, c));
    expect([...finals.values()]).toEqual(Array(10).fill(100));
  });

  it('keeps keyed state per key on worker threads too', async () => {
    const result = await executeJob('test/fixtures/jobs/lifecycle.ts', { parallelism: 2, params: { count: 9999 } });
    const finals = new Map<number, number>();
    for (const [k, c] of result.collected.counts as [number, number][]) finals.set(k, Math.max(finals.get(k) ?? 0, c));
    expect([...finals.entries()].sort((a, b) => a[0] - b[0])).toEqual(Array.from({ length: 10 }, (_, k) => [k, 1000]));
  });
});

describe('partitioning', () => {
  async function perSubtask(build: (e: StreamExecutionEnvironment) => void, p: number): Promise<Map<number, number[]>> {
    const e = env(p);
    build(e);
    const result = await e.execute();
    const out = new Map<number, number[]>();
    for (const [s, v] of result.collected.default as [number, number][]) out.set(s, [...(out.get(s) ?? []), v]);
    return out;
  }
  const whereSubtask = (e: StreamExecutionEnvironment, stream: ReturnType<StreamExecutionEnvironment['fromCollection']>, p: number) =>
    stream
      .process(function (this: void, v: unknown, _ctx: ProcessContext, out: Collector<unknown>) {
        out.collect(v);
      })
      .setParallelism(p);

  it('broadcast sends every record to every subtask', async () => {
    class Where extends ProcessFunction<number, [number, number]> {
      processElement(v: number, _c: ProcessContext, out: Collector<[number, number]>) {
        out.collect([this.getRuntimeContext().getIndexOfThisSubtask(), v]);
      }
    }
    const got = await perSubtask((e) => e.fromCollection([1, 2, 3]).broadcast().process(new Where()).setParallelism(3).collect(), 3);
    expect([...got.keys()].sort()).toEqual([0, 1, 2]);
    for (const values of got.values()) expect(values).toEqual([1, 2, 3]);
    void whereSubtask;
  });

  it('rebalance spreads round robin; rescale feeds local groups; forward keeps the subtask', async () => {
    class Where extends ProcessFunction<number, [number, number]> {
      processElement(v: number, _c: ProcessContext, out: Collector<[number, number]>) {
        out.collect([this.getRuntimeContext().getIndexOfThisSubtask(), v]);
      }
    }
    const rebalanced = await perSubtask(
      (e) => e.fromCollection([0, 1, 2, 3, 4, 5, 6, 7, 8]).rebalance().process(new Where()).setParallelism(3).collect(),
      3,
    );
    expect(rebalanced).toEqual(
      new Map([
        [0, [0, 3, 6]],
        [1, [1, 4, 7]],
        [2, [2, 5, 8]],
      ]),
    );

    // 2 producers rescaled to 4 consumers: producer 0 feeds consumers 0 and 1, producer 1 feeds 2 and 3.
    class Tag extends ProcessFunction<number, number> {
      processElement(v: number, _c: ProcessContext, out: Collector<number>) {
        out.collect(this.getRuntimeContext().getIndexOfThisSubtask() * 1000 + v);
      }
    }
    const rescaled = await perSubtask(
      (e) =>
        e
          .fromSequence(1, 8)
          .setParallelism(2)
          .process(new Tag())
          .setParallelism(2)
          .rescale()
          .process(new Where())
          .setParallelism(4)
          .collect(),
      4,
    );
    for (const [consumer, values] of rescaled) for (const v of values) expect(Math.floor(v / 1000)).toBe(consumer < 2 ? 0 : 1);
    expect([...rescaled.values()].flat().length).toBe(8);

    const forwarded = await perSubtask(
      (e) => e.fromSequence(1, 40).process(new Tag()).forward().process(new Where()).disableChaining().collect(),
      2,
    );
    for (const [subtask, values] of forwarded) for (const v of values) expect(Math.floor(v / 1000)).toBe(subtask);
  });

  it('union merges streams into one input', async () => {
    const e = env(2);
    const a = e.fromCollection([1, 2, 3]);
    const b = e.fromSequence(10, 12);
    const c = e.fromCollection([100]);
    a.union(b, c)
      .map((n) => n + 1)
      .collect();
    const result = await e.execute();
    expect(sorted(result.collected.default as number[])).toEqual(sorted([2, 3, 4, 11, 12, 13, 101]));
  });

  it('rejects a forward edge between different parallelisms', () => {
    const e = env(2);
    e.fromSequence(1, 10)
      .forward()
      .map((n) => n)
      .setParallelism(3)
      .collect();
    expect(() => e.buildJobGraph()).toThrow(
      /forward partitioning does not allow a change of parallelism.*'Sequence Source' \(2\) -> 'Map' \(3\)/,
    );
  });
});

describe('sinks', () => {
  it('prints records with the subtask prefix when parallel', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    try {
      const e = env(2);
      e.fromCollection(['solo']).print().setParallelism(1);
      e.fromSequence(1, 4)
        .map((n) => ({ n }))
        .print('obj');
      await e.execute();
      await new Promise((r) => setImmediate(r));
    } finally {
      spy.mockRestore();
    }
    expect(lines).toContain('solo');
    expect(sorted(lines.filter((l) => l.startsWith('obj')))).toEqual([
      'obj:1> {"n":1}',
      'obj:1> {"n":2}',
      'obj:2> {"n":3}',
      'obj:2> {"n":4}',
    ]);
  });

  it('writes lines to a file, or to a directory of per-subtask files when parallel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-file-sink-'));
    const e = env(2);
    e.fromCollection(['a', 'b']).writeAsText(join(dir, 'single.txt')).setParallelism(1);
    e.fromSequence(1, 6)
      .map((n) => ({ n }))
      .writeAsText(join(dir, 'parallel'));
    await e.execute();
    expect(readFileSync(join(dir, 'single.txt'), 'utf8')).toBe('a\nb\n');
    expect(readdirSync(join(dir, 'parallel')).sort()).toEqual(['1', '2']);
    const all = ['1', '2'].flatMap((f) =>
      readFileSync(join(dir, 'parallel', f), 'utf8')
        .trim()
        .split('\n'),
    );
    expect(sorted(all)).toEqual(sorted([1, 2, 3, 4, 5, 6].map((n) => JSON.stringify({ n }))));
  });

  it('calls a function sink for every record', async () => {
    const seen: number[] = [];
    const e = env();
    e.fromCollection([1, 2, 3]).sinkTo((n) => void seen.push(n));
    await e.execute();
    expect(seen).toEqual([1, 2, 3]);
  });
});
