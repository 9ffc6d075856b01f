// A SQL job's state survives a stop-with-savepoint and a restore at another parallelism: the plan's uids are the same when the query is planned again, and the exactly-once filesystem sink's output of both runs together equals a failure-free run.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, type WeirError } from '../../src/index.ts';
import { TableEnvironment, type TableEnvironmentSettings } from '../../src/sql/table-environment.ts';

// The first run is throttled (4,000 rows/s) so that it is still running when the savepoint comes
// after its second checkpoint: 40,000 rows leave ten seconds of input, so a loaded machine cannot
// end the input first and fail the savepoint.
const ROWS = 40_000;

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** The script: datagen rows 100 ms of event time apart, ten keys, 10 s tumbling windows counted and summed into CSV files. */
function script(out: string, rowsPerSecond: number): string {
  return `
    SET 'execution.checkpointing.interval' = '100 ms';
    CREATE TABLE gen (
      id BIGINT,
      k INT,
      ts AS TO_TIMESTAMP_LTZ(id * 100, 3),
      WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
    ) WITH (
      'connector' = 'datagen', 'number-of-rows' = '${ROWS}', 'rows-per-second' = '${rowsPerSecond}',
      'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '${ROWS}',
      'fields.k.min' = '0', 'fields.k.max' = '9'
    );
    CREATE TABLE counts (k INT, window_start TIMESTAMP(3), n BIGINT, total BIGINT)
      WITH ('connector' = 'filesystem', 'path' = '${out}', 'format' = 'csv');
    INSERT INTO counts
    SELECT k, window_start, COUNT(*) AS n, SUM(id) AS total
    FROM TABLE(TUMBLE(TABLE gen, DESCRIPTOR(ts), INTERVAL '10' SECOND))
    GROUP BY k, window_start, window_end;`;
}

function output(path: string): string[] {
  return readdirSync(path)
    .filter((f) => !f.startsWith('.') && !f.startsWith('_'))
    .flatMap((f) => readFileSync(join(path, f), 'utf8').split('\n'))
    .filter((l) => l !== '')
    .sort();
}

async function run(out: string, settings: TableEnvironmentSettings, rowsPerSecond = 0): Promise<unknown> {
  const env = TableEnvironment.create(settings);
  try {
    await env.executeScript(script(out, rowsPerSecond > 0 ? rowsPerSecond : 1_000_000_000));
    return 'finished';
  } catch (e) {
    return (e as WeirError).code;
  }
}

describe('SQL job savepoints', () => {
  it('stop with a savepoint at p=2, restore at p=1: the output equals a failure-free run', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sql-savepoint-'));
    const golden = join(dir, 'golden');
    expect(await run(golden, { parallelism: 2 })).toBe('finished');
    const expected = output(golden);
    expect(expected.length).toBe(4001); // 400 full windows × 10 keys, and id 40000 alone in the window at 4,000 s

    const out = join(dir, 'out');
    const savepoints = join(dir, 'savepoints');
    let stop: Promise<string> | undefined;
    let seen = 0;
    const first = await run(
      out,
      {
        parallelism: 2,
        checkpointDir: join(dir, 'checkpoints'),
        onCheckpoint: (_c, _attempt, client) => {
          if (++seen === 2) stop = client.stopWithSavepoint(savepoints).then((s) => s.path as string);
        },
      },
      4000,
    );
    // Stopped with a savepoint, the job ends well (Flink's stop-with-savepoint).
    expect(first).toBe('finished');
    const path = await (stop as Promise<string>);
    const before = output(out);
    expect(before.length).toBeLessThan(expected.length);

    expect(await run(out, { parallelism: 1, fromSavepoint: path })).toBe('finished');
    expect(output(out)).toEqual(expected);
  });
});
