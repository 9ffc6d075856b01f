//! The event-time temporal join workers run (`JOIN versioned FOR SYSTEM_TIME AS OF l.rowtime`), as Flink's TemporalRowTimeJoinOperator: each probe row joined with the version valid at its time, once the watermark passes it.

import type { DataStream } from '../../api/datastream.ts';
import { KeyedCoProcessFunction } from '../../api/functions.ts';
import type { Collector, KeyedProcessContext, OnTimerContext } from '../../actors/operators.ts';
import { MapStateDescriptor } from '../../state/descriptors.ts';
import type { MapState } from '../../state/state-types.ts';
import { SQL_FUNCTIONS } from '../functions.ts';
import { ROW_KIND, type JoinNode } from '../plan.ts';

type Row = Record<string, unknown>;

/** A version of the versioned table's row for a key: the row, or null from its time on when the key was deleted. */
interface Version {
  row: Row | null;
}

function fn(code: string): (r: Row) => unknown {
  return new Function('$', `"use strict"; return function (r) { return ${code}; };`)(SQL_FUNCTIONS) as (r: Row) => unknown;
}

/** The join key of a row: the JSON of its equi-key values (a NULL among them never matches). */
function keyFunction(keys: JoinNode['leftKeys']): (r: Row) => string {
  const fs = keys.map((k) => fn(k.code));
  return (r) => JSON.stringify(fs.map((f) => f(r) ?? null));
}

/**
 * Flink's event-time temporal join as a keyed co-process function, keyed by the equi-keys.
 *
 * - Versioned side (right): each row is a version from its rowtime on, kept in map state by time
 *   (a later row at the same time replaces it); `-D` ends the key's versions at its time; `-U` is
 *   ignored (the `+U` that follows is the new version, as Flink's join takes only update-afters).
 * - Probe side (left): each row waits in map state by time until the watermark passes it, then
 *   joins the version with the largest time ≤ its own (a LEFT join pads a row with no version, a
 *   deleted one, or one the residual condition rejects). Emission is in the probe's time order.
 * - Cleanup: when the watermark passes, versions older than the newest one at or before the
 *   watermark can no longer be chosen (every probe still to come is later) and are dropped; so is
 *   that newest one when it is a deletion. A probe at or behind the watermark when it arrives
 *   joins at the next watermark (Flink does not drop late probe rows either).
 *
 * @internal exported for the operator tests.
 */
export class TemporalJoin extends KeyedCoProcessFunction<string, Row, Row, Row> {
  private probes!: MapState<number, Row[]>;
  private versions!: MapState<number, Version>;
  private build!: (l: Row, r: Row | null) => Row;
  private condition!: (r: Row) => boolean;
  private readonly outer: boolean;
  private readonly leftTime: string;
  private readonly rightTime: string;

  constructor(private readonly node: JoinNode) {
    super();
    const t = node.temporal as NonNullable<JoinNode['temporal']>;
    this.leftTime = t.leftTime;
    this.rightTime = t.rightTime;
    this.outer = node.joinType === 'LEFT';
  }

  override open(): void {
    const body = this.node.output
      .map((o) => `${JSON.stringify(o.name)}: ${o.side} === null ? null : ${o.side}[${JSON.stringify(o.column)}]`)
      .join(', ');
    this.build = new Function(`"use strict"; return function (l, r) { return { ${body} }; };`)() as (l: Row, r: Row | null) => Row;
    const cond = this.node.condition !== undefined ? fn(this.node.condition.code) : undefined;
    this.condition = cond === undefined ? () => true : (r) => cond(r) === true;
    this.probes = this.getRuntimeContext().getMapState(new MapStateDescriptor<number, Row[]>('probes'));
    this.versions = this.getRuntimeContext().getMapState(new MapStateDescriptor<number, Version>('versions'));
  }

  processElement1(row: Row, ctx: KeyedProcessContext<string>, out: Collector<Row>): void {
    const time = row[this.leftTime];
    if (typeof time !== 'number') {
      // a NULL time is valid at no version
      if (this.outer) out.collect(this.build(row, null));
      return;
    }
    this.probes.put(time, [...(this.probes.get(time) ?? []), row]);
    ctx.timerService().registerEventTimeTimer(time);
  }

  processElement2(input: Row, ctx: KeyedProcessContext<string>): void {
    const kind = input[ROW_KIND];
    if (kind === '-U') return;
    const time = input[this.rightTime];
    if (typeof time !== 'number') return;
    let row: Row | null = null;
    if (kind !== '-D') {
      row = {};
      for (const c of this.node.rightColumns) row[c] = input[c];
    }
    this.versions.put(time, { row });
    // the watermark passing this version is when older ones can be dropped
    ctx.timerService().registerEventTimeTimer(time);
  }

  override onTimer(_timestamp: number, ctx: OnTimerContext<string>, out: Collector<Row>): void {
    const watermark = ctx.currentWatermark();
    const versions = [...this.versions.entries()].sort((a, b) => a[0] - b[0]);
    const key = ctx.getCurrentKey();
    const canMatch = !key.includes('null') || !(JSON.parse(key) as unknown[]).includes(null);
    const due = [...this.probes.entries()].filter(([t]) => t <= watermark).sort((a, b) => a[0] - b[0]);
    let v = -1;
    for (const [time, rows] of due) {
      while (v + 1 < versions.length && versions[v + 1][0] <= time) v++;
      const version = canMatch && v >= 0 ? versions[v][1].row : null;
      for (const l of rows) {
        const joined = version === null ? null : this.build(l, version);
        if (joined !== null && this.condition(joined)) out.collect(joined);
        else if (this.outer) out.collect(this.build(l, null));
      }
      this.probes.remove(time);
    }
    // versions no later probe can choose
    let newest = -1;
    while (newest + 1 < versions.length && versions[newest + 1][0] <= watermark) newest++;
    for (let i = 0; i < newest; i++) this.versions.remove(versions[i][0]);
    if (newest >= 0 && versions[newest][1].row === null) this.versions.remove(versions[newest][0]);
  }
}

/** Builds a temporal join node's operator on its two inputs; state and timers under the node's uid. */
export function buildTemporalJoin(left: DataStream<Row>, right: DataStream<Row>, node: JoinNode): DataStream<Row> {
  return left
    .connect(right)
    .keyBy(keyFunction(node.leftKeys), keyFunction(node.rightKeys))
    .process<Row>(new TemporalJoin(node))
    .name(`TemporalJoin(${node.joinType})`)
    .uid(node.uid);
}
