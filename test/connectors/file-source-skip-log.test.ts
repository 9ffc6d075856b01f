// The file source's skip policy is visible: `weir run` logs the first skipped lines with file, line and reason, then their count, and its summary prints the total.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSplitOwner } from '../../src/connectors/file-source.ts';
import { excerpt } from '../../src/connectors/file-formats.ts';
import { jsonRecords, tempDir, writeWhole } from './file-source-helpers.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function weir(...args: string[]) {
  const run = spawnSync(process.execPath, ['bin/weir.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The parser's message for a malformed line. */
function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${text} is valid JSON`);
}

describe('file source skip log', () => {
  it('weir run logs the first skipped lines one each, then their count, and prints the total in the summary', () => {
    const dir = tempDir('file-skip-log');
    dirs.push(dir);
    writeWhole(join(dir, 'good.jsonl'), `${jsonRecords('good', 30).map((r) => JSON.stringify(r)).join('\n')}\n`);
    const lines = jsonRecords('bad', 20).map((r) => JSON.stringify(r));
    for (const i of [4, 11, 13, 17]) lines[i] = `{"id": "bad-${i}", broken ${'x'.repeat(i * 4)}`;
    writeWhole(join(dir, 'bad.jsonl'), `${lines.join('\n')}\n`);
    const path = join(dir, 'bad.jsonl');
    const { code, stderr } = weir(
      'run',
      'test/fixtures/jobs/file-source.ts',
      '-p',
      '2',
      '--param',
      `path=${dir}`,
      '--param',
      'format=jsonl',
      '--param',
      'onError=skip',
      '--param',
      'logFirst=2',
    );
    expect(code).toBe(0);
    const who = `file source 'File Source' (subtask ${fileSplitOwner({ file: 'bad.jsonl', index: 0 }, 2)})`;
    const logged = (i: number) =>
      `weir: ${who} skipped a malformed JSON line: ${path} line ${i + 1}: invalid JSON (${jsonError(lines[i])}): ${excerpt(lines[i])}`;
    expect(stderr.split('\n').filter((l) => l.startsWith('weir: file source'))).toEqual([
      logged(4),
      logged(11),
      `weir: ${who}: logged the first 2 skipped record(s); more are counted, one line every 5 s at most`,
      `weir: ${who} skipped 2 more record(s) (4 in all)`,
    ]);
    expect(stderr).toContain('\n  File Source: 4 record(s) skipped (file.records_skipped)\n');
    expect(stderr).toContain(`  collected 'out': ${30 + 20 - 4} record(s)`);
  });
});
