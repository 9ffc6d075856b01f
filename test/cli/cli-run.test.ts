// The weir command: runs a job module from the shell and reports usage errors with exit code 2.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

  it('exits 2 with a usage message for each kind of usage error, naming the problem', () => {
    const cases: [string[], string][] = [
      [[], 'usage: weir run <job-module> [options]'],
      [['launch', 'x.ts'], "weir: unknown command 'launch'"],
      [['runn', 'x.ts'], "weir: unknown command 'runn' (did you mean 'run'?)"],
      [['run', 'examples/word-count.ts', '--parallelism', 'two'], "weir: --parallelism must be a positive integer, got 'two'"],
      [['run', 'examples/word-count.ts', '-p', '0'], "weir: --parallelism must be a positive integer, got '0'"],
      [
        ['run', 'examples/word-count.ts', '--paralelism', '2'],
        "weir: unknown option '--paralelism' for 'run' (did you mean --parallelism?)",
      ],
      [['run', 'examples/word-count.ts', '--param', 'novalue'], "weir: --param needs key=value, got 'novalue'"],
      [['run', 'no/such/job.ts'], "weir: job module 'no/such/job.ts' not found"],
      [['run', 'examples'], "weir: job module 'examples' is not a file"],
      [['run', 'examples/word-count.ts', 'examples/count-fn.ts'], "weir: 'run' takes exactly one job module, got 2"],
      [['run', 'examples/word-count.ts', '--checkpoint-interval', '0'], "weir: --checkpoint-interval must be a positive integer, got '0'"],
      [['run', 'examples/word-count.ts', '--checkpoint-mode', 'at-least-once'], 'weir: --checkpoint-mode needs --checkpoint-interval'],
      [
        ['run', 'examples/word-count.ts', '--checkpoint-interval', '100', '--checkpoint-mode', 'twice'],
        "weir: --checkpoint-mode must be exactly-once or at-least-once, got 'twice'",
      ],
      [['run', 'examples/word-count.ts', '--state-backend', 'disk'], "weir: --state-backend must be heap or rocksdb, got 'disk'"],
      [['stop', 'abcd1234'], "weir: 'stop' needs --savepoint <target-dir>"],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = weir(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain(message);
      expect(stderr, args.join(' ')).toContain('usage: weir run <job-module>');
      expect(stderr, args.join(' ')).not.toContain('job failed');
      expect(stderr, args.join(' ')).not.toMatch(/\bat .*\.(ts|js):\d+/);
    }
  });

  it('prints its version and its help with exit code 0', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
    const version = weir('--version');
    expect(version.code).toBe(0);
    expect(version.stdout).toBe(`${manifest.name} ${manifest.version}\n`);
    expect(weir('-v').stdout).toBe(version.stdout);
    const help = weir('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--checkpoint-interval <ms>');
  });

  it('exits 1 for a failing job, naming the operator, the subtask and the line of the user code that threw', () => {
    const failed = weir('run', 'test/fixtures/jobs/failing.ts', '--param', 'failAt=10', '--param', 'count=100');
    expect(failed.code).toBe(1);
    const line =
      readFileSync('test/fixtures/jobs/failing.ts', 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('throw new RangeError')) + 1;
    expect(failed.stderr).toMatch(
      new RegExp(
        `weir: job failed \\[WEIR_USER_FUNCTION\\]: user function of operator 'Explode' \\(subtask 0\\) threw: RangeError: record 10 is cursed; thrown at \\d+ \\(test/fixtures/jobs/failing\\.ts:${line}:\\d+\\)`,
      ),
    );
  });

  it('checkpoints at --checkpoint-interval (and in --checkpoint-mode) a job that does not enable checkpointing itself', () => {
    // About a second of input, so several checkpoints of 100 ms complete.
    const args = ['run', 'test/fixtures/jobs/paced-sum.ts', '-p', '1', '--json', '--param', 'count=20000', '--param', 'rate=20000'];
    const plain = JSON.parse(weir(...args).stdout);
    expect(plain.faultTolerance.checkpointsCompleted).toBe(0);
    // At parallelism 1 each key's running sums come in one order: compare them as a sorted list.
    const sorted = (sums: number[]) => [...sums].sort((a, b) => a - b);
    for (const mode of ['exactly-once', 'at-least-once']) {
      const run = weir(...args, '--checkpoint-interval', '100', '--checkpoint-mode', mode);
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result.faultTolerance.checkpointsCompleted).toBeGreaterThan(2);
      expect(result.collected.sums).toHaveLength(20000);
      expect(sorted(result.collected.sums)).toEqual(sorted(plain.collected.sums));
    }
  });
});
