// The weir command: runs a job module from the shell and reports usage errors with exit code 2.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function weir(...args: string[]) {
  const run = spawnSync(process.execPath, ['bin/weir.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('weir run', () => {
  it('runs a job module on worker threads and prints its output and a summary', () => {
    const { code, stdout, stderr } = weir(
      'run',
      'examples/word-count.ts',
      '--parallelism',
      '2',
      '--param',
      'words=20000',
      '--param',
      'top=3',
    );
    expect(code).toBe(0);
    expect(stdout).toContain('1000 distinct words, 20000 in all; top 3:');
    expect(stdout.trim().split('\n')).toHaveLength(4);
    expect(stderr).toMatch(/job 'weir job' finished in \d+ ms \(threads, 2 slot\(s\)\)/);
    expect(stderr).toMatch(/Tokenize\s+2000\s+20000\s+2/);
  });

  it('runs locally with --local and prints JSON with --json', () => {
    const { code, stdout } = weir('run', 'test/fixtures/jobs/chain.ts', '--local', '--json', '--param', 'count=30', '--name', 'tiny');
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ jobName: 'tiny', mode: 'local' });
    expect(result.collected.count).toEqual([{ subtask: 0, count: 20 }]);
  });

  it('exits 2 with usage for bad arguments and 1 for a failing job', () => {
    expect(weir().code).toBe(2);
    expect(weir('launch', 'x.ts').stderr).toContain("unknown command 'launch'");
    expect(weir('run', 'x.ts', '--parallelism', 'two').stderr).toContain("--parallelism needs an integer, got 'two'");
    expect(weir('run', 'x.ts', '--param', 'novalue').stderr).toContain('--param needs key=value');
    const failed = weir('run', 'test/fixtures/jobs/failing.ts', '--param', 'failAt=10', '--param', 'count=100');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(
      "weir: job failed [WEIR_USER_FUNCTION]: user function of operator 'Explode' (subtask 0) threw: RangeError",
    );
    expect(weir('--help').code).toBe(0);
  });
});
