// Exact changelogs of SQL's updating operators on crafted inputs, in the order Flink emits them: GROUP BY with retractions (every aggregate, FILTER, HAVING, no output when nothing changed, -D when a group empties), SELECT DISTINCT, Top-N with and without the row number, on insert-only and updating input, and deduplication on event and processing time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

const BASE = Date.UTC(2026, 0, 1);
const ts = (s: number) => new Date(BASE + s * 1000).toISOString().replace('T', ' ').slice(0, 23);

let dir: string;
let env: TableEnvironment;

function jsonLines(name: string, rows: Record<string, unknown>[]): string {
  const path = join(dir, name);
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weir-sql-changelog-'));
  const events = jsonLines(
    'events.json',
    [
      ['a', 1],
      ['b', 5],
      ['a', 3],
      ['a', null],
      ['b', 5],
      ['a', 0],
    ].map(([k, v], id) => ({ id, k, v })),
  );
  // versions of rows by id: id 1 changes value, id 2 moves from x to y, then id 1 too (x empties)
  const versions = jsonLines(
    'versions.json',
    [
      [1, 'x', 10],
      [2, 'x', 20],
      [1, 'x', 30],
      [2, 'y', 20],
      [1, 'y', 5],
    ].map(([id, k, v], i) => ({ id, k, v, ts: ts(i + 1) })),
  );
  const late = jsonLines(
    'late.json',
    [
      [1, 'p', 5],
      [1, 'q', 3],
      [2, 'r', 4],
      [1, 's', 3],
      [1, 't', 9],
    ].map(([id, k, s]) => ({ id, k, ts: ts(s as number) })),
  );
  env = TableEnvironment.create({ mode: 'local', parallelism: 1 });
  await env.executeScript(`
    CREATE TABLE events (id BIGINT, k STRING, v BIGINT) WITH ('connector' = 'filesystem', 'path' = '${events}', 'format' = 'json');
    CREATE TABLE versions (id BIGINT, k STRING, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
      WITH ('connector' = 'filesystem', 'path' = '${versions}', 'format' = 'json');
    CREATE TABLE late (id BIGINT, k STRING, ts TIMESTAMP(3), pt AS PROCTIME(), WATERMARK FOR ts AS ts - INTERVAL '10' SECOND)
      WITH ('connector' = 'filesystem', 'path' = '${late}', 'format' = 'json');
    CREATE VIEW latest AS
      SELECT id, k, v, ts FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY ts DESC) AS rn FROM versions) WHERE rn = 1;`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The changelog of a query as Flink prints it: `+I[a, 1]`, `-U[…]`. */
async function changelog(sql: string): Promise<string[]> {
  const r = await env.executeSql(sql);
  return r.rows.map((row) => {
    const { $kind, ...rest } = row;
    return `${(($kind as string | undefined) ?? '+I')}[${Object.values(rest)
      .map((v) => (v === null ? '<NULL>' : String(v)))
      .join(', ')}]`;
  });
}

describe('GROUP BY without a window (updating aggregate)', () => {
  it('emits +I for a new group, then -U old / +U new per change: COUNT(*), COUNT, SUM, AVG, MIN, MAX, COUNT(DISTINCT), FILTER', async () => {
    expect(
      await changelog(`
        SELECT k, COUNT(*) AS n, COUNT(v) AS nv, SUM(v) AS s, AVG(v) AS av, MIN(v) AS lo, MAX(v) AS hi,
               COUNT(DISTINCT v) AS dv, SUM(v) FILTER (WHERE v > 2) AS big
        FROM events GROUP BY k`),
    ).toEqual([
      '+I[a, 1, 1, 1, 1, 1, 1, 1, <NULL>]',
      '+I[b, 1, 1, 5, 5, 5, 5, 1, 5]',
      '-U[a, 1, 1, 1, 1, 1, 1, 1, <NULL>]',
      '+U[a, 2, 2, 4, 2, 1, 3, 2, 3]',
      '-U[a, 2, 2, 4, 2, 1, 3, 2, 3]',
      '+U[a, 3, 2, 4, 2, 1, 3, 2, 3]',
      '-U[b, 1, 1, 5, 5, 5, 5, 1, 5]',
      '+U[b, 2, 2, 10, 5, 5, 5, 1, 10]',
      '-U[a, 3, 2, 4, 2, 1, 3, 2, 3]',
      '+U[a, 4, 3, 4, 1, 0, 3, 3, 3]',
    ]);
  });

  it('emits nothing when a row leaves the result as it was (MAX of a smaller value, a NULL, a duplicate)', async () => {
    expect(await changelog('SELECT k, MAX(v) AS hi FROM events GROUP BY k')).toEqual(['+I[a, 1]', '+I[b, 5]', '-U[a, 1]', '+U[a, 3]']);
  });

  it('HAVING filters each change on its own, as Flink’s Calc after the aggregate (a +U may come without its -U)', async () => {
    const r = await env.executeSql('SELECT k, COUNT(*) AS n FROM events GROUP BY k HAVING COUNT(*) > 1');
    expect(r.updating).toBe(true);
    expect(r.rows).toEqual([
      { k: 'a', n: 2, $kind: '+U' },
      { k: 'a', n: 2, $kind: '-U' },
      { k: 'a', n: 3, $kind: '+U' },
      { k: 'b', n: 2, $kind: '+U' },
      { k: 'a', n: 3, $kind: '-U' },
      { k: 'a', n: 4, $kind: '+U' },
    ]);
    expect(r.materialize()).toEqual([
      { k: 'b', n: 2 },
      { k: 'a', n: 4 },
    ]);
  });

  it('retracts updating input rows: MIN/MAX find the next extreme, and a group whose last row leaves ends with -D', async () => {
    expect(await changelog('SELECT k, COUNT(*) AS n, MIN(v) AS lo, MAX(v) AS hi FROM latest GROUP BY k')).toEqual([
      '+I[x, 1, 10, 10]',
      '-U[x, 1, 10, 10]',
      '+U[x, 2, 10, 20]',
      '-U[x, 2, 10, 20]',
      '+U[x, 1, 20, 20]',
      '-U[x, 1, 20, 20]',
      '+U[x, 2, 20, 30]',
      '-U[x, 2, 20, 30]',
      '+U[x, 1, 30, 30]',
      '+I[y, 1, 20, 20]',
      '-D[x, 1, 30, 30]',
      '-U[y, 1, 20, 20]',
      '+U[y, 2, 5, 20]',
    ]);
  });

  it('an aggregate of an aggregate: the inner -U/+U move a group between outer groups', async () => {
    expect(await changelog('SELECT n, COUNT(*) AS c FROM (SELECT k, COUNT(*) AS n FROM events GROUP BY k) GROUP BY n')).toEqual([
      '+I[1, 1]',
      '-U[1, 1]',
      '+U[1, 2]',
      '-U[1, 2]',
      '+U[1, 1]',
      '+I[2, 1]',
      '-D[2, 1]',
      '+I[3, 1]',
      '-D[1, 1]',
      '+I[2, 1]',
      '-D[3, 1]',
      '+I[4, 1]',
    ]);
  });

  it('a filter on an updating stream keeps each change’s kind, dropping the ones it rejects', async () => {
    expect(await changelog('SELECT k, n FROM (SELECT k, COUNT(*) AS n FROM events GROUP BY k) WHERE n >= 2')).toEqual([
      '+U[a, 2]',
      '-U[a, 2]',
      '+U[a, 3]',
      '+U[b, 2]',
      '-U[a, 3]',
      '+U[a, 4]',
    ]);
  });

  it('SELECT DISTINCT is a GROUP BY on every column: +I for a new row, nothing for a repeat, -D when the last copy is retracted', async () => {
    expect(await changelog('SELECT DISTINCT k FROM events')).toEqual(['+I[a]', '+I[b]']);
    expect(await changelog('SELECT DISTINCT k FROM latest')).toEqual(['+I[x]', '+I[y]', '-D[x]']);
  });

  it('UNION ALL of an updating and an insert-only input passes every kind through', async () => {
    const got = await changelog(
      `SELECT k, n FROM (SELECT k, COUNT(*) AS n FROM latest GROUP BY k) UNION ALL SELECT k, id AS n FROM events WHERE id = 0`,
    );
    // the two inputs interleave as they arrive; each keeps its own order
    expect(got.filter((l) => !l.includes('[a,'))).toEqual([
      '+I[x, 1]',
      '-U[x, 1]',
      '+U[x, 2]',
      '-U[x, 2]',
      '+U[x, 1]',
      '-U[x, 1]',
      '+U[x, 2]',
      '-U[x, 2]',
      '+U[x, 1]',
      '+I[y, 1]',
      '-D[x, 1]',
      '-U[y, 1]',
      '+U[y, 2]',
    ]);
    expect(got.filter((l) => l.includes('[a,'))).toEqual(['+I[a, 0]']);
  });
});

describe('Top-N: ROW_NUMBER() OVER (PARTITION BY … ORDER BY …) with WHERE rn <= N', () => {
  it('with the row number: the positions that changed, in rank order, -U old / +U new, then +I for a new position', async () => {
    expect(
      await changelog('SELECT k, id, v, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM events) WHERE rn <= 2'),
    ).toEqual(['+I[a, 0, 1, 1]', '+I[b, 1, 5, 1]', '-U[a, 0, 1, 1]', '+U[a, 2, 3, 1]', '+I[a, 0, 1, 2]', '+I[b, 4, 5, 2]']);
  });

  it('without the row number: -D for the row that left the top, then +I for the one that entered (rn = 1, rn < 2 alike)', async () => {
    const expected = ['+I[a, 1]', '+I[b, 5]', '-D[a, 1]', '+I[a, 3]'];
    expect(await changelog('SELECT k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM events) WHERE rn = 1')).toEqual(
      expected,
    );
    expect(
      await changelog('SELECT k, v FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM events) t WHERE 2 > t.rn'),
    ).toEqual(expected);
  });

  it('ascending order puts NULL first; rows of equal sort keys keep their arrival order', async () => {
    expect(
      await changelog('SELECT k, id, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v) AS rn FROM events) WHERE rn <= 1 AND k = \'a\''),
    ).toEqual(['+I[a, 0, 1]', '-U[a, 0, 1]', '+U[a, 3, 1]']);
    expect(
      await changelog('SELECT id, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM events) WHERE rn <= 3 AND k = \'b\''),
    ).toEqual(['+I[1, 1]', '+I[4, 2]']);
  });

  it('on updating input: a retracted top row is replaced by the next one, and a partition that empties ends with -D', async () => {
    const r = await env.executeSql(
      'SELECT k, id, v, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM latest) WHERE rn <= 1',
    );
    expect(r.rows).toEqual([
      { k: 'x', id: 1, v: 10, rn: 1 },
      { k: 'x', id: 1, v: 10, rn: 1, $kind: '-U' },
      { k: 'x', id: 2, v: 20, rn: 1, $kind: '+U' },
      { k: 'x', id: 2, v: 20, rn: 1, $kind: '-U' },
      { k: 'x', id: 1, v: 30, rn: 1, $kind: '+U' },
      { k: 'y', id: 2, v: 20, rn: 1 },
      { k: 'x', id: 1, v: 30, rn: 1, $kind: '-D' },
    ]);
    expect(r.materialize()).toEqual([{ k: 'y', id: 2, v: 20, rn: 1 }]);
  });
});

describe('deduplication: ROW_NUMBER() … ORDER BY <time attribute> … = 1', () => {
  it('keep-last on event time (DESC) is updating: every newer version replaces the kept row', async () => {
    const r = await env.executeSql('SELECT id, k, v FROM latest');
    expect(r.updating).toBe(true);
    expect(r.rows).toEqual([
      { id: 1, k: 'x', v: 10 },
      { id: 2, k: 'x', v: 20 },
      { id: 1, k: 'x', v: 10, $kind: '-U' },
      { id: 1, k: 'x', v: 30, $kind: '+U' },
      { id: 2, k: 'x', v: 20, $kind: '-U' },
      { id: 2, k: 'y', v: 20, $kind: '+U' },
      { id: 1, k: 'x', v: 30, $kind: '-U' },
      { id: 1, k: 'y', v: 5, $kind: '+U' },
    ]);
  });

  it('keep-first on event time (ASC) replaces the kept row only with an earlier one (Flink: updating on rowtime)', async () => {
    expect(
      await changelog('SELECT id, k FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY ts ASC) AS rn FROM late) WHERE rn = 1'),
    ).toEqual(['+I[1, p]', '-U[1, p]', '+U[1, q]', '+I[2, r]']);
  });

  it('keep-first on processing time is insert-only: the first row of each key, into an append-only sink', async () => {
    const r = await env.executeSql('SELECT id, k FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY pt) AS rn FROM late) WHERE rn = 1');
    expect(r.updating).toBe(false);
    expect(r.rows).toEqual([
      { id: 1, k: 'p' },
      { id: 2, k: 'r' },
    ]);
    await env.executeSql(`CREATE TABLE firsts (id BIGINT, k STRING) WITH ('connector' = 'filesystem', 'path' = '${join(dir, 'firsts')}', 'format' = 'csv')`);
    const job = await env.executeSql(
      'INSERT INTO firsts SELECT id, k FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY pt) AS rn FROM late) WHERE rn = 1',
    );
    expect(job.kind).toBe('job');
  });

  it('keep-last on processing time replaces the kept row with every new one', async () => {
    expect(
      await changelog('SELECT id, k FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY pt DESC) AS rn FROM late) WHERE rn = 1'),
    ).toEqual(['+I[1, p]', '-U[1, p]', '+U[1, q]', '+I[2, r]', '-U[1, q]', '+U[1, s]', '-U[1, s]', '+U[1, t]']);
  });
});

describe('sinks of updating results', () => {
  it('print shows each row with its kind, as Flink’s print connector', async () => {
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    try {
      await env.executeScript(`
        CREATE TABLE shown (k STRING, n BIGINT) WITH ('connector' = 'print');
        INSERT INTO shown SELECT k, COUNT(*) FROM events WHERE id < 3 GROUP BY k;`);
    } finally {
      vi.restoreAllMocks();
    }
    expect(
      printed
        .join('')
        .split('\n')
        .filter((l) => /^[+-][IUD]\[/.test(l)),
    ).toEqual(['+I[a, 1]', '+I[b, 1]', '-U[a, 1]', '+U[a, 2]']);
  });

  it('blackhole accepts an updating input', async () => {
    await env.executeSql("CREATE TABLE nowhere (k STRING, n BIGINT) WITH ('connector' = 'blackhole')");
    expect((await env.executeSql('INSERT INTO nowhere SELECT k, COUNT(*) FROM events GROUP BY k')).kind).toBe('job');
  });
});
