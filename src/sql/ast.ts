//! The syntax tree of weir's Flink SQL dialect: statements, queries, expressions and types, as the parser produces them.

/** Where a node starts and ends in the script (offsets into the text, 1-based line and column). */
export interface Loc {
  start: number;
  end: number;
  line: number;
  column: number;
}

/** A type as written (`DECIMAL(10, 2)`, `ROW<a INT>`, `TIMESTAMP(3)`). */
export interface TypeAst {
  name: string;
  params: number[];
  nullable: boolean;
  /** ARRAY's element, MAP's key and value. */
  args?: TypeAst[];
  /** ROW's fields. */
  fields?: { name: string; type: TypeAst }[];
  /** `TIMESTAMP(3) WITH LOCAL TIME ZONE`. */
  localTimeZone?: boolean;
}

/** An expression. */
export type Expr =
  | { kind: 'literal'; type: 'number' | 'string' | 'boolean' | 'null'; value: number | string | boolean | null; text: string; loc: Loc }
  | { kind: 'interval'; value: string; unit: string; toUnit?: string; loc: Loc }
  | { kind: 'typed-literal'; type: 'TIMESTAMP' | 'DATE' | 'TIME'; value: string; loc: Loc }
  | { kind: 'ref'; path: string[]; loc: Loc }
  | { kind: 'star'; qualifier?: string; loc: Loc }
  | { kind: 'unary'; op: '-' | '+' | 'NOT'; arg: Expr; loc: Loc }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; loc: Loc }
  | { kind: 'is'; arg: Expr; not: boolean; what: 'NULL' | 'TRUE' | 'FALSE'; loc: Loc }
  | { kind: 'between'; arg: Expr; low: Expr; high: Expr; not: boolean; loc: Loc }
  | { kind: 'in'; arg: Expr; list: Expr[]; not: boolean; loc: Loc }
  | { kind: 'in-query'; arg: Expr; query: Query; not: boolean; loc: Loc }
  | { kind: 'like'; arg: Expr; pattern: Expr; escape?: Expr; not: boolean; similar?: boolean; loc: Loc }
  | { kind: 'case'; operand?: Expr; whens: { when: Expr; then: Expr }[]; else?: Expr; loc: Loc }
  | { kind: 'cast'; arg: Expr; type: TypeAst; try: boolean; loc: Loc }
  | { kind: 'extract'; unit: string; arg: Expr; loc: Loc }
  | {
      kind: 'call';
      name: string;
      args: Expr[];
      distinct: boolean;
      star: boolean;
      filter?: Expr;
      over?: WindowSpec;
      loc: Loc;
    }
  | { kind: 'subquery'; query: Query; loc: Loc }
  | { kind: 'exists'; query: Query; loc: Loc }
  | { kind: 'descriptor'; columns: string[]; loc: Loc }
  | { kind: 'table-arg'; name: string; loc: Loc };

/** `OVER (PARTITION BY … ORDER BY … ROWS|RANGE BETWEEN …)`. */
export interface WindowSpec {
  /** `OVER w`: the window the SELECT's `WINDOW w AS (…)` clause names (the other fields are empty). */
  name?: string;
  partitionBy: Expr[];
  orderBy: OrderItem[];
  frame?: { unit: 'ROWS' | 'RANGE'; text: string; start?: FrameBound; end?: FrameBound };
}

/** One bound of a window frame: `UNBOUNDED PRECEDING`, `CURRENT ROW`, `<offset> PRECEDING|FOLLOWING`. */
export type FrameBound =
  | { kind: 'unbounded'; direction: 'PRECEDING' | 'FOLLOWING' }
  | { kind: 'current-row' }
  | { kind: 'offset'; offset: Expr; direction: 'PRECEDING' | 'FOLLOWING' };

/** `expr [ASC|DESC]`. */
export interface OrderItem {
  expr: Expr;
  desc: boolean;
}

/** One item of a SELECT list. */
export type SelectItem = { kind: 'star'; qualifier?: string; loc: Loc } | { kind: 'expr'; expr: Expr; alias?: string; loc: Loc };

/** A FROM item. */
export type FromItem =
  | { kind: 'table'; name: string; alias?: string; systemTimeAsOf?: Expr; loc: Loc }
  | { kind: 'subquery'; query: Query; alias?: string; loc: Loc }
  | { kind: 'tvf'; name: string; args: Expr[]; alias?: string; loc: Loc }
  | { kind: 'join'; type: 'INNER' | 'LEFT' | 'RIGHT' | 'FULL' | 'CROSS' | 'COMMA'; left: FromItem; right: FromItem; on?: Expr; loc: Loc };

/** A SELECT block. */
export interface Select {
  kind: 'select';
  distinct: boolean;
  items: SelectItem[];
  from?: FromItem;
  where?: Expr;
  groupBy: Expr[];
  having?: Expr;
  /** `WINDOW w AS (…), …`: named windows of OVER aggregates. */
  windows?: { name: string; spec: WindowSpec }[];
  loc: Loc;
}

/** A query: a SELECT, a UNION of queries, with optional WITH, ORDER BY and LIMIT. */
export type QueryBody =
  Select | { kind: 'union'; all: boolean; left: QueryBody; right: QueryBody; loc: Loc } | { kind: 'nested'; query: Query; loc: Loc };

/** A full query. */
export interface Query {
  with: { name: string; columns?: string[]; query: Query }[];
  body: QueryBody;
  orderBy: OrderItem[];
  limit?: number;
  loc: Loc;
}

/** A column of CREATE TABLE. */
export type ColumnDef =
  | { kind: 'physical'; name: string; type: TypeAst; comment?: string; loc: Loc }
  | { kind: 'computed'; name: string; expr: Expr; loc: Loc }
  | { kind: 'metadata'; name: string; type: TypeAst; from?: string; virtual: boolean; loc: Loc };

/** A statement of a script. */
export type Statement =
  | {
      kind: 'create-table';
      name: string;
      temporary: boolean;
      ifNotExists: boolean;
      columns: ColumnDef[];
      watermark?: { column: string; expr: Expr };
      primaryKey?: string[];
      options: Record<string, string>;
      like?: string;
      /** `LIKE t (INCLUDING ALL, OVERWRITING OPTIONS, …)`, upper-cased pairs. */
      likeOptions?: string[];
      partitionedBy?: string[];
      loc: Loc;
    }
  | {
      kind: 'create-function';
      name: string;
      temporary: boolean;
      /** `CREATE TEMPORARY SYSTEM FUNCTION`. */
      system: boolean;
      ifNotExists: boolean;
      /** The quoted identifier after AS: weir's `'module#export'`, Flink's Java class name. */
      identifier: string;
      /** `LANGUAGE …`, upper-cased. */
      language?: string;
      loc: Loc;
    }
  | { kind: 'create-view'; name: string; temporary: boolean; ifNotExists: boolean; columns?: string[]; query: Query; loc: Loc }
  | { kind: 'drop'; what: 'TABLE' | 'VIEW'; name: string; ifExists: boolean; temporary: boolean; loc: Loc }
  | { kind: 'insert'; table: string; columns?: string[]; query: Query; overwrite: boolean; loc: Loc }
  | { kind: 'query'; query: Query; loc: Loc }
  | { kind: 'set'; key?: string; value?: string; loc: Loc }
  | { kind: 'reset'; key?: string; loc: Loc }
  | { kind: 'show'; what: 'TABLES' | 'VIEWS' | 'FUNCTIONS'; loc: Loc }
  | { kind: 'describe'; name: string; loc: Loc }
  | { kind: 'explain'; statement: Statement; loc: Loc }
  | { kind: 'statement-set'; inserts: Statement[]; loc: Loc };
