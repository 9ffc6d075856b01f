//! Versioned tables and event-time temporal joins (`JOIN t FOR SYSTEM_TIME AS OF l.rowtime`): which tables are changelogs, and planning the join against the version valid at the probe's time.

import type { Expr, FromItem } from './ast.ts';
import type { JoinNode, PlanNode, SourceNode, SqlType } from './plan.ts';
import { andAll, conjuncts, isUpdating, joinOutput, planSide, sidesOf, type JoinHost } from './plan-joins.ts';
import { Scope, compileExpr, textAt, typeText, unsupported, validationError, withoutTime, type CatalogEntry, type Rel } from './planner.ts';

type JoinFrom = Extract<FromItem, { kind: 'join' }>;

/**
 * What a table's connector reads, as a changelog: `updating` when its rows carry `$kind`, `upsert`
 * when they are upserts by the primary key (Flink's ChangelogMode.upsert(): upsert-kafka), which
 * the source's ChangelogNormalize turns into a full changelog. Refuses an upsert table without a
 * PRIMARY KEY, as Flink does.
 */
export function sourceChangelog(entry: Extract<CatalogEntry, { kind: 'table' }>): Pick<SourceNode, 'primaryKey' | 'updating' | 'upsert'> {
  const pk = entry.primaryKey !== undefined && entry.primaryKey.length > 0 ? { primaryKey: entry.primaryKey } : {};
  const o = entry.options;
  const datastream = o.connector === 'datastream' ? o['datastream.changelog'] : undefined;
  if (o.connector === 'upsert-kafka' || datastream === 'upsert') {
    if (pk.primaryKey === undefined)
      throw validationError(
        o.connector === 'upsert-kafka'
          ? `table '${entry.name}': the 'upsert-kafka' connector requires a PRIMARY KEY: declare one with PRIMARY KEY (col, …) NOT ENFORCED`
          : `fromChangelogStream('${entry.name}'): the upsert changelog mode needs a primary key (Schema.newBuilder()…primaryKey(…))`,
      );
    return { ...pk, updating: true, upsert: true };
  }
  const changelogFormat = o.format === 'debezium-json' || o['value.format'] === 'debezium-json';
  if (changelogFormat || datastream === 'all') return { ...pk, updating: true };
  return pk;
}

/** A sink table's PRIMARY KEY; an upsert-kafka sink without one is refused, as Flink does. */
export function sinkPrimaryKey(entry: Extract<CatalogEntry, { kind: 'table' }>): { primaryKey?: string[] } {
  const { primaryKey } = sourceChangelog(entry);
  return primaryKey === undefined ? {} : { primaryKey };
}

/** The node that `id` reads through calcs that keep every column (a projection of a source), if it is a source. */
function sourceBelow(host: JoinHost, id: number): SourceNode | undefined {
  let n: PlanNode = host.node(id);
  while (n.kind === 'calc' && n.filter === undefined) n = host.node(n.input);
  return n.kind === 'source' ? n : undefined;
}

/**
 * Plans `left [LEFT] JOIN versioned FOR SYSTEM_TIME AS OF left.rowtime ON …` (Flink's event-time
 * temporal join). The versioned side must be a table with a PRIMARY KEY and a rowtime attribute,
 * and the equi-keys must cover its primary key. Conditions on the left only are pushed below an
 * inner join; conditions on the versioned side stay in the join (filtering versions first would
 * let an older version stand in for a filtered one). The output is insert-only when the left
 * input is, and keeps the left's time attributes.
 */
export function planTemporalJoin(host: JoinHost, f: JoinFrom, extra: Expr[], text: string): Rel {
  const versioned = f.right as Extract<FromItem, { kind: 'table' }>;
  const asOf = versioned.systemTimeAsOf as Expr;
  if (f.type !== 'INNER' && f.type !== 'LEFT')
    throw unsupported(`${f.type} JOIN with FOR SYSTEM_TIME AS OF (temporal joins are INNER or LEFT, as in Flink)`);
  const inner = f.type === 'INNER';
  const conds = [...conjuncts(f.on), ...extra];

  const rightRel = host.planFrom({ ...versioned, systemTimeAsOf: undefined }, text);
  // left-only conditions of an inner join are pushed below it; they need the left's columns first
  const leftFields = host.scratch(() => host.planFrom(f.left, text).fields);
  const ls0 = new Scope(leftFields, text);
  const rs0 = new Scope(rightRel.fields, text);
  const pushL: Expr[] = [];
  const joinConds: Expr[] = [];
  for (const c of conds) {
    const sides = sidesOf(c, ls0, rs0);
    if (inner && !sides.has('r') && sides.has('l')) pushL.push(c);
    else joinConds.push(c);
  }
  const leftRel = planSide(host, f.left, pushL, text);
  const ls = new Scope(leftRel.fields, text);
  const rs = new Scope(rightRel.fields, text);

  // the AS OF time: a rowtime attribute of the left input
  let asOfCode: { code: string; type: SqlType };
  try {
    asOfCode = compileExpr(asOf, ls);
  } catch {
    throw validationError(
      `FOR SYSTEM_TIME AS OF '${textAt(text, asOf)}': the period must be a time attribute of the left input of the join`,
    );
  }
  const asOfColumn = /^r\[("(?:[^"\\]|\\.)*")\]$/.exec(asOfCode.code);
  if (asOfCode.type.time === 'proctime')
    throw unsupported(`processing-time temporal joins (FOR SYSTEM_TIME AS OF '${textAt(text, asOf)}', a PROCTIME() attribute)`);
  if (asOfCode.type.time !== 'rowtime' || asOfColumn === null)
    throw validationError(
      `FOR SYSTEM_TIME AS OF '${textAt(text, asOf)}': the period must be a rowtime attribute (a column with a WATERMARK) of the left input, but it is ${typeText(asOfCode.type)}`,
    );
  const leftTime = JSON.parse(asOfColumn[1]) as string;

  // the versioned table: a primary key and a rowtime attribute
  const source = sourceBelow(host, rightRel.node);
  const pk = source?.primaryKey;
  if (pk === undefined)
    throw validationError(
      `Temporal Table Join requires primary key in versioned table '${versioned.name}', but no primary key can be found (declare PRIMARY KEY (…) NOT ENFORCED)`,
    );
  const rowtime = rightRel.fields.find((x) => x.type.time === 'rowtime');
  if (rowtime === undefined)
    throw validationError(
      `Event-Time Temporal Table Join requires both primary key and row time attribute in versioned table '${versioned.name}', but no row time attribute can be found (declare a WATERMARK)`,
    );
  if (isUpdating(host, leftRel.node)) throw unsupported('temporal joins whose left (probe) input is updating (rows with -U/-D)');

  // equi-keys: left expression = versioned column
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
  const keyed = new Set(pairs.map((p) => compileExpr(p.r, rs).code));
  const missing = pk.filter((k) => {
    const field = rightRel.fields.find((x) => (x.column ?? x.name) === k);
    return field === undefined || !keyed.has(`r[${JSON.stringify(field.column ?? field.name)}]`);
  });
  if (missing.length > 0)
    throw validationError(
      `Temporal Table Join: the primary key [${pk.join(', ')}] of versioned table '${versioned.name}' must be included in the equivalence condition of the temporal join (missing ${missing.join(', ')})`,
    );

  const { output, fields: joined } = joinOutput(leftRel.fields, rightRel.fields);
  const fields = joined.map((x, i) => {
    if (output[i].side === 'l') return x;
    const type = withoutTime(x.type);
    return { ...x, type: inner ? type : { ...type, nullable: true } };
  });
  const js = new Scope(fields, text);
  const condition = andAll(residual);
  const node = host.add({
    kind: 'join',
    strategy: 'temporal',
    joinType: inner ? 'INNER' : 'LEFT',
    left: leftRel.node,
    right: rightRel.node,
    leftKeys: pairs.map((p) => ({ code: compileExpr(p.l, ls).code })),
    rightKeys: pairs.map((p) => ({ code: compileExpr(p.r, rs).code })),
    leftColumns: leftRel.fields.map((x) => x.column ?? x.name),
    rightColumns: rightRel.fields.map((x) => x.column ?? x.name),
    output,
    ...(condition !== undefined ? { condition: { code: compileExpr(condition, js).code } } : {}),
    temporal: { leftTime, rightTime: rowtime.column ?? rowtime.name },
    ...(isUpdating(host, rightRel.node) ? { rightUpdating: true } : {}),
    fields: fields.map((x) => ({ name: x.column as string, type: x.type })),
  } as Omit<JoinNode, 'id' | 'uid'>);
  return { node: node.id, fields };
}
