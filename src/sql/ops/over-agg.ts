//! Flink's OverAggregate for SQL: `agg(x) OVER (PARTITION BY … ORDER BY <time> ROWS|RANGE BETWEEN … PRECEDING AND CURRENT ROW)`, append-only, its rows and accumulators in keyed state.

import type { DataStream } from '../../api/datastream.ts';
import { KeyedProcessFunction } from '../../api/functions.ts';
import type { Collector, KeyedProcessContext, OnTimerContext } from '../../actors/operators.ts';
import { MapStateDescriptor, ValueStateDescriptor } from '../../state/descriptors.ts';
import type { MapState, ValueState } from '../../state/state-types.ts';
import { SQL_FUNCTIONS } from '../functions.ts';
import type { OverAggNode } from '../plan-over.ts';
import { RetractingAggregates, type GroupState } from './group-agg.ts';

type Row = Record<string, unknown>;

function compile(code: string): (r: Row) => unknown {
  return new Function('$', `"use strict"; return function (r) { return ${code}; };`)(SQL_FUNCTIONS) as (r: Row) => unknown;
}

/**
 * The operator of an over-agg node, keyed by the partition keys. Each input row comes out once,
 * with the aggregates of its frame appended (Flink's OverAggregate is append-only).
 *
 * Event time (Flink's RowTime*PrecedingFunction): a row waits in `rows` (by timestamp) until the
 * watermark reaches its timestamp, then the rows of one timestamp are processed together, in
 * timestamp order. With UNBOUNDED PRECEDING a row at or behind the watermark is dropped; with a
 * bounded frame a row is dropped when its partition has already processed its timestamp or a later
 * one (Flink compares with the partition's last processed timestamp, not with the watermark).
 * ROWS gives each row of a timestamp its own frame, in arrival order; RANGE gives the rows of one
 * timestamp (peers) the same result. A bounded frame keeps its rows in `rows` to retract them when
 * they leave it.
 *
 * Processing time (Flink's ProcTime*PrecedingFunction): ROWS and UNBOUNDED frames process each row
 * on arrival; a bounded RANGE frame collects the rows of one millisecond and processes them when
 * the clock passes it.
 *
 * State: `rows` (timestamp → rows), `acc` (the accumulators, as group-agg keeps them), `last` (the
 * last processed timestamp, bounded event-time frames), `count` (rows in a bounded ROWS frame).
 */
export class OverAggFunction extends KeyedProcessFunction<string, Row, Row> {
  private rows!: MapState<number, Row[]>;
  private acc!: ValueState<GroupState>;
  private last!: ValueState<number>;
  private count!: ValueState<number>;
  private aggs!: RetractingAggregates;

  constructor(private readonly node: OverAggNode) {
    super();
  }

  override open(): void {
    const ctx = this.getRuntimeContext();
    this.rows = ctx.getMapState(new MapStateDescriptor<number, Row[]>('rows'));
    this.acc = ctx.getState(new ValueStateDescriptor<GroupState>('acc'));
    this.last = ctx.getState(new ValueStateDescriptor<number>('last'));
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
    this.aggs = new RetractingAggregates(this.node.aggs);
  }

  processElement(row: Row, ctx: KeyedProcessContext<string>, out: Collector<Row>): void {
    const { time, preceding, unit } = this.node;
    if (time === 'proctime') {
      if (unit === 'RANGE' && preceding !== undefined) {
        const now = ctx.timerService().currentProcessingTime();
        const list = this.rows.get(now);
        if (list === undefined) {
          this.rows.put(now, [row]);
          ctx.timerService().registerProcessingTimeTimer(now + 1);
        } else {
          list.push(row);
          this.rows.put(now, list);
        }
        return;
      }
      if (preceding === undefined) {
        const acc = this.state();
        this.accumulate(acc, row);
        this.acc.update(acc);
        out.collect(this.output(row, acc));
        return;
      }
      const now = ctx.timerService().currentProcessingTime();
      const list = this.rows.get(now) ?? [];
      list.push(row);
      this.rows.put(now, list);
      this.processRows([row], out);
      return;
    }
    const ts = row[this.node.timeField];
    if (typeof ts !== 'number') return; // a NULL time attribute: no place in the order
    if (preceding === undefined) {
      if (ts <= ctx.currentWatermark()) return; // late
    } else if (ts <= (this.last.value() ?? 0)) return; // late for this partition (Flink starts the partition at 0)
    const list = this.rows.get(ts);
    if (list === undefined) {
      this.rows.put(ts, [row]);
      ctx.timerService().registerEventTimeTimer(ts);
    } else {
      list.push(row);
      this.rows.put(ts, list);
    }
  }

  override onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<Row>): void {
    const proctime = ctx.timeDomain() === 'PROCESSING_TIME';
    const at = proctime ? timestamp - 1 : timestamp;
    const stored = this.rows.get(at);
    if (this.node.preceding !== undefined && !proctime) this.last.update(timestamp);
    if (stored === undefined) return;
    const list = [...stored]; // a copy: a bounded ROWS frame may retract from the stored list while this one is read
    const { unit, preceding } = this.node;
    if (preceding === undefined) {
      // unbounded: the rows leave state once accumulated
      this.rows.remove(at);
      const acc = this.state();
      if (unit === 'ROWS') {
        for (const r of list) {
          this.accumulate(acc, r);
          out.collect(this.output(r, acc));
        }
      } else {
        for (const r of list) this.accumulate(acc, r);
        for (const r of list) out.collect(this.output(r, acc));
      }
      this.acc.update(acc);
      return;
    }
    if (unit === 'ROWS') {
      this.processRows(list, out);
      return;
    }
    // bounded RANGE: retract the timestamps before the frame, then the peers share one result
    const acc = this.state();
    const bound = at - preceding;
    const gone: number[] = [];
    for (const [t, rows] of this.rows.entries()) {
      if (t >= bound) continue;
      for (const r of rows) this.aggs.apply(acc, r, -1);
      gone.push(t);
    }
    for (const r of list) this.aggs.apply(acc, r, 1);
    for (const t of gone) this.rows.remove(t);
    for (const r of list) out.collect(this.output(r, acc));
    this.acc.update(acc);
  }

  /**
   * Bounded ROWS: each of `list` (rows already in `rows`) enters the frame and, once the
   * frame holds `preceding + 1` rows, pushes out the oldest (smallest timestamp, first arrived).
   */
  private processRows(list: readonly Row[], out: Collector<Row>): void {
    const size = (this.node.preceding as number) + 1;
    const acc = this.state();
    let count = this.count.value() ?? 0;
    for (const r of list) {
      if (count >= size) {
        let oldest = Number.POSITIVE_INFINITY;
        for (const t of this.rows.keys()) if (t < oldest) oldest = t;
        const rows = this.rows.get(oldest) as Row[];
        const retracted = rows.shift() as Row;
        if (rows.length === 0) this.rows.remove(oldest);
        else this.rows.put(oldest, rows);
        this.aggs.apply(acc, retracted, -1);
      } else count++;
      this.aggs.apply(acc, r, 1);
      out.collect(this.output(r, acc));
    }
    this.count.update(count);
    this.acc.update(acc);
  }

  /** Accumulates a row of an unbounded frame: nothing is retracted, so MIN/MAX keep their extreme without the multiset. */
  private accumulate(acc: GroupState, row: Row): void {
    this.aggs.apply(acc, row, 1);
    for (const a of acc.accs) delete a.m;
  }

  private state(): GroupState {
    return this.acc.value() ?? this.aggs.create();
  }

  private output(row: Row, acc: GroupState): Row {
    const results = this.aggs.results(acc);
    const o: Row = { ...row };
    this.node.aggFields.forEach((name, i) => {
      o[name] = results[i];
    });
    return o;
  }
}

/** The stream of an over-agg node, keyed by its partition keys (one partition when there are none). */
export function buildOverAgg(input: DataStream<Row>, node: OverAggNode): DataStream<Row> {
  const fns = node.partitionKeys.map((k) => compile(k.code));
  const keyOf = (r: Row) => JSON.stringify(fns.map((f) => f(r) ?? null));
  const frame = node.preceding === undefined ? 'UNBOUNDED' : String(node.preceding);
  return input
    .keyBy(keyOf)
    .process(new OverAggFunction(node))
    .name(`over aggregate (${node.time} ${node.unit} ${frame} preceding)`)
    .uid(node.uid);
}
