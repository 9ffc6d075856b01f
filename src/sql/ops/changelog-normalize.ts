//! Flink's ChangelogNormalize for upsert sources (upsert-kafka, an upsert changelog stream): each key's last row in keyed state turns upserts and key-only deletes into a full changelog.

import type { DataStream } from '../../api/datastream.ts';
import { KeyedProcessFunction } from '../../api/functions.ts';
import type { Collector } from '../../actors/operators.ts';
import { ValueStateDescriptor } from '../../state/descriptors.ts';
import type { ValueState } from '../../state/state-types.ts';
import { ROW_KIND, type SourceNode } from '../plan.ts';

type Row = Record<string, unknown>;

/**
 * Keyed by the primary key, keeps the key's last row: an upsert (`+I`/`+U`) is `+I` when the key
 * is new, `-U` (the old row) and `+U` when it changes, nothing when it equals the last row (as
 * Flink's without state TTL); a delete (`-D`, `-U`) is `-D` with the old row, or nothing for a key
 * not there.
 *
 * @internal exported for the operator tests.
 */
export class ChangelogNormalize extends KeyedProcessFunction<string, Row, Row> {
  private last!: ValueState<Row>;

  constructor(private readonly columns: readonly string[]) {
    super();
  }

  override open(): void {
    this.last = this.getRuntimeContext().getState(new ValueStateDescriptor<Row>('last-row'));
  }

  processElement(input: Row, _ctx: unknown, out: Collector<Row>): void {
    const kind = input[ROW_KIND];
    const prev = this.last.value() ?? null;
    if (kind === '-D' || kind === '-U') {
      if (prev === null) return;
      this.last.clear();
      out.collect({ ...prev, [ROW_KIND]: '-D' });
      return;
    }
    const row: Row = {};
    for (const c of this.columns) row[c] = input[c] ?? null;
    if (prev === null) {
      out.collect(row);
    } else {
      if (this.columns.every((c) => Object.is(prev[c], row[c]) || JSON.stringify(prev[c]) === JSON.stringify(row[c]))) return;
      out.collect({ ...prev, [ROW_KIND]: '-U' });
      out.collect({ ...row, [ROW_KIND]: '+U' });
    }
    this.last.update(row);
  }
}

/** The source's rows normalized by its primary key; state under `<source uid>/normalize`. */
export function buildChangelogNormalize(input: DataStream<Row>, node: SourceNode): DataStream<Row> {
  const pk = node.primaryKey ?? [];
  const key = (r: Row) => JSON.stringify(pk.map((c) => r[c] ?? null));
  return input
    .keyBy(key)
    .process<Row>(new ChangelogNormalize(node.fields.map((f) => f.name)))
    .name(`ChangelogNormalize(key=[${pk.join(', ')}])`)
    .uid(`${node.uid}/normalize`);
}
