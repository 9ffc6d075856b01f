// An OVER aggregate's keyed state (frame rows, accumulators, the last processed time) survives a stop-with-savepoint at p=2 and a restore at p=1: every row of both runs has the frame of a failure-free run, the restored run's first rows included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TableEnvironment, type TableEnvironmentSettings } from '../../src/sql/table-environment.ts';

// Throttled to 3,000 rows/s so that the first run is still reading when the savepoint comes after its first checkpoint.
const ROWS = 12_000;
type Row = Record<string, unknown>;

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

// Ten partitions (id % 10), a row every 100 ms of event time: each row's frame is its partition's last five rows.
const QUERY = `
  SELECT id, k, COUNT(*) OVER w AS n, SUM(id) OVER w AS total, MIN(id) OVER w AS lo, MAX(id) OVER w AS hi
  FROM gen WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 4 PRECEDING AND CURRENT ROW)`;

async function run(settings: TableEnvironmentSettings, rowsPerSecond: number): Promise<Row[]> {
  const env = TableEnvironment.create(settings);
  await env.executeScript(`
    SET 'execution.checkpointing.interval' = '100 ms';
    CREATE TABLE gen (
      id BIGINT,
      k AS CAST(id % 10 AS INT),
      ts AS TO_TIMESTAMP_LTZ(id * 100, 3),
      WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
    ) WITH (
      'connector' = 'datagen', 'number-of-rows' = '${ROWS}', 'rows-per-second' = '${rowsPerSecond}',
      'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '${ROWS}');`);
  const result = await env.executeSql(QUERY);
  expect(result.updating).toBe(false);
  return result.rows;
}

/** The row of `id` in a failure-free run: the frame is ids id, id-10, …, id-40 that are ≥ 1. */
function expected(id: number): Row {
  const frame = [0, 10, 20, 30, 40].map((d) => id - d).filter((x) => x >= 1);
  return { id, k: id % 10, n: frame.length, total: frame.reduce((a, b) => a + b, 0), lo: Math.min(...frame), hi: id };
}

describe('OVER aggregate state in savepoints', () => {
  it('stop with a savepoint at p=2, restore at p=1: the restored frames continue the saved ones', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sql-over-savepoint-'));
    const savepoints = join(dir, 'savepoints');
    let stop: Promise<string> | undefined;
    let seen = 0;
    await run(
      {
        parallelism: 2,
        checkpointDir: join(dir, 'checkpoints'),
        onCheckpoint: (_c, _attempt, client) => {
          if (++seen === 1) stop = client.stopWithSavepoint(savepoints).then((s) => s.path as string);
        },
      },
      3000,
    );
    const path = await (stop as Promise<string>);
    const second = await run({ parallelism: 1, fromSavepoint: path }, 1_000_000_000);
    // the restored run emits the rows the first had not: those held for the watermark in the saved state, then the
    // rest of the input from the savepoint's offsets — one run of ids up to the last
    const ids = second.map((r) => r.id as number).sort((a, b) => a - b);
    const from = ids[0];
    expect(from).toBeGreaterThan(50);
    expect(from).toBeLessThan(ROWS);
    expect(ids).toEqual(Array.from({ length: ROWS - from + 1 }, (_, i) => from + i));
    // every frame is a failure-free run's: the first restored rows of each partition found the saved rows in state
    for (const r of second) expect(r).toEqual(expected(r.id as number));
    expect(second.filter((r) => (r.id as number) < from + 10).map((r) => r.n)).toEqual(Array(10).fill(5));
  });
});
