//! Flink's WindowRank and WindowDeduplicate for SQL: the Top-N (or the first/last row) of each partition and window, emitted once when the window ends.

import type { DataStream } from '../../api/datastream.ts';
import { KeyedProcessFunction } from '../../api/functions.ts';
import type { Collector, KeyedProcessContext, OnTimerContext } from '../../actors/operators.ts';
import { ValueStateDescriptor } from '../../state/descriptors.ts';
import type { ValueState } from '../../state/state-types.ts';
import { SQL_FUNCTIONS } from '../functions.ts';
import type { WindowRankNode } from '../plan-window-rank.ts';
import { rankComparator } from './rank.ts';

type Row = Record<string, unknown>;

function compile(code: string): (r: Row) => unknown {
  return new Function('$', `"use strict"; return function (r) { return ${code}; };`)(SQL_FUNCTIONS) as (r: Row) => unknown;
}

/**
 * The operator of a window-rank node, keyed by the partition keys and the window. State per key:
 * the top rows in order, at most `limit` (rows of equal sort keys in arrival order); for window
 * deduplication the one row kept, replaced by a row of an earlier time (keep first) or of the
 * same or a later time (keep last), as Flink's RowTimeWindowDeduplicateProcessor. A timer at the
 * window's last millisecond emits the rows (with their row numbers) and clears the state; a row
 * whose window has passed that time already is dropped (Flink's late rows of a window).
 */
export class WindowRankFunction extends KeyedProcessFunction<string, Row, Row> {
  private top!: ValueState<Row[]>;
  private compare!: (x: Row, y: Row) => number;

  constructor(private readonly node: WindowRankNode) {
    super();
  }

  override open(): void {
    this.top = this.getRuntimeContext().getState(new ValueStateDescriptor<Row[]>('top'));
    this.compare = rankComparator(this.node);
  }

  processElement(row: Row, ctx: KeyedProcessContext<string>): void {
    const { window, limit, dedup } = this.node;
    const last = (row[window.end] as number) - 1;
    if (last <= ctx.currentWatermark()) return; // the window has been emitted
    const list = this.top.value();
    if (list === undefined || list === null) {
      this.top.update([row]);
      ctx.timerService().registerEventTimeTimer(last);
      return;
    }
    if (dedup !== undefined) {
      const t = row[dedup.timeField] as number;
      const k = list[0][dedup.timeField] as number;
      if (dedup.keep === 'first' ? t < k : t >= k) this.top.update([row]);
      return;
    }
    // after the last row that is not greater: equal sort keys keep arrival order
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(list[mid], row) <= 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= limit) return;
    list.splice(lo, 0, row);
    if (list.length > limit) list.length = limit;
    this.top.update(list);
  }

  override onTimer(_timestamp: number, _ctx: OnTimerContext<string>, out: Collector<Row>): void {
    const list = this.top.value();
    this.top.clear();
    if (list === undefined || list === null) return;
    const field = this.node.rankField;
    list.forEach((r, i) => out.collect(field === undefined ? r : { ...r, [field]: i + 1 }));
  }
}

/** The stream of a window-rank node, keyed by its partition keys and the window. */
export function buildWindowRank(input: DataStream<Row>, node: WindowRankNode): DataStream<Row> {
  const fns = node.partitionKeys.map((k) => compile(k.code));
  const { start, end } = node.window;
  const keyOf = (r: Row) => JSON.stringify([r[start], r[end], ...fns.map((f) => f(r) ?? null)]);
  return input
    .keyBy(keyOf)
    .process(new WindowRankFunction(node))
    .name(node.dedup !== undefined ? `window deduplicate (keep ${node.dedup.keep})` : `window rank (ROW_NUMBER <= ${node.limit})`)
    .uid(node.uid);
}
