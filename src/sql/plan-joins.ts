//! Join planning: ON and WHERE conjuncts split into equi-keys, pushed-down filters and a residual condition; each join classified as Flink's planner does (window, interval or regular join).

import type { Expr, FromItem } from './ast.ts';
import type { JoinNode, PlanNode, SqlType, WindowSpec } from './plan.ts';
import {
  Scope,
  compileExpr,
  containsAggregate,
  intervalMs,
  textAt,
  typeText,
  unsupported,
  validationError,
  walk,
  withoutTime,
  type CatalogEntry,
  type Rel,
  type ScopeField,
} from './planner.ts';
import { isLookupJoin, planLookupJoin } from './plan-lookup.ts';
import { planTemporalJoin } from './plan-temporal.ts';

/** Window properties of a relation: the row properties holding window_start and window_end of its windows. */
export interface WindowProps {
  spec: WindowSpec;
  start: string;
  end: string;
}

/** What the join planner reaches of the {@link Planner}. */
export interface JoinHost {
  planFrom(f: FromItem, text: string): Rel;
  add(node: Omit<PlanNode, 'id' | 'uid'>): PlanNode;
  node(id: number): PlanNode;
  /** Runs `fn` and forgets the plan nodes it added (to learn a FROM item's columns before planning it). */
  scratch<R>(fn: () => R): R;
  config: Record<string, string>;
  /** The catalog's table `name` (a lookup join's table). */
  catalogTable(name: string): Extract<CatalogEntry, { kind: 'table' }>;
}

type JoinFrom = Extract<FromItem, { kind: 'join' }>;
type Side = 'l' | 'r';

/** Whether `e` is a column reference to the window_start or window_end property of `w`. */
export function windowPropOf(e: Expr, scope: Scope, w: WindowProps): 'start' | 'end' | undefined {
  if (e.kind !== 'ref') return undefined;
  let code: string;
  try {
    code = compileExpr(e, scope).code;
  } catch {
    return undefined;
  }
  if (code === `r[${JSON.stringify(w.start)}]`) return 'start';
  if (code === `r[${JSON.stringify(w.end)}]`) return 'end';
  return undefined;
}

/**
 * The window properties after a projection: kept when both columns pass through (under any name).
 * `w.code` means start and end are the projection codes of a window aggregate (`g.ws`, `g.we`).
 */
export function windowedAfterProjection(
  w: (WindowProps & { code?: true }) | undefined,
  projection: readonly { name: string; expr: { code: string } }[],
): WindowProps | undefined {
  if (w === undefined) return undefined;
  const startCode = w.code === true ? w.start : `r[${JSON.stringify(w.start)}]`;
  const endCode = w.code === true ? w.end : `r[${JSON.stringify(w.end)}]`;
  const start = projection.find((p) => p.expr.code === startCode)?.name;
  const end = projection.find((p) => p.expr.code === endCode)?.name;
  return start !== undefined && end !== undefined ? { spec: w.spec, start, end } : undefined;
}

/**
 * Window assignment alone: a window TVF whose rows are not aggregated right away gets a node that
 * adds each row's windows as columns. The DESCRIPTOR column stops being a time attribute and
 * window_time is the rowtime, as in Flink; window_start and window_end are window properties.
 */
export function assignWindows(host: JoinHost, rel: Rel): Rel {
  const window = rel.window as WindowSpec;
  if (isUpdating(host, rel.node)) throw unsupported('window table functions over an updating input (rows with -U/-D)');
  if (window.proctime === true) throw unsupported('window table functions on processing time without GROUP BY window_start, window_end');
  const props = new Set(['window_start', 'window_end', 'window_time']);
  const fields = rel.fields.map((f) => (props.has(f.name) ? f : { ...f, type: withoutTime(f.type) }));
  const node = host.add({
    kind: 'window-assign',
    input: rel.node,
    window,
    timeColumn: rel.windowColumn as string,
    fields: fields.map((f) => ({ name: f.column ?? f.name, type: f.type })),
  } as Omit<PlanNode, 'id' | 'uid'>);
  return { node: node.id, fields, windowed: { spec: window, start: 'window_start', end: 'window_end' } };
}

export function conjuncts(e: Expr | undefined): Expr[] {
  if (e === undefined) return [];
  if (e.kind === 'binary' && e.op === 'AND') return [...conjuncts(e.left), ...conjuncts(e.right)];
  return [e];
}

export function andAll(es: Expr[]): Expr | undefined {
  if (es.length === 0) return undefined;
  return es.reduce((a, b) => ({ kind: 'binary', op: 'AND', left: a, right: b, loc: { ...a.loc, end: Math.max(a.loc.end, b.loc.end) } }));
}

function hasSubquery(e: Expr): boolean {
  let found = false;
  walk(e, (x) => {
    if (x.kind === 'subquery' || x.kind === 'exists' || x.kind === 'in-query') found = true;
  });
  return found;
}

const isInnerType = (t: JoinFrom['type']): boolean => t === 'INNER' || t === 'COMMA' || t === 'CROSS';

/** The output of a join: the left's columns then the right's, a clashing name made unique as Flink does (`id`, `id0`). */
export function joinOutput(left: readonly ScopeField[], right: readonly ScopeField[]) {
  const taken = new Set<string>();
  const output: JoinNode['output'] = [];
  const fields: ScopeField[] = [];
  for (const [side, fs] of [
    ['l', left],
    ['r', right],
  ] as const) {
    for (const f of fs) {
      const column = f.column ?? f.name;
      let name = column;
      for (let i = 0; taken.has(name); i++) name = `${column}${i}`;
      taken.add(name);
      output.push({ name, side, column });
      fields.push({ name: f.name, type: f.type, qualifier: f.qualifier, column: name });
    }
  }
  return { output, fields };
}

/** The columns of a FROM item, without planning it (a join's are its sides'). */
function fieldsOf(host: JoinHost, f: FromItem, text: string): ScopeField[] {
  if (f.kind === 'join') return joinOutput(fieldsOf(host, f.left, text), fieldsOf(host, f.right, text)).fields;
  // a versioned table's columns are its table's (the temporal join plans its AS OF)
  const plain = f.kind === 'table' && f.systemTimeAsOf !== undefined ? { ...f, systemTimeAsOf: undefined } : f;
  return host.scratch(() => host.planFrom(plain, text).fields);
}

/** Which sides the column references of `e` read ('l', 'r'); unknown columns are left to the full scope's error. */
export function sidesOf(e: Expr, left: Scope, right: Scope): Set<Side> {
  const sides = new Set<Side>();
  walk(e, (x) => {
    if (x.kind !== 'ref') return;
    for (const [side, scope] of [
      ['l', left],
      ['r', right],
    ] as const) {
      try {
        compileExpr(x, scope);
        sides.add(side);
      } catch {
        // not a column of this side
      }
    }
  });
  return sides;
}

/** Whether the node's rows carry row kinds (an updating input: the other helper's nodes mark themselves `updating`). */
export function isUpdating(host: JoinHost, id: number): boolean {
  const n = host.node(id) as PlanNode & { updating?: boolean };
  if (n.updating === true) return true;
  if (n.kind === 'calc') return isUpdating(host, n.input);
  if (n.kind === 'union') return n.inputs.some((i) => isUpdating(host, i));
  return false;
}

/** `table.exec.state.ttl` in ms ('0' = off): '1 h', '10 s', '500 ms', '1 min', '1 d' or plain milliseconds. */
export function stateTtlMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m =
    /^\s*(\d+)\s*(ms|milli|millis|millisecond|milliseconds|s|sec|secs|second|seconds|min|mins|minute|minutes|h|hour|hours|d|day|days)?\s*$/i.exec(
      text,
    );
  if (m === null) throw validationError(`'table.exec.state.ttl' must be a duration like '1 h', '30 min' or '10 s', got '${text}'`);
  const unit = (m[2] ?? 'ms').toLowerCase();
  const f =
    unit === 'ms' || unit.startsWith('milli')
      ? 1
      : unit.startsWith('s')
        ? 1000
        : unit.startsWith('m')
          ? 60_000
          : unit.startsWith('h')
            ? 3_600_000
            : 86_400_000;
  const ms = Number(m[1]) * f;
  return ms === 0 ? undefined : ms;
}

/**
 * Plans a join FROM item. For an inner join, `where` (the enclosing SELECT's WHERE) lends the
 * conjuncts it can: they become equi-keys, time bounds, pushed-down filters or the residual
 * condition, as Flink's planner moves them; what is left (or the whole WHERE of an outer join)
 * comes back to be applied after the join.
 */
export function planJoin(host: JoinHost, f: JoinFrom, where: Expr | undefined, text: string): { rel: Rel; where?: Expr } {
  if (f.right.kind === 'table' && f.right.systemTimeAsOf !== undefined && isLookupJoin(host, f, text))
    return { rel: planLookupJoin(host, f, text), where };
  const taken: Expr[] = [];
  const rest: Expr[] = [];
  if (isInnerType(f.type)) for (const c of conjuncts(where)) (containsAggregate(c) || hasSubquery(c) ? rest : taken).push(c);
  else if (where !== undefined) rest.push(where);
  return { rel: planJoinWith(host, f, taken, text), where: andAll(rest) };
}

/** Plans one side: an inner join below takes the pushed conjuncts; anything else gets them as a filter. */
export function planSide(host: JoinHost, f: FromItem, pushed: Expr[], text: string): Rel {
  if (f.kind === 'join' && isInnerType(f.type)) return planJoinWith(host, f, pushed, text);
  const planned = host.planFrom(f, text);
  const rel = planned.window !== undefined ? assignWindows(host, planned) : planned;
  if (pushed.length === 0) return rel;
  const scope = new Scope(rel.fields, text);
  const code = pushed.map((c) => `(${compileExpr(c, scope).code})`).join(' && ');
  const node = host.add({
    kind: 'calc',
    input: rel.node,
    filter: { code: `(${code}) === true` },
    projection: rel.fields.map((x) => ({ name: x.column ?? x.name, expr: { code: `r[${JSON.stringify(x.column ?? x.name)}]` } })),
    fields: rel.fields.map((x) => ({ name: x.column ?? x.name, type: x.type })),
  } as Omit<PlanNode, 'id' | 'uid'>);
  return { ...rel, node: node.id };
}

/** A rowtime column of one side shifted by a constant: `B1.dateTime - INTERVAL '10' SECOND`. */
interface TimeTerm {
  side: Side;
  column: string;
  offset: number;
  /** A processing-time attribute. */
  proctime?: true;
}

function timeTerm(e: Expr, left: Scope, right: Scope): TimeTerm | undefined {
  if (e.kind === 'ref') {
    for (const [side, scope] of [
      ['l', left],
      ['r', right],
    ] as const) {
      try {
        const c = compileExpr(e, scope);
        const m = /^r\[("(?:[^"\\]|\\.)*")\]$/.exec(c.code);
        if ((c.type.time === 'rowtime' || c.type.time === 'proctime') && m !== null)
          return {
            side,
            column: JSON.parse(m[1]) as string,
            offset: 0,
            ...(c.type.time === 'proctime' ? { proctime: true as const } : {}),
          };
      } catch {
        // not this side
      }
    }
    return undefined;
  }
  if (e.kind === 'binary' && (e.op === '+' || e.op === '-') && e.right.kind === 'interval') {
    const t = timeTerm(e.left, left, right);
    if (t === undefined) return undefined;
    const ms = intervalMs(e.right);
    return { ...t, offset: t.offset + (e.op === '+' ? ms : -ms) };
  }
  if (e.kind === 'binary' && e.op === '+' && e.left.kind === 'interval') {
    const t = timeTerm(e.right, left, right);
    return t === undefined ? undefined : { ...t, offset: t.offset + intervalMs(e.left) };
  }
  return undefined;
}

/** A bound on d = right time − left time. */
interface Bound {
  columns: [string, string];
  proctime: boolean;
  kind: 'lower' | 'upper';
  value: number;
  inclusive: boolean;
}

function boundsOf(c: Expr, left: Scope, right: Scope): Bound[] {
  const compare = (a: Expr, op: string, b: Expr): Bound | undefined => {
    const x = timeTerm(a, left, right);
    const y = timeTerm(b, left, right);
    if (x === undefined || y === undefined || x.side === y.side) return undefined;
    // l + lo OP r + ro  ⇔  d = r − l (OP flipped) lo − ro;   r + ro OP l + lo  ⇔  d OP lo − ro
    const flip: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
    const dop = x.side === 'l' ? flip[op] : op;
    const value = x.side === 'l' ? x.offset - y.offset : y.offset - x.offset;
    const columns: [string, string] = x.side === 'l' ? [x.column, y.column] : [y.column, x.column];
    return {
      columns,
      proctime: x.proctime === true || y.proctime === true,
      kind: dop === '>' || dop === '>=' ? 'lower' : 'upper',
      value,
      inclusive: dop === '>=' || dop === '<=',
    };
  };
  if (c.kind === 'binary' && ['<', '<=', '>', '>='].includes(c.op)) {
    const b = compare(c.left, c.op, c.right);
    return b === undefined ? [] : [b];
  }
  if (c.kind === 'binary' && c.op === '=') {
    // ltime = rtime: both bounds at once
    return [compare(c.left, '>=', c.right), compare(c.left, '<=', c.right)].filter((b): b is Bound => b !== undefined);
  }
  if (c.kind === 'between' && !c.not) {
    const lo = compare(c.arg, '>=', c.low);
    const hi = compare(c.arg, '<=', c.high);
    return [lo, hi].filter((b): b is Bound => b !== undefined);
  }
  return [];
}

function planJoinWith(host: JoinHost, f: JoinFrom, extra: Expr[], text: string): Rel {
  if (f.right.kind === 'table' && f.right.systemTimeAsOf !== undefined) return planTemporalJoin(host, f, extra, text);
  const what = f.type === 'COMMA' ? 'FROM a, b' : `${f.type} JOIN`;
  const inner = isInnerType(f.type);
  const joinType: JoinNode['joinType'] = inner ? 'INNER' : (f.type as JoinNode['joinType']);
  const conds = [...conjuncts(f.on), ...extra];

  // which side each conjunct reads, on the columns of the unplanned sides
  const lf0 = fieldsOf(host, f.left, text);
  const rf0 = fieldsOf(host, f.right, text);
  const ls0 = new Scope(lf0, text);
  const rs0 = new Scope(rf0, text);
  const js0 = new Scope(joinOutput(lf0, rf0).fields, text);
  const pushL: Expr[] = [];
  const pushR: Expr[] = [];
  const joinConds: Expr[] = [];
  for (const c of conds) {
    const t = compileExpr(c, js0).type;
    if (t.kind !== 'BOOLEAN' && t.kind !== 'NULL')
      throw validationError(`type error in the join condition '${textAt(text, c)}': needs a BOOLEAN, got ${typeText(t)}`);
    const sides = sidesOf(c, ls0, rs0);
    const onlyL = !sides.has('r');
    const onlyR = sides.has('r') && !sides.has('l');
    if (inner && onlyL) pushL.push(c);
    else if (inner && onlyR) pushR.push(c);
    else if (joinType === 'LEFT' && onlyR) pushR.push(c);
    else if (joinType === 'RIGHT' && onlyL && sides.size > 0) pushL.push(c);
    else joinConds.push(c);
  }

  const leftRel = planSide(host, f.left, pushL, text);
  const rightRel = planSide(host, f.right, pushR, text);
  const ls = new Scope(leftRel.fields, text);
  const rs = new Scope(rightRel.fields, text);
  const { output, fields: joined } = joinOutput(leftRel.fields, rightRel.fields);

  // equi-keys: a = b with a on one side and b on the other
  const pairs: { l: Expr; r: Expr }[] = [];
  const residual: Expr[] = [];
  for (const c of joinConds) {
    if (c.kind === 'binary' && c.op === '=') {
      const a = sidesOf(c.left, ls, rs);
      const b = sidesOf(c.right, ls, rs);
      if (a.size === 1 && b.size === 1 && a.has('l') && b.has('r')) {
        pairs.push({ l: c.left, r: c.right });
        continue;
      }
      if (a.size === 1 && b.size === 1 && a.has('r') && b.has('l')) {
        pairs.push({ l: c.right, r: c.left });
        continue;
      }
    }
    residual.push(c);
  }

  let strategy: JoinNode['strategy'] = 'regular';
  let window: JoinNode['window'];
  let interval: JoinNode['interval'];

  // window join: both inputs windowed, equal on window_start and on window_end
  const lw = leftRel.windowed;
  const rw = rightRel.windowed;
  if (lw !== undefined && rw !== undefined) {
    const startAt = pairs.findIndex((p) => windowPropOf(p.l, ls, lw) === 'start' && windowPropOf(p.r, rs, rw) === 'start');
    const endAt = pairs.findIndex((p) => windowPropOf(p.l, ls, lw) === 'end' && windowPropOf(p.r, rs, rw) === 'end');
    if (startAt >= 0 && endAt >= 0) {
      if (JSON.stringify(lw.spec) !== JSON.stringify(rw.spec))
        throw validationError(
          `a window join needs the same windows on both sides; the left has ${JSON.stringify(lw.spec)}, the right ${JSON.stringify(rw.spec)}`,
        );
      if (lw.spec.proctime === true) throw unsupported('window joins on processing-time windows');
      strategy = 'window';
      window = { leftStart: lw.start, leftEnd: lw.end, rightStart: rw.start, rightEnd: rw.end };
      for (const i of [startAt, endAt].sort((x, y) => y - x)) pairs.splice(i, 1);
    }
  }

  // interval join: the rowtimes of both sides bounded by each other, above and below
  if (strategy === 'regular') {
    const bounds = joinConds.flatMap((c) => boundsOf(c, ls, rs));
    const lower = bounds.find((b) => b.kind === 'lower');
    if (lower !== undefined) {
      const same = bounds.filter((b) => b.columns[0] === lower.columns[0] && b.columns[1] === lower.columns[1]);
      const lo = same.filter((b) => b.kind === 'lower').sort((a, b) => b.value - a.value)[0];
      const hi = same.filter((b) => b.kind === 'upper').sort((a, b) => a.value - b.value)[0];
      if (hi !== undefined && (lo.proctime || hi.proctime)) throw unsupported('interval joins on processing time (PROCTIME() bounds)');
      if (hi !== undefined) {
        strategy = 'interval';
        // the bounds stay in the residual condition too: exact there; here they bound state
        interval = {
          leftTime: lo.columns[0],
          rightTime: lo.columns[1],
          lower: lo.value,
          lowerInclusive: lo.inclusive,
          upper: hi.value,
          upperInclusive: hi.inclusive,
        };
      }
    }
  }

  if (strategy === 'regular' && pairs.length === 0) {
    if (f.type === 'CROSS' && conds.length === 0) throw unsupported('CROSS JOIN (a join without an equality condition)');
    throw unsupported(`joins without an equality condition (${what} needs a condition like a.x = b.y)`);
  }
  const leftUpdating = isUpdating(host, leftRel.node);
  const rightUpdating = isUpdating(host, rightRel.node);
  if (strategy !== 'regular' && (leftUpdating || rightUpdating))
    throw unsupported(`${strategy} joins of updating inputs (rows with -U/-D)`);

  // output types: the padded side of an outer join is nullable; only interval joins keep time attributes
  const nullL = joinType === 'RIGHT' || joinType === 'FULL';
  const nullR = joinType === 'LEFT' || joinType === 'FULL';
  const fields: ScopeField[] = joined.map((x, i) => {
    const side = output[i].side;
    let type: SqlType = strategy === 'interval' ? x.type : withoutTime(x.type);
    if ((side === 'l' && nullL) || (side === 'r' && nullR)) type = { ...type, nullable: true };
    return { ...x, type };
  });
  const js = new Scope(fields, text);
  const keyCode = (e: Expr, scope: Scope) => ({ code: compileExpr(e, scope).code });
  const condition = andAll(residual);
  const updating = strategy === 'regular' && (joinType !== 'INNER' || leftUpdating || rightUpdating);
  const node = host.add({
    kind: 'join',
    strategy,
    joinType,
    left: leftRel.node,
    right: rightRel.node,
    leftKeys: pairs.map((p) => keyCode(p.l, ls)),
    rightKeys: pairs.map((p) => keyCode(p.r, rs)),
    leftColumns: leftRel.fields.map((x) => x.column ?? x.name),
    rightColumns: rightRel.fields.map((x) => x.column ?? x.name),
    output,
    ...(condition !== undefined ? { condition: { code: compileExpr(condition, js).code } } : {}),
    ...(interval !== undefined ? { interval } : {}),
    ...(window !== undefined ? { window } : {}),
    ...(leftUpdating ? { leftUpdating: true } : {}),
    ...(rightUpdating ? { rightUpdating: true } : {}),
    ...(strategy === 'regular' && stateTtlMs(host.config['table.exec.state.ttl']) !== undefined
      ? { stateTtl: stateTtlMs(host.config['table.exec.state.ttl']) }
      : {}),
    ...(updating ? { updating: true } : {}),
    fields: fields.map((x) => ({ name: x.column as string, type: x.type })),
  } as Omit<JoinNode, 'id' | 'uid'>);
  return { node: node.id, fields };
}
