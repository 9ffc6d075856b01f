// Lookup joins (FOR SYSTEM_TIME AS OF a processing-time attribute) and user-defined scalar functions: the Table API registration, and the errors that name what is wrong.
import { describe, expect, it } from 'vitest';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

const ORDERS = `CREATE TABLE orders (id INT, customer STRING, amount INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
  WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/orders.csv', 'format' = 'csv')`;
const REGIONS = `CREATE TABLE regions (name STRING, region STRING, code INT)
  WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/regions.csv', 'format' = 'csv')`;

async function env(): Promise<TableEnvironment> {
  const e = TableEnvironment.create({ mode: 'local', parallelism: 1 });
  await e.executeSql(ORDERS);
  await e.executeSql(REGIONS);
  return e;
}

describe('lookup join', () => {
  it('joins each row with the table rows of its key; an INNER join drops rows without one', async () => {
    const e = await env();
    const r = await e.executeSql(
      `SELECT O.id, R.region FROM (SELECT *, PROCTIME() AS p FROM orders) O
       JOIN regions FOR SYSTEM_TIME AS OF O.p AS R ON O.customer = R.name`,
    );
    expect(r.rows.map((x) => `${String(x.id)}:${String(x.region)}`).sort()).toEqual(['1:north', '2:east', '3:north', '5:east', '6:north']);
    expect(
      await e.explainSql(
        `SELECT O.id FROM (SELECT *, PROCTIME() AS p FROM orders) O JOIN regions FOR SYSTEM_TIME AS OF O.p AS R ON O.customer = R.name`,
      ),
    ).toContain('LookupJoin(table=[regions], joinType=[INNER], keys=[name]');
  });

  it('plans AS OF a rowtime as an event-time temporal join (refused here: no primary key), refuses a non-time column, and a condition without a key', async () => {
    const e = await env();
    await expect(
      e.executeSql(`SELECT O.id FROM orders O JOIN regions FOR SYSTEM_TIME AS OF O.ts AS R ON O.customer = R.name`),
    ).rejects.toThrow("Temporal Table Join requires primary key in versioned table 'regions', but no primary key can be found");
    await expect(
      e.executeSql(`SELECT O.id FROM orders O JOIN regions FOR SYSTEM_TIME AS OF O.amount AS R ON O.customer = R.name`),
    ).rejects.toThrow("FOR SYSTEM_TIME AS OF 'O.amount' must be a time attribute of the left input, got INT");
    await expect(
      e.executeSql(
        `SELECT O.id FROM (SELECT *, PROCTIME() AS p FROM orders) O JOIN regions FOR SYSTEM_TIME AS OF O.p AS R ON O.amount > R.code`,
      ),
    ).rejects.toThrow(
      "the lookup join on 'regions' needs an equality between a column of 'regions' and the left input in its ON condition",
    );
  });

  it('reads the legacy filesystem options and refuses a legacy option it does not know', async () => {
    const e = TableEnvironment.create({ mode: 'local', parallelism: 1 });
    await e.executeSql(
      `CREATE TABLE s (k BIGINT, v STRING) WITH ('connector.type' = 'filesystem', 'connector.path' = 'file://x.csv', 'format.type' = 'csv')`,
    );
    await expect(
      e.executeSql(
        `CREATE TABLE t (k BIGINT) WITH ('connector.type' = 'filesystem', 'connector.path' = 'x', 'format.type' = 'csv', 'format.quote-character' = '"')`,
      ),
    ).rejects.toThrow("table 't': unsupported legacy option 'format.quote-character'");
  });
});

describe('user-defined scalar functions', () => {
  it('registers a module export with createTemporarySystemFunction and calls it per row, NULL included', async () => {
    const e = await env();
    await e.createTemporarySystemFunction('COUNT_CHAR', 'bench/nexmark/functions.ts#countChar');
    const r = await e.executeSql(`SELECT id, count_char(customer, 'o') AS n, count_char(CAST(NULL AS STRING), 'o') AS z FROM orders`);
    expect(r.rows.map((x) => [x.id, x.n, x.z])).toEqual([
      [1, 0, 0],
      [2, 1, 0],
      [3, 0, 0],
      [4, 1, 0],
      [5, 1, 0],
      [6, 0, 0],
    ]);
    const schema = await e.sqlQuery(`SELECT count_char(customer, 'o') AS n FROM orders`).getResolvedSchema();
    expect(schema).toEqual([{ name: 'n', type: 'BIGINT' }]);
  });

  it('takes a self-contained function object, which reaches the worker threads as its source', async () => {
    const e = TableEnvironment.create({ mode: 'threads', parallelism: 2 });
    await e.executeSql(ORDERS);
    const shout = Object.assign(
      (s: string | null, times: number) => {
        const bang = (n: number) => '!'.repeat(n); // a nested function: esbuild may wrap it in its __name helper
        return s === null ? null : s.toUpperCase() + bang(times);
      },
      { resultType: 'STRING' },
    );
    await e.createTemporarySystemFunction('shout', shout);
    const r = await e.executeSql(`SELECT id, shout(customer, 2) AS s FROM orders`);
    expect(r.rows.map((x) => `${String(x.id)}:${String(x.s)}`).sort()).toEqual([
      '1:ALICE!!',
      '2:BOB!!',
      '3:ALICE!!',
      '4:CAROL!!',
      '5:BOB!!',
      '6:ALICE!!',
    ]);
    const method = {
      m(x: number) {
        return x;
      },
    }.m as unknown as ((x: number) => number) & { resultType: string };
    method.resultType = 'INT';
    await expect(e.createTemporarySystemFunction('m', method)).rejects.toThrow(
      "function 'm': its source does not read as a function expression",
    );
  });

  it('names what is wrong: a Java class name, a missing module or export, no result type, a LANGUAGE, a taken name', async () => {
    const e = await env();
    await expect(e.executeSql(`CREATE FUNCTION f AS 'com.github.nexmark.flink.udf.CountChar'`)).rejects.toThrow(
      "function 'f': 'com.github.nexmark.flink.udf.CountChar' is not a module; weir loads a function from a TypeScript or JavaScript module, as 'path/to/module.ts#exportName' (a Java class name is for Flink)",
    );
    await expect(e.executeSql(`CREATE FUNCTION f AS 'no/such/module.ts#x'`)).rejects.toThrow("function 'f': no module 'no/such/module.ts'");
    await expect(e.executeSql(`CREATE FUNCTION f AS 'bench/nexmark/functions.ts#nope'`)).rejects.toThrow(
      "has no function export 'nope'; it exports countChar",
    );
    await expect(e.executeSql(`CREATE FUNCTION f AS 'bench/nexmark/lib.ts#weighted'`)).rejects.toThrow(
      "function 'f': declare its SQL result type on the function, e.g. fn.resultType = 'BIGINT'",
    );
    await expect(e.executeSql(`CREATE FUNCTION f AS 'com.x.F' LANGUAGE JAVA`)).rejects.toThrow(
      "not supported yet: CREATE FUNCTION … LANGUAGE JAVA (weir's functions are TypeScript or JavaScript modules)",
    );
    await e.executeSql(`CREATE FUNCTION cc AS 'bench/nexmark/functions.ts#countChar'`);
    await e.executeSql(`CREATE FUNCTION IF NOT EXISTS CC AS 'bench/nexmark/functions.ts#countChar'`);
    await expect(e.executeSql(`CREATE FUNCTION cc AS 'bench/nexmark/functions.ts#countChar'`)).rejects.toThrow(
      "function 'cc' already exists",
    );
    await expect(e.executeSql(`SELECT c_c(customer, 'o') FROM orders`)).rejects.toThrow("no function 'C_C' (did you mean 'CC'?)");
  });
});
