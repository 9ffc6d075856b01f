// SQL connectors by Flink's names: filesystem JSON source (NULLs, malformed lines failing by name or skipped), print's `+I[…]` lines, weir sql -f keeping checkpoints under --checkpoint-dir, and kafka's offset-commit option checked.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sqlMain } from '../../src/cli/sql.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

let dir: string | undefined;
afterEach(() => {
  vi.restoreAllMocks();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('SQL connectors', () => {
  it('reads JSON lines by column type, absent fields as NULL; a malformed line fails naming the file, or is skipped with json.ignore-parse-errors', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sql-json-'));
    const good = join(dir, 'good.json');
    writeFileSync(
      good,
      ['{"id": 1, "name": "a", "ts": "2026-01-01 00:00:01.5"}', '{"id": 2}', '{"id": 3, "name": null, "ts": "2026-01-01 00:00:03"}'].join(
        '\n',
      ) + '\n',
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"id": 1}\n{"id": \n{"id": 3}\n');
    const env = TableEnvironment.create({ mode: 'local' });
    await env.executeScript(`
      CREATE TABLE good (id BIGINT, name STRING, ts TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '${good}', 'format' = 'json');
      CREATE TABLE bad (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '${bad}', 'format' = 'json');
      CREATE TABLE tolerant (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '${bad}', 'format' = 'json', 'json.ignore-parse-errors' = 'true');`);
    const rows = (await env.sqlQuery('SELECT id, name, ts FROM good').execute()).rows;
    expect(rows).toEqual([
      { id: 1, name: 'a', ts: Date.UTC(2026, 0, 1, 0, 0, 1, 500) },
      { id: 2, name: null, ts: null },
      { id: 3, name: null, ts: Date.UTC(2026, 0, 1, 0, 0, 3) },
    ]);
    await expect(env.sqlQuery('SELECT id FROM bad').execute()).rejects.toThrow(/bad\.json.*line 2/);
    expect((await env.sqlQuery('SELECT id FROM tolerant').execute()).rows).toEqual([{ id: 1 }, { id: 3 }]);
  });

  it("prints rows as Flink's print connector does: +I[…], <NULL>, timestamps as yyyy-MM-dd HH:mm:ss.SSS", async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sql-print-'));
    const input = join(dir, 'in.csv');
    writeFileSync(input, 'a,1,2026-01-01 10:00:00\nb,,2026-01-01 10:00:01.250\n');
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    const env = TableEnvironment.create({ mode: 'local', parallelism: 1 });
    await env.executeScript(`
      CREATE TABLE src (k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'csv');
      CREATE TABLE shown (k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector' = 'print');
      INSERT INTO shown SELECT k, v, ts FROM src;`);
    vi.restoreAllMocks();
    expect(
      printed
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('+I')),
    ).toEqual(['+I[a, 1, 2026-01-01 10:00:00.000]', '+I[b, <NULL>, 2026-01-01 10:00:01.250]']);
  });

  it('weir sql -f keeps checkpoints in --checkpoint-dir when the script sets a checkpoint interval', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sql-cli-'));
    const script = join(dir, 'job.sql');
    writeFileSync(
      script,
      `SET 'execution.checkpointing.interval' = '50 ms';
       SET 'pipeline.name' = 'sql-checkpoints';
       CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '3000', 'rows-per-second' = '3000',
         'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '3000');
       CREATE TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');
       INSERT INTO sink SELECT id FROM gen WHERE id > 0;`,
    );
    let out = '';
    const code = await sqlMain(['-f', script, '-p', '2', '--checkpoint-dir', join(dir, 'ckpt')], {
      out: (t) => (out += t),
      err: (t) => (out += t),
    });
    expect(out).toContain("[INFO] Job 'sql-checkpoints' finished");
    expect(code).toBe(0);
    const jobDir = join(dir, 'ckpt', 'sql-checkpoints');
    expect(existsSync(jobDir)).toBe(true);
    // One folder per run (<dir>/<job>/run-…/chk-N).
    const runs = readdirSync(jobDir).filter((d) => d.startsWith('run-'));
    expect(runs).toHaveLength(1);
    expect(readdirSync(join(jobDir, runs[0])).filter((d) => d.startsWith('chk-')).length).toBeGreaterThan(0);
  });

  it("kafka: 'properties.commit.offsets.on.checkpoint' takes 'true' or 'false', and says so naming the table", async () => {
    const env = TableEnvironment.create({ mode: 'local' });
    await env.executeSql(`CREATE TABLE clicks (a STRING) WITH ('connector' = 'kafka', 'topic' = 't', 'properties.bootstrap.servers' = 'localhost:1',
      'format' = 'json', 'properties.group.id' = 'g', 'properties.commit.offsets.on.checkpoint' = 'yes')`);
    await expect(env.executeSql('SELECT * FROM clicks')).rejects.toThrow(
      "table 'clicks': 'properties.commit.offsets.on.checkpoint' must be 'true' or 'false', got 'yes'",
    );
  });
});
