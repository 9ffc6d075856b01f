//! The SQL joins workers run from a plan's join node: the regular join (both sides in keyed state, outer-join changelogs and retractions as Flink's StreamingJoinOperator), the interval join and the window join.

import type { DataStream } from '../../api/datastream.ts';
import { KeyedCoProcessFunction } from '../../api/functions.ts';
import type { Collector, KeyedProcessContext, OnTimerContext } from '../../actors/operators.ts';
import { ListStateDescriptor, MapStateDescriptor } from '../../state/descriptors.ts';
import type { ListState, MapState } from '../../state/state-types.ts';
import { StateTtlConfig } from '../../state/ttl.ts';
import { TimeWindow } from '../../windows/windows.ts';
import { EventTimeTrigger } from '../../windows/triggers.ts';
import type { WindowAssigner } from '../../windows/assigners.ts';
import { SQL_FUNCTIONS } from '../functions.ts';
import { ROW_KIND, type JoinNode, type RowKind, type WindowAssignNode } from '../plan.ts';

type Row = Record<string, unknown>;

/** The compiled parts of a join node, shared by the three operators. */
interface Compiled {
  leftKey: (r: Row) => string;
  rightKey: (r: Row) => string;
  /** Whether a key (as made by leftKey/rightKey) holds a NULL among the equi-keys: it never matches. */
  nullKey: (key: string) => boolean;
  /** The output row of l and r (either may be null: the padding of an outer join). */
  build: (l: Row | null, r: Row | null) => Row;
  /** The residual condition over an output row. */
  condition: (r: Row) => boolean;
}

function compile(node: JoinNode, extraLeft: string[] = [], extraRight: string[] = []): Compiled {
  const fn = (code: string) =>
    new Function('$', `"use strict"; return function (r) { return ${code}; };`)(SQL_FUNCTIONS) as (r: Row) => unknown;
  const keyFn = (keys: JoinNode['leftKeys'], extra: string[]) => {
    const fs = keys.map((k) => fn(k.code));
    return (r: Row) => JSON.stringify([...fs.map((f) => f(r) ?? null), ...extra.map((c) => r[c] ?? null)]);
  };
  const n = node.leftKeys.length;
  const body = node.output
    .map((o) => `${JSON.stringify(o.name)}: ${o.side} === null ? null : ${o.side}[${JSON.stringify(o.column)}]`)
    .join(', ');
  const build = new Function(`"use strict"; return function (l, r) { return { ${body} }; };`)() as Compiled['build'];
  const cond = node.condition !== undefined ? fn(node.condition.code) : undefined;
  return {
    leftKey: keyFn(node.leftKeys, extraLeft),
    rightKey: keyFn(node.rightKeys, extraRight),
    nullKey: (key) => {
      if (n === 0) return false;
      if (n === 1) return key.startsWith('[null]') || key.startsWith('[null,');
      const values = JSON.parse(key) as unknown[];
      for (let i = 0; i < n; i++) if (values[i] === null) return true;
      return false;
    },
    build,
    condition: cond === undefined ? () => true : (r) => cond(r) === true,
  };
}

function emit(out: Collector<Row>, row: Row, kind: RowKind): void {
  if (kind !== '+I') row[ROW_KIND] = kind;
  out.collect(row);
}

/** One distinct row of a side in state: how many times it is there, and (outer sides) how many rows of the other side it joins. */
interface Entry {
  row: Row;
  n: number;
  a: number;
}

/**
 * Flink's StreamingJoinOperator as a keyed co-process function: per join key, each side's rows
 * (with their multiplicity and, on an outer side, their number of matches) in map state. An inner
 * join forwards the input's row kind; an outer join emits +I/-D, retracting a NULL-padded row when
 * its first match arrives and emitting it again when its last match goes.
 *
 * @internal exported for the operator tests.
 */
export class RegularJoin extends KeyedCoProcessFunction<string, Row, Row, Row> {
  private c!: Compiled;
  private left!: MapState<string, Entry>;
  private right!: MapState<string, Entry>;

  constructor(private readonly node: JoinNode) {
    super();
  }

  override open(): void {
    this.c = compile(this.node);
    const ctx = this.getRuntimeContext();
    const left = new MapStateDescriptor<string, Entry>('left');
    const right = new MapStateDescriptor<string, Entry>('right');
    if (this.node.stateTtl !== undefined) {
      const ttl = StateTtlConfig.newBuilder(this.node.stateTtl).build();
      left.enableTimeToLive(ttl);
      right.enableTimeToLive(ttl);
    }
    this.left = ctx.getMapState(left);
    this.right = ctx.getMapState(right);
  }

  processElement1(row: Row, ctx: KeyedProcessContext<string>, out: Collector<Row>): void {
    this.process(row, true, ctx.getCurrentKey(), out);
  }

  processElement2(row: Row, ctx: KeyedProcessContext<string>, out: Collector<Row>): void {
    this.process(row, false, ctx.getCurrentKey(), out);
  }

  private process(input: Row, isLeft: boolean, key: string, out: Collector<Row>): void {
    const t = this.node.joinType;
    const inputIsOuter = isLeft ? t === 'LEFT' || t === 'FULL' : t === 'RIGHT' || t === 'FULL';
    const otherIsOuter = isLeft ? t === 'RIGHT' || t === 'FULL' : t === 'LEFT' || t === 'FULL';
    const mine = isLeft ? this.left : this.right;
    const other = isLeft ? this.right : this.left;
    const kind = (input[ROW_KIND] as RowKind | undefined) ?? '+I';
    const columns = isLeft ? this.node.leftColumns : this.node.rightColumns;
    // the row as stored: an insert-only input's row is its own (rows are not shared downstream), a changelog row without its kind
    let row = input;
    if (input[ROW_KIND] !== undefined) {
      row = {};
      for (const col of columns) row[col] = input[col];
    }
    let id = '[';
    for (let i = 0; i < columns.length; i++) id += (i === 0 ? '' : ',') + (JSON.stringify(row[columns[i]]) ?? 'null');
    id += ']';
    const pair = (o: Row): Row => (isLeft ? this.c.build(row, o) : this.c.build(o, row));
    const padMine = (): Row => (isLeft ? this.c.build(row, null) : this.c.build(null, row));
    const padOther = (o: Row): Row => (isLeft ? this.c.build(null, o) : this.c.build(o, null));

    // the other side's rows this one joins: same key (never a NULL one) and the residual condition
    const matches: { id: string; e: Entry; joined: Row }[] = [];
    if (!this.c.nullKey(key)) {
      for (const [oid, e] of other.isEmpty() ? [] : [...other.entries()]) {
        const joined = pair(e.row);
        if (this.c.condition(joined)) matches.push({ id: oid, e, joined });
      }
    }
    let matched = 0;
    for (const m of matches) matched += m.e.n;

    if (kind === '+I' || kind === '+U') {
      if (inputIsOuter && matches.length === 0) {
        emit(out, padMine(), '+I');
        this.add(mine, id, row, 0);
        return;
      }
      // as Flink, row by row of the other side: its NULL-padded row retracted (its first match), then the joined row
      // (a GROUP BY downstream sees each key's count dip by one, never to zero)
      const outKind: RowKind = inputIsOuter || otherIsOuter ? '+I' : kind;
      for (const m of matches) {
        const firstMatch = otherIsOuter && m.e.a === 0;
        for (let i = 0; i < m.e.n; i++) {
          if (firstMatch) emit(out, padOther(m.e.row), '-D');
          emit(out, i === 0 ? m.joined : pair(m.e.row), outKind);
        }
        if (otherIsOuter) other.put(m.id, { ...m.e, a: m.e.a + 1 });
      }
      this.add(mine, id, row, inputIsOuter ? matched : 0);
      return;
    }
    // a retraction (-U, -D)
    this.retract(mine, id);
    if (matches.length === 0) {
      if (inputIsOuter) emit(out, padMine(), '-D');
      return;
    }
    // as Flink: -D from an outer side, else the input's own kind (-U or -D); row by row of the other side, the joined
    // row retracted, then its NULL-padded row again (its last match gone)
    const outKind: RowKind = inputIsOuter ? '-D' : kind;
    for (const m of matches) {
      const lastMatch = otherIsOuter && m.e.a === 1;
      for (let i = 0; i < m.e.n; i++) {
        emit(out, i === 0 ? m.joined : pair(m.e.row), outKind);
        if (lastMatch) emit(out, padOther(m.e.row), '+I');
      }
      if (otherIsOuter) other.put(m.id, { ...m.e, a: m.e.a - 1 });
    }
  }

  private add(state: MapState<string, Entry>, id: string, row: Row, associations: number): void {
    const e = state.get(id);
    state.put(id, e === undefined ? { row, n: 1, a: associations } : { row: e.row, n: e.n + 1, a: e.a });
  }

  private retract(state: MapState<string, Entry>, id: string): void {
    const e = state.get(id);
    if (e === undefined) return;
    if (e.n <= 1) state.remove(id);
    else state.put(id, { ...e, n: e.n - 1 });
  }
}

/**
 * The window join (Flink's WindowJoinOperator), keyed by the equi-keys and the window: each side's
 * rows of a window in list state until the watermark passes the window's end, then every pair
 * that meets the condition (and, for outer joins, each unmatched row padded with NULLs), once.
 * Rows behind the watermark for their window are dropped, as Flink drops them.
 *
 * @internal exported for the operator tests.
 */
export class WindowJoin extends KeyedCoProcessFunction<string, Row, Row, Row> {
  private c!: Compiled;
  private left!: ListState<Row>;
  private right!: ListState<Row>;

  constructor(private readonly node: JoinNode) {
    super();
  }

  override open(): void {
    const w = this.node.window as NonNullable<JoinNode['window']>;
    this.c = compile(this.node, [w.leftStart, w.leftEnd], [w.rightStart, w.rightEnd]);
    this.left = this.getRuntimeContext().getListState(new ListStateDescriptor<Row>('left'));
    this.right = this.getRuntimeContext().getListState(new ListStateDescriptor<Row>('right'));
  }

  processElement1(row: Row, ctx: KeyedProcessContext<string>): void {
    const w = this.node.window as NonNullable<JoinNode['window']>;
    this.buffer(row, row[w.leftEnd] as number, this.left, ctx);
  }

  processElement2(row: Row, ctx: KeyedProcessContext<string>): void {
    const w = this.node.window as NonNullable<JoinNode['window']>;
    this.buffer(row, row[w.rightEnd] as number, this.right, ctx);
  }

  private buffer(row: Row, end: number, state: ListState<Row>, ctx: KeyedProcessContext<string>): void {
    if (end - 1 <= ctx.currentWatermark()) return; // late for its window
    state.add(row);
    ctx.timerService().registerEventTimeTimer(end - 1);
  }

  override onTimer(_timestamp: number, ctx: OnTimerContext<string>, out: Collector<Row>): void {
    const t = this.node.joinType;
    const lefts = [...this.left.get()];
    const rights = [...this.right.get()];
    this.left.clear();
    this.right.clear();
    const canMatch = !this.c.nullKey(ctx.getCurrentKey());
    const rightMatched = new Array<boolean>(rights.length).fill(false);
    for (const l of lefts) {
      let any = false;
      if (canMatch) {
        for (let i = 0; i < rights.length; i++) {
          const joined = this.c.build(l, rights[i]);
          if (!this.c.condition(joined)) continue;
          any = true;
          rightMatched[i] = true;
          out.collect(joined);
        }
      }
      if (!any && (t === 'LEFT' || t === 'FULL')) out.collect(this.c.build(l, null));
    }
    if (t === 'RIGHT' || t === 'FULL')
      for (let i = 0; i < rights.length; i++) if (!rightMatched[i]) out.collect(this.c.build(null, rights[i]));
  }
}

/** Builds a join node's operator on its two inputs; state and timers under the node's uid. */
export function buildJoin(left: DataStream<Row>, right: DataStream<Row>, node: JoinNode): DataStream<Row> {
  const extra =
    node.window !== undefined
      ? [
          [node.window.leftStart, node.window.leftEnd],
          [node.window.rightStart, node.window.rightEnd],
        ]
      : [[], []];
  const keys = compile(node, extra[0], extra[1]);
  const fn =
    node.strategy === 'window' ? new WindowJoin(node) : node.strategy === 'interval' ? new IntervalJoin(node) : new RegularJoin(node);
  return left
    .connect(right)
    .keyBy(keys.leftKey, keys.rightKey)
    .process<Row>(fn, node.interval !== undefined ? { watermarkDelay: intervalJoinWatermarkDelay(node.interval) } : {})
    .name(`${{ regular: 'Join', interval: 'IntervalJoin', window: 'WindowJoin', temporal: 'TemporalJoin' }[node.strategy]}(${node.joinType})`)
    .uid(node.uid);
}

/**
 * How far an interval join holds its output watermark back (Flink's RowTimeIntervalJoin
 * `getMaxOutputDelay`, with no allowed lateness): the larger of how far a right row may lie after
 * its left partner and how far before it, bounds made inclusive (an exclusive one moved by 1 ms,
 * as Flink's planner does). A row that arrives at or after the watermark W joins only rows within
 * that delay of its own time, so both time columns of a pair are at least W − delay: not behind
 * the watermark passed on, and a window or OVER aggregate after the join counts the pair, as on
 * Flink. (A pair made by a row that came behind the watermark can still be late, on Flink too.)
 */
export function intervalJoinWatermarkDelay(iv: NonNullable<JoinNode['interval']>): number {
  const lower = iv.lowerInclusive ? iv.lower : iv.lower + 1;
  const upper = iv.upperInclusive ? iv.upper : iv.upper - 1;
  return Math.max(0, upper, -lower);
}

/** A row of one side of an interval join in state, and whether it has joined a row yet (outer joins pad the others). */
interface Timed {
  row: Row;
  m: boolean;
}

/**
 * Flink SQL's row-time interval join (TimeIntervalJoin), keyed by the equi-keys: a left row at
 * `tl` joins the right rows at `tr` with `tr − tl` within the bounds. Each row joins the other
 * side's rows in state when it arrives and stays in state while a row of the other side that
 * could match may still come before the watermark: a left row until the watermark reaches
 * `tl + upper`, a right row until it reaches `tr − lower`; then an outer side's row that never
 * matched is emitted padded with NULLs. A row behind the watermark still joins what is in state
 * (Flink drops no late rows here), and is not kept. The operator passes the watermark on
 * {@link intervalJoinWatermarkDelay} behind its input's (see {@link buildJoin}); its timers and
 * `currentWatermark()` follow the input's. An output row keeps both rowtime columns (either may
 * order a window or OVER after the join); its record timestamp is the arriving row's, a padded
 * row's that of the timer that emits it, as Flink's co-process operator stamps them.
 *
 * @internal exported for the operator tests.
 */
export class IntervalJoin extends KeyedCoProcessFunction<string, Row, Row, Row> {
  private c!: Compiled;
  private left!: MapState<number, Timed[]>;
  private right!: MapState<number, Timed[]>;

  constructor(private readonly node: JoinNode) {
    super();
  }

  override open(): void {
    this.c = compile(this.node);
    this.left = this.getRuntimeContext().getMapState(new MapStateDescriptor<number, Timed[]>('left'));
    this.right = this.getRuntimeContext().getMapState(new MapStateDescriptor<number, Timed[]>('right'));
  }

  private get iv(): NonNullable<JoinNode['interval']> {
    return this.node.interval as NonNullable<JoinNode['interval']>;
  }

  /** Whether d = tr − tl is within the bounds. */
  private within(d: number): boolean {
    const iv = this.iv;
    return (iv.lowerInclusive ? d >= iv.lower : d > iv.lower) && (iv.upperInclusive ? d <= iv.upper : d < iv.upper);
  }

  processElement1(row: Row, ctx: KeyedProcessContext<string>, out: Collector<Row>): void {
    this.process(row, true, ctx, out);
  }

  processElement2(row: Row, ctx: KeyedProcessContext<string>, out: Collector<Row>): void {
    this.process(row, false, ctx, out);
  }

  private process(row: Row, isLeft: boolean, ctx: KeyedProcessContext<string>, out: Collector<Row>): void {
    const t = this.node.joinType;
    const iv = this.iv;
    const time = row[isLeft ? iv.leftTime : iv.rightTime];
    if (typeof time !== 'number') return; // a NULL rowtime joins nothing
    const other = isLeft ? this.right : this.left;
    let matched = false;
    if (!this.c.nullKey(ctx.getCurrentKey())) {
      for (const [ot, rows] of [...other.entries()]) {
        if (!this.within(isLeft ? ot - time : time - ot)) continue;
        let changed = false;
        const next = rows.map((o) => {
          const joined = isLeft ? this.c.build(row, o.row) : this.c.build(o.row, row);
          if (!this.c.condition(joined)) return o;
          out.collect(joined);
          matched = true;
          if (o.m) return o;
          changed = true;
          return { row: o.row, m: true };
        });
        if (changed) other.put(ot, next);
      }
    }
    // kept while a row of the other side that could match may still come on time
    const until = isLeft ? time + iv.upper : time - iv.lower;
    const outer = isLeft ? t === 'LEFT' || t === 'FULL' : t === 'RIGHT' || t === 'FULL';
    if (ctx.currentWatermark() < until) {
      const mine = isLeft ? this.left : this.right;
      mine.put(time, [...(mine.get(time) ?? []), { row, m: matched }]);
      ctx.timerService().registerEventTimeTimer(until);
    } else if (outer && !matched) {
      out.collect(isLeft ? this.c.build(row, null) : this.c.build(null, row));
    }
  }

  override onTimer(_timestamp: number, ctx: OnTimerContext<string>, out: Collector<Row>): void {
    const t = this.node.joinType;
    const w = ctx.currentWatermark();
    const iv = this.iv;
    for (const isLeft of [true, false]) {
      const state = isLeft ? this.left : this.right;
      const outer = isLeft ? t === 'LEFT' || t === 'FULL' : t === 'RIGHT' || t === 'FULL';
      for (const [time, rows] of [...state.entries()]) {
        if ((isLeft ? time + iv.upper : time - iv.lower) > w) continue;
        state.remove(time);
        if (outer) for (const r of rows) if (!r.m) out.collect(isLeft ? this.c.build(r.row, null) : this.c.build(null, r.row));
      }
    }
  }
}

/**
 * The windows of a cascading window aggregate: each row's window is the one its window_start and
 * window_end columns name (Flink's WindowAttachedWindowingStrategy), fired by the watermark.
 */
export class WindowAttachedAssigner implements WindowAssigner<unknown, TimeWindow> {
  readonly eventTime = true;
  constructor(
    private readonly start: string,
    private readonly end: string,
  ) {}
  assignWindows(element: unknown): TimeWindow[] {
    const r = element as Row;
    return [new TimeWindow(r[this.start] as number, r[this.end] as number)];
  }
  defaultTrigger(): EventTimeTrigger {
    return EventTimeTrigger.create();
  }
}

/** Window assignment alone (a window TVF not aggregated): a copy of each row per window, with the window's columns. */
export function buildWindowAssign(
  input: DataStream<Row>,
  node: WindowAssignNode,
  assigner: WindowAssigner<unknown, TimeWindow>,
): DataStream<Row> {
  const column = node.timeColumn;
  const context = { currentProcessingTime: () => Date.now() };
  return input
    .flatMap<Row>((r: Row, out: Collector<Row>) => {
      const ts = r[column];
      if (typeof ts !== 'number') return; // a NULL time is in no window
      for (const w of assigner.assignWindows(r, ts, context))
        out.collect({ ...r, window_start: w.start, window_end: w.end, window_time: w.end - 1 });
    })
    .name(`window table function (${node.window.kind})`)
    .uid(node.uid);
}
