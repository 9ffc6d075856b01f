// Updating SQL operators keep their state in keyed state under the plan's uids: a GROUP BY stopped with a savepoint at p=2 and restored at p=1 ends with the final table of a failure-free run, its first changes retracting the results the restored state holds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROW_KIND } from '../../src/sql/plan.ts';
import { foldChangelog, withoutKind } from '../../src/sql/plan-changelog.ts';
import { TableEnvironment, type TableEnvironmentSettings } from '../../src/sql/table-environment.ts';

const ROWS = 6000;
type Row = Record<string, unknown>;

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const QUERY = 'SELECT k, COUNT(*) AS n, SUM(id) AS total, MIN(id) AS lo, MAX(id) AS hi, COUNT(DISTINCT id % 7) AS d FROM gen GROUP BY k';

async function run(settings: TableEnvironmentSettings, rowsPerSecond: number): Promise<Row[]> {
  const env = TableEnvironment.create(settings);
  await env.executeScript(`
    SET 'execution.checkpointing.interval' = '100 ms';
    CREATE TABLE gen (id BIGINT, k INT) WITH (
      'connector' = 'datagen', 'number-of-rows' = '${ROWS}', 'rows-per-second' = '${rowsPerSecond}',
      'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '${ROWS}',
      'fields.k.min' = '0', 'fields.k.max' = '9');`);
  const result = await env.executeSql(QUERY);
  expect(result.updating).toBe(true);
  return result.rows;
}

/** The last result of each key in a changelog that starts from restored state (its first -U retracts a row emitted before). */
function lastPerKey(rows: Row[]): Row[] {
  const last = new Map<unknown, Row>();
  for (const r of rows) if (r[ROW_KIND] !== '-U' && r[ROW_KIND] !== '-D') last.set(r.k, withoutKind(r));
  return [...last.values()];
}

const sorted = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();

describe('updating SQL state in savepoints', () => {
  it('stop with a savepoint at p=2, restore at p=1: the restored run continues from the saved groups and ends as a failure-free run', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sql-changelog-savepoint-'));
    const golden = foldChangelog(await run({ parallelism: 2 }, 1_000_000_000));
    expect(golden.length).toBe(10);
    expect(golden.reduce((a, g) => a + (g.n as number), 0)).toBe(ROWS);

    const savepoints = join(dir, 'savepoints');
    let stop: Promise<string> | undefined;
    let seen = 0;
    await run(
      {
        parallelism: 2,
        checkpointDir: join(dir, 'checkpoints'),
        onCheckpoint: (_c, _attempt, client) => {
          if (++seen === 2) stop = client.stopWithSavepoint(savepoints).then((s) => s.path as string);
        },
      },
      3000,
    );
    const path = await (stop as Promise<string>);
    const second = await run({ parallelism: 1, fromSavepoint: path }, 1_000_000_000);
    // every group was saved: the restored run's first change of each key retracts a non-empty result
    const firstChange = new Map<unknown, Row>();
    for (const r of second) if (!firstChange.has(r.k)) firstChange.set(r.k, r);
    expect([...firstChange.values()].map((r) => r[ROW_KIND])).toEqual(Array(10).fill('-U'));
    const restoredRows = [...firstChange.values()].reduce((a, r) => a + (r.n as number), 0);
    expect(restoredRows).toBeGreaterThan(0);
    expect(restoredRows).toBeLessThan(ROWS);
    expect(sorted(lastPerKey(second))).toEqual(sorted(golden));
  });
});
