//! The lookup join workers run from a plan's lookup-join node: the bounded table is loaded whole when the operator opens, each input row looks its keys up in it; no state.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DataStream } from '../../api/datastream.ts';
import { FlatMapFunction } from '../../api/functions.ts';
import type { Collector } from '../../actors/operators.ts';
import { configError } from '../../core/errors.ts';
import { parseCsvRecord } from '../../connectors/file-formats.ts';
import { converter } from '../connectors.ts';
import { SQL_FUNCTIONS } from '../functions.ts';
import { ROW_KIND } from '../plan.ts';
import type { LookupJoinNode } from '../plan-lookup.ts';

type Row = Record<string, unknown>;

/** The rows of a lookup table (a filesystem table: one file, or every visible file of a directory), converted to the columns' types. */
export function loadLookupTable(node: LookupJoinNode): Row[] {
  const { table, options, physical } = node;
  const path = options.path;
  if (path === undefined) throw configError(`table '${table}': missing required option 'path'`);
  const format = options.format;
  if (format !== 'csv' && format !== 'json')
    throw configError(`table '${table}': format '${String(format)}' is not supported; use csv or json`);
  const delimiter = options['csv.field-delimiter'] ?? ',';
  const skip = options[`${format}.ignore-parse-errors`] === 'true';
  const convert = physical.map((f) => ({ name: f.name, fn: converter(f.type, `table '${table}', column '${f.name}'`) }));
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((f) => !f.startsWith('.') && !f.startsWith('_'))
          .sort()
          .map((f) => join(path, f))
      : [path];
  } catch (e) {
    throw configError(`table '${table}': cannot read '${path}': ${(e as Error).message}`);
  }
  const rows: Row[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split(/\r?\n/);
    lines.forEach((line, i) => {
      if (line === '') return;
      try {
        let raw: Row;
        if (format === 'json') raw = JSON.parse(line) as Row;
        else {
          const r = parseCsvRecord(line, delimiter);
          if (r.kind !== 'fields') throw new Error(r.kind === 'malformed' ? r.reason : 'an incomplete CSV record');
          raw = {};
          physical.forEach((f, j) => (raw[f.name] = r.fields[j]));
        }
        const row: Row = {};
        for (const c of convert) row[c.name] = c.fn(raw[c.name]);
        rows.push(row);
      } catch (e) {
        if (!skip) throw configError(`table '${table}': ${file} line ${i + 1}: ${(e as Error).message}`);
      }
    });
  }
  return rows;
}

/** Joins each input row with the table rows of its keys; a LEFT join pads a row without a match with NULLs. */
class LookupJoin extends FlatMapFunction<Row, Row> {
  private index = new Map<string, Row[]>();
  private readonly inputKey: (r: Row) => string | null;
  private readonly tableKey: (r: Row) => string | null;
  private readonly build: (l: Row, r: Row | null) => Row;
  private readonly condition: (r: Row) => boolean;

  constructor(private readonly node: LookupJoinNode) {
    super();
    const fn = (code: string) =>
      new Function('$', `"use strict"; return function (r) { return ${code}; };`)(SQL_FUNCTIONS) as (r: Row) => unknown;
    const keyOf = (fs: ((r: Row) => unknown)[]) => (r: Row) => {
      const vs = fs.map((f) => f(r) ?? null);
      return vs.includes(null) ? null : JSON.stringify(vs);
    };
    this.inputKey = keyOf(node.inputKeys.map((k) => fn(k.code)));
    this.tableKey = keyOf(node.tableKeys.map((c) => (r: Row) => r[c]));
    const body = node.output
      .map((o) => `${JSON.stringify(o.name)}: ${o.side} === null ? null : ${o.side}[${JSON.stringify(o.column)}]`)
      .join(', ');
    this.build = new Function(`"use strict"; return function (l, r) { return { ${body} }; };`)() as (l: Row, r: Row | null) => Row;
    const cond = node.condition === undefined ? undefined : fn(node.condition.code);
    this.condition = cond === undefined ? () => true : (r) => cond(r) === true;
  }

  override open(): void {
    this.index = new Map();
    for (const row of loadLookupTable(this.node)) {
      const k = this.tableKey(row);
      if (k === null) continue;
      const list = this.index.get(k);
      if (list === undefined) this.index.set(k, [row]);
      else list.push(row);
    }
  }

  flatMap(l: Row, out: Collector<Row>): void {
    const k = this.inputKey(l);
    let matched = false;
    if (k !== null)
      for (const r of this.index.get(k) ?? []) {
        const o = this.build(l, r);
        if (!this.condition(o)) continue;
        matched = true;
        if (l[ROW_KIND] !== undefined) o[ROW_KIND] = l[ROW_KIND];
        out.collect(o);
      }
    if (!matched && this.node.joinType === 'LEFT') out.collect(this.build(l, null));
  }
}

/** The lookup join of `input` (Flink's LookupJoin on processing time), chained to its input. */
export function buildLookupJoin(input: DataStream<Row>, node: LookupJoinNode): DataStream<Row> {
  return input.flatMap(new LookupJoin(node)).name(`LookupJoin(table=[${node.table}], joinType=[${node.joinType}])`).uid(node.uid);
}
