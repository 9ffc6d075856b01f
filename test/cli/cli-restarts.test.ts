// weir run: restarts are bounded and each failure is a line on stderr; errors a restart cannot fix end the job at once.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

function weir(...args: string[]) {
  const run = spawnSync(process.execPath, ['bin/weir.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const attemptLines = (stderr: string) => stderr.split('\n').filter((l) => /^weir: attempt \d+ failed/.test(l));

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('weir run restarts', () => {
  it('gives up a job that always fails after the default three restarts, printing every attempt and ending with the cause', () => {
    const { code, stderr } = weir('run', 'test/fixtures/jobs/always-failing.ts', '-p', '1', '--param', 'attempts=default');
    expect(code).toBe(1);
    const lines = attemptLines(stderr);
    const cause = "user function of operator 'Map' (subtask 0) threw: Error: always broken (test/fixtures/jobs/always-failing.ts:11:28)";
    expect(lines).toHaveLength(4);
    for (let i = 0; i < 3; i++)
      expect(lines[i]).toMatch(
        new RegExp(
          `^weir: attempt ${i + 1} failed in 'Map' \\(subtask 0\\) \\[WEIR_USER_FUNCTION\\]: .*always broken \\(test/fixtures/jobs/always-failing\\.ts:11:28\\); restart ${i + 1}/3 in 1000 ms from `,
        ),
      );
    expect(lines[3]).toContain(
      `weir: attempt 4 failed in 'Map' (subtask 0) [WEIR_USER_FUNCTION]: ${cause}; giving up: fixed-delay restart strategy: 3 restart(s) used up`,
    );
    expect(stderr).toContain(`weir: job failed [WEIR_USER_FUNCTION]: ${cause}`);
  }, 60_000);

  it('fails at once, naming the errno, when the checkpoint folder cannot be created (EPERM under /sys)', () => {
    // Tests run as root, where a chmod'ed folder stays writable; sysfs refuses new folders to root too.
    const folder = '/sys/weir-test-checkpoints';
    const out = mkdtempSync(join(tmpdir(), 'weir-eperm-'));
    dirs.push(out);
    const params = ['--param', `out=${out}`, '--param', 'keys=2', '--param', 'perKey=100', '--param', 'interval=50'];
    const { code, stderr } = weir('run', 'test/fixtures/jobs/chaos-file-sink.ts', ...params, '--checkpoint-dir', folder);
    expect(code).toBe(1);
    expect(stderr).toContain(`weir: checkpoints go to ${folder}/weir_job/run-`);
    const lines = attemptLines(stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /\[WEIR_CHECKPOINT_STORAGE\]: cannot create the checkpoint folder .* EPERM.*; not starting: a restart cannot fix this error$/,
    );
    expect(stderr).toMatch(
      /weir: job failed \[WEIR_CHECKPOINT_STORAGE\]: .*\(EPERM: the checkpoint folder is not writable; restarting cannot help\)/,
    );
    expect(existsSync(folder)).toBe(false);
  }, 60_000);

  it('fails at once when the file sink cannot create its output folder (EPERM under /sys)', () => {
    const params = ['--param', 'out=/sys/weir-test-out', '--param', 'keys=2', '--param', 'perKey=100', '--param', 'interval=50'];
    const { code, stderr } = weir('run', 'test/fixtures/jobs/chaos-file-sink.ts', ...params);
    expect(code).toBe(1);
    const lines = attemptLines(stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /\[WEIR_USER_FUNCTION\]: sink open\(\) .* cannot create \/sys\/weir-test-out .*EPERM.*; not restarting: a restart cannot fix this error$/,
    );
  }, 60_000);

  it('fails at once on a malformed record under the fail policy, naming file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-malformed-'));
    dirs.push(dir);
    const file = join(dir, 'in.jsonl');
    writeFileSync(file, '{"key":"a","seq":0,"ts":1}\n{"key":"a","seq":1,"ts":2}\n{"key": oops\n{"key":"a","seq":2,"ts":3}\n');
    const { code, stderr } = weir('run', 'test/fixtures/jobs/file-source.ts', '--param', `path=${file}`, '--param', 'interval=50');
    expect(code).toBe(1);
    const lines = attemptLines(stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`[WEIR_SOURCE_FORMAT]: file source`);
    expect(lines[0]).toContain(`malformed JSON line in ${file} at line 3`);
    expect(lines[0]).toMatch(/; not restarting: a restart cannot fix this error$/);
    expect(stderr).toMatch(/weir: job failed \[WEIR_SOURCE_FORMAT\]: .* at line 3/);
  }, 60_000);
});
