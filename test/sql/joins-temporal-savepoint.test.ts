// A temporal join's state (probe rows waiting for the watermark, the versions by time) survives a stop-with-savepoint and a restore at another parallelism: the exactly-once output of both runs equals a failure-free run and the join computed apart.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WeirError } from '../../src/index.ts';
import { TableEnvironment, type TableEnvironmentSettings } from '../../src/sql/table-environment.ts';

const ROWS = 3000;

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/**
 * Rates: row j is the version of key rk(j) from j s on; orders: row i, of key ok(i), at i + 0.5 s.
 * Each order joins the latest rate of its key at or before it.
 */
function script(out: string, rowsPerSecond: number): string {
  const gen = (name: string, key: string, offset: number) => `
    CREATE TABLE ${name} (id BIGINT, ${key} INT, ts AS TO_TIMESTAMP_LTZ(id * 1000 + ${offset}, 3),
      WATERMARK FOR ts AS ts - INTERVAL '1' SECOND${name === 'rates' ? ', PRIMARY KEY (rk) NOT ENFORCED' : ''}) WITH (
      'connector' = 'datagen', 'number-of-rows' = '${ROWS}', 'rows-per-second' = '${rowsPerSecond}',
      'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '${ROWS}',
      'fields.${key}.min' = '0', 'fields.${key}.max' = '19'
    );`;
  return `
    SET 'execution.checkpointing.interval' = '100 ms';
    ${gen('rates', 'rk', 0)}
    ${gen('orders', 'ok', 500)}
    CREATE TABLE pairs (order_id BIGINT, rate_id BIGINT)
      WITH ('connector' = 'filesystem', 'path' = '${out}', 'format' = 'csv');
    INSERT INTO pairs
    SELECT o.id, r.id FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.ok = r.rk;`;
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

describe('temporal join savepoints', () => {
  it('stop with a savepoint at p=2, restore at p=1: the join output equals a failure-free run', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sql-temporal-savepoint-'));
    const golden = join(dir, 'golden');
    expect(await run(golden, { parallelism: 1 })).toBe('finished');
    const expected = output(golden);
    // the same join computed apart, from the keys the golden run read
    const env = TableEnvironment.create({ parallelism: 1 });
    await env.executeScript(script(join(dir, 'unused'), 1_000_000_000).replace(/INSERT INTO pairs[\s\S]*$/, ''));
    const rk = new Map((await env.executeSql('SELECT id, rk FROM rates')).rows.map((r) => [r.id as number, r.rk as number]));
    const ok = (await env.executeSql('SELECT id, ok FROM orders')).rows.map((r) => [r.id as number, r.ok as number]);
    const apart: string[] = [];
    for (const [i, k] of ok) {
      let j = i;
      while (j >= 1 && rk.get(j) !== k) j--;
      if (j >= 1) apart.push(`${i},${j}`);
    }
    expect(expected).toEqual(apart.sort());
    expect(expected.length).toBeGreaterThan(ROWS - 100);

    const out = join(dir, 'out');
    const savepoints = join(dir, 'savepoints');
    let stop: Promise<string> | undefined;
    const first = await run(
      out,
      {
        parallelism: 2,
        checkpointDir: join(dir, 'checkpoints'),
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

    expect(await run(out, { parallelism: 1, fromSavepoint: path })).toBe('finished');
    expect(output(out)).toEqual(expected);
  }, 120_000);
});
