// A SQL regular join's keyed state survives a stop-with-savepoint and a restore at another parallelism: rows joined after the restore find their partners from before it, and the exactly-once output of both runs equals a failure-free run.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WeirError } from '../../src/index.ts';
import { TableEnvironment, type TableEnvironmentSettings } from '../../src/sql/table-environment.ts';

// The first run is throttled so that it is still running when the savepoint comes (after its third
// checkpoint, well inside the first second): 30,000 rows at 3,000 rows/s leave ten seconds of
// input, so a loaded machine cannot end the input before the savepoint and fail it.
const ROWS = 30_000;

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Two datagen tables of ids 1…ROWS; each left id joins the right id 1000 below it, which came long before. */
function script(out: string, rowsPerSecond: number): string {
  const gen = (name: string) => `
    CREATE TABLE ${name} (id BIGINT, tag INT) WITH (
      'connector' = 'datagen', 'number-of-rows' = '${ROWS}', 'rows-per-second' = '${rowsPerSecond}',
      'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '${ROWS}',
      'fields.tag.min' = '0', 'fields.tag.max' = '9'
    );`;
  return `
    SET 'execution.checkpointing.interval' = '100 ms';
    ${gen('a')}
    ${gen('b')}
    CREATE TABLE pairs (a_id BIGINT, b_id BIGINT, tags INT)
      WITH ('connector' = 'filesystem', 'path' = '${out}', 'format' = 'csv');
    INSERT INTO pairs
    SELECT a.id, b.id, a.tag * 10 + b.tag FROM a JOIN b ON a.id = b.id + 1000 WHERE a.id % 3 <> 0;`;
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
    return `${(e as WeirError).code}: ${(e as Error).message}`;
  }
}

describe('SQL join savepoints', () => {
  for (const [from, to] of [
    [2, 1],
    [1, 2],
  ] as const) {
    it(`stop with a savepoint at p=${from}, restore at p=${to}: the join output equals a failure-free run`, async () => {
      dir = mkdtempSync(join(tmpdir(), 'weir-sql-join-savepoint-'));
      const golden = join(dir, 'golden');
      expect(await run(golden, { parallelism: to })).toBe('finished');
      const expected = output(golden);
      // left ids 1001…ROWS not divisible by 3
      expect(expected.length).toBe(ROWS - 1000 - (Math.floor(ROWS / 3) - Math.floor(1000 / 3)));

      const out = join(dir, 'out');
      const savepoints = join(dir, 'savepoints');
      let stop: Promise<string> | undefined;
      const first = await run(
        out,
        {
          parallelism: from,
          checkpointDir: join(dir, 'checkpoints'),
          // stop once the first joined rows are committed: the join's state is then mid-stream
          onCheckpoint: (_c, _attempt, client) => {
            if (stop === undefined && existsSync(out) && output(out).length > 0)
              stop = client.stopWithSavepoint(savepoints).then((s) => s.path as string);
          },
        },
        1000,
      );
      expect(first).toBe('finished');
      const path = await (stop as Promise<string>);
      const before = output(out);
      expect(before.length).toBeGreaterThan(0);
      expect(before.length).toBeLessThan(expected.length);

      expect(await run(out, { parallelism: to, fromSavepoint: path })).toBe('finished');
      expect(output(out)).toEqual(expected);
    });
  }
});
