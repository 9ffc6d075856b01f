// `weir sql` on a real terminal (a pseudo-terminal through util-linux `script`, as a user types): history survives the session in the history file, the up arrow brings earlier statements back, and an unwritable history file is named once without stopping the shell.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const WEIR = resolve('bin/weir.js');
const UP = '\x1b[A';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Runs `weir sql` in a pseudo-terminal and types each entry of `keys` once the shell shows its
 * prompt again (`Flink SQL> `): returns everything the terminal showed, without escape sequences.
 */
async function session(args: string[], keys: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const command = ['node', WEIR, 'sql', '--local', ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qfc', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let shown = '';
  let prompts = 0;
  const next = [...keys];
  const onData = (chunk: Buffer) => {
    shown += chunk.toString('utf8');
    const seen = shown.split('Flink SQL> ').length - 1;
    while (prompts < seen && next.length > 0) {
      prompts++;
      child.stdin.write(next.shift() as string);
    }
    if (next.length === 0) prompts = seen;
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const code = await new Promise<number | null>((done) => child.on('close', done));
  expect(code, shown).toBe(0);
  // eslint-disable-next-line no-control-regex
  return shown.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
}

describe('weir sql on a terminal', () => {
  it('keeps history across sessions: the up arrow brings back the last session’s statements', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-history-'));
    dirs.push(dir);
    const file = join(dir, 'history');
    const create = "CREATE TABLE t (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '2');";
    const first = await session(['--history', file], [`${create}\r`, 'SHOW TABLES;\r', 'QUIT;\r']);
    expect(first).toContain('[INFO] Execute statement succeeded.');
    expect(readFileSync(file, 'utf8')).toBe(`${create}\nSHOW TABLES;\nQUIT;\n`);

    // QUIT; is the newest line, CREATE TABLE the third newest: three ups run it again, in a new session whose catalog is empty.
    const second = await session(['--history', file], [`${UP}${UP}${UP}\r`, 'SHOW TABLES;\r', 'QUIT;\r']);
    expect(second).toMatch(/\|\s+t\s+\|/);
    expect(readFileSync(file, 'utf8')).toBe(`${create}\nSHOW TABLES;\nQUIT;\n`);
  }, 60_000);

  it('uses $XDG_STATE_HOME/weir/sql-history by default, and names an unwritable history file once without stopping', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-history-'));
    dirs.push(dir);
    await session([], ['SHOW TABLES;\r', 'QUIT;\r'], { XDG_STATE_HOME: dir });
    expect(readFileSync(join(dir, 'weir', 'sql-history'), 'utf8')).toBe('SHOW TABLES;\nQUIT;\n');

    // A history path under a regular file cannot be created, by anyone (root included).
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, '');
    const shown = await session(['--history', join(blocker, 'history')], ['SHOW TABLES;\r', 'SHOW TABLES;\r', 'QUIT;\r']);
    expect(shown.split(`[WARNING] cannot write the history file ${join(blocker, 'history')}`).length - 1).toBe(1);
    expect(shown.split('0 rows in set').length - 1).toBe(2);
  }, 60_000);
});
