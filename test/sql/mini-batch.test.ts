// Mini-batch GROUP BY (`table.exec.mini-batch.enabled` / `allow-latency` / `size`): the same final table as without it, one change per key and batch (exact changelogs when the input is one batch, cut by size, or cut by watermarks), updating input, and the settings' errors.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeJob } from '../../src/scheduler/execute.ts';
import { foldChangelog } from '../../src/sql/plan-changelog.ts';
import { ROW_KIND } from '../../src/sql/plan.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

type Row = Record<string, unknown>;

const BASE = Date.UTC(2026, 0, 1);
const ts = (s: number) => new Date(BASE + s * 1000).toISOString().replace('T', ' ').slice(0, 23);

let dir: string;
let events: string;
let timed: string;

/** 1,000 rows of the hot key 'h' (v = 0..999) with a row of 'a', 'b', 'c' after every 250th. */
function hotRows(): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < 1000; i++) {
    rows.push({ k: 'h', v: i });
    if (i % 250 === 249) for (const k of ['a', 'b', 'c']) rows.push({ k, v: i });
  }
  return rows;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-sql-mini-batch-'));
  events = join(dir, 'events.json');
  writeFileSync(
    events,
    hotRows()
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  timed = join(dir, 'timed.json');
  // the hot key at event-time seconds 1,1,1,2,2,3: a watermark after rows 1, 4 and 6 (per-record watermarks)
  writeFileSync(timed, [1, 1, 1, 2, 2, 3].map((s, i) => JSON.stringify({ k: 'h', v: i, ts: ts(s) })).join('\n') + '\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `query` after the tables (and `settings` as SET statements); resolves with its changelog. */
async function run(query: string, settings: Record<string, string> = {}): Promise<Row[]> {
  const env = TableEnvironment.create({ mode: 'local', parallelism: 1 });
  const sets = Object.entries(settings)
    .map(([k, v]) => `SET '${k}' = '${v}';`)
    .join('\n');
  await env.executeScript(`
    ${sets}
    SET 'pipeline.auto-watermark-interval' = '0';
    CREATE TABLE events (k STRING, v BIGINT) WITH ('connector' = 'filesystem', 'path' = '${events}', 'format' = 'json');
    CREATE TABLE timed (k STRING, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
      WITH ('connector' = 'filesystem', 'path' = '${timed}', 'format' = 'json');`);
  return (await env.executeSql(query)).rows;
}

const kinds = (rows: Row[]) => {
  const n: Record<string, number> = {};
  for (const r of rows) {
    const k = (r[ROW_KIND] as string | undefined) ?? '+I';
    n[k] = (n[k] ?? 0) + 1;
  }
  return n;
};
const table = (rows: Row[], columns: string[]) =>
  foldChangelog(rows, columns)
    .map((r) => JSON.stringify(Object.fromEntries(columns.map((c) => [c, r[c]]))))
    .sort();

const ONE_BATCH = {
  'table.exec.mini-batch.enabled': 'true',
  'table.exec.mini-batch.allow-latency': '1 h',
  'table.exec.mini-batch.size': '100000',
};
const COUNTS = 'SELECT k, COUNT(*) AS n, SUM(v) AS s, MAX(v) AS m FROM events GROUP BY k';

describe('mini-batch GROUP BY', () => {
  it('input in one batch: one +I per key and no retraction; the same final table as without mini-batch', async () => {
    const plain = await run(COUNTS);
    const batched = await run(COUNTS, ONE_BATCH);
    // without: the hot key's 1,000 rows make 1 +I and 999 -U/+U pairs; a, b, c get 4 rows each
    expect(kinds(plain)).toEqual({ '+I': 4, '-U': 999 + 3 * 3, '+U': 999 + 3 * 3 });
    expect(kinds(batched)).toEqual({ '+I': 4 });
    expect(table(batched, ['k', 'n', 's', 'm'])).toEqual(table(plain, ['k', 'n', 's', 'm']));
    expect(batched.find((r) => r.k === 'h')).toEqual({ k: 'h', n: 1000, s: 499_500, m: 999 });
  });

  it('flushes every `size` rows: 1,012 rows in batches of 100 give 11 changes of the hot key', async () => {
    const batched = await run(COUNTS, { ...ONE_BATCH, 'table.exec.mini-batch.size': '100' });
    const hot = batched.filter((r) => r.k === 'h');
    // 11 batches (10 full, 12 rows left); the hot key is in every one: +I, then -U/+U per batch
    expect(kinds(hot)).toEqual({ '+I': 1, '-U': 10, '+U': 10 });
    expect(hot.at(-1)).toEqual({ k: 'h', n: 1000, s: 499_500, m: 999, [ROW_KIND]: '+U' });
    expect(table(batched, ['k', 'n', 's', 'm'])).toEqual(table(await run(COUNTS), ['k', 'n', 's', 'm']));
  });

  it('flushes at every watermark before passing it on: rows of seconds 1 | 1 1 2 | 2 3 are three batches', async () => {
    const query = 'SELECT k, COUNT(*) AS n, SUM(v) AS s FROM timed GROUP BY k';
    const plain = await run(query);
    const batched = await run(query, ONE_BATCH);
    expect(kinds(plain)).toEqual({ '+I': 1, '-U': 5, '+U': 5 });
    expect(batched.map((r) => `${(r[ROW_KIND] as string | undefined) ?? '+I'} ${r.n} ${r.s}`)).toEqual([
      '+I 1 0',
      '-U 1 0',
      '+U 4 6',
      '-U 4 6',
      '+U 6 15',
    ]);
  });

  it('takes updating input: a GROUP BY over a GROUP BY has the same final table, with fewer changes', async () => {
    const query = `SELECT n, COUNT(*) AS keys FROM (${COUNTS}) GROUP BY n`;
    const plain = await run(query);
    const batched = await run(query, { ...ONE_BATCH, 'table.exec.mini-batch.size': '100' });
    expect(table(batched, ['n', 'keys'])).toEqual(['{"n":1000,"keys":1}', '{"n":4,"keys":3}']);
    expect(table(plain, ['n', 'keys'])).toEqual(table(batched, ['n', 'keys']));
    expect(batched.length).toBeLessThan(plain.length / 20);
  });

  it('getConfig().set works as SET', async () => {
    const env = TableEnvironment.create({ mode: 'local', parallelism: 1 });
    for (const [k, v] of Object.entries(ONE_BATCH)) env.getConfig().set(k, v);
    expect({ ...env.getConfig() }).toEqual(ONE_BATCH);
    await env.executeSql(
      `CREATE TABLE events (k STRING, v BIGINT) WITH ('connector' = 'filesystem', 'path' = '${events}', 'format' = 'json')`,
    );
    expect(kinds((await env.executeSql(COUNTS)).rows)).toEqual({ '+I': 4 });
  });

  it('refuses mini-batch without a latency or a size, or with a bad value, naming the option', async () => {
    const fails = (settings: Record<string, string>) =>
      run(COUNTS, settings).then(
        () => 'ran',
        (e: Error) => e.message,
      );
    expect(await fails({ 'table.exec.mini-batch.enabled': 'true', 'table.exec.mini-batch.size': '10' })).toMatch(
      /'table\.exec\.mini-batch\.allow-latency' must be greater than 0 when 'table\.exec\.mini-batch\.enabled' is 'true'/,
    );
    expect(await fails({ 'table.exec.mini-batch.enabled': 'true', 'table.exec.mini-batch.allow-latency': '1 s' })).toMatch(
      /'table\.exec\.mini-batch\.size' must be a whole number greater than 0/,
    );
    expect(await fails({ ...ONE_BATCH, 'table.exec.mini-batch.allow-latency': 'soon' })).toMatch(
      /'table\.exec\.mini-batch\.allow-latency' must be a duration like '2 s'.*got 'soon'/,
    );
    expect(await fails({ ...ONE_BATCH, 'table.exec.mini-batch.enabled': 'yes' })).toMatch(/must be 'true' or 'false', got 'yes'/);
  });
});

describe('mini-batch GROUP BY and checkpoints', () => {
  // Checkpoints every 50 ms; batches are never cut by size or latency, so only barriers (and the end of
  // input) flush them. The job fails once after its first changes and restarts from its last checkpoint:
  // rows buffered at that checkpoint's barrier must have been emitted before it, or they are neither in
  // its state nor read again after the restore. The exactly-once collect keeps what checkpoints committed.
  const JOB = new URL('../fixtures/jobs/sql-mini-batch-checkpoints.ts', import.meta.url);
  const ROWS = 6000;

  it('a failure and a restore from a checkpoint: the committed changelog folds into the table of a run without failure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-sql-mini-batch-fail-'));
    try {
      const marker = join(dir, 'failed');
      const result = await executeJob(JOB, {
        mode: 'local',
        parallelism: 1,
        params: { rows: String(ROWS), rate: '3000', failAt: '150', marker },
      });
      const expected = Array.from({ length: 10 }, (_, k) => {
        let s = 0;
        for (let id = k === 0 ? 10 : k; id <= ROWS; id += 10) s += id;
        return JSON.stringify({ k, n: ROWS / 10, s });
      }).sort();
      expect(existsSync(marker)).toBe(true);
      expect(result.faultTolerance.restarts).toBe(1);
      const out = (result.collected.out ?? []) as Row[];
      expect(table(out, ['k', 'n', 's'])).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
