// Errors of updating queries, as Flink's planner gives them: append-only sinks (filesystem, kafka) and windows refuse update changes naming the sink table and the node that produces them; rank functions and row-number filters weir does not build are refused by name.
import { beforeEach, describe, expect, it } from 'vitest';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

let env: TableEnvironment;

beforeEach(async () => {
  env = TableEnvironment.create({ mode: 'local' });
  await env.executeScript(`
    CREATE TABLE orders (order_id BIGINT, customer STRING, amount BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
      WITH ('connector' = 'filesystem', 'path' = '/nonexistent.csv', 'format' = 'csv');
    CREATE TABLE totals (customer STRING, total BIGINT) WITH ('connector' = 'filesystem', 'path' = '/nonexistent-out', 'format' = 'csv');
    CREATE TABLE topic (customer STRING, total BIGINT)
      WITH ('connector' = 'kafka', 'topic' = 't', 'properties.bootstrap.servers' = 'localhost:1', 'format' = 'json');
    CREATE VIEW latest AS
      SELECT order_id, customer, amount, ts FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY ts DESC) AS rn FROM orders) WHERE rn = 1;`);
});

async function failure(sql: string): Promise<{ code: string; message: string }> {
  try {
    await env.explainSql(sql);
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  throw new Error(`no error for: ${sql}`);
}

describe('changelog errors', () => {
  it('the filesystem sink refuses an updating query, naming the table, the producing node and why', async () => {
    expect(await failure('INSERT INTO totals SELECT customer, SUM(amount) AS total FROM orders GROUP BY customer')).toEqual({
      code: 'WEIR_SQL_VALIDATION',
      message:
        "Table sink 'totals' doesn't support consuming update changes which is produced by node GroupAggregate(groupBy=[customer], select=[customer, total]): the filesystem sink writes append-only files, which cannot retract a row it has written",
    });
  });

  it('the append kafka sink refuses an updating query (upsert-kafka would take it)', async () => {
    expect((await failure('INSERT INTO topic SELECT customer, order_id FROM latest')).message).toBe(
      "Table sink 'topic' doesn't support consuming update changes which is produced by node Deduplicate(keep=[LastRow], key=[order_id], order=[ROWTIME]): the 'kafka' connector is append-only (the 'upsert-kafka' connector writes updates by primary key)",
    );
  });

  it('an insert-only query still goes to an append-only sink', async () => {
    expect(await env.explainSql('INSERT INTO totals SELECT customer, amount FROM orders WHERE amount > 1')).toContain('Sink(table=[totals]');
  });

  it('a window aggregate and deduplication refuse an updating input', async () => {
    expect(
      (
        await failure(
          "SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE latest, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end",
        )
      ).message,
    ).toBe(
      "a window aggregate doesn't support consuming update changes which is produced by node Deduplicate(keep=[LastRow], key=[order_id], order=[ROWTIME]): windows need an insert-only input",
    );
    expect(
      (await failure('SELECT order_id FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY customer ORDER BY ts) AS r FROM latest) WHERE r = 1')).message,
    ).toBe(
      "deduplication (ROW_NUMBER() … = 1 on a time attribute) doesn't support consuming update changes which is produced by node Deduplicate(keep=[LastRow], key=[order_id], order=[ROWTIME])",
    );
  });

  it('refuses by name the rank functions and row-number filters that are not built', async () => {
    const cases: [string, string][] = [
      [
        'SELECT * FROM (SELECT *, RANK() OVER (PARTITION BY customer ORDER BY amount) AS r FROM orders) WHERE r <= 2',
        'not supported yet: RANK() (only ROW_NUMBER() Top-N and deduplication are built)',
      ],
      [
        'SELECT * FROM (SELECT *, DENSE_RANK() OVER (PARTITION BY customer ORDER BY amount) AS r FROM orders) WHERE r <= 2',
        'not supported yet: DENSE_RANK() (only ROW_NUMBER() Top-N and deduplication are built)',
      ],
      [
        'SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY customer ORDER BY amount) AS r FROM orders)',
        "not supported yet: ROW_NUMBER() without a filter on 'r' in the outer WHERE (Top-N needs WHERE r <= N)",
      ],
      [
        'SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY customer ORDER BY amount) AS r FROM orders) WHERE r = 3',
        "not supported yet: 'r = 3' (a rank range other than rn = 1 or rn <= N)",
      ],
      ['SELECT DISTINCT customer, COUNT(*) FROM orders GROUP BY customer', 'not supported yet: SELECT DISTINCT with GROUP BY or aggregates'],
    ];
    for (const [sql, message] of cases) expect(await failure(sql)).toEqual({ code: 'WEIR_SQL_UNSUPPORTED', message });
    expect((await failure('SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY customer) AS r FROM orders) WHERE r <= 2')).message).toBe(
      "ROW_NUMBER() needs an ORDER BY in its OVER clause, in 'ROW_NUMBER() OVER (PARTITION BY customer)'",
    );
    expect((await failure('SELECT * FROM (SELECT *, ROW_NUMBER() OVER (ORDER BY amount) AS r FROM orders) WHERE r < 1')).message).toBe(
      "the filter on 'r' keeps no row (row numbers start at 1)",
    );
  });
});
