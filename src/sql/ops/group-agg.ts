//! Flink's GroupAggregate for SQL: non-windowed GROUP BY with retractions, its accumulators (COUNT, SUM, AVG, MIN/MAX over a multiset, DISTINCT) kept in keyed state.

import type { DataStream } from '../../api/datastream.ts';
import { KeyedProcessFunction } from '../../api/functions.ts';
import type { Collector, KeyedProcessContext } from '../../actors/operators.ts';
import { ValueStateDescriptor } from '../../state/descriptors.ts';
import type { ValueState } from '../../state/state-types.ts';
import { SQL_FUNCTIONS } from '../functions.ts';
import { ROW_KIND, type AggCall, type RowKind } from '../plan.ts';
import type { GroupAggNode } from '../plan-changelog.ts';
import type { StreamOperator } from '../../actors/operator.ts';
import { MiniBatchGroupAggOperator, miniBatchOf } from './group-agg-mini-batch.ts';

type Row = Record<string, unknown>;

/**
 * One aggregate call's accumulator, plain data so that every state backend and savepoint keeps it
 * as is: `n` the values counted, `v` the sum (SUM, AVG) or the current extreme (MIN, MAX), `m` the
 * multiset of values MIN/MAX need to retract their extreme, `d` the multiset of DISTINCT values.
 */
export interface RetractAcc {
  n: number;
  v: number | string | boolean | null;
  m?: Record<string, number>;
  d?: Record<string, number>;
}

/** A group's state: how many rows it holds (0 ends the group: `-D`) and its accumulators. */
export interface GroupState {
  rows: number;
  accs: RetractAcc[];
}

/** A value as a multiset key, and back: numbers, strings and booleans keep their type. */
export function valueKey(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return `n${String(v)}`;
    case 'string':
      return `s${v}`;
    case 'boolean':
      return v ? 'b1' : 'b0';
    default:
      return `j${JSON.stringify(v)}`;
  }
}

function keyValue(k: string): unknown {
  switch (k[0]) {
    case 'n':
      return Number(k.slice(1));
    case 's':
      return k.slice(1);
    case 'b':
      return k === 'b1';
    default:
      return JSON.parse(k.slice(1)) as unknown;
  }
}

function better(fn: 'MIN' | 'MAX', a: unknown, b: unknown): boolean {
  return fn === 'MIN' ? (a as number) < (b as number) : (a as number) > (b as number);
}

/** Adds (`times` = 1) or retracts (-1) one non-NULL value, after DISTINCT has decided it counts. */
function addValue(c: AggCall, acc: RetractAcc, v: unknown, times: 1 | -1): void {
  switch (c.fn) {
    case 'COUNT':
      acc.n += times;
      return;
    case 'SUM':
    case 'AVG':
      acc.n += times;
      acc.v = acc.n === 0 ? null : ((acc.v as number | null) ?? 0) + (v as number) * times;
      return;
    case 'MIN':
    case 'MAX': {
      const m = (acc.m ??= {});
      const k = valueKey(v);
      const left = (m[k] ?? 0) + times;
      if (left === 0) delete m[k];
      else m[k] = left;
      acc.n += times;
      if (times === 1) {
        if (acc.v === null || better(c.fn, v, acc.v)) acc.v = v as number;
      } else if (left <= 0 && acc.v !== null && valueKey(acc.v) === k) {
        // the extreme left the multiset: find the next one (Flink's MinWithRetractAggFunction)
        let best: unknown = null;
        for (const [key, count] of Object.entries(m)) {
          if (count <= 0) continue;
          const x = keyValue(key);
          if (best === null || better(c.fn, x, best)) best = x;
        }
        acc.v = best as number | null;
      }
      return;
    }
  }
}

/** The accumulators and result of a GROUP BY's aggregate calls with retraction. */
export class RetractingAggregates {
  private readonly args: ((r: Row) => unknown)[] | undefined[];
  private readonly filters: (((r: Row) => unknown) | undefined)[];

  constructor(private readonly calls: readonly AggCall[]) {
    this.args = calls.map((c) => (c.arg !== undefined ? compile(c.arg.code) : undefined)) as ((r: Row) => unknown)[];
    this.filters = calls.map((c) => (c.filter !== undefined ? compile(c.filter.code) : undefined));
  }

  /** An empty group. */
  create(): GroupState {
    return { rows: 0, accs: this.calls.map((c) => (c.distinct ? { n: 0, v: null, d: {} } : { n: 0, v: null })) };
  }

  /** Accumulates (`times` = 1) or retracts (-1) an input row; FILTER and NULLs leave a call as it is. */
  apply(state: GroupState, row: Row, times: 1 | -1): void {
    state.rows += times;
    for (let i = 0; i < this.calls.length; i++) {
      const f = this.filters[i];
      if (f !== undefined && f(row) !== true) continue;
      const a = this.args[i];
      const v = a === undefined ? 1 : a(row);
      if (v === null || v === undefined) continue;
      const acc = state.accs[i];
      if (acc.d !== undefined) {
        const k = valueKey(v);
        const before = acc.d[k] ?? 0;
        const after = before + times;
        if (after === 0) delete acc.d[k];
        else acc.d[k] = after;
        // a distinct value counts while its multiplicity is positive
        if (!(before <= 0 && after > 0) && !(before > 0 && after <= 0)) continue;
      }
      addValue(this.calls[i], acc, v, times);
    }
  }

  /** The results, one per call (SUM, AVG, MIN, MAX of no value: NULL). */
  results(state: GroupState): unknown[] {
    return this.calls.map((c, i) => {
      const acc = state.accs[i];
      if (c.fn === 'COUNT') return acc.n;
      if (acc.n <= 0) return null;
      if (c.fn === 'AVG') return c.integer ? Math.trunc((acc.v as number) / acc.n) : (acc.v as number) / acc.n;
      return acc.v;
    });
  }
}

function compile(code: string, param = 'r'): (r: Row) => unknown {
  return new Function('$', `"use strict"; return function (${param}) { return ${code}; };`)(SQL_FUNCTIONS) as (r: Row) => unknown;
}

/** The projection and HAVING of a group's result `g` (`g.k`, `g.a`), or null when HAVING rejects it. */
export function compileGroupProjection(node: Pick<GroupAggNode, 'projection' | 'having'>): (g: { k: unknown[]; a: unknown[] }) => Row | null {
  const filter = node.having !== undefined ? `if ((${node.having.code}) !== true) return null;` : '';
  const body = node.projection.map((p) => `${JSON.stringify(p.name)}: ${p.expr.code}`).join(', ');
  return new Function('$', `"use strict"; return function (g) { ${filter} return { ${body} }; };`)(SQL_FUNCTIONS) as (g: {
    k: unknown[];
    a: unknown[];
  }) => Row | null;
}

function sameResults(a: unknown[], b: unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The operator of a group-agg node, keyed by the group keys (a JSON array). For each input row:
 * accumulate (`+I`, `+U`) or retract (`-U`, `-D`); a retraction of a group with no state is
 * dropped, as Flink's. Then `+I` for a new group, `-U` old / `+U` new when the results changed
 * (nothing when they did not), `-D` old when the group's last row was retracted.
 */
export class GroupAggFunction extends KeyedProcessFunction<string, Row, Row> {
  private state!: ValueState<GroupState>;
  private aggs!: RetractingAggregates;
  private project!: (g: { k: unknown[]; a: unknown[] }) => Row | null;

  constructor(private readonly node: GroupAggNode) {
    super();
  }

  override open(): void {
    this.state = this.getRuntimeContext().getState(new ValueStateDescriptor<GroupState>('group'));
    this.aggs = new RetractingAggregates(this.node.aggs);
    this.project = compileGroupProjection(this.node);
  }

  processElement(row: Row, ctx: KeyedProcessContext<string>, out: Collector<Row>): void {
    const kind = row[ROW_KIND] as RowKind | undefined;
    const retract = kind === '-U' || kind === '-D';
    let st = this.state.value();
    const first = st === undefined || st === null;
    if (first) {
      if (retract) return;
      st = this.aggs.create();
    }
    const group = st as GroupState;
    const before = first ? undefined : this.aggs.results(group);
    this.aggs.apply(group, row, retract ? -1 : 1);
    const keys = JSON.parse(ctx.getCurrentKey()) as unknown[];
    if (group.rows > 0) {
      this.state.update(group);
      const after = this.aggs.results(group);
      if (before === undefined) this.emit(out, keys, after, undefined);
      else if (!sameResults(before, after)) {
        this.emit(out, keys, before, '-U');
        this.emit(out, keys, after, '+U');
      }
    } else {
      this.state.clear();
      if (before !== undefined) this.emit(out, keys, before, '-D');
    }
  }

  private emit(out: Collector<Row>, k: unknown[], a: unknown[], kind: RowKind | undefined): void {
    const o = this.project({ k, a });
    if (o === null) return;
    if (kind !== undefined) o[ROW_KIND] = kind;
    out.collect(o);
  }
}

/**
 * The stream of a group-agg node: keyed by the group keys (a JSON array), state under the node's
 * uid; with `table.exec.mini-batch.enabled` in `config`, the mini-batch operator (same state).
 */
export function buildGroupAgg(input: DataStream<Row>, node: GroupAggNode, config: Readonly<Record<string, string>> = {}): DataStream<Row> {
  const keyFns = node.keys.map((k) => compile(k.code));
  const keyOf = (r: Row) => JSON.stringify(keyFns.map((f) => f(r) ?? null));
  const miniBatch = miniBatchOf(config);
  if (miniBatch !== undefined) {
    const keyed = input.keyBy(keyOf) as unknown as {
      // DataStream's @internal way to add an operator of weir's own; `true`: keyed by the stream's key
      addOperator(type: string, name: string, create: (name: string) => StreamOperator, keyed: boolean): DataStream<Row>;
    };
    return keyed
      .addOperator(
        'keyed-process',
        `group aggregate (${node.keys.length} key(s), mini-batch)`,
        (name) => new MiniBatchGroupAggOperator(name, node, keyOf as (v: unknown) => unknown, miniBatch),
        true,
      )
      .uid(node.uid);
  }
  return input
    .keyBy(keyOf)
    .process(new GroupAggFunction(node))
    .name(`group aggregate (${node.keys.length} key(s))`)
    .uid(node.uid);
}
