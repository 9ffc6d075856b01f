//! The planner: validates statements against the catalog (names, types, nullability, time attributes) and plans queries into a SqlPlan, compiling each expression to JavaScript source.

import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { ColumnDef, Expr, FromItem, Query, QueryBody, Select, Statement, TypeAst } from './ast.ts';
import type { AggCall, PlanField, PlanNode, SinkNode, SourceNode, SqlPlan, SqlType, WindowSpec } from './plan.ts';
import { reuseSubplans } from './plan-reuse.ts';
import { currentOptions } from './plan-lookup.ts';
import type { UserFunction, UserFunctionRef } from './user-functions.ts';
import { assignWindows, planJoin, windowPropOf, windowedAfterProjection, type JoinHost, type WindowProps } from './plan-joins.ts';
import { sinkPrimaryKey, sourceChangelog } from './plan-temporal.ts';
import { OVER_QUALIFIER, hasOverCall, planOver, type OverHost } from './plan-over.ts';
import { RANK_QUALIFIER, markChangelog, planTopN, rankSubquery, type GroupAggNode, type TopNPlanner } from './plan-changelog.ts';

// ---------------------------------------------------------------------------------------------
// Errors

/** A validation error: unknown names (with a suggestion), type errors naming the expression. */
export function validationError(message: string): WeirError {
  return new WeirError(message, { code: ErrorCodes.SQL_VALIDATION, domain: 'user' });
}

/** A feature weir does not support yet, refused by name. */
export function unsupported(feature: string): WeirError {
  return new WeirError(`not supported yet: ${feature}`, { code: ErrorCodes.SQL_UNSUPPORTED, domain: 'user' });
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** ` (did you mean 'x'?)` for the nearest candidate, or nothing when none is near. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = c.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name.toLowerCase(), c.toLowerCase());
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean '${best}'?)` : '';
}

// ---------------------------------------------------------------------------------------------
// Types

const INTEGERS = new Set(['TINYINT', 'SMALLINT', 'INT', 'BIGINT']);
const NUMERICS = new Set([...INTEGERS, 'FLOAT', 'DOUBLE', 'DECIMAL']);
const TIMESTAMPS = new Set(['TIMESTAMP', 'TIMESTAMP_LTZ']);

/** A SQL type from its syntax. */
export function typeFromAst(t: TypeAst): SqlType {
  const nullable = t.nullable;
  switch (t.name) {
    case 'STRING':
      return { kind: 'STRING', nullable };
    case 'VARCHAR':
    case 'CHAR':
    case 'CHARACTER':
      return { kind: 'STRING', nullable, length: t.params[0] };
    case 'BOOLEAN':
    case 'BOOL':
      return { kind: 'BOOLEAN', nullable };
    case 'TINYINT':
    case 'SMALLINT':
    case 'BIGINT':
      return { kind: t.name, nullable };
    case 'INT':
    case 'INTEGER':
      return { kind: 'INT', nullable };
    case 'FLOAT':
    case 'REAL':
      return { kind: 'FLOAT', nullable };
    case 'DOUBLE':
      return { kind: 'DOUBLE', nullable };
    case 'DECIMAL':
    case 'DEC':
    case 'NUMERIC':
      return { kind: 'DECIMAL', nullable, precision: t.params[0] ?? 10, scale: t.params[1] ?? 0 };
    case 'DATE':
      return { kind: 'DATE', nullable };
    case 'TIME':
      return { kind: 'TIME', nullable, precision: t.params[0] ?? 0 };
    case 'TIMESTAMP':
      return { kind: t.localTimeZone ? 'TIMESTAMP_LTZ' : 'TIMESTAMP', nullable, precision: t.params[0] ?? 6 };
    case 'TIMESTAMP_LTZ':
      return { kind: 'TIMESTAMP_LTZ', nullable, precision: t.params[0] ?? 6 };
    case 'BYTES':
    case 'VARBINARY':
    case 'BINARY':
      return { kind: 'BYTES', nullable };
    case 'ARRAY':
      return { kind: 'ARRAY', nullable, element: typeFromAst((t.args ?? [])[0]) };
    case 'MAP':
      return { kind: 'MAP', nullable, key: typeFromAst((t.args ?? [])[0]), value: typeFromAst((t.args ?? [])[1]) };
    case 'ROW':
      return { kind: 'ROW', nullable, fields: (t.fields ?? []).map((f) => ({ name: f.name, type: typeFromAst(f.type) })) };
    default:
      throw validationError(`unknown type '${t.name}'`);
  }
}

/** The type as Flink writes it (`BIGINT NOT NULL`, `TIMESTAMP(3) *ROWTIME*`). */
export function typeText(t: SqlType): string {
  let s: string;
  switch (t.kind) {
    case 'STRING':
      s = t.length !== undefined ? `VARCHAR(${t.length})` : 'STRING';
      break;
    case 'DECIMAL':
      s = t.precision === undefined ? 'DECIMAL' : `DECIMAL(${t.precision}, ${t.scale ?? 0})`;
      break;
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      s = `${t.kind}(${t.precision ?? 3})`;
      break;
    case 'ARRAY':
      s = `ARRAY<${typeText(t.element as SqlType)}>`;
      break;
    case 'MAP':
      s = `MAP<${typeText(t.key as SqlType)}, ${typeText(t.value as SqlType)}>`;
      break;
    case 'ROW':
      s = `ROW<${(t.fields ?? []).map((f) => `\`${f.name}\` ${typeText(f.type)}`).join(', ')}>`;
      break;
    default:
      s = t.kind;
  }
  if (!t.nullable) s += ' NOT NULL';
  if (t.time === 'rowtime') s += ' *ROWTIME*';
  if (t.time === 'proctime') s += ' *PROCTIME*';
  return s;
}

export const T = {
  bool: (nullable: boolean): SqlType => ({ kind: 'BOOLEAN', nullable }),
  bigint: (nullable: boolean): SqlType => ({ kind: 'BIGINT', nullable }),
  int: (nullable: boolean): SqlType => ({ kind: 'INT', nullable }),
  double: (nullable: boolean): SqlType => ({ kind: 'DOUBLE', nullable }),
  string: (nullable: boolean): SqlType => ({ kind: 'STRING', nullable }),
  ts: (nullable: boolean, time?: 'rowtime'): SqlType => ({ kind: 'TIMESTAMP', nullable, precision: 3, ...(time ? { time } : {}) }),
  proctime: (): SqlType => ({ kind: 'TIMESTAMP_LTZ', nullable: false, precision: 3, time: 'proctime' }),
};

const isNumeric = (t: SqlType): boolean => NUMERICS.has(t.kind) || t.kind === 'NULL';
const isInteger = (t: SqlType): boolean => INTEGERS.has(t.kind);
const isString = (t: SqlType): boolean => t.kind === 'STRING' || t.kind === 'NULL';
const isTimestamp = (t: SqlType): boolean => TIMESTAMPS.has(t.kind) || t.kind === 'NULL';

/** `PROCTIME()`: the expression that makes a processing-time attribute (in a SELECT list or as a computed column). */
function isProctimeCall(e: Expr): boolean {
  return e.kind === 'call' && e.name === 'PROCTIME';
}

export function withoutTime(t: SqlType): SqlType {
  if (t.time === undefined) return t;
  const { time: _time, ...rest } = t;
  return rest;
}

/** The wider of two numeric types (INT + BIGINT = BIGINT, anything + DOUBLE = DOUBLE). */
function widerNumeric(a: SqlType, b: SqlType): SqlType['kind'] {
  const order = ['NULL', 'TINYINT', 'SMALLINT', 'INT', 'BIGINT', 'DECIMAL', 'FLOAT', 'DOUBLE'];
  return order[Math.max(order.indexOf(a.kind), order.indexOf(b.kind))] as SqlType['kind'];
}

/** Whether a value of type `from` may be written to a column of type `to` without a CAST (Flink's implicit casts: widening only). */
function assignable(to: SqlType, from: SqlType): boolean {
  if (from.kind === 'NULL') return true;
  if (isInteger(from)) return NUMERICS.has(to.kind);
  if (NUMERICS.has(from.kind)) return ['DECIMAL', 'FLOAT', 'DOUBLE'].includes(to.kind);
  if (isTimestamp(from)) return isTimestamp(to);
  return from.kind === to.kind;
}

export function comparable(a: SqlType, b: SqlType): boolean {
  if (a.kind === 'NULL' || b.kind === 'NULL') return true;
  if (isNumeric(a) && isNumeric(b)) return true;
  if (isTimestamp(a) && isTimestamp(b)) return true;
  return a.kind === b.kind;
}

/** Milliseconds of an interval literal. */
export function intervalMs(e: Extract<Expr, { kind: 'interval' }>): number {
  const n = Number(e.value);
  if (!Number.isFinite(n)) throw validationError(`invalid interval value '${e.value}'`);
  const unit: Record<string, number> = {
    MILLISECOND: 1,
    SECOND: 1000,
    MINUTE: 60_000,
    HOUR: 3_600_000,
    DAY: 86_400_000,
    WEEK: 7 * 86_400_000,
  };
  const f = unit[e.unit];
  if (f === undefined) throw unsupported(`INTERVAL … ${e.unit} (year-month intervals)`);
  if (e.toUnit !== undefined) throw unsupported(`INTERVAL … ${e.unit} TO ${e.toUnit}`);
  return n * f;
}

// ---------------------------------------------------------------------------------------------
// Catalog

/** A column of a catalog table. */
export interface CatalogColumn {
  name: string;
  type: SqlType;
  kind: 'physical' | 'computed' | 'metadata';
  expr?: Expr;
  /** Metadata columns: the connector's metadata key, and whether the column is read-only (VIRTUAL). */
  key?: string;
  virtual?: boolean;
}

/** A table or view in the catalog. */
export type CatalogEntry =
  | {
      kind: 'table';
      name: string;
      columns: CatalogColumn[];
      watermark?: { column: string; expr: Expr };
      primaryKey?: string[];
      options: Record<string, string>;
      /** The script the DDL came from, for naming expressions in errors. */
      text: string;
    }
  | { kind: 'view'; name: string; query: Query; columns?: string[]; text: string };

/** Tables and views by name (names are case-sensitive, as in Flink). */
export class Catalog {
  private readonly entries = new Map<string, CatalogEntry>();

  /** Every name, in creation order. */
  names(): string[] {
    return [...this.entries.keys()];
  }
  /** The entry of `name`, if any. */
  get(name: string): CatalogEntry | undefined {
    return this.entries.get(name);
  }
  /** The entry or an error naming the nearest existing one. */
  lookup(name: string): CatalogEntry {
    const e = this.entries.get(name);
    if (e === undefined) throw validationError(`object '${name}' not found${didYouMean(name, this.names())}`);
    return e;
  }
  /** Adds an entry; an existing name is an error unless `ifNotExists` (then the old entry stays). */
  put(entry: CatalogEntry, ifNotExists = false): void {
    if (this.entries.has(entry.name)) {
      if (ifNotExists) return;
      throw validationError(`${entry.kind} '${entry.name}' already exists`);
    }
    this.entries.set(entry.name, entry);
  }
  /** Removes a table or view; a missing one is an error unless `ifExists`. */
  drop(name: string, what: 'TABLE' | 'VIEW', ifExists: boolean): void {
    const e = this.entries.get(name);
    if (e === undefined || e.kind !== what.toLowerCase()) {
      if (ifExists) return;
      throw validationError(`${what.toLowerCase()} '${name}' does not exist${didYouMean(name, this.names())}`);
    }
    this.entries.delete(name);
  }
}

/** Adds a `CREATE TABLE` to the catalog, checking its columns, computed columns and watermark. */
export function createTable(catalog: Catalog, s: Extract<Statement, { kind: 'create-table' }>, text: string): void {
  const columns: CatalogColumn[] = [];
  const seen = new Set<string>();
  let like: Extract<CatalogEntry, { kind: 'table' }> | undefined;
  if (s.like !== undefined) {
    // Flink's default merging: every part of the base table, options overwritten by this table's.
    const other = (s.likeOptions ?? []).filter(
      (o) =>
        ![
          'INCLUDING ALL',
          'OVERWRITING OPTIONS',
          'INCLUDING OPTIONS',
          'INCLUDING GENERATED',
          'INCLUDING WATERMARKS',
          'INCLUDING CONSTRAINTS',
        ].includes(o),
    );
    if (other.length > 0) throw unsupported(`CREATE TABLE … LIKE with ${other.join(', ')}`);
    const base = catalog.lookup(s.like);
    if (base.kind !== 'table') throw validationError(`CREATE TABLE … LIKE '${s.like}': '${s.like}' is a view, not a table`);
    like = base;
    for (const c of base.columns) {
      columns.push({ ...c, type: withoutTime(c.type) });
      seen.add(c.name);
    }
  }
  for (const c of s.columns as ColumnDef[]) {
    if (seen.has(c.name)) throw validationError(`column '${c.name}' is defined twice in table '${s.name}'`);
    seen.add(c.name);
    if (c.kind === 'physical') columns.push({ name: c.name, type: typeFromAst(c.type), kind: 'physical' });
    else if (c.kind === 'metadata')
      columns.push({ name: c.name, type: typeFromAst(c.type), kind: 'metadata', key: c.from ?? c.name, virtual: c.virtual });
    else {
      const scope = new Scope(
        columns.filter((x) => x.kind !== 'computed').map((x) => ({ name: x.name, type: x.type })),
        text,
      );
      const type = compileExpr(c.expr, scope).type;
      columns.push({ name: c.name, type: isProctimeCall(c.expr) ? type : withoutTime(type), kind: 'computed', expr: c.expr });
    }
  }
  if (like?.watermark !== undefined && s.watermark !== undefined) {
    throw validationError(
      `CREATE TABLE … LIKE '${like.name}': both tables define a watermark; Flink's default (INCLUDING WATERMARKS) does not merge them`,
    );
  }
  const watermark = s.watermark ?? like?.watermark;
  const watermarkText = s.watermark !== undefined ? text : (like?.text ?? text);
  if (watermark !== undefined) {
    const col = columns.find((c) => c.name === watermark.column);
    if (col === undefined) {
      throw validationError(
        `WATERMARK FOR '${watermark.column}': no such column in '${s.name}'${didYouMean(
          watermark.column,
          columns.map((c) => c.name),
        )}`,
      );
    }
    if (col.type.kind !== 'TIMESTAMP' && col.type.kind !== 'TIMESTAMP_LTZ') {
      throw validationError(
        `WATERMARK FOR '${col.name}': the rowtime column must be TIMESTAMP(3) or TIMESTAMP_LTZ(3), not ${typeText(col.type)}`,
      );
    }
    const scope = new Scope(
      columns.map((x) => ({ name: x.name, type: x.type })),
      text,
    );
    const wm = compileExpr(watermark.expr, scope);
    if (!isTimestamp(wm.type))
      throw validationError(
        `the watermark expression '${textAt(watermarkText, watermark.expr)}' must be a timestamp, not ${typeText(wm.type)}`,
      );
    col.type = { ...col.type, precision: col.type.precision, time: 'rowtime' };
  }
  for (const k of s.primaryKey ?? []) {
    if (!seen.has(k)) throw validationError(`PRIMARY KEY column '${k}' is not a column of '${s.name}'${didYouMean(k, [...seen])}`);
  }
  const options = currentOptions(s.name, { ...(like?.options ?? {}), ...s.options });
  if (options.connector === undefined) throw validationError(`table '${s.name}' needs a 'connector' option in its WITH clause`);
  catalog.put(
    { kind: 'table', name: s.name, columns, watermark, primaryKey: s.primaryKey ?? like?.primaryKey, options, text },
    s.ifNotExists,
  );
}

// ---------------------------------------------------------------------------------------------
// Expressions

export function textAt(text: string, e: { loc: { start: number; end: number } }): string {
  return text.slice(e.loc.start, e.loc.end).replace(/\s+/g, ' ').trim();
}

/** A field visible in a scope, with the alias (table name or AS) it may be qualified by. */
export interface ScopeField {
  name: string;
  type: SqlType;
  qualifier?: string;
  /** The row's property holding the value when it is not `name` (a join's output renames clashing columns, as Flink's `id0`). */
  column?: string;
}

/** The columns an expression may reference. */
export class Scope {
  constructor(
    readonly fields: ScopeField[],
    readonly text: string,
    /** For aggregate outputs: replaces whole sub-expressions (group keys, aggregate calls). */
    readonly intercept?: (e: Expr) => Compiled | undefined,
  ) {}
}

/** A compiled expression: JavaScript source over `r` and `$`, and its SQL type. */
export interface Compiled {
  code: string;
  type: SqlType;
}

const AGGREGATES = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX']);
const GROUP_WINDOW_AUX: Record<string, 'ws' | 'we' | 'rowtime' | 'proctime'> = {
  TUMBLE_START: 'ws',
  TUMBLE_END: 'we',
  TUMBLE_ROWTIME: 'rowtime',
  TUMBLE_PROCTIME: 'proctime',
  HOP_START: 'ws',
  HOP_END: 'we',
  HOP_ROWTIME: 'rowtime',
  HOP_PROCTIME: 'proctime',
  SESSION_START: 'ws',
  SESSION_END: 'we',
  SESSION_ROWTIME: 'rowtime',
  SESSION_PROCTIME: 'proctime',
};

function resolveRef(e: Extract<Expr, { kind: 'ref' }>, scope: Scope): Compiled {
  const path = e.path;
  let field: ScopeField | undefined;
  let rest: string[];
  const qualified = path.length > 1 ? scope.fields.filter((f) => f.qualifier === path[0] && f.name === path[1]) : [];
  if (qualified.length > 0) {
    field = qualified[0];
    rest = path.slice(2);
  } else {
    const matches = scope.fields.filter((f) => f.name === path[0]);
    if (matches.length > 1) throw validationError(`column '${path[0]}' is ambiguous in '${textAt(scope.text, e)}'`);
    field = matches[0];
    rest = path.slice(1);
    if (field === undefined) {
      const names = [...new Set(scope.fields.map((f) => f.name))];
      if (path.length > 1 && scope.fields.some((f) => f.qualifier === path[0])) {
        throw validationError(
          `column '${path[1]}' not found in '${path[0]}'${didYouMean(
            path[1],
            scope.fields.filter((f) => f.qualifier === path[0]).map((f) => f.name),
          )}`,
        );
      }
      throw validationError(`column '${path[0]}' not found${didYouMean(path[0], names)}; available: ${names.join(', ')}`);
    }
  }
  let code = `r[${JSON.stringify(field.column ?? field.name)}]`;
  let type = field.type;
  for (const name of rest) {
    if (type.kind !== 'ROW') throw validationError(`'${textAt(scope.text, e)}': ${typeText(type)} has no field '${name}'`);
    const f = (type.fields ?? []).find((x) => x.name === name);
    if (f === undefined)
      throw validationError(
        `'${textAt(scope.text, e)}': row has no field '${name}'${didYouMean(
          name,
          (type.fields ?? []).map((x) => x.name),
        )}`,
      );
    code = `$.field(${code}, ${JSON.stringify(name)})`;
    type = { ...f.type, nullable: f.type.nullable || type.nullable };
  }
  return { code, type };
}

function literal(value: unknown): string {
  return value === null ? 'null' : JSON.stringify(value);
}

/** Compiles an expression in a scope to JavaScript source; every operator keeps SQL's NULL semantics. */
export function compileExpr(e: Expr, scope: Scope): Compiled {
  const hit = scope.intercept?.(e);
  if (hit !== undefined) return hit;
  const text = () => textAt(scope.text, e);
  const sub = (x: Expr) => compileExpr(x, scope);
  switch (e.kind) {
    case 'literal':
      if (e.type === 'number')
        return {
          code: literal(e.value),
          type: /^\d+$/.test(e.text)
            ? Number(e.text) > 2147483647
              ? T.bigint(false)
              : T.int(false)
            : /[eE]/.test(e.text)
              ? T.double(false)
              : { kind: 'DECIMAL', nullable: false, precision: e.text.length, scale: (e.text.split('.')[1] ?? '').length },
        };
      if (e.type === 'string') return { code: literal(e.value), type: { kind: 'STRING', nullable: false, length: String(e.value).length } };
      if (e.type === 'boolean') return { code: literal(e.value), type: T.bool(false) };
      return { code: 'null', type: { kind: 'NULL', nullable: true } };
    case 'interval':
      return { code: String(intervalMs(e)), type: { kind: 'INTERVAL', nullable: false } };
    case 'typed-literal': {
      if (e.type !== 'TIMESTAMP') throw unsupported(`${e.type} literals`);
      const ms = parseTimestampLiteral(e.value);
      if (ms === null) throw validationError(`'${text()}' is not a valid TIMESTAMP literal`);
      return { code: String(ms), type: T.ts(false) };
    }
    case 'ref':
      return resolveRef(e, scope);
    case 'star':
      throw validationError(`'*' is only allowed in a SELECT list or COUNT(*)`);
    case 'unary': {
      const a = sub(e.arg);
      if (e.op === 'NOT') {
        if (a.type.kind !== 'BOOLEAN' && a.type.kind !== 'NULL')
          throw validationError(`type error in '${text()}': NOT needs a BOOLEAN, got ${typeText(a.type)}`);
        return { code: `$.not(${a.code})`, type: T.bool(a.type.nullable) };
      }
      if (!isNumeric(a.type) && a.type.kind !== 'INTERVAL')
        throw validationError(`type error in '${text()}': ${e.op} needs a number, got ${typeText(a.type)}`);
      return e.op === '-' ? { code: `$.neg(${a.code})`, type: withoutTime(a.type) } : a;
    }
    case 'binary':
      return compileBinary(e, scope, text);
    case 'is': {
      const a = sub(e.arg);
      const test = e.what === 'NULL' ? `$.isNull(${a.code})` : `(${a.code} === ${e.what === 'TRUE' ? 'true' : 'false'})`;
      return { code: e.not ? `!${test}` : test, type: T.bool(false) };
    }
    case 'between': {
      const [a, lo, hi] = [sub(e.arg), sub(e.low), sub(e.high)];
      if (!comparable(a.type, lo.type) || !comparable(a.type, hi.type))
        throw validationError(
          `type error in '${text()}': cannot compare ${typeText(a.type)} with ${typeText(lo.type)} and ${typeText(hi.type)}`,
        );
      const code = `$.between(${a.code}, ${lo.code}, ${hi.code})`;
      return { code: e.not ? `$.not(${code})` : code, type: T.bool(a.type.nullable || lo.type.nullable || hi.type.nullable) };
    }
    case 'in': {
      const a = sub(e.arg);
      const list = e.list.map(sub);
      for (const x of list)
        if (!comparable(a.type, x.type))
          throw validationError(`type error in '${text()}': cannot compare ${typeText(a.type)} with ${typeText(x.type)}`);
      const code = `$.in(${a.code}, [${list.map((x) => x.code).join(', ')}])`;
      return { code: e.not ? `$.not(${code})` : code, type: T.bool(true) };
    }
    case 'in-query':
    case 'exists':
    case 'subquery':
      throw unsupported('subqueries in expressions');
    case 'like': {
      if (e.similar) throw unsupported('SIMILAR TO');
      const [a, p] = [sub(e.arg), sub(e.pattern)];
      if (!isString(a.type) || !isString(p.type))
        throw validationError(`type error in '${text()}': LIKE needs strings, got ${typeText(a.type)} and ${typeText(p.type)}`);
      const esc = e.escape !== undefined && e.escape.kind === 'literal' ? `, ${JSON.stringify(e.escape.value)}` : '';
      const code = `$.like(${a.code}, ${p.code}${esc})`;
      return { code: e.not ? `$.not(${code})` : code, type: T.bool(a.type.nullable || p.type.nullable) };
    }
    case 'case': {
      const operand = e.operand !== undefined ? sub(e.operand) : undefined;
      const whens = e.whens.map((w) => ({ when: sub(w.when), then: sub(w.then) }));
      const otherwise = e.else !== undefined ? sub(e.else) : undefined;
      let type: SqlType | undefined;
      for (const r of [...whens.map((w) => w.then), ...(otherwise ? [otherwise] : [])]) {
        if (r.type.kind === 'NULL') continue;
        if (type === undefined) type = withoutTime(r.type);
        else if (isNumeric(type) && isNumeric(r.type))
          type = { kind: widerNumeric(type, r.type), nullable: type.nullable || r.type.nullable };
        else if (!comparable(type, r.type))
          throw validationError(`type error in '${text()}': the branches return ${typeText(type)} and ${typeText(r.type)}`);
        else type = { ...type, nullable: type.nullable || r.type.nullable };
      }
      type = {
        ...(type ?? { kind: 'NULL', nullable: true }),
        nullable:
          (type?.nullable ?? true) ||
          otherwise === undefined ||
          otherwise.type.kind === 'NULL' ||
          whens.some((w) => w.then.type.kind === 'NULL'),
      };
      let code = otherwise?.code ?? 'null';
      for (let i = whens.length - 1; i >= 0; i--) {
        const w = whens[i];
        const cond = operand !== undefined ? `$.eq(${operand.code}, ${w.when.code})` : w.when.code;
        if (operand === undefined && w.when.type.kind !== 'BOOLEAN' && w.when.type.kind !== 'NULL')
          throw validationError(`type error in '${text()}': WHEN needs a BOOLEAN condition, got ${typeText(w.when.type)}`);
        code = `(${cond} === true ? ${w.then.code} : ${code})`;
      }
      return { code, type };
    }
    case 'cast': {
      const a = sub(e.arg);
      const to = typeFromAst(e.type);
      const type: SqlType = { ...to, nullable: a.type.nullable || e.try || to.nullable };
      if (to.kind === 'STRING')
        return { code: `$.toStr(${a.code}, ${isTimestamp(a.type) && a.type.kind !== 'NULL'}, ${JSON.stringify(a.type.kind)})`, type };
      if (NUMERICS.has(to.kind)) return { code: `$.toNum(${a.code}, ${INTEGERS.has(to.kind)}, ${e.try})`, type };
      if (to.kind === 'BOOLEAN') return { code: `$.toBool(${a.code})`, type };
      if (TIMESTAMPS.has(to.kind)) return { code: `$.toTimestamp(${a.code})`, type: { ...type, precision: to.precision } };
      throw unsupported(`CAST to ${typeText(to)}`);
    }
    case 'extract': {
      const a = sub(e.arg);
      if (!isTimestamp(a.type)) throw validationError(`type error in '${text()}': EXTRACT needs a timestamp, got ${typeText(a.type)}`);
      return { code: `$.extract(${JSON.stringify(e.unit)}, ${a.code})`, type: T.bigint(a.type.nullable) };
    }
    case 'call':
      return compileCall(e, scope, text);
    case 'descriptor':
    case 'table-arg':
      throw validationError(`'${text()}' is only allowed as an argument of a window table function`);
  }
}

function parseTimestampLiteral(v: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(v.trim());
  if (m === null) return null;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], m[7] ? Number(m[7].padEnd(3, '0')) : 0);
}

function compileBinary(e: Extract<Expr, { kind: 'binary' }>, scope: Scope, text: () => string): Compiled {
  const a = compileExpr(e.left, scope);
  const b = compileExpr(e.right, scope);
  const nullable = a.type.nullable || b.type.nullable;
  switch (e.op) {
    case 'AND':
    case 'OR':
      for (const x of [a, b])
        if (x.type.kind !== 'BOOLEAN' && x.type.kind !== 'NULL')
          throw validationError(`type error in '${text()}': ${e.op} needs BOOLEAN operands, got ${typeText(x.type)}`);
      return { code: `$.${e.op.toLowerCase()}(${a.code}, ${b.code})`, type: T.bool(nullable) };
    case '=':
    case '<>':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (!comparable(a.type, b.type))
        throw validationError(`type error in '${text()}': cannot compare ${typeText(a.type)} with ${typeText(b.type)}`);
      const fn = { '=': 'eq', '<>': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' }[e.op];
      return { code: `$.${fn}(${a.code}, ${b.code})`, type: T.bool(nullable) };
    }
    case '||':
      if (!isString(a.type) || !isString(b.type))
        throw validationError(`type error in '${text()}': || needs strings, got ${typeText(a.type)} and ${typeText(b.type)}`);
      return { code: `$.concat(${a.code}, ${b.code})`, type: T.string(nullable) };
    case '+':
    case '-': {
      // timestamp ± interval
      if (isTimestamp(a.type) && a.type.kind !== 'NULL' && b.type.kind === 'INTERVAL') {
        return { code: `$.${e.op === '+' ? 'add' : 'sub'}(${a.code}, ${b.code})`, type: { ...withoutTime(a.type) } };
      }
      if (e.op === '+' && a.type.kind === 'INTERVAL' && isTimestamp(b.type))
        return { code: `$.add(${a.code}, ${b.code})`, type: withoutTime(b.type) };
      if (!isNumeric(a.type) || !isNumeric(b.type))
        throw validationError(`type error in '${text()}': cannot apply '${e.op}' to ${typeText(a.type)} and ${typeText(b.type)}`);
      const kind = widerNumeric(a.type, b.type);
      return { code: wrapInteger(`$.${e.op === '+' ? 'add' : 'sub'}(${a.code}, ${b.code})`, kind), type: { kind, nullable } };
    }
    case '*':
    case '/':
    case '%': {
      if (!isNumeric(a.type) || !isNumeric(b.type))
        throw validationError(`type error in '${text()}': cannot apply '${e.op}' to ${typeText(a.type)} and ${typeText(b.type)}`);
      const kind = widerNumeric(a.type, b.type);
      if (e.op === '*')
        return { code: wrapInteger(`$.${wrapBits(kind) > 0 ? 'imul' : 'mul'}(${a.code}, ${b.code})`, kind), type: { kind, nullable } };
      if (e.op === '%') return { code: `$.mod(${a.code}, ${b.code})`, type: { kind, nullable } };
      const integer = isInteger(a.type) && isInteger(b.type);
      return { code: `$.div(${a.code}, ${b.code}, ${integer})`, type: { kind: integer ? kind : 'DOUBLE', nullable } };
    }
    default:
      throw unsupported(`operator ${e.op}`);
  }
}

/** INT, SMALLINT and TINYINT results wrap around as Flink's (Java's) do; BIGINT and the rest stay as computed. */
function wrapInteger(code: string, kind: SqlType['kind']): string {
  const bits = wrapBits(kind);
  return bits === 0 ? code : `$.wrap(${code}, ${bits})`;
}

function wrapBits(kind: SqlType['kind']): number {
  return kind === 'INT' ? 32 : kind === 'SMALLINT' ? 16 : kind === 'TINYINT' ? 8 : 0;
}

function compileCall(e: Extract<Expr, { kind: 'call' }>, scope: Scope, text: () => string): Compiled {
  if (e.over !== undefined) throw unsupported(`OVER windows (${e.name}() OVER …)`);
  if (AGGREGATES.has(e.name)) throw validationError(`aggregate '${text()}' is only allowed in a SELECT list or HAVING`);
  if (e.name in GROUP_WINDOW_AUX)
    throw validationError(`'${text()}' needs a GROUP BY with the matching ${e.name.split('_')[0]}(…) group window`);
  if (e.filter !== undefined) throw validationError(`FILTER (WHERE …) is only allowed on aggregates, not in '${text()}'`);
  const args = e.args.map((a) => compileExpr(a, scope));
  const anyNull = args.some((a) => a.type.nullable);
  const need = (n: number, m = n) => {
    if (args.length < n || args.length > m)
      throw validationError(`'${text()}': ${e.name} takes ${n === m ? n : `${n} to ${m}`} argument(s), got ${args.length}`);
  };
  const want = (i: number, ok: (t: SqlType) => boolean, what: string) => {
    if (!ok(args[i].type))
      throw validationError(`type error in '${text()}': argument ${i + 1} of ${e.name} must be ${what}, got ${typeText(args[i].type)}`);
  };
  const codes = args.map((a) => a.code).join(', ');
  switch (e.name) {
    case 'UPPER':
    case 'LOWER':
    case 'TRIM':
      need(1);
      want(0, isString, 'a string');
      return { code: `$.${e.name.toLowerCase()}(${codes})`, type: T.string(anyNull) };
    case 'CHAR_LENGTH':
    case 'CHARACTER_LENGTH':
      need(1);
      want(0, isString, 'a string');
      return { code: `$.charLength(${codes})`, type: T.int(anyNull) };
    case 'SUBSTRING':
    case 'SUBSTR':
      need(2, 3);
      want(0, isString, 'a string');
      return { code: `$.substring(${codes})`, type: T.string(anyNull) };
    case 'CONCAT':
      for (let i = 0; i < args.length; i++) want(i, isString, 'a string');
      return { code: `$.concat(${codes})`, type: T.string(anyNull) };
    case 'REGEXP_EXTRACT':
      need(2, 3);
      return { code: `$.regexpExtract(${codes})`, type: T.string(true) };
    case 'SPLIT_INDEX':
      need(3);
      return { code: `$.splitIndex(${codes})`, type: T.string(true) };
    case 'ABS':
    case 'FLOOR':
    case 'CEIL':
    case 'CEILING':
      need(1);
      want(0, isNumeric, 'a number');
      return { code: `$.${e.name === 'CEILING' ? 'ceil' : e.name.toLowerCase()}(${codes})`, type: withoutTime(args[0].type) };
    case 'MOD':
      need(2);
      want(0, isNumeric, 'a number');
      want(1, isNumeric, 'a number');
      return { code: `$.mod(${codes})`, type: { kind: widerNumeric(args[0].type, args[1].type), nullable: anyNull } };
    case 'ROUND':
      need(1, 2);
      want(0, isNumeric, 'a number');
      return { code: `$.round(${codes})`, type: withoutTime(args[0].type) };
    case 'POWER':
      need(2);
      return { code: `$.power(${codes})`, type: T.double(anyNull) };
    case 'COALESCE':
      if (args.length === 0) need(1, 99);
      return {
        code: `$.coalesce(${codes})`,
        type: {
          ...withoutTime(args.find((a) => a.type.kind !== 'NULL')?.type ?? args[0].type),
          nullable: args.every((a) => a.type.nullable),
        },
      };
    case 'DATE_FORMAT':
      need(2);
      return { code: `$.dateFormat(${codes})`, type: T.string(anyNull) };
    case 'HOUR':
    case 'MINUTE':
    case 'SECOND':
    case 'YEAR':
    case 'MONTH':
    case 'DAYOFMONTH':
      need(1);
      want(0, isTimestamp, 'a timestamp');
      return { code: `$.extract(${JSON.stringify(e.name === 'DAYOFMONTH' ? 'DAY' : e.name)}, ${codes})`, type: T.bigint(anyNull) };
    case 'TO_TIMESTAMP':
      need(1);
      want(0, isString, 'a string');
      return { code: `$.toTimestamp(${codes})`, type: T.ts(true) };
    case 'TO_TIMESTAMP_LTZ': {
      need(2);
      want(0, isNumeric, 'a number (epoch seconds or milliseconds)');
      const precision = e.args[1].kind === 'literal' ? e.args[1].value : undefined;
      if (precision !== 0 && precision !== 3)
        throw validationError(`'${text()}': the precision of TO_TIMESTAMP_LTZ must be 0 (seconds) or 3 (milliseconds)`);
      return {
        code: `$.fromEpoch(${args[0].code}, ${precision})`,
        type: { kind: 'TIMESTAMP_LTZ', nullable: args[0].type.nullable, precision: 3 },
      };
    }
    case 'CURRENT_TIMESTAMP':
    case 'LOCALTIMESTAMP':
    case 'NOW':
      return { code: '$.now()', type: T.ts(false) };
    case 'PROCTIME':
      if (e.args.length !== 0) throw validationError(`PROCTIME() takes no arguments, in '${text()}'`);
      return { code: '$.now()', type: { kind: 'TIMESTAMP_LTZ', nullable: false, precision: 3, time: 'proctime' } };
    case 'TUMBLE':
    case 'HOP':
    case 'SESSION':
    case 'CUMULATE':
      throw validationError(`group window '${text()}' is only allowed in GROUP BY`);
    case 'ITEM':
      return {
        code: `$.item(${codes})`,
        type: { ...(args[0].type.element ?? args[0].type.value ?? { kind: 'NULL' }), nullable: true } as SqlType,
      };
    case 'FIELD': {
      const name = (e.args[1] as { value: string }).value;
      const f = (args[0].type.fields ?? []).find((x) => x.name === name);
      if (f === undefined) throw validationError(`'${text()}': no field '${name}'`);
      return { code: `$.field(${args[0].code}, ${JSON.stringify(name)})`, type: { ...f.type, nullable: true } };
    }
    case 'ROW_NUMBER':
    case 'RANK':
    case 'DENSE_RANK':
      throw unsupported(`${e.name}() (Top-N and deduplication)`);
    default: {
      const udf = planning?.functions.get(e.name);
      if (udf !== undefined) {
        planning?.used.set(udf.key, udf.ref);
        return { code: `($.udf[${JSON.stringify(udf.key)}](${codes}) ?? null)`, type: udf.resultType };
      }
      throw validationError(`no function '${e.name}'${didYouMean(e.name, [...KNOWN_FUNCTIONS, ...(planning?.functions.keys() ?? [])])}`);
    }
  }
}

/** The user functions of the planner planning now (planning is synchronous), and those its expressions have called. */
let planning: { functions: ReadonlyMap<string, UserFunction>; used: Map<string, UserFunctionRef> } | undefined;

const KNOWN_FUNCTIONS = [
  'UPPER',
  'LOWER',
  'TRIM',
  'CHAR_LENGTH',
  'SUBSTRING',
  'CONCAT',
  'REGEXP_EXTRACT',
  'SPLIT_INDEX',
  'ABS',
  'FLOOR',
  'CEIL',
  'MOD',
  'ROUND',
  'POWER',
  'COALESCE',
  'DATE_FORMAT',
  'TO_TIMESTAMP_LTZ',
  'HOUR',
  'MINUTE',
  'SECOND',
  'YEAR',
  'MONTH',
  'TO_TIMESTAMP',
  'CURRENT_TIMESTAMP',
  'COUNT',
  'SUM',
  'AVG',
  'MIN',
  'MAX',
];

// ---------------------------------------------------------------------------------------------
// Queries

/** A planned relation: the node producing it, its fields, and a pending window TVF. */
export interface Rel {
  node: number;
  fields: ScopeField[];
  /** Set by a window TVF: the window, applied by the GROUP BY window_start, window_end that follows. */
  window?: WindowSpec;
  /**
   * Window properties (Flink's RelWindowProperties) of a window aggregate's output: the row
   * properties holding its window_start and window_end, kept through renames (`window_start AS
   * starttime`). A GROUP BY over both is a cascading window aggregate; a join on both, a window join.
   */
  windowed?: WindowProps;
  /** With `window`: the row property the window TVF's DESCRIPTOR names. */
  windowColumn?: string;
}

export function containsAggregate(e: Expr | undefined): boolean {
  if (e === undefined) return false;
  let found = false;
  walk(e, (x) => {
    if (x.kind === 'call' && AGGREGATES.has(x.name) && x.over === undefined) found = true;
  });
  return found;
}

/** Calls `f` on `e` and every expression inside it (CASE branches, call arguments, OVER specs), not inside subqueries. */
export function walk(e: Expr, f: (e: Expr) => void): void {
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.kind === 'string' && 'loc' in o) f(o as unknown as Expr);
    for (const [k, x] of Object.entries(o)) if (k !== 'query' && k !== 'loc') visit(x);
  };
  visit(e);
}

/** A structural key for an expression (locations left out), to match GROUP BY keys in the SELECT list. */
function exprKey(e: Expr): string {
  return JSON.stringify(e, (k, v) => (k === 'loc' ? undefined : v));
}

/** Plans queries and statements into {@link SqlPlan}s. */
export class Planner {
  private nodes: PlanNode[] = [];
  private prefix = 'sql';

  /** A planner over `catalog`; `config` (the `SET` options) goes into every plan; `functions` are the user functions by upper-cased name. */
  constructor(
    private readonly catalog: Catalog,
    private readonly config: Record<string, string> = {},
    private readonly functions: ReadonlyMap<string, UserFunction> = new Map(),
  ) {}

  /** Runs `fn` with this planner's user functions callable; a plan it returns lists those its expressions call. */
  private withFunctions<R>(fn: () => R): R {
    const saved = planning;
    planning = { functions: this.functions, used: saved?.used ?? new Map() };
    try {
      const out = fn();
      const plan = out as unknown as SqlPlan;
      if (saved === undefined && planning.used.size > 0 && plan?.version === 1) plan.functions = Object.fromEntries(planning.used);
      return out;
    } finally {
      planning = saved;
    }
  }

  private add<N extends PlanNode>(node: Omit<N, 'id' | 'uid'>): N {
    const id = this.nodes.length;
    const full = { ...node, id, uid: `${this.prefix}/${id}-${node.kind}` } as N;
    markChangelog(full, (i) => this.nodes[i]);
    this.nodes.push(full);
    return full;
  }

  /** Plans `INSERT INTO table query`. */
  planInsert(s: Extract<Statement, { kind: 'insert' }>, text: string, fresh = true): SqlPlan {
    return this.withFunctions(() => this.planInsertNow(s, text, fresh));
  }

  private planInsertNow(s: Extract<Statement, { kind: 'insert' }>, text: string, fresh: boolean): SqlPlan {
    if (fresh) this.nodes = [];
    this.prefix = `insert:${s.table}`;
    const target = this.catalog.lookup(s.table);
    if (target.kind !== 'table') throw validationError(`cannot INSERT INTO view '${s.table}'`);
    if (s.overwrite) throw unsupported('INSERT OVERWRITE');
    const rel = this.planQuery(s.query, text);
    const targetCols = target.columns.filter((c) => c.kind === 'physical');
    const cols = s.columns ?? targetCols.map((c) => c.name);
    if (rel.fields.length !== cols.length) {
      throw validationError(
        `INSERT INTO '${s.table}': the query has ${rel.fields.length} column(s), the table takes ${cols.length} (${cols.join(', ')})`,
      );
    }
    const fields: PlanField[] = cols.map((name, i) => {
      const col = targetCols.find((c) => c.name === name);
      if (col === undefined)
        throw validationError(
          `INSERT INTO '${s.table}': no column '${name}'${didYouMean(
            name,
            targetCols.map((c) => c.name),
          )}`,
        );
      const from = rel.fields[i].type;
      if (!assignable(col.type, from)) {
        throw validationError(
          `INSERT INTO '${s.table}': column '${name}' is ${typeText(col.type)}, the query gives ${typeText(from)} (column ${i + 1}, '${rel.fields[i].name}')`,
        );
      }
      return { name, type: col.type };
    });
    // rename positionally to the sink's columns
    const renamed = this.add<PlanNode & { kind: 'calc' }>({
      kind: 'calc',
      input: rel.node,
      projection: fields.map((f, i) => ({ name: f.name, expr: { code: `r[${JSON.stringify(rel.fields[i].name)}]` } })),
      fields,
    });
    this.add<SinkNode>({
      kind: 'sink',
      input: renamed.id,
      table: s.table,
      connector: target.options.connector,
      options: target.options,
      fields,
      ...sinkPrimaryKey(target),
    });
    return { version: 1, jobName: `insert-into_${s.table}`, nodes: reuseSubplans(this.nodes, this.config), config: { ...this.config } };
  }

  /** Plans several INSERTs as one job (Flink's statement set). */
  planStatementSet(inserts: Extract<Statement, { kind: 'insert' }>[], text: string): SqlPlan {
    return this.withFunctions(() => this.planStatementSetNow(inserts, text));
  }

  private planStatementSetNow(inserts: Extract<Statement, { kind: 'insert' }>[], text: string): SqlPlan {
    this.nodes = [];
    for (const s of inserts) this.planInsert(s, text, false);
    return {
      version: 1,
      jobName: `insert-into_${inserts.map((s) => s.table).join('_')}`,
      nodes: reuseSubplans(this.nodes, this.config),
      config: { ...this.config },
    };
  }

  /** Plans a SELECT whose rows go to the collect sink. */
  planSelect(query: Query, text: string): SqlPlan {
    return this.withFunctions(() => this.planSelectNow(query, text));
  }

  private planSelectNow(query: Query, text: string): SqlPlan {
    this.nodes = [];
    this.prefix = 'select';
    const rel = this.planQuery(query, text);
    const fields = rel.fields.map((f) => ({ name: f.name, type: f.type }));
    this.add<SinkNode>({ kind: 'sink', input: rel.node, table: 'collect', connector: 'collect', options: {}, fields });
    return { version: 1, jobName: 'collect', nodes: reuseSubplans(this.nodes, this.config), config: { ...this.config } };
  }

  /** The output columns of a query, without planning a job. */
  describeQuery(query: Query, text: string): PlanField[] {
    return this.withFunctions(() => this.describeQueryNow(query, text));
  }

  private describeQueryNow(query: Query, text: string): PlanField[] {
    const saved = this.nodes;
    this.nodes = [];
    try {
      return this.planQuery(query, text).fields.map((f) => ({ name: f.name, type: f.type }));
    } finally {
      this.nodes = saved;
    }
  }

  private ctes: Map<string, { query: Query; text: string }>[] = [];

  private planQuery(q: Query, text: string): Rel {
    if (q.orderBy.length > 0) throw unsupported('ORDER BY (streaming order is only allowed on a time attribute, planned in part 2)');
    if (q.limit !== undefined) throw unsupported('LIMIT');
    const scope = new Map<string, { query: Query; text: string }>();
    for (const w of q.with) {
      if (w.columns !== undefined) throw unsupported('WITH name (columns)');
      scope.set(w.name, { query: w.query, text });
    }
    this.ctes.push(scope);
    try {
      return this.planBody(q.body, text);
    } finally {
      this.ctes.pop();
    }
  }

  private planBody(b: QueryBody, text: string): Rel {
    if (b.kind === 'nested') return this.planQuery(b.query, text);
    if (b.kind === 'union') {
      if (!b.all) throw unsupported('UNION without ALL (distinct union)');
      const left = this.planBody(b.left, text);
      const right = this.planBody(b.right, text);
      if (left.fields.length !== right.fields.length)
        throw validationError(`UNION ALL: the inputs have ${left.fields.length} and ${right.fields.length} columns`);
      left.fields.forEach((f, i) => {
        if (!comparable(f.type, right.fields[i].type))
          throw validationError(
            `UNION ALL: column ${i + 1} is ${typeText(f.type)} on the left and ${typeText(right.fields[i].type)} on the right`,
          );
      });
      const rightRenamed = this.add<PlanNode & { kind: 'calc' }>({
        kind: 'calc',
        input: right.node,
        projection: left.fields.map((f, i) => ({ name: f.name, expr: { code: `r[${JSON.stringify(right.fields[i].name)}]` } })),
        fields: left.fields.map((f) => ({ name: f.name, type: f.type })),
      });
      const fields = left.fields.map((f, i) => ({
        name: f.name,
        type: { ...f.type, nullable: f.type.nullable || right.fields[i].type.nullable },
      }));
      const node = this.add<PlanNode & { kind: 'union' }>({ kind: 'union', inputs: [left.node, rightRenamed.id], fields });
      return { node: node.id, fields };
    }
    return this.planSelectBlock(b, text);
  }

  private planTable(name: string, alias: string | undefined): Rel {
    for (let i = this.ctes.length - 1; i >= 0; i--) {
      const cte = this.ctes[i].get(name);
      if (cte !== undefined) {
        const rel = this.planQuery(cte.query, cte.text);
        return { ...rel, fields: rel.fields.map((f) => ({ ...f, qualifier: alias ?? name })) };
      }
    }
    const entry = this.catalog.lookup(name);
    if (entry.kind === 'view') {
      const rel = this.planQuery(entry.query, entry.text);
      const names = entry.columns;
      return { ...rel, fields: rel.fields.map((f, i) => ({ name: names?.[i] ?? f.name, type: f.type, qualifier: alias ?? name })) };
    }
    const physical = entry.columns.filter((c) => c.kind === 'physical').map((c) => ({ name: c.name, type: c.type }));
    const metadata = entry.columns.filter((c) => c.kind === 'metadata').map((c) => ({ name: c.name, key: c.key as string, type: c.type }));
    const colScope = new Scope([...physical, ...metadata.map((m) => ({ name: m.name, type: m.type }))], entry.text);
    const computed = entry.columns
      .filter((c) => c.kind === 'computed')
      .map((c) => ({ name: c.name, expr: { code: compileExpr(c.expr as Expr, colScope).code } }));
    const fields = entry.columns.map((c) => ({ name: c.name, type: c.type }));
    let watermark: SourceNode['watermark'];
    if (entry.watermark !== undefined) {
      const all = new Scope(fields, entry.text);
      watermark = { column: entry.watermark.column, expr: { code: compileExpr(entry.watermark.expr, all).code } };
    }
    const node = this.add<SourceNode>({
      kind: 'source',
      table: name,
      connector: entry.options.connector,
      options: entry.options,
      physical,
      metadata,
      computed,
      fields,
      watermark,
      ...sourceChangelog(entry),
    });
    return { node: node.id, fields: fields.map((f) => ({ ...f, qualifier: alias ?? name })) };
  }

  /** What the join planner (plan-joins.ts) reaches of the planner. */
  private joinHost(): JoinHost {
    return {
      planFrom: (f, text) => this.planFrom(f, text),
      add: (node) => this.add(node as Omit<PlanNode, 'id' | 'uid'>),
      node: (id) => this.nodes[id],
      scratch: <R>(fn: () => R): R => {
        const saved = this.nodes;
        this.nodes = [...saved];
        try {
          return fn();
        } finally {
          this.nodes = saved;
        }
      },
      config: this.config,
      catalogTable: (name) => {
        const e = this.catalog.lookup(name);
        if (e.kind !== 'table') throw validationError(`FOR SYSTEM_TIME AS OF needs a table, but '${name}' is a view`);
        return e;
      },
    };
  }

  private planFrom(f: FromItem, text: string): Rel {
    switch (f.kind) {
      case 'table':
        if (f.systemTimeAsOf !== undefined) throw unsupported('temporal joins (FOR SYSTEM_TIME AS OF)');
        return this.planTable(f.name, f.alias);
      case 'subquery': {
        const rel = this.planQuery(f.query, text);
        return { ...rel, fields: rel.fields.map((x) => ({ ...x, qualifier: f.alias })) };
      }
      case 'join':
        return planJoin(this.joinHost(), f, undefined, text).rel;
      case 'tvf':
        return this.planWindowTvf(f, text);
    }
  }

  private planWindowTvf(f: Extract<FromItem, { kind: 'tvf' }>, text: string): Rel {
    if (!['TUMBLE', 'HOP', 'CUMULATE'].includes(f.name)) {
      if (f.name === 'SESSION') throw unsupported('the SESSION window table function (use GROUP BY SESSION(…))');
      throw validationError(`no table function '${f.name}'${didYouMean(f.name, ['TUMBLE', 'HOP', 'CUMULATE'])}`);
    }
    const [data, descriptor, ...rest] = f.args;
    if (data?.kind !== 'table-arg') throw validationError(`${f.name}: the first argument must be TABLE <name>`);
    if (descriptor?.kind !== 'descriptor' || descriptor.columns.length !== 1)
      throw validationError(`${f.name}: the second argument must be DESCRIPTOR(<time column>)`);
    const input = this.planTable(data.name, undefined);
    const col = input.fields.find((x) => x.name === descriptor.columns[0]);
    if (col === undefined)
      throw validationError(
        `${f.name}: column '${descriptor.columns[0]}' not found in '${data.name}'${didYouMean(
          descriptor.columns[0],
          input.fields.map((x) => x.name),
        )}`,
      );
    if (col.type.time !== 'rowtime' && col.type.time !== 'proctime') {
      throw validationError(
        `${f.name}: DESCRIPTOR(${col.name}) must be a time attribute (a column with a WATERMARK, or PROCTIME()), but '${col.name}' is ${typeText(col.type)}`,
      );
    }
    const proctime = col.type.time === 'proctime';
    if (proctime && f.name === 'CUMULATE') throw unsupported('CUMULATE windows on processing time');
    const sizes = rest.map((a) => {
      if (a.kind !== 'interval') throw validationError(`${f.name}: window sizes must be INTERVAL literals, got '${textAt(text, a)}'`);
      const ms = intervalMs(a);
      if (ms <= 0) throw validationError(`${f.name}: window sizes must be positive, got '${textAt(text, a)}'`);
      return ms;
    });
    let window: WindowSpec;
    if (f.name === 'TUMBLE') {
      if (sizes.length !== 1) throw validationError('TUMBLE takes TABLE, DESCRIPTOR and one INTERVAL (the size)');
      window = { kind: 'tumble', size: sizes[0] };
    } else if (f.name === 'HOP') {
      if (sizes.length !== 2) throw validationError('HOP takes TABLE, DESCRIPTOR, the slide and the size');
      window = { kind: 'hop', slide: sizes[0], size: sizes[1] };
    } else {
      if (sizes.length !== 2) throw validationError('CUMULATE takes TABLE, DESCRIPTOR, the step and the max size');
      if (sizes[1] % sizes[0] !== 0) throw validationError('CUMULATE: the max size must be a multiple of the step');
      window = { kind: 'cumulate', step: sizes[0], size: sizes[1] };
    }
    if (proctime) window = { ...window, proctime: true };
    const q = f.alias;
    const fields: ScopeField[] = [
      ...input.fields.map((x) => ({ ...x, qualifier: q })),
      { name: 'window_start', type: T.ts(false), qualifier: q },
      { name: 'window_end', type: T.ts(false), qualifier: q },
      { name: 'window_time', type: proctime ? T.proctime() : T.ts(false, 'rowtime'), qualifier: q },
    ];
    return { node: input.node, fields, window, windowColumn: col.column ?? col.name };
  }

  private planSelectBlock(s: Select, text: string): Rel {
    if (s.from === undefined) throw unsupported('SELECT without FROM');
    const ranked = rankSubquery(s);
    if (ranked !== undefined) return planTopN(this.topNPlanner(text), s, ranked);
    const { rel: input, where } = this.planSource(s, text);
    return this.planSelectOn({ ...s, where }, input, text);
  }

  /** The FROM of a SELECT, and what is left of its WHERE: an inner join takes the WHERE conjuncts it can use (equi-keys, time bounds, pushed-down filters). */
  private planSource(s: Select, text: string): { rel: Rel; where: Expr | undefined } {
    if (s.from === undefined) throw unsupported('SELECT without FROM');
    if (s.from.kind !== 'join') return { rel: this.planFrom(s.from, text), where: s.where };
    const joined = planJoin(this.joinHost(), s.from, s.where, text);
    return { rel: joined.rel, where: joined.where };
  }

  /** What Top-N planning (plan-changelog.ts) needs of the planner. */
  private topNPlanner(text: string): TopNPlanner {
    return {
      planFrom: (f) => this.planFrom(f, text),
      planSource: (s) => this.planSource(s, text),
      compile: (e, rel) => compileExpr(e, new Scope(rel.fields, text)),
      add: (node) => this.add(node),
      planSelectOn: (s, input) => this.planSelectOn(s, input, text),
      node: (id) => this.nodes[id],
      textOf: (e) => textAt(text, e),
    };
  }

  /** `SELECT DISTINCT`: the SELECT, then a GROUP BY on all its columns without aggregates (as Flink plans it). */
  private planDistinct(s: Select, input: Rel, text: string): Rel {
    if (s.groupBy.length > 0 || s.having !== undefined || s.items.some((i) => i.kind === 'expr' && containsAggregate(i.expr)))
      throw unsupported('SELECT DISTINCT with GROUP BY or aggregates');
    const rel = this.planSelectOn({ ...s, distinct: false }, input, text);
    const fields = rel.fields.map((f) => ({ name: f.name, type: withoutTime(f.type) }));
    const node = this.add<GroupAggNode>({
      kind: 'group-agg',
      input: rel.node,
      keys: fields.map((f) => ({ code: `r[${JSON.stringify(f.name)}]` })),
      groupBy: fields.map((f) => f.name),
      aggs: [],
      projection: fields.map((f, i) => ({ name: f.name, expr: { code: `g.k[${i}]` } })),
      fields,
      updating: true,
    });
    return { node: node.id, fields };
  }

  private planSelectOn(s: Select, planned: Rel, text: string): Rel {
    if (s.distinct) return this.planDistinct(s, planned, text);
    const aggregated =
      s.groupBy.length > 0 || s.items.some((i) => i.kind === 'expr' && containsAggregate(i.expr)) || s.having !== undefined;
    // a window TVF not aggregated here: each row gets its windows as columns (window assignment alone)
    const input = planned.window !== undefined && !aggregated ? assignWindows(this.joinHost(), planned) : planned;
    const where = s.where;
    const scope = new Scope(input.fields, text);
    let filter: string | undefined;
    if (where !== undefined) {
      if (containsAggregate(where)) throw validationError(`aggregates are not allowed in WHERE: '${textAt(text, where)}'`);
      const w = compileExpr(where, scope);
      if (w.type.kind !== 'BOOLEAN' && w.type.kind !== 'NULL')
        throw validationError(`type error in WHERE '${textAt(text, where)}': needs a BOOLEAN, got ${typeText(w.type)}`);
      filter = w.code;
    }
    if (hasOverCall(s)) {
      if (aggregated) throw unsupported('OVER aggregates in a SELECT with GROUP BY or aggregates (aggregate in a nested subquery first)');
      return planOver(this.overHost(text), s, filter === undefined ? input : this.filtered(input, filter));
    }
    if (!aggregated) {
      const projection: { name: string; expr: { code: string } }[] = [];
      const fields: ScopeField[] = [];
      s.items.forEach((item, i) => {
        if (item.kind === 'star') {
          for (const f of input.fields) {
            if (item.qualifier !== undefined && f.qualifier !== item.qualifier) continue;
            if (f.qualifier === RANK_QUALIFIER || f.qualifier === OVER_QUALIFIER) continue; // a Top-N's row number is read by name only
            // a name both sides of a join have shows as the join's column (`id`, `id0`), as in Flink
            const column = f.column ?? f.name;
            const name = input.fields.filter((x) => x.name === f.name).length > 1 ? column : f.name;
            projection.push({ name, expr: { code: `r[${JSON.stringify(column)}]` } });
            fields.push({ name, type: f.type });
          }
          return;
        }
        const c = compileExpr(item.expr, scope);
        let name = item.alias ?? (item.expr.kind === 'ref' ? item.expr.path[item.expr.path.length - 1] : `EXPR$${i}`);
        // a derived name taken already (`SELECT a.id, b.id` over a join) gets a suffix, as Flink's `id0`
        if (item.alias === undefined && item.expr.kind === 'ref')
          for (let j = 0, base = name; fields.some((x) => x.name === name); j++) name = `${base}${j}`;
        // a column passed through keeps its time attribute, and PROCTIME() makes one; other computed columns lose it
        const type = item.expr.kind === 'ref' || isProctimeCall(item.expr) ? c.type : withoutTime(c.type);
        projection.push({ name, expr: { code: c.code } });
        fields.push({ name, type });
      });
      uniqueNames(fields);
      const node = this.add<PlanNode & { kind: 'calc' }>({
        kind: 'calc',
        input: input.node,
        filter: filter === undefined ? undefined : { code: filter },
        projection,
        fields,
      });
      return { node: node.id, fields, windowed: windowedAfterProjection(input.windowed, projection) };
    }
    return this.planAggregate(s, input, scope, filter, text);
  }

  /** What OVER planning (plan-over.ts) needs of the planner. */
  private overHost(text: string): OverHost {
    return {
      add: (node) => this.add(node),
      aggregateCall: (e, scope) => this.aggregateCall(e, scope, text),
      planSelectOn: (s, input) => this.planSelectOn(s, input, text),
      text,
    };
  }

  /** `input` through a calc keeping the rows `filter` accepts, its fields (and their qualifiers) as they were. */
  private filtered(input: Rel, filter: string): Rel {
    const node = this.add<PlanNode & { kind: 'calc' }>({
      kind: 'calc',
      input: input.node,
      filter: { code: filter },
      projection: input.fields.map((f) => ({ name: f.column ?? f.name, expr: { code: `r[${JSON.stringify(f.column ?? f.name)}]` } })),
      fields: input.fields.map((f) => ({ name: f.column ?? f.name, type: f.type })),
    });
    return { ...input, node: node.id };
  }

  private planAggregate(s: Select, input: Rel, scope: Scope, filter: string | undefined, text: string): Rel {
    // Pre-filter (WHERE) as its own calc, so the aggregate reads only the rows that pass.
    let inputNode = input.node;
    if (filter !== undefined) {
      const node = this.add<PlanNode & { kind: 'calc' }>({
        kind: 'calc',
        input: input.node,
        filter: { code: filter },
        projection: input.fields
          .filter((f) => !['window_start', 'window_end', 'window_time'].includes(f.name) || input.window === undefined)
          .map((f) => ({ name: f.column ?? f.name, expr: { code: `r[${JSON.stringify(f.column ?? f.name)}]` } })),
        fields: input.fields.map((f) => ({ name: f.name, type: f.type })),
      });
      inputNode = node.id;
    }
    let window: WindowSpec | undefined;
    let timeField: string | undefined;
    const keyExprs: Expr[] = [];
    let sawStart = false;
    let sawEnd = false;
    const groupWindowName = { name: '' };
    for (const g of s.groupBy) {
      if (g.kind === 'call' && ['TUMBLE', 'HOP', 'SESSION'].includes(g.name)) {
        if (input.window !== undefined) throw validationError('a group window function cannot be used on a window table function');
        if (window !== undefined) throw validationError('only one group window is allowed in GROUP BY');
        window = this.groupWindow(g, scope, text);
        timeField = columnOf(compileExpr(g.args[0], scope).code);
        groupWindowName.name = g.name;
        continue;
      }
      if (
        input.window !== undefined &&
        g.kind === 'ref' &&
        (g.path[g.path.length - 1] === 'window_start' || g.path[g.path.length - 1] === 'window_end')
      ) {
        if (g.path[g.path.length - 1] === 'window_start') sawStart = true;
        else sawEnd = true;
        continue;
      }
      if (g.kind === 'ref' && g.path[g.path.length - 1] === 'window_time' && input.window !== undefined) continue;
      keyExprs.push(g);
    }
    if (input.window !== undefined) {
      if (!sawStart || !sawEnd)
        throw validationError('a window aggregate must GROUP BY both window_start and window_end of its window table function');
      window = input.window;
      timeField = input.windowColumn;
    }
    // GROUP BY both window properties of a window aggregate's output: a cascading window aggregate
    let attached: { start: string; end: string } | undefined;
    if (window === undefined && input.windowed !== undefined) {
      const props = keyExprs.map((k) => windowPropOf(k, scope, input.windowed as WindowProps));
      if (props.includes('start') && props.includes('end')) {
        attached = { start: input.windowed.start, end: input.windowed.end };
        window = input.windowed.spec;
        for (let i = keyExprs.length - 1; i >= 0; i--) if (props[i] !== undefined) keyExprs.splice(i, 1);
      }
    }
    const keys = keyExprs.map((k) => compileExpr(k, scope));
    const keyIndex = new Map(keyExprs.map((k, i) => [exprKey(k), i]));
    const aggs: AggCall[] = [];
    const aggIndex = new Map<string, number>();
    const aggTypes: SqlType[] = [];
    const auxPrefix = groupWindowName.name;
    const intercept = (e: Expr): Compiled | undefined => {
      const ki = keyIndex.get(exprKey(e));
      if (ki !== undefined) return { code: `g.k[${ki}]`, type: withoutTime(keys[ki].type) };
      if (e.kind === 'ref' && attached !== undefined) {
        const which = windowPropOf(e, scope, input.windowed as WindowProps);
        if (which !== undefined) return { code: which === 'start' ? 'g.ws' : 'g.we', type: T.ts(false) };
      }
      if (e.kind === 'ref' && input.window !== undefined) {
        const last = e.path[e.path.length - 1];
        if (last === 'window_start') return { code: 'g.ws', type: T.ts(false) };
        if (last === 'window_end') return { code: 'g.we', type: T.ts(false) };
        if (last === 'window_time') return { code: '(g.we - 1)', type: window?.proctime ? T.proctime() : T.ts(false, 'rowtime') };
      }
      if (e.kind === 'call' && e.name in GROUP_WINDOW_AUX) {
        if (!e.name.startsWith(auxPrefix + '_') || auxPrefix === '')
          throw validationError(`'${textAt(text, e)}' needs GROUP BY ${e.name.split('_')[0]}(…)`);
        const which = GROUP_WINDOW_AUX[e.name];
        if (which === 'ws') return { code: 'g.ws', type: T.ts(false) };
        if (which === 'we') return { code: 'g.we', type: T.ts(false) };
        if (which === 'proctime') {
          if (!window?.proctime)
            throw validationError(`'${textAt(text, e)}' needs a window on processing time (PROCTIME()); use ${auxPrefix}_ROWTIME`);
          return { code: '(g.we - 1)', type: T.proctime() };
        }
        if (window?.proctime) throw validationError(`'${textAt(text, e)}' needs a window on event time; use ${auxPrefix}_PROCTIME`);
        return { code: '(g.we - 1)', type: T.ts(false, 'rowtime') };
      }
      if (e.kind === 'call' && AGGREGATES.has(e.name) && e.over === undefined) {
        const k = exprKey(e);
        let i = aggIndex.get(k);
        if (i === undefined) {
          i = aggs.length;
          aggIndex.set(k, i);
          const { call, type } = this.aggregateCall(e, scope, text);
          aggs.push(call);
          aggTypes.push(type);
        }
        return { code: `g.a[${i}]`, type: aggTypes[i] };
      }
      if (e.kind === 'ref') {
        throw validationError(
          `column '${e.path.join('.')}' must appear in GROUP BY or be used in an aggregate function ('${textAt(text, e)}')`,
        );
      }
      return undefined;
    };
    const outScope = new Scope([], text, intercept);
    const projection: { name: string; expr: { code: string } }[] = [];
    const fields: ScopeField[] = [];
    s.items.forEach((item, i) => {
      if (item.kind === 'star') throw validationError('SELECT * is not allowed with GROUP BY');
      const c = compileExpr(item.expr, outScope);
      const name = item.alias ?? (item.expr.kind === 'ref' ? item.expr.path[item.expr.path.length - 1] : `EXPR$${i}`);
      projection.push({ name, expr: { code: c.code } });
      fields.push({ name, type: c.type });
    });
    uniqueNames(fields);
    let having: { code: string } | undefined;
    if (s.having !== undefined) {
      const h = compileExpr(s.having, outScope);
      if (h.type.kind !== 'BOOLEAN')
        throw validationError(`type error in HAVING '${textAt(text, s.having)}': needs a BOOLEAN, got ${typeText(h.type)}`);
      having = { code: h.code };
    }
    if (window === undefined) {
      // a non-windowed GROUP BY: an updating aggregate (Flink's GroupAggregate); its results lose time attributes
      const agg = this.add<GroupAggNode>({
        kind: 'group-agg',
        input: inputNode,
        keys: keys.map((k) => ({ code: k.code })),
        groupBy: keyExprs.map((k) => textAt(text, k)),
        aggs,
        having,
        projection,
        fields: fields.map((f) => ({ name: f.name, type: withoutTime(f.type) })),
        updating: true,
      });
      return { node: agg.id, fields: fields.map((f) => ({ ...f, type: withoutTime(f.type) })) };
    }
    const node = this.add<PlanNode & { kind: 'window-agg' }>({
      kind: 'window-agg',
      input: inputNode,
      keys: keys.map((k) => ({ code: k.code })),
      scalarKey: keys.length === 1 && !['ROW', 'ARRAY', 'MAP'].includes(keys[0].type.kind) ? true : undefined,
      window,
      ...(attached !== undefined ? { attached } : {}),
      ...(attached === undefined && timeField !== undefined && window.proctime !== true ? { timeField } : {}),
      aggs,
      having,
      projection,
      fields,
    });
    return {
      node: node.id,
      fields,
      windowed: windowedAfterProjection({ spec: window, start: 'g.ws', end: 'g.we', code: true }, projection),
    };
  }

  private groupWindow(g: Extract<Expr, { kind: 'call' }>, scope: Scope, text: string): WindowSpec {
    const [time, ...sizes] = g.args;
    const t = time !== undefined ? compileExpr(time, scope) : undefined;
    if (t === undefined || (t.type.time !== 'rowtime' && t.type.time !== 'proctime')) {
      throw validationError(
        `${g.name}: the first argument must be a time attribute (a column with a WATERMARK, or PROCTIME()), in '${textAt(text, g)}'`,
      );
    }
    const proctime: { proctime?: true } = t.type.time === 'proctime' ? { proctime: true } : {};
    const ms = sizes.map((a) => {
      if (a.kind !== 'interval') throw validationError(`${g.name}: sizes must be INTERVAL literals in '${textAt(text, g)}'`);
      return intervalMs(a);
    });
    if (g.name === 'TUMBLE' && ms.length === 1) return { kind: 'tumble', size: ms[0], ...proctime };
    if (g.name === 'HOP' && ms.length === 2) return { kind: 'hop', slide: ms[0], size: ms[1], ...proctime };
    if (g.name === 'SESSION' && ms.length === 1) return { kind: 'session', gap: ms[0], ...proctime };
    throw validationError(`${g.name}: wrong number of arguments in '${textAt(text, g)}'`);
  }

  private aggregateCall(e: Extract<Expr, { kind: 'call' }>, scope: Scope, text: string): { call: AggCall; type: SqlType } {
    const fn = e.name as AggCall['fn'];
    let filter: { code: string } | undefined;
    if (e.filter !== undefined) {
      if (containsAggregate(e.filter)) throw validationError(`aggregates are not allowed in FILTER: '${textAt(text, e.filter)}'`);
      const f = compileExpr(e.filter, scope);
      if (f.type.kind !== 'BOOLEAN')
        throw validationError(`type error in FILTER '${textAt(text, e.filter)}': needs a BOOLEAN, got ${typeText(f.type)}`);
      filter = { code: f.code };
    }
    if (e.star) {
      if (fn !== 'COUNT') throw validationError(`${fn}(*) is not allowed; only COUNT(*)`);
      return { call: { fn, distinct: false, filter, integer: false }, type: T.bigint(false) };
    }
    if (e.args.length !== 1) throw validationError(`${fn} takes one argument in '${textAt(text, e)}'`);
    if (containsAggregate(e.args[0])) throw validationError(`nested aggregates are not allowed: '${textAt(text, e)}'`);
    const arg = compileExpr(e.args[0], scope);
    const call: AggCall = { fn, arg: { code: arg.code }, distinct: e.distinct, filter, integer: isInteger(arg.type) };
    switch (fn) {
      case 'COUNT':
        return { call, type: T.bigint(false) };
      case 'SUM':
      case 'AVG':
        if (!isNumeric(arg.type))
          throw validationError(`type error in '${textAt(text, e)}': ${fn} needs a number, got ${typeText(arg.type)}`);
        return {
          call,
          type: { ...withoutTime(arg.type), kind: fn === 'SUM' && isInteger(arg.type) ? 'BIGINT' : arg.type.kind, nullable: true },
        };
      default:
        return { call, type: { ...withoutTime(arg.type), nullable: true } };
    }
  }
}

/** The row property a compiled column reference reads (`r["x"]` → `x`), or undefined for another expression. */
function columnOf(code: string): string | undefined {
  const m = /^r\[("(?:[^"\\]|\\.)*")\]$/.exec(code);
  return m === null ? undefined : (JSON.parse(m[1]) as string);
}

export function uniqueNames(fields: ScopeField[]): void {
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) throw validationError(`the query has two columns named '${f.name}'; give one an alias (AS …)`);
    seen.add(f.name);
  }
}

/** Compiles one expression over named, typed columns (for tests and tools): its JavaScript source and type. */
export function compileStandalone(e: Expr, fields: PlanField[], text: string): Compiled {
  return compileExpr(e, new Scope(fields, text));
}
