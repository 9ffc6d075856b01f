//! Lookup joins (`JOIN t FOR SYSTEM_TIME AS OF left.proctime AS s ON …`) against a bounded table loaded once, and the legacy connector options (`connector.type`, …) such tables are declared with.

import type { Expr, FromItem } from './ast.ts';
import type { PlanExpr, PlanField, PlanNode } from './plan.ts';
import type { JoinHost } from './plan-joins.ts';
import { Scope, compileExpr, textAt, typeText, unsupported, validationError, type Rel, type ScopeField } from './planner.ts';

/**
 * A lookup join (Flink's LookupJoin, processing time): each input row looks its keys up in a
 * bounded table that every subtask loads whole when it opens (as Flink's CSV lookup function
 * does), so the operator keeps no state. Output rows are built from the input row `l` and the
 * table's row `r` (NULL for a LEFT join's padding); the residual condition sees the output row.
 */
export interface LookupJoinNode {
  kind: 'lookup-join';
  id: number;
  uid: string;
  input: number;
  joinType: 'INNER' | 'LEFT';
  /** The looked-up table, read through its connector (only `filesystem` can be looked up). */
  table: string;
  connector: string;
  options: Record<string, string>;
  physical: PlanField[];
  /** Input key i (over the input row) is compared with table column `tableKeys[i]`; NULL never matches. */
  inputKeys: PlanExpr[];
  tableKeys: string[];
  output: { name: string; side: 'l' | 'r'; column: string }[];
  /** The rest of the ON condition, over the output row `r`. */
  condition?: PlanExpr;
  fields: PlanField[];
}

/** Legacy option keys (Flink's old descriptors, as Flink Nexmark's q13 declares its side input) and their current names. */
const LEGACY_KEYS: Record<string, string> = {
  'connector.type': 'connector',
  'connector.path': 'path',
  'format.type': 'format',
  'format.field-delimiter': 'csv.field-delimiter',
  'format.ignore-parse-errors': 'csv.ignore-parse-errors',
};
const LEGACY_IGNORED = new Set(['connector.property-version', 'format.property-version', 'format.derive-schema']);

/**
 * A table's options with the legacy filesystem/CSV descriptor (`'connector.type' = 'filesystem'`,
 * `'connector.path'`, `'format.type' = 'csv'`) in today's keys; options without `connector.type` are
 * returned as they are. A `file://` path becomes a local path.
 */
export function currentOptions(table: string, options: Record<string, string>): Record<string, string> {
  if (options['connector.type'] === undefined || options.connector !== undefined) return options;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(options)) {
    if (LEGACY_IGNORED.has(k)) continue;
    const key = LEGACY_KEYS[k];
    if (key === undefined)
      throw validationError(`table '${table}': unsupported legacy option '${k}'; supported: ${Object.keys(LEGACY_KEYS).join(', ')}`);
    out[key] = key === 'path' ? v.replace(/^file:\/\//, '') : v;
  }
  if (out.connector !== 'filesystem')
    throw validationError(`table '${table}': legacy 'connector.type' = '${out.connector}' is not supported; use 'connector' = '…'`);
  return out;
}

function conjuncts(e: Expr | undefined): Expr[] {
  if (e === undefined) return [];
  if (e.kind === 'binary' && e.op === 'AND') return [...conjuncts(e.left), ...conjuncts(e.right)];
  return [e];
}

/** Whether `e` compiles in `scope` (reads only its columns). */
function readsOnly(e: Expr, scope: Scope): boolean {
  try {
    compileExpr(e, scope);
    return true;
  } catch {
    return false;
  }
}

/** The table column an expression names (`S.key`), or undefined. */
function tableColumn(e: Expr, scope: Scope): string | undefined {
  if (e.kind !== 'ref' || !readsOnly(e, scope)) return undefined;
  const m = /^r\[("(?:[^"\\]|\\.)*")\]$/.exec(compileExpr(e, scope).code);
  return m === null ? undefined : (JSON.parse(m[1]) as string);
}

/**
 * Plans `left [LEFT] JOIN t FOR SYSTEM_TIME AS OF left.p AS s ON …` where `p` is a processing-time
 * attribute: the ON condition's equalities between an input expression and a column of `t` are the
 * lookup keys (at least one); its other conjuncts are the residual condition.
 */
/** Whether a `FOR SYSTEM_TIME AS OF` join reads the left side's processing time (a lookup join), not its rowtime (a temporal join). */
export function isLookupJoin(host: JoinHost, f: Extract<FromItem, { kind: 'join' }>, text: string): boolean {
  const right = f.right as Extract<FromItem, { kind: 'table' }>;
  const leftFields = host.scratch(() => host.planFrom(f.left, text).fields);
  return compileExpr(right.systemTimeAsOf as Expr, new Scope(leftFields, text)).type.time !== 'rowtime';
}

export function planLookupJoin(host: JoinHost, f: Extract<FromItem, { kind: 'join' }>, text: string): Rel {
  const right = f.right as Extract<FromItem, { kind: 'table' }>;
  if (f.type !== 'INNER' && f.type !== 'LEFT') throw unsupported(`${f.type} JOIN … FOR SYSTEM_TIME AS OF (a lookup join is INNER or LEFT)`);
  const left = host.planFrom(f.left, text);
  if ((host.node(left.node) as { updating?: true }).updating === true) throw unsupported('a lookup join over an updating input');
  const asOf = compileExpr(right.systemTimeAsOf as Expr, new Scope(left.fields, text));
  if (asOf.type.time === 'rowtime')
    throw unsupported(
      `event-time temporal joins (FOR SYSTEM_TIME AS OF '${textAt(text, right.systemTimeAsOf as Expr)}', a rowtime attribute)`,
    );
  if (asOf.type.time !== 'proctime')
    throw validationError(
      `FOR SYSTEM_TIME AS OF '${textAt(text, right.systemTimeAsOf as Expr)}' must be a time attribute of the left input, got ${typeText(asOf.type)}`,
    );
  const entry = host.catalogTable(right.name);
  if (entry.options.connector !== 'filesystem')
    throw unsupported(`a lookup join against connector '${entry.options.connector}' (weir looks up 'filesystem' tables, loaded whole)`);
  const qualifier = right.alias ?? right.name;
  const physical = entry.columns.filter((c) => c.kind === 'physical').map((c) => ({ name: c.name, type: c.type }));
  if (physical.length !== entry.columns.length) throw unsupported('a lookup join against a table with computed or metadata columns');
  const nullable = f.type === 'LEFT';
  const tableFields: ScopeField[] = physical.map((c) => ({
    name: c.name,
    type: nullable ? { ...c.type, nullable: true } : c.type,
    qualifier,
  }));
  // output: the input's columns, then the table's, a clashing name made unique (`key0`) as Flink does
  const taken = new Set<string>();
  const output: LookupJoinNode['output'] = [];
  const fields: ScopeField[] = [];
  for (const [side, fs] of [
    ['l', left.fields],
    ['r', tableFields],
  ] as const) {
    for (const x of fs) {
      const column = x.column ?? x.name;
      let name = column;
      for (let i = 0; taken.has(name); i++) name = `${column}${i}`;
      taken.add(name);
      output.push({ name, side, column });
      fields.push({ name: x.name, type: x.type, qualifier: x.qualifier, column: name });
    }
  }
  const ls = new Scope(left.fields, text);
  const ts = new Scope(tableFields, text);
  const inputKeys: PlanExpr[] = [];
  const tableKeys: string[] = [];
  const residual: Expr[] = [];
  for (const c of conjuncts(f.on)) {
    if (c.kind === 'binary' && c.op === '=') {
      const pairs: [Expr, Expr][] = [
        [c.left, c.right],
        [c.right, c.left],
      ];
      const pair = pairs.find(([a, b]) => readsOnly(a, ls) && !readsOnly(a, ts) && tableColumn(b, ts) !== undefined);
      if (pair !== undefined) {
        inputKeys.push({ code: compileExpr(pair[0], ls).code });
        tableKeys.push(tableColumn(pair[1], ts) as string);
        continue;
      }
    }
    residual.push(c);
  }
  if (inputKeys.length === 0)
    throw validationError(
      `the lookup join on '${right.name}' needs an equality between a column of '${right.name}' and the left input in its ON condition`,
    );
  const js = new Scope(fields, text);
  let condition: PlanExpr | undefined;
  if (residual.length > 0) {
    const codes = residual.map((c) => {
      const x = compileExpr(c, js);
      if (x.type.kind !== 'BOOLEAN' && x.type.kind !== 'NULL')
        throw validationError(`type error in the join condition '${textAt(text, c)}': needs a BOOLEAN, got ${typeText(x.type)}`);
      return `(${x.code}) === true`;
    });
    condition = { code: codes.join(' && ') };
  }
  const node = host.add({
    kind: 'lookup-join',
    input: left.node,
    joinType: f.type,
    table: right.name,
    connector: entry.options.connector,
    options: entry.options,
    physical,
    inputKeys,
    tableKeys,
    output,
    condition,
    fields: fields.map((x) => ({ name: x.column as string, type: x.type })),
  } as Omit<LookupJoinNode, 'id' | 'uid'> as Omit<PlanNode, 'id' | 'uid'>);
  return { node: node.id, fields };
}
