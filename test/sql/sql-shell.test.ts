// The interactive `weir sql` shell: statements over several lines end with ';', each result prints as it completes, an error prints and the shell goes on, QUIT leaves.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sqlMain } from '../../src/cli/sql.ts';

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
        '+------+',
        '| tens |',
        '+------+',
        '|   10 |',
        '|   30 |',
        '+------+',
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
});
