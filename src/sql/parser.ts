//! The Flink SQL parser: a chevrotain lexer and grammar of our own for Flink's (Calcite's) dialect, producing the AST of ast.ts.
//
// Why our own grammar: dt-sql-parser treats DATETIME as reserved (Flink does not, and Nexmark's
// queries use the column `dateTime`) and its ESM build fails under plain Node; node-sql-parser's
// flinksql mode rejects WATERMARK, CUMULATE and ROW_NUMBER() OVER. chevrotain is a maintained
// toolkit that keeps the grammar readable and gives positioned errors.

import { EmbeddedActionsParser, EOF, Lexer, createToken, tokenLabel, type IToken, type TokenType } from 'chevrotain';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import type {
  ColumnDef,
  Expr,
  FrameBound,
  FromItem,
  Loc,
  OrderItem,
  Query,
  QueryBody,
  Select,
  SelectItem,
  Statement,
  TypeAst,
  WindowSpec,
} from './ast.ts';
import { RESERVED } from './reserved.ts';
import { SqlSyntaxError } from './syntax-error.ts';

export { SqlSyntaxError };

// ---------------------------------------------------------------------------------------------
// Lexer

const Word = createToken({ name: 'Word', pattern: Lexer.NA });
const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_$]*/, categories: [Word] });
const QuotedIdentifier = createToken({ name: 'QuotedIdentifier', pattern: /`(?:[^`]|``)*`/, categories: [Word] });

const keywordTokens: Record<string, TokenType> = {};
function kw(word: string): TokenType {
  const t = createToken({ name: word, pattern: new RegExp(`${word}(?![A-Za-z0-9_$])`, 'i'), longer_alt: Identifier, categories: [Word] });
  keywordTokens[word] = t;
  return t;
}

const KEYWORDS = [
  'SELECT',
  'FROM',
  'WHERE',
  'GROUP',
  'BY',
  'HAVING',
  'WINDOW',
  'AS',
  'AND',
  'OR',
  'NOT',
  'NULL',
  'IS',
  'IN',
  'BETWEEN',
  'SYMMETRIC',
  'LIKE',
  'SIMILAR',
  'ESCAPE',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'CAST',
  'TRY_CAST',
  'TRUE',
  'FALSE',
  'UNKNOWN',
  'UNION',
  'ALL',
  'DISTINCT',
  'WITH',
  'CREATE',
  'TEMPORARY',
  'TABLE',
  'VIEW',
  'DROP',
  'IF',
  'EXISTS',
  'INSERT',
  'INTO',
  'OVERWRITE',
  'OVER',
  'PARTITION',
  'PARTITIONED',
  'ORDER',
  'ASC',
  'DESC',
  'FILTER',
  'INTERVAL',
  'WATERMARK',
  'FOR',
  'PRIMARY',
  'KEY',
  'ENFORCED',
  'METADATA',
  'VIRTUAL',
  'SET',
  'RESET',
  'SHOW',
  'TABLES',
  'VIEWS',
  'FUNCTIONS',
  'DESCRIBE',
  'EXPLAIN',
  'PLAN',
  'JOIN',
  'INNER',
  'LEFT',
  'RIGHT',
  'FULL',
  'OUTER',
  'CROSS',
  'ON',
  'LIMIT',
  'ROWS',
  'RANGE',
  'PRECEDING',
  'FOLLOWING',
  'CURRENT',
  'ROW',
  'UNBOUNDED',
  'DESCRIPTOR',
  'COMMENT',
  'EXTRACT',
  'TIMESTAMP',
  'DATE',
  'TIME',
  'OF',
  'CONSTRAINT',
  'EXECUTE',
  'STATEMENT',
  'BEGIN',
  'INCLUDING',
  'EXCLUDING',
  'OPTIONS',
  'ARRAY',
  'MAP',
  'TO',
  'SYSTEM_TIME',
  'FUNCTION',
  'SYSTEM',
  'LANGUAGE',
] as const;
for (const k of KEYWORDS) kw(k);
const K = keywordTokens as Record<(typeof KEYWORDS)[number], TokenType>;

const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /\s+/, group: Lexer.SKIPPED });
const LineComment = createToken({ name: 'LineComment', pattern: /--[^\n\r]*/, group: Lexer.SKIPPED });
const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: Lexer.SKIPPED });
const StringLiteral = createToken({ name: 'StringLiteral', pattern: /'(?:[^']|'')*'/, label: 'a string' });
const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/, label: 'a number' });
const NotEquals = createToken({ name: 'NotEquals', pattern: /<>|!=/, label: "'<>'" });
const LessEq = createToken({ name: 'LessEq', pattern: /<=/, label: "'<='" });
const GreaterEq = createToken({ name: 'GreaterEq', pattern: />=/, label: "'>='" });
const Equals = createToken({ name: 'Equals', pattern: /=/, label: "'='" });
const Less = createToken({ name: 'Less', pattern: /</, label: "'<'" });
const Greater = createToken({ name: 'Greater', pattern: />/, label: "'>'" });
const Concat = createToken({ name: 'Concat', pattern: /\|\|/, label: "'||'" });
const Plus = createToken({ name: 'Plus', pattern: /\+/, label: "'+'" });
const Minus = createToken({ name: 'Minus', pattern: /-/, label: "'-'" });
const Star = createToken({ name: 'Star', pattern: /\*/, label: "'*'" });
const Slash = createToken({ name: 'Slash', pattern: /\//, label: "'/'" });
const Percent = createToken({ name: 'Percent', pattern: /%/, label: "'%'" });
const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" });
const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" });
const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: "'['" });
const RBracket = createToken({ name: 'RBracket', pattern: /\]/, label: "']'" });
const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
const Semicolon = createToken({ name: 'Semicolon', pattern: /;/, label: "';'" });
const Dot = createToken({ name: 'Dot', pattern: /\./, label: "'.'" });

const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  StringLiteral,
  QuotedIdentifier,
  NumberLiteral,
  NotEquals,
  LessEq,
  GreaterEq,
  Equals,
  Less,
  Greater,
  Concat,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Semicolon,
  Dot,
  ...Object.values(keywordTokens),
  Identifier,
  Word,
];

const lexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });

/** What a token reads as in an error message. */
function label(t: TokenType): string {
  if (t === Word || t === Identifier) return 'an identifier';
  if (t === EOF) return 'end of input';
  if (keywordTokens[t.name] === t) return t.name;
  return tokenLabel(t);
}

function found(t: IToken): string {
  return t.tokenType === EOF ? 'end of input' : `'${t.image}'`;
}

const errorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }: { expected: TokenType; actual: IToken }) =>
    `unexpected ${found(actual)}; expected ${label(expected)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }: { firstRedundant: IToken }) =>
    `unexpected ${found(firstRedundant)}; expected ';' or end of input`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual }: { expectedPathsPerAlt: TokenType[][][]; actual: IToken[] }) => {
    const firsts = new Set<string>();
    for (const alt of expectedPathsPerAlt) for (const path of alt) if (path.length > 0) firsts.add(label(path[0]));
    return `unexpected ${found(actual[0])}; expected one of ${[...firsts].join(', ')}`;
  },
  buildEarlyExitMessage: ({ expectedIterationPaths, actual }: { expectedIterationPaths: TokenType[][]; actual: IToken[] }) => {
    const firsts = new Set<string>();
    for (const path of expectedIterationPaths) if (path.length > 0) firsts.add(label(path[0]));
    return `unexpected ${found(actual[0])}; expected ${[...firsts].join(', ')}`;
  },
};

function unquote(t: IToken): string {
  if (t.tokenType === QuotedIdentifier) return t.image.slice(1, -1).replace(/``/g, '`');
  return t.image;
}

function stringValue(t: IToken): string {
  return t.image.slice(1, -1).replace(/''/g, "'");
}

const INTERVAL_UNITS = new Set(['YEAR', 'MONTH', 'DAY', 'HOUR', 'MINUTE', 'SECOND', 'MILLISECOND', 'WEEK', 'QUARTER']);
const COMPARISONS = [Equals, NotEquals, LessEq, GreaterEq, Less, Greater];

// ---------------------------------------------------------------------------------------------
// Grammar

class FlinkSqlParser extends EmbeddedActionsParser {
  text = '';

  constructor() {
    super(allTokens, { maxLookahead: 2, recoveryEnabled: false, errorMessageProvider });
    this.performSelfAnalysis();
  }

  private loc(first: IToken): Loc {
    if (this.RECORDING_PHASE || first === undefined) return { start: 0, end: 0, line: 0, column: 0 };
    const last = this.LA(0);
    return {
      start: first.startOffset,
      end: (last?.endOffset ?? first.endOffset ?? first.startOffset) + 1,
      line: first.startLine ?? 0,
      column: first.startColumn ?? 0,
    };
  }

  /** An identifier: unquoted words may not be reserved (Calcite's list), as in Flink. */
  private ident(t: IToken): string {
    if (this.RECORDING_PHASE) return '';
    if (t.tokenType !== QuotedIdentifier && RESERVED.has(t.image.toUpperCase())) {
      throw new SqlSyntaxError(
        `'${t.image}' is a reserved word; quote it with backticks (\`${t.image}\`) to use it as a name`,
        t.startLine ?? 0,
        t.startColumn ?? 0,
        t.image,
      );
    }
    return unquote(t);
  }

  /** Whether the next token starts an alias (an unreserved word, or a quoted one). */
  private aliasAhead(k = 1): boolean {
    const t = this.LA(k);
    if (t.tokenType === QuotedIdentifier) return true;
    if (t.tokenType === EOF) return false;
    return this.isWord(t) && !RESERVED.has(t.image.toUpperCase());
  }

  private isWord(t: IToken): boolean {
    return t.tokenType === Identifier || t.tokenType === QuotedIdentifier || keywordTokens[t.tokenType.name] === t.tokenType;
  }

  /** An alternation whose first matching alternative wins (names and keywords share the Word category, so overlap is by design). */
  private alt<T = never>(idx: number, alts: { ALT: () => unknown; GATE?: () => boolean }[]): T {
    return this.or(idx, { DEF: alts, IGNORE_AMBIGUITIES: true }) as T;
  }

  identifier = this.RULE('identifier', (): string => this.ident(this.CONSUME(Word)));

  compoundName = this.RULE('compoundName', (): string => {
    const parts = [this.SUBRULE(this.identifier)];
    this.MANY(() => {
      this.CONSUME(Dot);
      parts.push(this.SUBRULE2(this.identifier));
    });
    return parts.join('.');
  });

  script = this.RULE('script', (): Statement[] => {
    const out: Statement[] = [];
    this.MANY(() => {
      this.alt(0, [
        { ALT: () => this.CONSUME(Semicolon) },
        {
          ALT: () => {
            out.push(this.SUBRULE(this.statement));
            this.OPTION(() => this.CONSUME2(Semicolon));
          },
        },
      ]);
    });
    return out;
  });

  statement = this.RULE('statement', (): Statement => {
    return this.alt(0, [
      { ALT: () => this.SUBRULE(this.createStatement) },
      { ALT: () => this.SUBRULE(this.dropStatement) },
      { ALT: () => this.SUBRULE(this.insertStatement) },
      { ALT: () => this.SUBRULE(this.setStatement) },
      { ALT: () => this.SUBRULE(this.resetStatement) },
      { ALT: () => this.SUBRULE(this.showStatement) },
      { ALT: () => this.SUBRULE(this.describeStatement) },
      { ALT: () => this.SUBRULE(this.explainStatement) },
      { ALT: () => this.SUBRULE(this.statementSet) },
      {
        ALT: () => {
          const first = this.LA(1);
          const query = this.SUBRULE(this.query);
          return { kind: 'query', query, loc: this.loc(first) } as Statement;
        },
      },
    ]);
  });

  statementSet = this.RULE('statementSet', (): Statement => {
    const first = this.CONSUME(K.EXECUTE);
    this.CONSUME(K.STATEMENT);
    this.CONSUME(K.SET);
    this.CONSUME(K.BEGIN);
    const inserts: Statement[] = [];
    this.AT_LEAST_ONE(() => {
      inserts.push(this.SUBRULE(this.insertStatement));
      this.CONSUME(Semicolon);
    });
    this.CONSUME(K.END);
    return { kind: 'statement-set', inserts, loc: this.loc(first) };
  });

  createStatement = this.RULE('createStatement', (): Statement => {
    const first = this.CONSUME(K.CREATE);
    let temporary = false;
    let system = false;
    this.OPTION(() => {
      this.CONSUME(K.TEMPORARY);
      temporary = true;
      this.OPTION2(() => {
        this.CONSUME(K.SYSTEM);
        system = true;
      });
    });
    return this.alt(0, [
      { ALT: () => this.SUBRULE(this.createTableRest, { ARGS: [first, temporary] }) },
      { ALT: () => this.SUBRULE(this.createViewRest, { ARGS: [first, temporary] }) },
      { ALT: () => this.SUBRULE(this.createFunctionRest, { ARGS: [first, temporary, system] }) },
    ]);
  });

  createFunctionRest = this.RULE('createFunctionRest', (first?: IToken, temporary?: boolean, system?: boolean): Statement => {
    this.CONSUME(K.FUNCTION);
    const ifNotExists = this.SUBRULE(this.ifNotExists);
    const name = this.SUBRULE(this.compoundName);
    this.CONSUME(K.AS);
    const identifier = stringValueOf(this.CONSUME(StringLiteral), this.RECORDING_PHASE);
    let language: string | undefined;
    this.OPTION(() => {
      this.CONSUME(K.LANGUAGE);
      language = up(this.SUBRULE(this.identifier));
    });
    return {
      kind: 'create-function',
      name,
      temporary: temporary ?? false,
      system: system ?? false,
      ifNotExists,
      identifier,
      language,
      loc: this.loc(first as IToken),
    };
  });

  ifNotExists = this.RULE('ifNotExists', (): boolean => {
    let yes = false;
    this.OPTION(() => {
      this.CONSUME(K.IF);
      this.CONSUME(K.NOT);
      this.CONSUME(K.EXISTS);
      yes = true;
    });
    return yes;
  });

  createTableRest = this.RULE('createTableRest', (first?: IToken, temporary?: boolean): Statement => {
    this.CONSUME(K.TABLE);
    const ifNotExists = this.SUBRULE(this.ifNotExists);
    const name = this.SUBRULE(this.compoundName);
    const columns: ColumnDef[] = [];
    let watermark: { column: string; expr: Expr } | undefined;
    let primaryKey: string[] | undefined;
    let like: string | undefined;
    const likeOptions: string[] = [];
    let partitionedBy: string[] | undefined;
    let options: Record<string, string> = {};
    this.CONSUME(LParen);
    this.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        this.alt(0, [
          {
            ALT: () => {
              this.CONSUME(K.WATERMARK);
              this.CONSUME(K.FOR);
              const column = this.SUBRULE3(this.compoundName);
              this.CONSUME(K.AS);
              const expr = this.SUBRULE(this.expression);
              watermark = { column, expr };
            },
          },
          {
            ALT: () => {
              this.OPTION(() => {
                this.CONSUME(K.CONSTRAINT);
                this.SUBRULE2(this.identifier);
              });
              this.CONSUME(K.PRIMARY);
              this.CONSUME(K.KEY);
              primaryKey = this.SUBRULE(this.columnList);
              this.CONSUME(K.NOT);
              this.CONSUME(K.ENFORCED);
            },
          },
          { ALT: () => columns.push(this.SUBRULE(this.columnDef)) },
        ]);
      },
    });
    this.CONSUME(RParen);
    this.OPTION2(() => {
      this.CONSUME(K.COMMENT);
      this.CONSUME(StringLiteral);
    });
    this.OPTION3(() => {
      this.CONSUME(K.PARTITIONED);
      this.CONSUME(K.BY);
      partitionedBy = this.SUBRULE2(this.columnList);
    });
    this.OPTION4(() => {
      this.CONSUME(K.WITH);
      options = this.SUBRULE(this.propertyList);
    });
    this.OPTION5(() => {
      this.CONSUME(K.LIKE);
      like = this.SUBRULE2(this.compoundName);
      this.OPTION6(() => {
        this.CONSUME2(LParen);
        this.MANY(() => {
          const how = this.alt<IToken>(2, [
            { ALT: () => this.CONSUME(K.INCLUDING) },
            { ALT: () => this.CONSUME(K.EXCLUDING) },
            { ALT: () => this.CONSUME2(Identifier) }, // OVERWRITING
          ]);
          const what = this.alt<IToken>(3, [
            { ALT: () => this.CONSUME(K.ALL) },
            { ALT: () => this.CONSUME(K.OPTIONS) },
            { ALT: () => this.CONSUME(Identifier) },
          ]);
          if (!this.RECORDING_PHASE) likeOptions.push(`${how.image.toUpperCase()} ${what.image.toUpperCase()}`);
        });
        this.CONSUME2(RParen);
      });
    });
    return {
      kind: 'create-table',
      name,
      temporary: temporary ?? false,
      ifNotExists,
      columns,
      watermark,
      primaryKey,
      options,
      like,
      likeOptions,
      partitionedBy,
      loc: this.loc(first as IToken),
    };
  });

  columnList = this.RULE('columnList', (): string[] => {
    const names: string[] = [];
    this.CONSUME(LParen);
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => names.push(this.SUBRULE(this.identifier)) });
    this.CONSUME(RParen);
    return names;
  });

  propertyList = this.RULE('propertyList', (): Record<string, string> => {
    const props: Record<string, string> = {};
    this.CONSUME(LParen);
    this.MANY_SEP({
      SEP: Comma,
      DEF: () => {
        const key = this.CONSUME(StringLiteral);
        this.CONSUME(Equals);
        const value = this.CONSUME2(StringLiteral);
        this.ACTION(() => (props[stringValue(key)] = stringValue(value)));
      },
    });
    this.CONSUME(RParen);
    return props;
  });

  columnDef = this.RULE('columnDef', (): ColumnDef => {
    const first = this.LA(1);
    const name = this.SUBRULE(this.identifier);
    return this.alt(0, [
      {
        ALT: () => {
          this.CONSUME(K.AS);
          const expr = this.SUBRULE(this.expression);
          this.OPTION(() => {
            this.CONSUME(K.COMMENT);
            this.CONSUME(StringLiteral);
          });
          return { kind: 'computed', name, expr, loc: this.loc(first) } as ColumnDef;
        },
      },
      {
        ALT: () => {
          const type = this.SUBRULE(this.dataType);
          let meta: { from?: string; virtual: boolean } | undefined;
          let comment: string | undefined;
          this.OPTION2(() => {
            this.CONSUME(K.METADATA);
            meta = { virtual: false };
            this.OPTION3(() => {
              this.CONSUME(K.FROM);
              const from = this.CONSUME2(StringLiteral);
              this.ACTION(() => ((meta as { from?: string }).from = stringValue(from)));
            });
            this.OPTION4(() => {
              this.CONSUME(K.VIRTUAL);
              (meta as { virtual: boolean }).virtual = true;
            });
          });
          this.OPTION5(() => {
            this.CONSUME2(K.COMMENT);
            const c = this.CONSUME3(StringLiteral);
            this.ACTION(() => (comment = stringValue(c)));
          });
          if (meta !== undefined)
            return { kind: 'metadata', name, type, from: meta.from, virtual: meta.virtual, loc: this.loc(first) } as ColumnDef;
          return { kind: 'physical', name, type, comment, loc: this.loc(first) } as ColumnDef;
        },
      },
    ]);
  });

  dataType = this.RULE('dataType', (): TypeAst => {
    const nameTok = this.CONSUME(Word);
    const name = up(nameTok.image);
    const type: TypeAst = { name, params: [], nullable: true };
    this.alt(0, [
      {
        GATE: () => name === 'ROW',
        ALT: () => {
          this.alt(2, [{ ALT: () => this.CONSUME(Less) }, { ALT: () => this.CONSUME(LParen) }]);
          type.fields = [];
          this.MANY_SEP({
            SEP: Comma,
            DEF: () => {
              const fname = this.SUBRULE(this.identifier);
              const ftype = this.SUBRULE(this.dataType);
              this.OPTION(() => {
                this.CONSUME(K.COMMENT);
                this.CONSUME(StringLiteral);
              });
              type.fields?.push({ name: fname, type: ftype });
            },
          });
          this.alt(3, [{ ALT: () => this.CONSUME(Greater) }, { ALT: () => this.CONSUME(RParen) }]);
        },
      },
      {
        GATE: () => name === 'ARRAY' || name === 'MAP' || name === 'MULTISET',
        ALT: () => {
          this.CONSUME2(Less);
          type.args = [];
          this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => type.args?.push(this.SUBRULE2(this.dataType)) });
          this.CONSUME2(Greater);
        },
      },
      {
        ALT: () => {
          this.OPTION2(() => {
            this.CONSUME3(LParen);
            this.AT_LEAST_ONE_SEP2({ SEP: Comma, DEF: () => type.params.push(Number(this.CONSUME(NumberLiteral).image)) });
            this.CONSUME3(RParen);
          });
          // DOUBLE PRECISION, CHARACTER VARYING
          this.OPTION3({
            GATE: () => !this.RECORDING_PHASE && this.LA(1).tokenType === Identifier && /^(PRECISION|VARYING)$/i.test(this.LA(1).image),
            DEF: () => this.CONSUME2(Identifier),
          });
          this.OPTION4(() => {
            this.CONSUME(K.WITH);
            this.OPTION5(() => {
              this.CONSUME3(Identifier); // LOCAL
              type.localTimeZone = true;
            });
            this.CONSUME(K.TIME);
            this.CONSUME4(Identifier); // ZONE
          });
        },
      },
    ]);
    this.OPTION6(() => {
      this.CONSUME(K.NOT);
      this.CONSUME(K.NULL);
      type.nullable = false;
    });
    return type;
  });

  createViewRest = this.RULE('createViewRest', (first?: IToken, temporary?: boolean): Statement => {
    this.CONSUME(K.VIEW);
    const ifNotExists = this.SUBRULE(this.ifNotExists);
    const name = this.SUBRULE(this.compoundName);
    let columns: string[] | undefined;
    this.OPTION(() => (columns = this.SUBRULE(this.columnList)));
    this.CONSUME(K.AS);
    const query = this.SUBRULE(this.query);
    return { kind: 'create-view', name, temporary: temporary ?? false, ifNotExists, columns, query, loc: this.loc(first as IToken) };
  });

  dropStatement = this.RULE('dropStatement', (): Statement => {
    const first = this.CONSUME(K.DROP);
    let temporary = false;
    this.OPTION(() => {
      this.CONSUME(K.TEMPORARY);
      temporary = true;
    });
    const what = this.alt(0, [
      { ALT: () => (this.CONSUME(K.TABLE), 'TABLE' as const) },
      { ALT: () => (this.CONSUME(K.VIEW), 'VIEW' as const) },
    ]);
    let ifExists = false;
    this.OPTION2(() => {
      this.CONSUME(K.IF);
      this.CONSUME(K.EXISTS);
      ifExists = true;
    });
    const name = this.SUBRULE(this.compoundName);
    return { kind: 'drop', what, name, ifExists, temporary, loc: this.loc(first) };
  });

  insertStatement = this.RULE('insertStatement', (): Statement => {
    const first = this.CONSUME(K.INSERT);
    let overwrite = false;
    this.alt(0, [
      { ALT: () => this.CONSUME(K.INTO) },
      {
        ALT: () => {
          this.CONSUME(K.OVERWRITE);
          overwrite = true;
        },
      },
    ]);
    const table = this.SUBRULE(this.compoundName);
    let columns: string[] | undefined;
    this.OPTION(() => (columns = this.SUBRULE(this.columnList)));
    const query = this.SUBRULE(this.query);
    return { kind: 'insert', table, columns, query, overwrite, loc: this.loc(first) };
  });

  setStatement = this.RULE('setStatement', (): Statement => {
    const first = this.CONSUME(K.SET);
    let key: string | undefined;
    let value: string | undefined;
    this.OPTION(() => {
      key = stringValueOf(this.CONSUME(StringLiteral), this.RECORDING_PHASE);
      this.CONSUME(Equals);
      value = stringValueOf(this.CONSUME2(StringLiteral), this.RECORDING_PHASE);
    });
    return { kind: 'set', key, value, loc: this.loc(first) };
  });

  resetStatement = this.RULE('resetStatement', (): Statement => {
    const first = this.CONSUME(K.RESET);
    let key: string | undefined;
    this.OPTION(() => (key = stringValueOf(this.CONSUME(StringLiteral), this.RECORDING_PHASE)));
    return { kind: 'reset', key, loc: this.loc(first) };
  });

  showStatement = this.RULE('showStatement', (): Statement => {
    const first = this.CONSUME(K.SHOW);
    const what = this.alt(0, [
      { ALT: () => (this.CONSUME(K.TABLES), 'TABLES' as const) },
      { ALT: () => (this.CONSUME(K.VIEWS), 'VIEWS' as const) },
      { ALT: () => (this.CONSUME(K.FUNCTIONS), 'FUNCTIONS' as const) },
    ]);
    return { kind: 'show', what, loc: this.loc(first) };
  });

  describeStatement = this.RULE('describeStatement', (): Statement => {
    const first = this.alt<IToken>(0, [{ ALT: () => this.CONSUME(K.DESCRIBE) }, { ALT: () => this.CONSUME(K.DESC) }]);
    const name = this.SUBRULE(this.compoundName);
    return { kind: 'describe', name, loc: this.loc(first) };
  });

  explainStatement = this.RULE('explainStatement', (): Statement => {
    const first = this.CONSUME(K.EXPLAIN);
    this.OPTION(() => {
      this.CONSUME(K.PLAN);
      this.CONSUME(K.FOR);
    });
    const statement = this.alt(0, [
      { ALT: () => this.SUBRULE(this.insertStatement) },
      { ALT: () => this.SUBRULE(this.statementSet) },
      {
        ALT: () => {
          const q = this.LA(1);
          const query = this.SUBRULE(this.query);
          return { kind: 'query', query, loc: this.loc(q) } as Statement;
        },
      },
    ]);
    return { kind: 'explain', statement, loc: this.loc(first) };
  });

  // --- queries

  query = this.RULE('query', (): Query => {
    const first = this.LA(1);
    const withs: Query['with'] = [];
    this.OPTION(() => {
      this.CONSUME(K.WITH);
      this.AT_LEAST_ONE_SEP({
        SEP: Comma,
        DEF: () => {
          const name = this.SUBRULE(this.identifier);
          let columns: string[] | undefined;
          this.OPTION2(() => (columns = this.SUBRULE(this.columnList)));
          this.CONSUME(K.AS);
          this.CONSUME(LParen);
          const query = this.SUBRULE(this.query);
          this.CONSUME(RParen);
          withs.push({ name, columns, query });
        },
      });
    });
    let body = this.SUBRULE(this.queryTerm);
    this.MANY(() => {
      const u = this.CONSUME(K.UNION);
      let all = false;
      this.OPTION3(() => {
        this.alt(0, [{ ALT: () => (this.CONSUME(K.ALL), (all = true)) }, { ALT: () => this.CONSUME(K.DISTINCT) }]);
      });
      const right = this.SUBRULE2(this.queryTerm);
      body = { kind: 'union', all, left: body, right, loc: this.loc(u) };
    });
    const orderBy: OrderItem[] = [];
    this.OPTION4(() => {
      this.CONSUME(K.ORDER);
      this.CONSUME(K.BY);
      this.AT_LEAST_ONE_SEP2({ SEP: Comma, DEF: () => orderBy.push(this.SUBRULE(this.orderItem)) });
    });
    let limit: number | undefined;
    this.OPTION5(() => {
      this.CONSUME(K.LIMIT);
      limit = Number(this.CONSUME(NumberLiteral).image);
    });
    return { with: withs, body, orderBy, limit, loc: this.loc(first) };
  });

  queryTerm = this.RULE('queryTerm', (): QueryBody => {
    return this.alt(0, [
      { ALT: () => this.SUBRULE(this.select) },
      {
        ALT: () => {
          const first = this.CONSUME(LParen);
          const query = this.SUBRULE(this.query);
          this.CONSUME(RParen);
          return { kind: 'nested', query, loc: this.loc(first) } as QueryBody;
        },
      },
    ]);
  });

  orderItem = this.RULE('orderItem', (): OrderItem => {
    const expr = this.SUBRULE(this.expression);
    let desc = false;
    this.OPTION(() => {
      this.alt(0, [{ ALT: () => this.CONSUME(K.ASC) }, { ALT: () => (this.CONSUME(K.DESC), (desc = true)) }]);
    });
    return { expr, desc };
  });

  select = this.RULE('select', (): Select => {
    const first = this.CONSUME(K.SELECT);
    let distinct = false;
    this.OPTION(() => {
      this.alt(0, [{ ALT: () => (this.CONSUME(K.DISTINCT), (distinct = true)) }, { ALT: () => this.CONSUME(K.ALL) }]);
    });
    const items: SelectItem[] = [];
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => items.push(this.SUBRULE(this.selectItem)) });
    let from: FromItem | undefined;
    let where: Expr | undefined;
    const groupBy: Expr[] = [];
    let having: Expr | undefined;
    this.OPTION2(() => {
      this.CONSUME(K.FROM);
      from = this.SUBRULE(this.fromClause);
    });
    this.OPTION3(() => {
      this.CONSUME(K.WHERE);
      where = this.SUBRULE(this.expression);
    });
    this.OPTION4(() => {
      this.CONSUME(K.GROUP);
      this.CONSUME(K.BY);
      this.AT_LEAST_ONE_SEP2({ SEP: Comma, DEF: () => groupBy.push(this.SUBRULE2(this.expression)) });
    });
    this.OPTION5(() => {
      this.CONSUME(K.HAVING);
      having = this.SUBRULE3(this.expression);
    });
    const windows: { name: string; spec: WindowSpec }[] = [];
    this.OPTION6(() => {
      this.CONSUME(K.WINDOW);
      this.AT_LEAST_ONE_SEP3({
        SEP: Comma,
        DEF: () => {
          const name = this.SUBRULE(this.identifier);
          this.CONSUME(K.AS);
          windows.push({ name, spec: this.SUBRULE(this.windowSpec) });
        },
      });
    });
    return {
      kind: 'select',
      distinct,
      items,
      from,
      where,
      groupBy,
      having,
      ...(windows.length > 0 ? { windows } : {}),
      loc: this.loc(first),
    };
  });

  selectItem = this.RULE('selectItem', (): SelectItem => {
    const first = this.LA(1);
    return this.alt(0, [
      { ALT: () => (this.CONSUME(Star), { kind: 'star', loc: this.loc(first) } as SelectItem) },
      {
        GATE: () => this.LA(2).tokenType === Dot && this.LA(3).tokenType === Star,
        ALT: () => {
          const qualifier = this.SUBRULE(this.identifier);
          this.CONSUME(Dot);
          this.CONSUME2(Star);
          return { kind: 'star', qualifier, loc: this.loc(first) } as SelectItem;
        },
      },
      {
        ALT: () => {
          const expr = this.SUBRULE(this.expression);
          let alias: string | undefined;
          this.OPTION({
            GATE: () => this.LA(1).tokenType === K.AS || this.aliasAhead(),
            DEF: () => {
              this.OPTION2(() => this.CONSUME(K.AS));
              alias = this.SUBRULE2(this.identifier);
            },
          });
          return { kind: 'expr', expr, alias, loc: this.loc(first) } as SelectItem;
        },
      },
    ]);
  });

  fromClause = this.RULE('fromClause', (): FromItem => {
    const first = this.LA(1);
    let item = this.SUBRULE(this.joinedTable);
    this.MANY(() => {
      this.CONSUME(Comma);
      const right = this.SUBRULE2(this.joinedTable);
      item = { kind: 'join', type: 'COMMA', left: item, right, loc: this.loc(first) };
    });
    return item;
  });

  joinedTable = this.RULE('joinedTable', (): FromItem => {
    const first = this.LA(1);
    let item = this.SUBRULE(this.tablePrimary);
    this.MANY(() => {
      let type: 'INNER' | 'LEFT' | 'RIGHT' | 'FULL' | 'CROSS' = 'INNER';
      this.OPTION(() => {
        this.alt(0, [
          { ALT: () => this.CONSUME(K.INNER) },
          { ALT: () => (this.CONSUME(K.LEFT), (type = 'LEFT')) },
          { ALT: () => (this.CONSUME(K.RIGHT), (type = 'RIGHT')) },
          { ALT: () => (this.CONSUME(K.FULL), (type = 'FULL')) },
          { ALT: () => (this.CONSUME(K.CROSS), (type = 'CROSS')) },
        ]);
        this.OPTION2(() => this.CONSUME(K.OUTER));
      });
      this.CONSUME(K.JOIN);
      const right = this.SUBRULE2(this.tablePrimary);
      let on: Expr | undefined;
      this.OPTION3(() => {
        this.CONSUME(K.ON);
        on = this.SUBRULE(this.expression);
      });
      item = { kind: 'join', type, left: item, right, on, loc: this.loc(first) };
    });
    return item;
  });

  tableAlias = this.RULE('tableAlias', (): string | undefined => {
    let alias: string | undefined;
    this.OPTION({
      GATE: () => this.LA(1).tokenType === K.AS || this.aliasAhead(),
      DEF: () => {
        this.OPTION2(() => this.CONSUME(K.AS));
        alias = this.SUBRULE(this.identifier);
      },
    });
    return alias;
  });

  tablePrimary = this.RULE('tablePrimary', (): FromItem => {
    const first = this.LA(1);
    return this.alt(0, [
      {
        ALT: () => {
          this.CONSUME(K.TABLE);
          this.CONSUME(LParen);
          const name = this.SUBRULE(this.identifier);
          this.CONSUME2(LParen);
          const args: Expr[] = [];
          this.MANY_SEP({ SEP: Comma, DEF: () => args.push(this.SUBRULE(this.tvfArg)) });
          this.CONSUME2(RParen);
          this.CONSUME(RParen);
          const alias = this.SUBRULE(this.tableAlias);
          return { kind: 'tvf', name: up(name), args, alias, loc: this.loc(first) } as FromItem;
        },
      },
      {
        ALT: () => {
          this.CONSUME3(LParen);
          const query = this.SUBRULE(this.query);
          this.CONSUME3(RParen);
          const alias = this.SUBRULE2(this.tableAlias);
          return { kind: 'subquery', query, alias, loc: this.loc(first) } as FromItem;
        },
      },
      {
        ALT: () => {
          const name = this.SUBRULE(this.compoundName);
          let systemTimeAsOf: Expr | undefined;
          this.OPTION(() => {
            this.CONSUME(K.FOR);
            this.CONSUME(K.SYSTEM_TIME);
            this.CONSUME(K.AS);
            this.CONSUME(K.OF);
            systemTimeAsOf = this.SUBRULE(this.additive);
          });
          const alias = this.SUBRULE3(this.tableAlias);
          return { kind: 'table', name, alias, systemTimeAsOf, loc: this.loc(first) } as FromItem;
        },
      },
    ]);
  });

  tvfArg = this.RULE('tvfArg', (): Expr => {
    const first = this.LA(1);
    // Named arguments (`DATA => TABLE t`) are not parsed: Flink's docs use positional ones.
    return this.alt(0, [
      {
        ALT: () => {
          this.CONSUME(K.TABLE);
          const name = this.SUBRULE(this.compoundName);
          return { kind: 'table-arg', name, loc: this.loc(first) } as Expr;
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.DESCRIPTOR);
          const columns = this.SUBRULE(this.columnList);
          return { kind: 'descriptor', columns, loc: this.loc(first) } as Expr;
        },
      },
      { ALT: () => this.SUBRULE(this.expression) },
    ]);
  });

  // --- expressions, loosest first

  expression = this.RULE('expression', (): Expr => this.SUBRULE(this.orExpr));

  orExpr = this.RULE('orExpr', (): Expr => {
    const first = this.LA(1);
    let left = this.SUBRULE(this.andExpr);
    this.MANY(() => {
      this.CONSUME(K.OR);
      const right = this.SUBRULE2(this.andExpr);
      left = { kind: 'binary', op: 'OR', left, right, loc: this.loc(first) };
    });
    return left;
  });

  andExpr = this.RULE('andExpr', (): Expr => {
    const first = this.LA(1);
    let left = this.SUBRULE(this.notExpr);
    this.MANY(() => {
      this.CONSUME(K.AND);
      const right = this.SUBRULE2(this.notExpr);
      left = { kind: 'binary', op: 'AND', left, right, loc: this.loc(first) };
    });
    return left;
  });

  notExpr = this.RULE('notExpr', (): Expr => {
    const first = this.LA(1);
    return this.alt(0, [
      {
        ALT: () => {
          this.CONSUME(K.NOT);
          const arg = this.SUBRULE(this.notExpr);
          return { kind: 'unary', op: 'NOT', arg, loc: this.loc(first) } as Expr;
        },
      },
      { ALT: () => this.SUBRULE(this.predicate) },
    ]);
  });

  predicate = this.RULE('predicate', (): Expr => {
    const first = this.LA(1);
    let left = this.SUBRULE(this.additive);
    this.MANY(() => {
      this.alt(0, [
        {
          ALT: () => {
            const op = this.alt<IToken>(
              2,
              COMPARISONS.map((t) => ({ ALT: () => this.CONSUME(t) })),
            );
            const right = this.SUBRULE2(this.additive);
            left = { kind: 'binary', op: op.tokenType === NotEquals ? '<>' : op.image, left, right, loc: this.loc(first) };
          },
        },
        {
          ALT: () => {
            this.CONSUME(K.IS);
            let not = false;
            this.OPTION(() => (this.CONSUME(K.NOT), (not = true)));
            const what = this.alt(3, [
              { ALT: () => (this.CONSUME(K.NULL), 'NULL' as const) },
              { ALT: () => (this.CONSUME(K.TRUE), 'TRUE' as const) },
              { ALT: () => (this.CONSUME(K.FALSE), 'FALSE' as const) },
              { ALT: () => (this.CONSUME(K.UNKNOWN), 'NULL' as const) },
            ]);
            left = { kind: 'is', arg: left, not, what, loc: this.loc(first) };
          },
        },
        {
          ALT: () => {
            let not = false;
            this.OPTION2(() => (this.CONSUME2(K.NOT), (not = true)));
            this.alt(4, [
              {
                ALT: () => {
                  this.CONSUME(K.BETWEEN);
                  this.OPTION3(() => this.CONSUME(K.SYMMETRIC));
                  const low = this.SUBRULE3(this.additive);
                  this.CONSUME(K.AND);
                  const high = this.SUBRULE4(this.additive);
                  left = { kind: 'between', arg: left, low, high, not, loc: this.loc(first) };
                },
              },
              {
                ALT: () => {
                  this.CONSUME(K.IN);
                  this.CONSUME(LParen);
                  this.alt(5, [
                    {
                      ALT: () => {
                        const query = this.SUBRULE(this.query);
                        left = { kind: 'in-query', arg: left, query, not, loc: this.loc(first) };
                      },
                    },
                    {
                      ALT: () => {
                        const list: Expr[] = [];
                        this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => list.push(this.SUBRULE(this.expression)) });
                        left = { kind: 'in', arg: left, list, not, loc: this.loc(first) };
                      },
                    },
                  ]);
                  this.CONSUME(RParen);
                },
              },
              {
                ALT: () => {
                  let similar = false;
                  this.alt(6, [
                    { ALT: () => this.CONSUME(K.LIKE) },
                    {
                      ALT: () => {
                        this.CONSUME(K.SIMILAR);
                        this.CONSUME(K.TO);
                        similar = true;
                      },
                    },
                  ]);
                  const pattern = this.SUBRULE5(this.additive);
                  let escape: Expr | undefined;
                  this.OPTION4(() => {
                    this.CONSUME(K.ESCAPE);
                    escape = this.SUBRULE6(this.additive);
                  });
                  left = { kind: 'like', arg: left, pattern, escape, not, similar, loc: this.loc(first) };
                },
              },
            ]);
          },
        },
      ]);
    });
    return left;
  });

  additive = this.RULE('additive', (): Expr => {
    const first = this.LA(1);
    let left = this.SUBRULE(this.multiplicative);
    this.MANY(() => {
      const op = this.alt<IToken>(0, [
        { ALT: () => this.CONSUME(Plus) },
        { ALT: () => this.CONSUME(Minus) },
        { ALT: () => this.CONSUME(Concat) },
      ]);
      const right = this.SUBRULE2(this.multiplicative);
      left = { kind: 'binary', op: op.image, left, right, loc: this.loc(first) };
    });
    return left;
  });

  multiplicative = this.RULE('multiplicative', (): Expr => {
    const first = this.LA(1);
    let left = this.SUBRULE(this.unary);
    this.MANY(() => {
      const op = this.alt<IToken>(0, [
        { ALT: () => this.CONSUME(Star) },
        { ALT: () => this.CONSUME(Slash) },
        { ALT: () => this.CONSUME(Percent) },
      ]);
      const right = this.SUBRULE2(this.unary);
      left = { kind: 'binary', op: op.image, left, right, loc: this.loc(first) };
    });
    return left;
  });

  unary = this.RULE('unary', (): Expr => {
    const first = this.LA(1);
    return this.alt(0, [
      {
        ALT: () => {
          const op = this.alt<IToken>(2, [{ ALT: () => this.CONSUME(Minus) }, { ALT: () => this.CONSUME(Plus) }]);
          const arg = this.SUBRULE(this.unary);
          return { kind: 'unary', op: op.image as '-' | '+', arg, loc: this.loc(first) } as Expr;
        },
      },
      { ALT: () => this.SUBRULE(this.postfix) },
    ]);
  });

  /** A primary with `[index]` and `.field` accessors. */
  postfix = this.RULE('postfix', (): Expr => {
    const first = this.LA(1);
    let e = this.SUBRULE(this.primary);
    this.MANY(() => {
      this.alt(0, [
        {
          ALT: () => {
            this.CONSUME(LBracket);
            const index = this.SUBRULE(this.expression);
            this.CONSUME(RBracket);
            e = { kind: 'call', name: 'ITEM', args: [e, index], distinct: false, star: false, loc: this.loc(first) };
          },
        },
        {
          ALT: () => {
            this.CONSUME(Dot);
            const field = this.SUBRULE(this.identifier);
            if (e?.kind === 'ref') e = { kind: 'ref', path: [...e.path, field], loc: this.loc(first) };
            else e = { kind: 'call', name: 'FIELD', args: [e, lit(field, first)], distinct: false, star: false, loc: this.loc(first) };
          },
        },
      ]);
    });
    return e;
  });

  primary = this.RULE('primary', (): Expr => {
    const first = this.LA(1);
    return this.alt(0, [
      {
        ALT: () => {
          const t = this.CONSUME(NumberLiteral);
          return { kind: 'literal', type: 'number', value: Number(t.image), text: t.image, loc: this.loc(first) } as Expr;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(StringLiteral);
          const value = this.RECORDING_PHASE ? '' : stringValue(t);
          return { kind: 'literal', type: 'string', value, text: t.image, loc: this.loc(first) } as Expr;
        },
      },
      { ALT: () => (this.CONSUME(K.TRUE), { kind: 'literal', type: 'boolean', value: true, text: 'TRUE', loc: this.loc(first) } as Expr) },
      {
        ALT: () => (this.CONSUME(K.FALSE), { kind: 'literal', type: 'boolean', value: false, text: 'FALSE', loc: this.loc(first) } as Expr),
      },
      { ALT: () => (this.CONSUME(K.NULL), { kind: 'literal', type: 'null', value: null, text: 'NULL', loc: this.loc(first) } as Expr) },
      { ALT: () => this.SUBRULE(this.intervalLiteral) },
      { ALT: () => this.SUBRULE(this.caseExpr) },
      { ALT: () => this.SUBRULE(this.castExpr) },
      { ALT: () => this.SUBRULE(this.extractExpr) },
      {
        GATE: () => this.LA(2).tokenType === StringLiteral,
        ALT: () => {
          const type = this.alt(2, [
            { ALT: () => (this.CONSUME(K.TIMESTAMP), 'TIMESTAMP' as const) },
            { ALT: () => (this.CONSUME(K.DATE), 'DATE' as const) },
            { ALT: () => (this.CONSUME(K.TIME), 'TIME' as const) },
          ]);
          const value = this.CONSUME2(StringLiteral);
          return { kind: 'typed-literal', type, value: this.RECORDING_PHASE ? '' : stringValue(value), loc: this.loc(first) } as Expr;
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.EXISTS);
          this.CONSUME(LParen);
          const query = this.SUBRULE(this.query);
          this.CONSUME(RParen);
          return { kind: 'exists', query, loc: this.loc(first) } as Expr;
        },
      },
      {
        GATE: () => this.LA(2).tokenType === K.SELECT || this.LA(2).tokenType === K.WITH,
        ALT: () => {
          this.CONSUME2(LParen);
          const query = this.SUBRULE2(this.query);
          this.CONSUME2(RParen);
          return { kind: 'subquery', query, loc: this.loc(first) } as Expr;
        },
      },
      {
        ALT: () => {
          this.CONSUME3(LParen);
          const e = this.SUBRULE(this.expression);
          this.CONSUME3(RParen);
          return e;
        },
      },
      {
        GATE: () => this.LA(2).tokenType === LParen,
        ALT: () => this.SUBRULE(this.functionCall),
      },
      {
        ALT: () => {
          // CURRENT_TIMESTAMP and friends are functions without parentheses.
          const t = this.CONSUME(Word);
          if (!this.RECORDING_PHASE && t.tokenType !== QuotedIdentifier && NILADIC.has(t.image.toUpperCase())) {
            return { kind: 'call', name: t.image.toUpperCase(), args: [], distinct: false, star: false, loc: this.loc(first) } as Expr;
          }
          return { kind: 'ref', path: [this.ident(t)], loc: this.loc(first) } as Expr;
        },
      },
    ]);
  });

  intervalLiteral = this.RULE('intervalLiteral', (): Expr => {
    const first = this.CONSUME(K.INTERVAL);
    let sign = '';
    this.OPTION(() => (this.CONSUME(Minus), (sign = '-')));
    const value = this.CONSUME(StringLiteral);
    const unit = this.CONSUME(Word);
    let precision: IToken | undefined;
    this.OPTION2(() => {
      this.CONSUME(LParen);
      precision = this.CONSUME(NumberLiteral);
      this.CONSUME(RParen);
    });
    let toUnit: string | undefined;
    this.OPTION3(() => {
      this.CONSUME(K.TO);
      toUnit = up(this.CONSUME2(Word).image);
    });
    void precision;
    if (!this.RECORDING_PHASE && !INTERVAL_UNITS.has(unit.image.toUpperCase())) {
      throw new SqlSyntaxError(
        `unexpected '${unit.image}'; expected an interval unit (SECOND, MINUTE, HOUR, DAY, MONTH, YEAR)`,
        unit.startLine ?? 0,
        unit.startColumn ?? 0,
        unit.image,
      );
    }
    return {
      kind: 'interval',
      value: sign + (this.RECORDING_PHASE ? '' : stringValue(value)),
      unit: up(unit.image),
      toUnit,
      loc: this.loc(first),
    };
  });

  caseExpr = this.RULE('caseExpr', (): Expr => {
    const first = this.CONSUME(K.CASE);
    let operand: Expr | undefined;
    this.OPTION({ GATE: () => this.LA(1).tokenType !== K.WHEN, DEF: () => (operand = this.SUBRULE(this.expression)) });
    const whens: { when: Expr; then: Expr }[] = [];
    this.AT_LEAST_ONE(() => {
      this.CONSUME(K.WHEN);
      const when = this.SUBRULE2(this.expression);
      this.CONSUME(K.THEN);
      const then = this.SUBRULE3(this.expression);
      whens.push({ when, then });
    });
    let otherwise: Expr | undefined;
    this.OPTION2(() => {
      this.CONSUME(K.ELSE);
      otherwise = this.SUBRULE4(this.expression);
    });
    this.CONSUME(K.END);
    return { kind: 'case', operand, whens, else: otherwise, loc: this.loc(first) };
  });

  castExpr = this.RULE('castExpr', (): Expr => {
    const first = this.LA(1);
    let isTry = false;
    this.alt(0, [{ ALT: () => this.CONSUME(K.CAST) }, { ALT: () => (this.CONSUME(K.TRY_CAST), (isTry = true)) }]);
    this.CONSUME(LParen);
    const arg = this.SUBRULE(this.expression);
    this.CONSUME(K.AS);
    const type = this.SUBRULE(this.dataType);
    this.CONSUME(RParen);
    return { kind: 'cast', arg, type, try: isTry, loc: this.loc(first) };
  });

  extractExpr = this.RULE('extractExpr', (): Expr => {
    const first = this.CONSUME(K.EXTRACT);
    this.CONSUME(LParen);
    const unit = this.CONSUME(Word);
    this.CONSUME(K.FROM);
    const arg = this.SUBRULE(this.expression);
    this.CONSUME(RParen);
    return { kind: 'extract', unit: up(unit.image), arg, loc: this.loc(first) };
  });

  functionCall = this.RULE('functionCall', (): Expr => {
    const first = this.LA(1);
    const nameTok = this.CONSUME(Word);
    const name = this.RECORDING_PHASE ? '' : nameTok.tokenType === QuotedIdentifier ? unquote(nameTok) : nameTok.image.toUpperCase();
    this.CONSUME(LParen);
    let distinct = false;
    let star = false;
    const args: Expr[] = [];
    this.OPTION(() => {
      this.alt(0, [
        { ALT: () => (this.CONSUME(Star), (star = true)) },
        {
          ALT: () => {
            this.OPTION2(() => {
              this.alt(2, [{ ALT: () => (this.CONSUME(K.DISTINCT), (distinct = true)) }, { ALT: () => this.CONSUME(K.ALL) }]);
            });
            args.push(this.SUBRULE(this.expression));
            this.alt(3, [
              {
                // SUBSTRING(s FROM i [FOR n]), POSITION(a IN b) is not parsed
                ALT: () => {
                  this.CONSUME(K.FROM);
                  args.push(this.SUBRULE2(this.expression));
                  this.OPTION3(() => {
                    this.CONSUME(K.FOR);
                    args.push(this.SUBRULE3(this.expression));
                  });
                },
              },
              {
                ALT: () => {
                  this.MANY(() => {
                    this.CONSUME(Comma);
                    args.push(this.SUBRULE4(this.expression));
                  });
                },
              },
            ]);
          },
        },
      ]);
    });
    this.CONSUME(RParen);
    let filter: Expr | undefined;
    this.OPTION4(() => {
      this.CONSUME(K.FILTER);
      this.CONSUME2(LParen);
      this.CONSUME(K.WHERE);
      filter = this.SUBRULE5(this.expression);
      this.CONSUME2(RParen);
    });
    let over: WindowSpec | undefined;
    this.OPTION5(() => {
      this.CONSUME(K.OVER);
      over = this.alt<WindowSpec>(5, [
        { ALT: () => this.SUBRULE(this.windowSpec) },
        { ALT: () => ({ partitionBy: [], orderBy: [], name: this.SUBRULE(this.identifier) }) },
      ]);
    });
    return { kind: 'call', name, args, distinct, star, filter, over, loc: this.loc(first) };
  });

  windowSpec = this.RULE('windowSpec', (): WindowSpec => {
    const spec: WindowSpec = { partitionBy: [], orderBy: [] };
    this.CONSUME(LParen);
    this.OPTION(() => {
      this.CONSUME(K.PARTITION);
      this.CONSUME(K.BY);
      this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => spec.partitionBy.push(this.SUBRULE(this.expression)) });
    });
    this.OPTION2(() => {
      this.CONSUME(K.ORDER);
      this.CONSUME2(K.BY);
      this.AT_LEAST_ONE_SEP2({ SEP: Comma, DEF: () => spec.orderBy.push(this.SUBRULE(this.orderItem)) });
    });
    this.OPTION3(() => {
      const unitTok = this.alt<IToken>(0, [{ ALT: () => this.CONSUME(K.ROWS) }, { ALT: () => this.CONSUME(K.RANGE) }]);
      const start = this.LA(1);
      this.CONSUME(K.BETWEEN);
      const from = this.SUBRULE(this.frameBound);
      this.CONSUME(K.AND);
      const to = this.SUBRULE2(this.frameBound);
      if (!this.RECORDING_PHASE) {
        spec.frame = {
          unit: unitTok.image.toUpperCase() as 'ROWS' | 'RANGE',
          text: this.text.slice(start.startOffset, (this.LA(0).endOffset ?? 0) + 1),
          start: from,
          end: to,
        };
      }
    });
    this.CONSUME(RParen);
    return spec;
  });

  frameBound = this.RULE('frameBound', (): FrameBound => {
    const direction = (t: IToken) => (t?.image ?? '').toUpperCase() as 'PRECEDING' | 'FOLLOWING';
    return this.alt<FrameBound>(0, [
      {
        ALT: () => {
          this.CONSUME(K.UNBOUNDED);
          const d = this.alt<IToken>(2, [{ ALT: () => this.CONSUME(K.PRECEDING) }, { ALT: () => this.CONSUME(K.FOLLOWING) }]);
          return { kind: 'unbounded', direction: direction(d) };
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.CURRENT);
          this.CONSUME(K.ROW);
          return { kind: 'current-row' };
        },
      },
      {
        ALT: () => {
          const offset = this.SUBRULE(this.additive);
          const d = this.alt<IToken>(3, [{ ALT: () => this.CONSUME2(K.PRECEDING) }, { ALT: () => this.CONSUME2(K.FOLLOWING) }]);
          return { kind: 'offset', offset, direction: direction(d) };
        },
      },
    ]);
  });
}

/** Functions written without parentheses. */
const NILADIC = new Set(['CURRENT_TIMESTAMP', 'CURRENT_DATE', 'CURRENT_TIME', 'LOCALTIMESTAMP', 'LOCALTIME', 'CURRENT_ROW_TIMESTAMP']);

function up(s: unknown): string {
  return typeof s === 'string' ? s.toUpperCase() : '';
}

function stringValueOf(t: IToken, recording: boolean): string {
  return recording ? '' : stringValue(t);
}

function lit(value: string, at: IToken): Expr {
  const loc = { start: at.startOffset, end: at.endOffset ?? at.startOffset, line: at.startLine ?? 0, column: at.startColumn ?? 0 };
  return { kind: 'literal', type: 'string', value, text: `'${value}'`, loc };
}

let parserInstance: FlinkSqlParser | undefined;

/** Parses a script of `;`-separated statements; throws {@link SqlSyntaxError} with line and column. */
export function parseScript(text: string): Statement[] {
  const lexed = lexer.tokenize(text);
  if (lexed.errors.length > 0) {
    const e = lexed.errors[0];
    const ch = text.slice(e.offset, e.offset + e.length);
    throw new SqlSyntaxError(`unexpected character '${ch}'`, e.line ?? 0, e.column ?? 0, ch);
  }
  const parser = (parserInstance ??= new FlinkSqlParser());
  parser.text = text;
  parser.input = lexed.tokens;
  const statements = parser.script();
  if (parser.errors.length > 0) {
    const e = parser.errors[0];
    const t = e.token;
    const atEnd = t.tokenType === EOF;
    const last = lexed.tokens[lexed.tokens.length - 1];
    const line = atEnd ? (last?.endLine ?? 1) : (t.startLine ?? 0);
    const column = atEnd ? (last?.endColumn ?? 0) + 1 : (t.startColumn ?? 0);
    throw new SqlSyntaxError(e.message, line, column, atEnd ? '' : t.image);
  }
  return statements;
}

/** Parses one statement (a trailing `;` is allowed). */
export function parseStatement(text: string): Statement {
  const statements = parseScript(text);
  if (statements.length !== 1) {
    throw new WeirError(`expected one SQL statement, got ${statements.length}`, { code: ErrorCodes.SQL_PARSE, domain: 'user' });
  }
  return statements[0];
}

/** The source text of a node. */
export function textOf(script: string, loc: Loc): string {
  return script.slice(loc.start, loc.end);
}
