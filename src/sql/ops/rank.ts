//! Flink's Rank and Deduplicate for SQL: ROW_NUMBER() Top-N per partition with the retractions a changed top emits, and keep-first/keep-last deduplication on a time attribute.

import type { DataStream } from '../../api/datastream.ts';
import { KeyedProcessFunction } from '../../api/functions.ts';
import type { Collector, KeyedProcessContext } from '../../actors/operators.ts';
import { ValueStateDescriptor } from '../../state/descriptors.ts';
import type { ValueState } from '../../state/state-types.ts';
import { SQL_FUNCTIONS } from '../functions.ts';
import { ROW_KIND, type RowKind } from '../plan.ts';
import { withoutKind, type DeduplicateNode, type RankNode } from '../plan-changelog.ts';

type Row = Record<string, unknown>;

function compile(code: string): (r: Row) => unknown {
  return new Function('$', `"use strict"; return function (r) { return ${code}; };`)(SQL_FUNCTIONS) as (r: Row) => unknown;
}

/** SQL order of two values: NULL is the smallest (Flink's default: NULLS FIRST ascending, NULLS LAST descending). */
function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
  if (b === null || b === undefined) return 1;
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/** The comparator of a rank's ORDER BY. */
export function rankComparator(node: Pick<RankNode, 'orderBy'>): (x: Row, y: Row) => number {
  const keys = node.orderBy.map((o) => ({ f: compile(o.expr.code), desc: o.desc }));
  return (x, y) => {
    for (const k of keys) {
      const c = compareValues(k.f(x), k.f(y));
      if (c !== 0) return k.desc ? -c : c;
    }
    return 0;
  };
}

function sameRow(a: Row, b: Row): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  return true;
}

/**
 * The operator of a rank node, keyed by the partition keys. State per partition: its rows in
 * order (rows of equal sort keys in arrival order, a new one after the old ones) — only the top
 * `limit` for insert-only input, since a row that left the top never comes back (Flink's
 * AppendOnlyTopNFunction), every row for updating input (Flink's RetractableTopNFunction).
 *
 * Each change of the top is emitted as Flink does: with the row number in the output, the
 * positions that changed in rank order, `-U` old / `+U` new at each, `+I` for a position that is
 * new, `-D` for one that is gone; without it, `-D` for the rows that left the top, then `+I` for
 * the rows that entered.
 */
export class RankFunction extends KeyedProcessFunction<string, Row, Row> {
  private state!: ValueState<Row[]>;
  private compare!: (x: Row, y: Row) => number;

  constructor(private readonly node: RankNode) {
    super();
  }

  override open(): void {
    this.state = this.getRuntimeContext().getState(new ValueStateDescriptor<Row[]>('rows'));
    this.compare = rankComparator(this.node);
  }

  processElement(input: Row, _ctx: KeyedProcessContext<string>, out: Collector<Row>): void {
    const n = this.node.limit;
    const kind = input[ROW_KIND] as RowKind | undefined;
    const retract = kind === '-U' || kind === '-D';
    const list = this.state.value() ?? [];
    const before = list.slice(0, n);
    if (retract) {
      const row = withoutKind(input);
      const at = list.findIndex((x) => sameRow(x, row));
      if (at < 0) return; // never seen (Flink: the state was cleaned up); nothing to retract
      list.splice(at, 1);
    } else {
      const row = kind === undefined ? input : withoutKind(input);
      // after the last row that is not greater: equal sort keys keep arrival order
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.compare(list[mid], row) <= 0) lo = mid + 1;
        else hi = mid;
      }
      if (lo >= n && this.node.inputUpdating !== true) return; // not in the top, and never will be
      list.splice(lo, 0, row);
      if (this.node.inputUpdating !== true && list.length > n) list.length = n;
    }
    if (list.length === 0) this.state.clear();
    else this.state.update(list);
    this.emitChanges(before, list.slice(0, n), out);
  }

  private emitChanges(before: Row[], after: Row[], out: Collector<Row>): void {
    const field = this.node.rankField;
    if (field === undefined) {
      for (const b of before) if (!after.includes(b)) out.collect({ ...b, [ROW_KIND]: '-D' });
      for (const a of after) if (!before.includes(a)) out.collect(a);
      return;
    }
    const len = Math.max(before.length, after.length);
    for (let i = 0; i < len; i++) {
      const b = before[i];
      const a = after[i];
      if (b !== undefined && a !== undefined) {
        if (b === a) continue;
        out.collect({ ...b, [field]: i + 1, [ROW_KIND]: '-U' });
        out.collect({ ...a, [field]: i + 1, [ROW_KIND]: '+U' });
      } else if (a !== undefined) out.collect({ ...a, [field]: i + 1 });
      else if (b !== undefined) out.collect({ ...b, [field]: i + 1, [ROW_KIND]: '-D' });
    }
  }
}

/**
 * The operator of a deduplicate node, keyed by the partition keys, keeping one row per key:
 * keep-first on processing time emits the first row only (insert-only); keep-last on processing
 * time replaces the kept row with every new one; on event time, keep-first replaces it with a
 * row of an earlier rowtime and keep-last with a row of the same or a later one (Flink's
 * RowTimeDeduplicateFunction). A replacement emits `-U` old, `+U` new.
 */
export class DeduplicateFunction extends KeyedProcessFunction<string, Row, Row> {
  private state!: ValueState<Row>;

  constructor(private readonly node: DeduplicateNode) {
    super();
  }

  override open(): void {
    this.state = this.getRuntimeContext().getState(new ValueStateDescriptor<Row>('kept'));
  }

  processElement(row: Row, _ctx: KeyedProcessContext<string>, out: Collector<Row>): void {
    const kept = this.state.value();
    if (kept === undefined || kept === null) {
      this.state.update(row);
      out.collect(row);
      return;
    }
    const { keep, time, timeField } = this.node;
    let replace: boolean;
    if (time === 'proctime') replace = keep === 'last';
    else {
      const t = row[timeField as string] as number;
      const k = kept[timeField as string] as number;
      replace = keep === 'first' ? t < k : t >= k;
    }
    if (!replace) return;
    this.state.update(row);
    out.collect({ ...kept, [ROW_KIND]: '-U' });
    out.collect({ ...row, [ROW_KIND]: '+U' });
  }
}

function partitionKey(keys: readonly { code: string }[]): (r: Row) => string {
  const fns = keys.map((k) => compile(k.code));
  return (r) => JSON.stringify(fns.map((f) => f(r) ?? null));
}

/** The stream of a rank node (Top-N), keyed by its partition keys. */
export function buildRank(input: DataStream<Row>, node: RankNode): DataStream<Row> {
  return input
    .keyBy(partitionKey(node.partitionKeys))
    .process(new RankFunction(node))
    .name(`rank (ROW_NUMBER <= ${node.limit})`)
    .uid(node.uid);
}

/** The stream of a deduplicate node, keyed by its partition keys. */
export function buildDeduplicate(input: DataStream<Row>, node: DeduplicateNode): DataStream<Row> {
  return input
    .keyBy(partitionKey(node.keys))
    .process(new DeduplicateFunction(node))
    .name(`deduplicate (keep ${node.keep} on ${node.time})`)
    .uid(node.uid);
}
