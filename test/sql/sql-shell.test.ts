// The interactive `weir sql` shell: statements over several lines end with ';', a SELECT's rows show while its job runs (printed as they arrive, or a table redrawn on a terminal), an error prints and the shell goes on, QUIT leaves.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LiveTable, sqlMain } from '../../src/cli/sql.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';
import { screen } from './terminal-screen.ts';

const GEN = [
  "CREATE TABLE gen (id BIGINT, name VARCHAR(4)) WITH ('connector' = 'datagen', 'number-of-rows' = '3',",
  "  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '3', 'fields.name.length' = '4');",
];

describe('weir sql shell', () => {
  it('runs statements as they complete, reports errors and goes on, and stops at QUIT', async () => {
    const input = Readable.from(
      [
        "CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '3',",
        "  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '3');",
        'SELECT id * 10 AS tens',
        '  FROM gen WHERE id <> 2;',
        'SELECT nope FROM gen;',
        'SHOW TABLES;',
        'QUIT;',
        'SHOW TABLES;',
      ].map((l) => `${l}\n`),
    );
    let out = '';
    let err = '';
    const code = await sqlMain(['--local'], { out: (t) => (out += t), err: (t) => (err += t) }, input);
    expect(code).toBe(0);
    expect(err).toBe("[ERROR] WEIR_SQL_VALIDATION: column 'nope' not found; available: id\n");
    expect(out).toBe(
      [
        '[INFO] Execute statement succeeded.',
        '+----------------------+',
        '|                 tens |',
        '+----------------------+',
        '|                   10 |',
        '|                   30 |',
        '+----------------------+',
        '2 rows in set',
        'late rows dropped: 0',
        '+------------+',
        '| table name |',
        '+------------+',
        '|        gen |',
        '+------------+',
        '1 row in set',
        '',
      ].join('\n'),
    );
  });

  it("prints a SELECT's header when its job starts and each row as it arrives, columns sized by type (not a terminal)", async () => {
    const input = Readable.from(
      [...GEN, "SELECT id, 'abcdefghijklmnopqrstuvwxyz' AS long_text, id > 1 AS big FROM gen;"].map((l) => `${l}\n`),
    );
    const writes: string[] = [];
    const code = await sqlMain(['--local'], { out: (t) => writes.push(t), err: (t) => writes.push(`ERR ${t}`) }, input, { tty: false });
    expect(code).toBe(0);
    expect(writes.join('')).toBe(
      [
        '[INFO] Execute statement succeeded.',
        '+----------------------+----------------------+-------+',
        '|                   id |            long_text |   big |',
        '+----------------------+----------------------+-------+',
        '|                    1 | abcdefghijklmnopq... | false |',
        '|                    2 | abcdefghijklmnopq... |  true |',
        '|                    3 | abcdefghijklmnopq... |  true |',
        '+----------------------+----------------------+-------+',
        '3 rows in set',
        'late rows dropped: 0',
        '',
      ].join('\n'),
    );
    // the header is its own write, before any row
    expect(writes[1]).toBe(
      '+----------------------+----------------------+-------+\n|                   id |            long_text |   big |\n+----------------------+----------------------+-------+\n',
    );
  });

  it('redraws the result table in place on a terminal and ends with the whole table', async () => {
    const input = Readable.from([...GEN, 'SELECT id, id * id AS sq FROM gen;'].map((l) => `${l}\n`));
    let out = '';
    const code = await sqlMain(['--local'], { out: (t) => (out += t), err: (t) => (out += `ERR ${t}`) }, input, { tty: true, redrawMs: 0 });
    expect(code).toBe(0);
    expect(screen(out)).toEqual([
      '[INFO] Execute statement succeeded.',
      '+----+----+',
      '| id | sq |',
      '+----+----+',
      '|  1 |  1 |',
      '|  2 |  4 |',
      '|  3 |  9 |',
      '+----+----+',
      '3 rows in set',
      'late rows dropped: 0',
      '',
    ]);
    // a frame of the rows so far was drawn, then erased by the last one
    expect(out).toContain('row(s) so far, running…');
    expect(out).toMatch(/\x1b\[\d+F\x1b\[0J/);
  });

  it("tells a SELECT's rows from worker threads while its job runs, each row once", async () => {
    const env = TableEnvironment.create({ parallelism: 2 });
    await env.executeSql(
      "CREATE TABLE slow (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '12', 'rows-per-second' = '24', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '12')",
    );
    const told: { rows: number[]; running: boolean }[] = [];
    let fields: unknown;
    const [result] = await env.executeScript('SELECT id * 2 AS twice FROM slow;', undefined, {
      start: (f) => (fields = f),
      rows: (rows) => told.push({ rows: rows.map((r) => r.twice as number), running: env.currentJob() !== undefined }),
    });
    expect(fields).toEqual([{ name: 'twice', type: 'BIGINT' }]);
    expect(told[0].running).toBe(true);
    expect(told.flatMap((t) => t.rows).sort((a, b) => a - b)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]);
    expect(result.rows.map((r) => r.twice as number).sort((a, b) => a - b)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]);
  });

  it('keeps a running frame within the terminal height, showing the newest rows, then draws the whole table', () => {
    let out = '';
    const table = new LiveTable({ out: (t) => (out += t), err: () => {} }, true, 0, 2);
    table.start([{ name: 'n', type: 'INT' }]);
    table.rows([{ n: 1 }]);
    table.rows([{ n: 2 }, { n: 3 }]);
    expect(screen(out)).toEqual(['+---+', '| n |', '+---+', '| 2 |', '| 3 |', '+---+', '3 row(s) so far (the last 2 shown), running…', '']);
    table.end();
    expect(screen(out)).toEqual(['+---+', '| n |', '+---+', '| 1 |', '| 2 |', '| 3 |', '+---+', '3 rows in set', '']);
    expect(out.match(/\x1b\[\d+F\x1b\[0J/g)).toHaveLength(2); // two frames erased: the one-row frame and the clipped one
  });
});
