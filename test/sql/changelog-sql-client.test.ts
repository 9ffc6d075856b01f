// The `weir sql` shell on updating queries: in Flink's default `table` result mode a terminal shows the table updated in place (a changed row moves to the end), `SET 'sql-client.execution.result-mode' = 'changelog'` shows every change with its kind in an `op` column, and off a terminal each change prints as it arrives with its kind.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlMain } from '../../src/cli/sql.ts';
import { screen } from './terminal-screen.ts';

let dir: string;
let ddl: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-sql-client-changelog-'));
  const path = join(dir, 'events.json');
  writeFileSync(path, ['a', 'b', 'a', 'a', 'b', 'a'].map((k, id) => JSON.stringify({ id, k })).join('\n') + '\n');
  ddl = `CREATE TABLE events (id BIGINT, k STRING) WITH ('connector' = 'filesystem', 'path' = '${path}', 'format' = 'json');`;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function shell(lines: string[], tty: boolean): Promise<string> {
  let out = '';
  const code = await sqlMain(['--local'], { out: (t) => (out += t), err: (t) => (out += `ERR ${t}`) }, Readable.from(lines.map((l) => `${l}\n`)), {
    tty,
    redrawMs: 0,
  });
  expect(code).toBe(0);
  return out;
}

describe('weir sql shell on updating queries', () => {
  it('table mode (the default) on a terminal: the table updated in place, ending with its final rows', async () => {
    const out = await shell([ddl, 'SELECT k, COUNT(*) AS n FROM events GROUP BY k;'], true);
    expect(screen(out)).toEqual([
      '[INFO] Execute statement succeeded.',
      '+---+---+',
      '| k | n |',
      '+---+---+',
      '| b | 2 |',
      '| a | 4 |',
      '+---+---+',
      '2 rows in set',
      'late rows dropped: 0',
      '',
    ]);
    // frames of the table so far were drawn while the job ran, then erased by the last one
    expect(out).toContain('row(s) so far, running…');
    expect(out).toMatch(/\x1b\[\d+F\x1b\[0J/);
  });

  it("changelog mode: every change with its kind in an 'op' column", async () => {
    const out = await shell([ddl, "SET 'sql-client.execution.result-mode' = 'changelog';", 'SELECT k, COUNT(*) AS n FROM events GROUP BY k;'], true);
    expect(screen(out)).toEqual([
      '[INFO] Execute statement succeeded.',
      '[INFO] Execute statement succeeded.',
      '+----+---+---+',
      '| op | k | n |',
      '+----+---+---+',
      '| +I | a | 1 |',
      '| +I | b | 1 |',
      '| -U | a | 1 |',
      '| +U | a | 2 |',
      '| -U | a | 2 |',
      '| +U | a | 3 |',
      '| -U | b | 1 |',
      '| +U | b | 2 |',
      '| -U | a | 3 |',
      '| +U | a | 4 |',
      '+----+---+---+',
      '10 rows in set',
      'late rows dropped: 0',
      '',
    ]);
  });

  it('off a terminal each change prints as it arrives with its kind; an insert-only query prints no op column', async () => {
    const out = await shell([ddl, 'SELECT DISTINCT k FROM events;', 'SELECT k FROM events WHERE id = 0;'], false);
    expect(out.split('\n')).toEqual([
      '[INFO] Execute statement succeeded.',
      '+----+----------------------+',
      '| op |                    k |',
      '+----+----------------------+',
      '| +I |                    a |',
      '| +I |                    b |',
      '+----+----------------------+',
      'Received a total of 2 rows',
      'late rows dropped: 0',
      '+----------------------+',
      '|                    k |',
      '+----------------------+',
      '|                    a |',
      '+----------------------+',
      '1 row in set',
      'late rows dropped: 0',
      '',
    ]);
  });

  it('refuses an unknown result mode by name', async () => {
    const out = await shell([ddl, "SET 'sql-client.execution.result-mode' = 'fancy';", 'SELECT k FROM events;'], false);
    expect(out).toContain("ERR [ERROR] WEIR_CONFIG: 'sql-client.execution.result-mode' must be table, changelog or tableau, got 'fancy'");
  });
});
