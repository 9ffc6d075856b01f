// Interval join: pairs with right.ts in [left.ts + lower, left.ts + upper] (bounds inclusive or not), max timestamp on results, buffers cleaned by the watermark, late records dropped, event time only.
import { describe, expect, it } from 'vitest';
import {
  ErrorCodes,
  OutputTag,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  executeJob,
  type Collector,
  type JobResult,
  type KeyedStream,
  type OperatorContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { IntervalJoin, ProcessJoinFunction, type ProcessJoinContext } from '../../src/api/joins.ts';
import { IntervalJoinOperator, type IntervalJoinSpec } from '../../src/actors/interval-join-operator.ts';
import type { Output } from '../../src/actors/operator.ts';
import { HeapKeyedStateBackend } from '../../src/state/index.ts';
import { punctuated } from '../fixtures/punctuated.ts';
import { LOWER_MS, UPPER_MS, WINDOW_MS, ordersOf, shipmentsOf, type Joined } from '../fixtures/jobs/joins-orders.ts';

interface Ev {
  k: string;
  ts: number;
  id: string;
}
const ev = (id: string, k: string, ts: number): Ev => ({ id, k, ts });

// Swap for `a.intervalJoin(b)` once KeyedStream has it.
const intervalJoin = <L, R, K>(a: KeyedStream<L, K>, b: KeyedStream<R, K>) => a.intervalJoin(b);

/** How a case bounds the join. */
interface Bounds {
  lower: number;
  upper: number;
  lowerExclusive?: boolean;
  upperExclusive?: boolean;
}

/** The reference: every pair of the same key whose right timestamp is within the bounds, `left+right@max`. */
function reference(left: Ev[], right: Ev[], b: Bounds): string[] {
  const rows: string[] = [];
  for (const l of left) {
    for (const r of right) {
      if (l.k !== r.k) continue;
      const lo = l.ts + b.lower;
      const hi = l.ts + b.upper;
      const aboveLower = b.lowerExclusive ? r.ts > lo : r.ts >= lo;
      const belowUpper = b.upperExclusive ? r.ts < hi : r.ts <= hi;
      if (aboveLower && belowUpper) rows.push(`${l.id}+${r.id}@${Math.max(l.ts, r.ts)}`);
    }
  }
  return rows.sort();
}

const operatorCounters = (result: JobResult, name: string) =>
  result.subtasks
    .flatMap((s) => s.operators)
    .filter((o) => o.name.startsWith(name))
    .map((o) => o.counters ?? {});

/** Runs the join in local mode; each side in timestamp order, so nothing is late. */
async function run(left: Ev[], right: Ev[], b: Bounds, parallelism: number) {
  const env = new StreamExecutionEnvironment({ parallelism });
  const a = env.fromCollection(left).assignTimestampsAndWatermarks(punctuated<Ev>()).setParallelism(1);
  const c = env.fromCollection(right).assignTimestampsAndWatermarks(punctuated<Ev>()).setParallelism(1);
  const joined = intervalJoin(
    a.keyBy((e) => e.k),
    c.keyBy((e) => e.k),
  ).between(b.lower, b.upper);
  if (b.lowerExclusive) joined.lowerBoundExclusive();
  if (b.upperExclusive) joined.upperBoundExclusive();
  joined
    .process((l, r, ctx: ProcessJoinContext, out: Collector<string>) => {
      expect([ctx.getLeftTimestamp(), ctx.getRightTimestamp(), ctx.getTimestamp()]).toEqual([l.ts, r.ts, Math.max(l.ts, r.ts)]);
      out.collect(`${l.id}+${r.id}`);
    })
    .process((pair, ctx, out: Collector<string>) => out.collect(`${pair}@${ctx.timestamp()}`))
    .collect();
  const result = await env.execute();
  return { rows: (result.collected.default as string[]).sort(), counters: operatorCounters(result, 'IntervalJoin') };
}

const LEFT = [ev('L1', 'a', 1000), ev('L2', 'b', 2000), ev('L3', 'a', 5000), ev('L4', 'a', 9000)];
const RIGHT = [ev('R1', 'a', 0), ev('R2', 'a', 1000), ev('R3', 'b', 2500), ev('R4', 'a', 3000), ev('R5', 'a', 6000), ev('R6', 'a', 8000)];

describe('interval join', () => {
  it('joins right records within [left + lower, left + upper], both ends inclusive, with the larger timestamp', async () => {
    // between(-1000, 2000): L1@1000 takes a-records in [0, 3000]: R1, R2, R4; L2@2000 takes b in [1000, 4000]: R3;
    // L3@5000 takes a in [4000, 7000]: R5; L4@9000 takes a in [8000, 11000]: R6.
    const expected = ['L1+R1@1000', 'L1+R2@1000', 'L1+R4@3000', 'L2+R3@2500', 'L3+R5@6000', 'L4+R6@9000'];
    expect(reference(LEFT, RIGHT, { lower: -1000, upper: 2000 })).toEqual(expected);
    for (const parallelism of [1, 2]) expect((await run(LEFT, RIGHT, { lower: -1000, upper: 2000 }, parallelism)).rows).toEqual(expected);
  });

  it('leaves out records on an exclusive bound', async () => {
    // The same bounds with both ends exclusive: R1 (= 1000 - 1000) and R4 (= 1000 + 2000) drop out for L1,
    // R6 (= 9000 - 1000) for L4.
    const b = { lower: -1000, upper: 2000, lowerExclusive: true, upperExclusive: true };
    const expected = ['L1+R2@1000', 'L2+R3@2500', 'L3+R5@6000'];
    expect(reference(LEFT, RIGHT, b)).toEqual(expected);
    expect((await run(LEFT, RIGHT, b, 2)).rows).toEqual(expected);
  });

  it('joins with an interval entirely before the left record (negative upper bound)', async () => {
    // between(-3000, -1000): L1@1000 takes a in [-2000, 0]: R1; L3@5000 takes a in [2000, 4000]: R4;
    // L4@9000 takes a in [6000, 8000]: R5, R6.
    const expected = ['L1+R1@1000', 'L3+R4@5000', 'L4+R5@9000', 'L4+R6@9000'];
    expect(reference(LEFT, RIGHT, { lower: -3000, upper: -1000 })).toEqual(expected);
    expect((await run(LEFT, RIGHT, { lower: -3000, upper: -1000 }, 2)).rows).toEqual(expected);
  });

  const generated = (n: number, keys: number, step: number, offset: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => ev(`${prefix}${i}`, `k${(i * 7 + offset) % keys}`, i * step + offset));
  const cases: Bounds[] = [
    { lower: -2000, upper: 1000 },
    { lower: 0, upper: 3000 },
    { lower: 500, upper: 2500 },
    { lower: -3000, upper: -500 },
    { lower: 0, upper: 0 },
    { lower: -1000, upper: 1000, lowerExclusive: true },
    { lower: -1000, upper: 1000, upperExclusive: true },
    { lower: -1000, upper: 1000, lowerExclusive: true, upperExclusive: true },
    { lower: 700, upper: 701, lowerExclusive: true, upperExclusive: true },
  ];
  for (const b of cases) {
    const label = `${b.lowerExclusive ? '(' : '['}${b.lower}, ${b.upper}${b.upperExclusive ? ')' : ']'}`;
    it(`matches the nested-loop reference for ${label} at parallelism 2, and empties its buffers by the end`, async () => {
      const left = generated(200, 5, 97, 0, 'L');
      const right = generated(180, 5, 113, 31, 'R');
      const { rows, counters } = await run(left, right, b, 2);
      expect(rows).toEqual(reference(left, right, b));
      expect(counters).toHaveLength(2);
      for (const c of counters) expect(c).toEqual({ numLateRecordsDropped: 0, leftBufferedRecords: 0, rightBufferedRecords: 0 });
    });
  }

  it('opens a ProcessJoinFunction class with keyed state of the join key', async () => {
    class Nth extends ProcessJoinFunction<Ev, Ev, string> {
      private seen!: ValueState<number>;
      override open(ctx: RuntimeContext) {
        this.seen = ctx.getState(new ValueStateDescriptor<number>('seen'));
      }
      processElement(l: Ev, r: Ev, _ctx: ProcessJoinContext, out: Collector<string>) {
        // Keyed state is scoped to the pair's key: count matches per key.
        const n = (this.seen.value() ?? 0) + 1;
        this.seen.update(n);
        out.collect(`${l.k}#${n}`);
      }
    }
    const env = new StreamExecutionEnvironment({ parallelism: 2 });
    const a = env.fromCollection(LEFT).assignTimestampsAndWatermarks(punctuated<Ev>()).setParallelism(1);
    const c = env.fromCollection(RIGHT).assignTimestampsAndWatermarks(punctuated<Ev>()).setParallelism(1);
    intervalJoin(a.keyBy('k'), c.keyBy('k')).between(-1000, 2000).process(new Nth()).collect();
    expect(((await env.execute()).collected.default as string[]).sort()).toEqual(['a#1', 'a#2', 'a#3', 'a#4', 'a#5', 'b#1']);
  });

  it('routes records behind the watermark to the late-data side output of their side, unjoined', async () => {
    // Both sides from one source, each element shipped as it is emitted (buffer timeout 0): the
    // join reads its two channels round robin, so both have passed watermark 19999 (from X) before
    // R1 and L2 arrive.
    const env = new StreamExecutionEnvironment({ bufferTimeoutMs: 0 });
    const all = env
      .fromCollection([ev('L1', 'a', 1000), ev('X', 'z', 20_000), ev('R1', 'a', 3000), ev('L2', 'a', 2000)])
      .assignTimestampsAndWatermarks(punctuated<Ev>());
    const lateLeft = new OutputTag<Ev>('late-left');
    const lateRight = new OutputTag<Ev>('late-right');
    const joined = intervalJoin(all.filter((e) => e.id.startsWith('L')).keyBy('k'), all.filter((e) => e.id.startsWith('R')).keyBy('k'))
      .between(-5000, 5000)
      .sideOutputLeftLateData(lateLeft)
      .sideOutputRightLateData(lateRight)
      .process((l, r, _ctx, out: Collector<string>) => out.collect(`${l.id}+${r.id}`));
    joined.collect('joined');
    joined.getSideOutput(lateLeft).collect('lateLeft');
    joined.getSideOutput(lateRight).collect('lateRight');
    const result = await env.execute();
    expect(result.collected.joined ?? []).toEqual([]);
    expect(result.collected.lateLeft).toEqual([ev('L2', 'a', 2000)]);
    expect(result.collected.lateRight).toEqual([ev('R1', 'a', 3000)]);
    expect(operatorCounters(result, 'IntervalJoin')).toEqual([
      { numLateRecordsDropped: 0, leftBufferedRecords: 0, rightBufferedRecords: 0 },
    ]);
  });

  it('fails with a clear error, naming the operator, for records without timestamps', async () => {
    const env = new StreamExecutionEnvironment();
    intervalJoin(env.fromCollection([ev('L1', 'a', 1)]).keyBy('k'), env.fromCollection([ev('R1', 'a', 1)]).keyBy('k'))
      .between(0, 10)
      .process((l, r, _ctx, out: Collector<string>) => out.collect(l.id + r.id))
      .name('Orders x Shipments')
      .collect();
    const error = await env.execute().then(
      () => undefined,
      (e: unknown) => e as { code?: string; operator?: string; message: string },
    );
    expect(error?.code).toBe(ErrorCodes.INVALID_TIMESTAMP);
    expect(error?.operator).toMatch(/^Orders x Shipments/);
    expect(error?.message).toMatch(/record without a timestamp: interval joins work in event time/);
  });

  it('refuses bounds out of order or not integer, and streams that are not keyed', () => {
    const env = new StreamExecutionEnvironment();
    const a = env.fromElements(ev('L', 'a', 1)).keyBy('k');
    const b = env.fromElements(ev('R', 'a', 1)).keyBy('k');
    expect(() => intervalJoin(a, b).between(10, 5)).toThrow(/lower bound \(10\) must not exceed the upper bound \(5\)/);
    expect(() => intervalJoin(a, b).between(0.5, 5)).toThrow(/integer number of ms/);
    // Only the constructor can be handed a stream that is not keyed (KeyedStream.intervalJoin cannot).
    expect(() => new IntervalJoin(env.fromElements(1) as never, b)).toThrow(/two keyed streams/);
    expect(() => intervalJoin(a, new StreamExecutionEnvironment().fromElements(ev('R', 'a', 1)).keyBy('k'))).toThrow(/same environment/);
  });
});

// ---- The operator alone, driven record by record and watermark by watermark.

function harness(spec: Partial<IntervalJoinSpec> & { lowerBound: number; upperBound: number }) {
  const backend = new HeapKeyedStateBackend(128, { start: 0, end: 127 }, 'IntervalJoin');
  const context = {
    operatorName: 'IntervalJoin',
    operatorId: 'join-1',
    taskName: 'task',
    subtaskIndex: 0,
    parallelism: 1,
    maxParallelism: 128,
    keyed: true,
    keyedBackend: () => backend,
    processingTime: { now: () => 0, registerTimer: () => () => undefined },
    registerTimerService: () => undefined,
  } as unknown as OperatorContext;
  const out: string[] = [];
  const side: string[] = [];
  const watermarks: number[] = [];
  const output: Output = {
    collect: (v, t) => void out.push(`${String(v)}@${t}`),
    collectSide: (tag, v, t) => void side.push(`${tag}:${(v as Ev).id}@${t}`),
    emitWatermark: (w) => void watermarks.push(w),
    emitWatermarkStatus: () => undefined,
  };
  const op = new IntervalJoinOperator(
    'IntervalJoin',
    { lowerBoundInclusive: true, upperBoundInclusive: true, ...spec },
    (l, r, _ctx, o) => o.collect(`${(l as Ev).id}+${(r as Ev).id}`),
    (v) => (v as Ev).k,
    (v) => (v as Ev).k,
  );
  op.setup(context, output);
  const left = (e: Ev) => op.processElement(e, e.ts);
  const right = (e: Ev) => op.processElement2(e, e.ts);
  const buffered = () => {
    const c = op.counters();
    return [c.leftBufferedRecords, c.rightBufferedRecords];
  };
  return { op, backend, out, side, watermarks, left, right, buffered };
}

describe('interval join operator', () => {
  it('removes a left record at left + upper and a right record at right - lower, as the watermark passes', () => {
    const h = harness({ lowerBound: -2000, upperBound: 1000 });
    h.left(ev('L1', 'a', 5000));
    h.left(ev('L2', 'a', 5000));
    h.right(ev('R1', 'a', 5500));
    expect(h.out).toEqual(['L1+R1@5500', 'L2+R1@5500']);
    expect(h.buffered()).toEqual([2, 1]);
    h.op.processWatermark(5999);
    expect(h.buffered()).toEqual([2, 1]);
    h.op.processWatermark(6000); // 5000 + upper: the left bucket at 5000 can meet no right record still to come
    expect(h.buffered()).toEqual([0, 1]);
    h.op.processWatermark(7499);
    expect(h.buffered()).toEqual([0, 1]);
    h.op.processWatermark(7500); // 5500 - lower
    expect(h.buffered()).toEqual([0, 0]);
    expect(h.backend.keyCount()).toBe(0);
    expect(h.watermarks).toEqual([5999, 6000, 7499, 7500]);
  });

  it('cleans up at the record timestamp itself when the interval lies wholly on one side', () => {
    // upper <= 0: a left record only meets right records up to its own time; lower >= 0 likewise for right records.
    const before = harness({ lowerBound: -3000, upperBound: -1000 });
    before.left(ev('L1', 'a', 5000));
    before.right(ev('R1', 'a', 5000));
    before.op.processWatermark(5000);
    expect(before.buffered()).toEqual([0, 1]);
    before.op.processWatermark(8000);
    expect(before.buffered()).toEqual([0, 0]);

    const after = harness({ lowerBound: 1000, upperBound: 3000 });
    after.left(ev('L1', 'a', 5000));
    after.right(ev('R1', 'a', 5000));
    after.op.processWatermark(5000);
    expect(after.buffered()).toEqual([1, 0]);
    after.op.processWatermark(8000);
    expect(after.buffered()).toEqual([0, 0]);
    expect(after.backend.keyCount()).toBe(0);
  });

  it('cleans up one millisecond earlier on an exclusive bound', () => {
    const h = harness({ lowerBound: -1000, upperBound: 1000, lowerBoundInclusive: false, upperBoundInclusive: false });
    h.left(ev('L1', 'a', 5000));
    h.right(ev('R1', 'a', 5000));
    h.op.processWatermark(5998);
    expect(h.buffered()).toEqual([1, 1]);
    h.op.processWatermark(5999);
    expect(h.buffered()).toEqual([0, 0]);
  });

  it('keeps each key’s buffers apart and joins only within a key', () => {
    const h = harness({ lowerBound: -1000, upperBound: 1000 });
    h.left(ev('La', 'a', 1000));
    h.left(ev('Lb', 'b', 1000));
    h.right(ev('Rb', 'b', 1500));
    h.right(ev('Rc', 'c', 1500));
    expect(h.out).toEqual(['Lb+Rb@1500']);
    h.op.processWatermark(2000);
    expect(h.buffered()).toEqual([0, 2]);
    h.op.processWatermark(2500);
    expect(h.buffered()).toEqual([0, 0]);
    expect(h.backend.keyCount()).toBe(0);
  });

  it('drops and counts records behind the watermark, on either side, without buffering them', () => {
    const h = harness({ lowerBound: -5000, upperBound: 5000 });
    h.left(ev('L1', 'a', 10_000));
    h.op.processWatermark(9000);
    h.right(ev('R1', 'a', 8999)); // late: would have matched L1
    h.left(ev('L2', 'a', 8000)); // late
    h.right(ev('R2', 'a', 9000)); // on the watermark: not late
    expect(h.out).toEqual(['L1+R2@10000']);
    expect(h.op.counters()).toEqual({ numLateRecordsDropped: 2, leftBufferedRecords: 1, rightBufferedRecords: 1 });
  });

  it('sends late records to the side outputs when asked, and counts none as dropped', () => {
    const lateLeft = new OutputTag<Ev>('late-left');
    const lateRight = new OutputTag<Ev>('late-right');
    const h = harness({ lowerBound: 0, upperBound: 0, leftLateDataTag: lateLeft.id, rightLateDataTag: lateRight.id });
    h.op.processWatermark(100);
    h.left(ev('L1', 'a', 50));
    h.right(ev('R1', 'a', 99));
    h.right(ev('R2', 'a', 100));
    expect(h.side).toEqual([`${lateLeft.id}:L1@50`, `${lateRight.id}:R1@99`]);
    expect(h.op.counters().numLateRecordsDropped).toBe(0);
  });

  it('fails with an INVALID_TIMESTAMP error naming the operator for a record without a timestamp', () => {
    const h = harness({ lowerBound: 0, upperBound: 10 });
    expect(() => h.op.processElement2(ev('R1', 'a', 0), undefined)).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_TIMESTAMP,
        operator: 'IntervalJoin',
        message: expect.stringMatching(/right record/),
      }),
    );
  });

  it('wraps an exception of the join function with the operator and subtask', () => {
    const backend = new HeapKeyedStateBackend(128, { start: 0, end: 127 }, 'J');
    const op = new IntervalJoinOperator(
      'J',
      { lowerBound: 0, upperBound: 0, lowerBoundInclusive: true, upperBoundInclusive: true },
      () => {
        throw new RangeError('boom');
      },
      () => 'k',
      () => 'k',
    );
    const context = { keyedBackend: () => backend, maxParallelism: 128, subtaskIndex: 0, registerTimerService: () => undefined };
    op.setup(context as unknown as OperatorContext, {} as Output);
    op.processElement('l', 1);
    expect(() => op.processElement2('r', 1)).toThrow(
      expect.objectContaining({
        code: ErrorCodes.USER_FUNCTION,
        message: expect.stringMatching(/operator 'J' \(subtask 0\) threw: RangeError: boom/),
      }),
    );
  });
});

describe('joins on worker threads', () => {
  it('run a window join and an interval join across threads with the reference results', async () => {
    const n = 400;
    const result = await executeJob('test/fixtures/jobs/joins-orders.ts', { parallelism: 2, params: { n } });
    const orders = ordersOf(n);
    const shipments = shipmentsOf(n);
    const byKey = (rows: Joined[]) => rows.map((r) => `${r.order}+${r.shipment}@${r.ts}`).sort();
    const windowRows: Joined[] = [];
    const intervalRows: Joined[] = [];
    for (const o of orders) {
      for (const s of shipments) {
        if (o.k !== s.k) continue;
        const start = o.ts - (o.ts % WINDOW_MS);
        if (s.ts >= start && s.ts < start + WINDOW_MS) windowRows.push({ order: o.id, shipment: s.id, ts: start + WINDOW_MS - 1 });
        if (s.ts >= o.ts + LOWER_MS && s.ts <= o.ts + UPPER_MS)
          intervalRows.push({ order: o.id, shipment: s.id, ts: Math.max(o.ts, s.ts) });
      }
    }
    expect(windowRows.length).toBeGreaterThan(500);
    expect(intervalRows.length).toBeGreaterThan(100);
    expect(byKey(result.collected.window as Joined[])).toEqual(byKey(windowRows));
    expect(byKey(result.collected.interval as Joined[])).toEqual(byKey(intervalRows));
    const join = operatorCounters(result, 'IntervalJoin');
    expect(join).toHaveLength(2);
    for (const c of join) expect(c).toEqual({ numLateRecordsDropped: 0, leftBufferedRecords: 0, rightBufferedRecords: 0 });
  });
});
