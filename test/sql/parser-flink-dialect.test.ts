// The Flink SQL parser: every construct of Nexmark's queries (parts 1 and 2), Flink's names and reserved words, and errors with line, column, token and what was expected.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqlSyntaxError, parseScript, parseStatement } from '../../src/sql/parser.ts';
import type { Expr, Statement } from '../../src/sql/ast.ts';

const SQL_DIR = join('bench', 'nexmark', 'sql');

function syntaxError(sql: string): SqlSyntaxError {
  try {
    parseScript(sql);
  } catch (e) {
    expect(e).toBeInstanceOf(SqlSyntaxError);
    return e as SqlSyntaxError;
  }
  throw new Error(`parsed without error: ${sql}`);
}

describe('Flink SQL parser', () => {
  it('parses the Nexmark DDL and every query file of bench/nexmark/sql', () => {
    const files = readdirSync(SQL_DIR).filter((f) => f.endsWith('.sql'));
    expect(files.sort()).toEqual([
      'ddl.sql',
      'q0.sql',
      'q1.sql',
      'q11.sql',
      'q12.sql',
      'q13.sql',
      'q14.sql',
      'q15.sql',
      'q16.sql',
      'q17.sql',
      'q18.sql',
      'q19.sql',
      'q2.sql',
      'q20.sql',
      'q21.sql',
      'q22.sql',
      'q3.sql',
      'q4.sql',
      'q5.sql',
      'q6.sql',
      'q7.sql',
      'q8.sql',
      'q9.sql',
    ]);
    const kinds: Record<string, string[]> = {};
    for (const f of files) kinds[f] = parseScript(readFileSync(join(SQL_DIR, f), 'utf8')).map((s) => s.kind);
    expect(kinds['ddl.sql']).toEqual(['create-table', 'create-view', 'create-view', 'create-view']);
    for (const f of files.filter((x) => x !== 'ddl.sql' && !['q12.sql', 'q13.sql', 'q14.sql'].includes(x)))
      expect(kinds[f]).toEqual(['create-table', 'insert']);
    expect(kinds['q13.sql']).toEqual(['create-table', 'create-table', 'insert']);
    expect(kinds['q14.sql']).toEqual(['create-function', 'create-table', 'insert']);
    expect(kinds['q12.sql']).toEqual(['create-table', 'create-view', 'insert']);
  });

  it('reads the unquoted column dateTime (DATETIME is not reserved in Flink) and nested ROW fields', () => {
    const [table] = parseScript(readFileSync(join(SQL_DIR, 'ddl.sql'), 'utf8')) as Extract<Statement, { kind: 'create-table' }>[];
    expect(table.columns.map((c) => c.name)).toEqual(['event_type', 'person', 'auction', 'bid', 'dateTime']);
    const bid = table.columns[3] as Extract<(typeof table.columns)[number], { kind: 'physical' }>;
    expect(bid.type.name).toBe('ROW');
    expect(bid.type.fields?.map((f) => `${f.name} ${f.type.name}${f.type.params.length ? `(${f.type.params})` : ''}`)).toEqual([
      'auction BIGINT',
      'bidder BIGINT',
      'price BIGINT',
      'channel VARCHAR',
      'url VARCHAR',
      'dateTime TIMESTAMP(3)',
      'extra VARCHAR',
    ]);
    expect(table.watermark?.column).toBe('dateTime');
    expect(table.options).toEqual({ connector: 'nexmark', 'first-event.rate': '1000', 'next-event.rate': '1000', 'events.num': '40000' });
  });

  it('parses the constructs of part 2 (OVER, ROW_NUMBER, COUNT DISTINCT with FILTER, temporal joins, statement sets)', () => {
    const statements = parseScript(`
      SELECT auction, price FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC, dateTime ASC) AS rn FROM bid
      ) WHERE rn <= 10;
      SELECT DATE_FORMAT(dateTime, 'yyyy-MM-dd') AS \`day\`, COUNT(*) AS total_bids,
             COUNT(*) FILTER (WHERE price < 10000) AS rank1_bids,
             COUNT(DISTINCT bidder) FILTER (WHERE price >= 1000000) AS rank3_bidders
      FROM bid GROUP BY DATE_FORMAT(dateTime, 'yyyy-MM-dd');
      SELECT bidder, AVG(price) OVER (PARTITION BY bidder ORDER BY dateTime ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) FROM bid;
      SELECT o.id, r.rate FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.cur = r.cur;
      SELECT * FROM a LEFT OUTER JOIN b ON a.k = b.k;
      EXECUTE STATEMENT SET BEGIN INSERT INTO s1 SELECT * FROM t; INSERT INTO s2 SELECT * FROM t; END;
      SELECT channel, CASE WHEN lower(channel) = 'apple' THEN '0' ELSE REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2) END FROM bid
        WHERE SPLIT_INDEX(url, '/', 3) IS NOT NULL AND channel IN ('apple', 'google') AND price BETWEEN 10 AND 20 AND extra NOT LIKE '%x%';
      SELECT window_start, window_end, COUNT(*) FROM TABLE(CUMULATE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
        GROUP BY window_start, window_end;
      SELECT TUMBLE_START(dateTime, INTERVAL '1' HOUR), HOP_END(dateTime, INTERVAL '1' MINUTE, INTERVAL '1' HOUR) FROM bid;
      SET 'table.exec.state.ttl' = '1 h';
      RESET;
      SHOW TABLES;
      DESCRIBE bid;
      EXPLAIN PLAN FOR SELECT * FROM bid;
      DROP TEMPORARY VIEW IF EXISTS v;
      CREATE TEMPORARY TABLE k (id BIGINT NOT NULL, m MAP<STRING, INT>, a ARRAY<DOUBLE>, d DECIMAL(10, 2), l TIMESTAMP_LTZ(3),
        ts TIMESTAMP(3) METADATA FROM 'timestamp' VIRTUAL, PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'kafka');
      WITH t AS (SELECT a FROM x) SELECT a FROM t UNION ALL SELECT a FROM y;
    `);
    expect(statements.map((s) => s.kind)).toEqual([
      'query',
      'query',
      'query',
      'query',
      'query',
      'statement-set',
      'query',
      'query',
      'query',
      'set',
      'reset',
      'show',
      'describe',
      'explain',
      'drop',
      'create-table',
      'query',
    ]);
    const rn = (statements[0] as Extract<Statement, { kind: 'query' }>).query;
    const inner = rn.body.kind === 'select' && rn.body.from?.kind === 'subquery' ? rn.body.from.query.body : undefined;
    const call =
      inner?.kind === 'select' && inner.items[1].kind === 'expr' ? (inner.items[1].expr as Extract<Expr, { kind: 'call' }>) : undefined;
    expect(call?.name).toBe('ROW_NUMBER');
    expect(call?.over?.partitionBy.length).toBe(1);
    expect(call?.over?.orderBy.map((o) => o.desc)).toEqual([true, false]);
    const over = (statements[2] as Extract<Statement, { kind: 'query' }>).query.body;
    const avg =
      over.kind === 'select' && over.items[1].kind === 'expr' ? (over.items[1].expr as Extract<Expr, { kind: 'call' }>) : undefined;
    const frame = avg?.over?.frame;
    expect([frame?.unit, frame?.text]).toEqual(['ROWS', 'BETWEEN 10 PRECEDING AND CURRENT ROW']);
    expect(
      frame?.start?.kind === 'offset'
        ? [frame.start.direction, frame.start.offset.kind, frame.start.offset.loc.end - frame.start.offset.loc.start]
        : frame?.start,
    ).toEqual(['PRECEDING', 'literal', 2]);
    expect(frame?.end).toEqual({ kind: 'current-row' });
  });

  it('takes backtick-quoted names, reserved words included, and refuses a reserved word unquoted', () => {
    const s = parseStatement('SELECT `value`, `count`, `my col` FROM `t`') as Extract<Statement, { kind: 'query' }>;
    const items = s.query.body.kind === 'select' ? s.query.body.items : [];
    expect(items.map((i) => (i.kind === 'expr' && i.expr.kind === 'ref' ? i.expr.path[0] : ''))).toEqual(['value', 'count', 'my col']);
    const e = syntaxError('SELECT a,\n  value FROM t');
    expect(e.message).toBe(
      "syntax error at line 2, column 3: 'value' is a reserved word; quote it with backticks (`value`) to use it as a name",
    );
    expect([e.line, e.column, e.token]).toEqual([2, 3, 'value']);
  });

  it('names line, column, the token and what was expected in a syntax error', () => {
    const e = syntaxError("CREATE TABLE t (\n  a INT,\n  b INT\n) WITH ('connector' = 'x');\nSELECT a\nFORM t;");
    expect(e.message).toBe("syntax error at line 6, column 6: unexpected 't'; expected ';' or end of input");
    const missing = syntaxError('SELECT a FROM t WHERE (a > 1');
    expect(missing.message).toBe("syntax error at line 1, column 29: unexpected end of input; expected ')'");
    const interval = syntaxError("SELECT a FROM t WHERE ts > ts - INTERVAL '1' SECONDS");
    expect(interval.message).toMatch(/^syntax error at line 1, column 46: unexpected 'SECONDS'; expected an interval unit/);
    const lexical = syntaxError('SELECT a ? b FROM t');
    expect(lexical.message).toBe("syntax error at line 1, column 10: unexpected character '?'");
    expect(lexical.code).toBe('WEIR_SQL_PARSE');
  });

  it('parses operator precedence as Calcite does: AND over OR, * over +, NOT over AND', () => {
    const s = parseStatement('SELECT a OR b AND NOT c, 1 + 2 * 3 - 4 FROM t') as Extract<Statement, { kind: 'query' }>;
    const items = s.query.body.kind === 'select' ? s.query.body.items : [];
    const shape = (e: Expr): string =>
      e.kind === 'binary'
        ? `(${shape(e.left)} ${e.op} ${shape(e.right)})`
        : e.kind === 'unary'
          ? `(${e.op} ${shape(e.arg)})`
          : e.kind === 'ref'
            ? e.path.join('.')
            : e.kind === 'literal'
              ? String(e.value)
              : e.kind;
    expect(items.map((i) => (i.kind === 'expr' ? shape(i.expr) : ''))).toEqual(['(a OR (b AND (NOT c)))', '((1 + (2 * 3)) - 4)']);
  });
});
