// The Table API around the planner: SET/RESET, views and DROP, a statement set of two INSERTs as one job on worker threads, datagen as a source, JSON and CSV filesystem sinks.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function lines(path: string): string[] {
  return readdirSync(path)
    .filter((f) => !f.startsWith('.') && !f.startsWith('_'))
    .flatMap((f) => readFileSync(join(path, f), 'utf8').split('\n'))
    .filter((l) => l !== '')
    .sort();
}

describe('TableEnvironment', () => {
  it('keeps SET options, lists them with SET and clears them with RESET', async () => {
    const env = TableEnvironment.create({ mode: 'local' });
    await env.executeSql("SET 'parallelism.default' = '2'");
    await env.executeSql("SET 'pipeline.name' = 'revenue'");
    expect((await env.executeSql('SET')).rows).toEqual([
      { key: 'parallelism.default', value: '2' },
      { key: 'pipeline.name', value: 'revenue' },
    ]);
    await env.executeSql("RESET 'pipeline.name'");
    expect(env.getConfig()).toEqual({ 'parallelism.default': '2' });
    await env.executeSql('RESET');
    expect(env.getConfig()).toEqual({});
  });

  it('creates, shows, describes and drops views; a view over an unknown column fails at CREATE VIEW', async () => {
    const env = TableEnvironment.create({ mode: 'local' });
    await env.executeSql("CREATE TABLE g (id BIGINT, name STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '3')");
    await env.executeSql('CREATE VIEW named AS SELECT id, UPPER(name) AS shout FROM g');
    expect((await env.executeSql('SHOW VIEWS')).rows).toEqual([{ 'view name': 'named' }]);
    expect((await env.executeSql('DESCRIBE named')).rows.map((r) => `${r.name} ${r.type} ${r.null}`)).toEqual([
      'id BIGINT true',
      'shout STRING true',
    ]);
    await expect(env.executeSql('CREATE VIEW bad AS SELECT nme FROM g')).rejects.toThrow("column 'nme' not found (did you mean 'name'?)");
    await env.createTemporaryView('small', env.sqlQuery('SELECT id FROM g WHERE id < 2'));
    expect((await env.sqlQuery('SELECT id FROM small').execute()).columns).toEqual(['id']);
    await env.executeSql('DROP VIEW small');
    await env.executeSql('DROP VIEW named');
    await expect(env.executeSql('DROP VIEW named')).rejects.toThrow("view 'named' does not exist");
    await env.executeSql('DROP VIEW IF EXISTS named');
    expect(env.listTables()).toEqual(['g']);
  });

  it("CREATE TABLE … LIKE takes the base table's columns, watermark and options, its own options overwriting", async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sql-like-'));
    writeFileSync(join(dir, 'a.csv'), '1,2026-01-01 00:00:00\n');
    writeFileSync(join(dir, 'b.csv'), '7,2026-01-01 00:00:05\n');
    const env = TableEnvironment.create({ mode: 'local' });
    await env.executeScript(`
      CREATE TABLE base (v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
        WITH ('connector' = 'filesystem', 'path' = '${join(dir, 'a.csv')}', 'format' = 'csv');
      CREATE TABLE copy (twice AS v * 2) WITH ('path' = '${join(dir, 'b.csv')}') LIKE base (INCLUDING ALL OVERWRITING OPTIONS);`);
    expect((await env.executeSql('DESCRIBE copy')).rows.map((r) => `${r.name} ${r.type}`)).toEqual([
      'v BIGINT',
      'ts TIMESTAMP(3) *ROWTIME*',
      'twice BIGINT',
    ]);
    expect((await env.sqlQuery('SELECT v, twice FROM copy').execute()).rows).toEqual([{ v: 7, twice: 14 }]);
    await expect(env.executeSql("CREATE TABLE c2 (x INT) WITH ('path' = '/x') LIKE base (EXCLUDING OPTIONS)")).rejects.toThrow(
      'not supported yet: CREATE TABLE … LIKE with EXCLUDING OPTIONS',
    );
  });

  it('runs a statement set as one job on two threads: datagen into a JSON and a CSV filesystem sink', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sql-set-'));
    const env = TableEnvironment.create({ parallelism: 2 });
    await env.executeScript(`
      CREATE TABLE gen (id BIGINT, score INT) WITH (
        'connector' = 'datagen', 'number-of-rows' = '20',
        'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '20',
        'fields.score.min' = '0', 'fields.score.max' = '9');
      CREATE TABLE evens (id BIGINT, twice BIGINT) WITH ('connector' = 'filesystem', 'path' = '${join(dir, 'evens')}', 'format' = 'json');
      CREATE TABLE scores (id BIGINT, score INT) WITH ('connector' = 'filesystem', 'path' = '${join(dir, 'scores')}', 'format' = 'csv');
    `);
    const [result] = await env.executeScript(`
      EXECUTE STATEMENT SET BEGIN
        INSERT INTO evens SELECT id, id * 2 FROM gen WHERE MOD(id, 2) = 0;
        INSERT INTO scores SELECT id, score FROM gen WHERE score BETWEEN 0 AND 9;
      END;`);
    expect(result.job?.slots).toBe(2);
    expect(lines(join(dir, 'evens'))).toEqual(
      Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: 2 * (i + 1), twice: 4 * (i + 1) })).sort(),
    );
    const scores = lines(join(dir, 'scores')).map((l) => l.split(',').map(Number));
    expect(scores.map((s) => s[0]).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const [, score] of scores) expect(score >= 0 && score <= 9 && Number.isInteger(score)).toBe(true);
    // datagen is deterministic per row: the same table read again gives the same scores
    const again = await env.sqlQuery('SELECT id, score FROM gen').execute();
    expect(again.rows.map((r) => [r.id, r.score]).sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual(
      scores.sort((a, b) => a[0] - b[0]),
    );
  });
});
