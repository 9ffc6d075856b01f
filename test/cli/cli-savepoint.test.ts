// The weir command's savepoint workflow: list a running job, take a savepoint, stop with a savepoint, resume from it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const env = { ...process.env, WEIR_JOBS_DIR: mkdtempSync(join(tmpdir(), 'weir-jobs-')) };
const weir = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/weir.js', ...args], { encoding: 'utf8', env, timeout: 60_000, maxBuffer: 64 << 20 });

/** The job id a `weir run` prints on stderr, waited for up to 10 s ('' if it never comes). */
async function jobIdOf(stderr: () => string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const id = /job ([0-9a-f]{32}) running/.exec(stderr())?.[1];
    if (id !== undefined) return id;
    await new Promise((r) => setTimeout(r, 100));
  }
  return '';
}

describe('weir savepoint / stop / list', () => {
  it('takes a savepoint of a running job, stops it with one, and resumes from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-cli-savepoints-'));
    const run = spawn(
      process.execPath,
      ['bin/weir.js', 'run', 'test/fixtures/jobs/savepoint-counts.ts', '-p', '2', '--param', 'count=40000', '--param', 'rate=4000'],
      { env },
    );
    let stderr = '';
    run.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | string | null>((r) => run.on('exit', (code, signal) => r(code ?? signal)));
    const jobId = await jobIdOf(() => stderr);
    expect(jobId).not.toBe('');
    expect(weir('list').stdout).toContain(jobId);

    const savepoint = weir('savepoint', jobId, dir);
    expect(savepoint.status).toBe(0);
    expect(existsSync(savepoint.stdout.trim())).toBe(true);
    // a unique prefix of the id reaches the job too
    const explained = weir('explain', jobId.slice(0, 6));
    expect(explained.status, explained.stderr).toBe(0);
    expect(explained.stdout).toMatch(new RegExp(`^Watermarks of job .* \\(${jobId}\\) at `));

    const stop = weir('stop', '--savepoint', dir, jobId);
    expect(stop.status).toBe(0);
    const stopPath = stop.stdout.trim();
    const code = await exited;
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('stopped with a savepoint');
    // each savepoint is one line of the job's log, with its folder
    const taken = stderr.split('\n').filter((l) => /^weir: savepoint \d+ completed in \d+ ms, \d+ bytes at /.test(l));
    expect(taken.map((l) => l.slice(l.lastIndexOf(' at ') + 4))).toEqual([savepoint.stdout.trim(), stopPath]);
    expect(weir('list').stdout).not.toContain(jobId);

    const resumed = weir(
      'run',
      'test/fixtures/jobs/savepoint-counts.ts',
      '-p',
      '3',
      '--param',
      'count=40000',
      '--param',
      'rate=0',
      '--from-savepoint',
      stopPath,
      '--json',
    );
    expect(resumed.status).toBe(0);
    const counts = JSON.parse(resumed.stdout).collected.counts as [number, number][];
    const finals = new Map<number, number>();
    for (const [k, c] of counts) finals.set(k, Math.max(finals.get(k) ?? 0, c));
    expect([...finals.values()]).toEqual(Array(10).fill(4000));
    // It continued from the savepoint: no key started counting from 1 again.
    expect(counts.some(([, c]) => c === 1)).toBe(false);
  });

  it('stop with a savepoint, then run from it: the exactly-once file sink writes every record once', async () => {
    const root = mkdtempSync(join(tmpdir(), 'weir-cli-stop-resume-'));
    const out = join(root, 'out');
    const keys = 8;
    const perKey = 3000;
    const params = ['--param', `out=${out}`, '--param', `keys=${keys}`, '--param', `perKey=${perKey}`, '--param', 'interval=100'];
    const run = spawn(
      process.execPath,
      ['bin/weir.js', 'run', 'test/fixtures/jobs/chaos-file-sink.ts', '-p', '2', ...params, '--param', 'rate=3000'],
      {
        env,
      },
    );
    let stderr = '';
    run.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | string | null>((r) => run.on('exit', (code, signal) => r(code ?? signal)));
    const jobId = await jobIdOf(() => stderr);
    expect(jobId, stderr).not.toBe('');
    // Let it write a few checkpoints' worth of output first.
    await new Promise((r) => setTimeout(r, 1500));
    const stop = weir('stop', '--savepoint', join(root, 'savepoints'), jobId);
    expect(stop.status, stop.stderr).toBe(0);
    expect(await exited, stderr).toBe(0);
    const written = (dir: string) =>
      readdirSync(dir)
        .filter((n) => !n.startsWith('.'))
        .flatMap((n) =>
          readFileSync(join(dir, n), 'utf8')
            .split('\n')
            .filter((l) => l !== ''),
        );
    const before = written(out).length;
    // The stopped run committed what preceded its savepoint and left no in-progress files.
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(keys * perKey);
    expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]);

    const resumed = weir(
      'run',
      'test/fixtures/jobs/chaos-file-sink.ts',
      '-p',
      '2',
      ...params,
      '--param',
      'rate=0',
      '--from-savepoint',
      stop.stdout.trim(),
    );
    expect(resumed.status, resumed.stderr).toBe(0);
    const counts = new Map<string, number>();
    for (const line of written(out)) counts.set(line, (counts.get(line) ?? 0) + 1);
    const duplicated = [...counts.values()].filter((c) => c > 1).length;
    let lost = 0;
    for (let key = 0; key < keys; key++) for (let seq = 0; seq < perKey; seq++) if (!counts.has(JSON.stringify({ key, seq }))) lost++;
    expect({ lost, duplicated, lines: counts.size }).toEqual({ lost: 0, duplicated: 0, lines: keys * perKey });
    rmSync(root, { recursive: true, force: true });
  }, 120_000);

  it('reports an unknown job id', () => {
    const r = weir('savepoint', 'deadbeef', '/tmp');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no running job with id deadbeef');
  });
});

describe('the job registry', () => {
  it("lives in the user's runtime folder, lists only live jobs, and loses a killed job's entry and socket", async () => {
    const runtime = mkdtempSync(join(tmpdir(), 'weir-runtime-'));
    try {
      const userEnv = { ...process.env, XDG_RUNTIME_DIR: runtime, WEIR_JOBS_DIR: '' };
      delete (userEnv as Record<string, string | undefined>).WEIR_JOBS_DIR;
      const list = () => spawnSync(process.execPath, ['bin/weir.js', 'list'], { encoding: 'utf8', env: userEnv }).stdout;
      const registry = join(runtime, 'weir', 'jobs');
      const run = spawn(
        process.execPath,
        ['bin/weir.js', 'run', 'test/fixtures/jobs/paced-sum.ts', '--param', 'count=100000', '--param', 'rate=1000'],
        { env: userEnv },
      );
      let stderr = '';
      run.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise((r) => run.on('exit', r));
      const jobId = await jobIdOf(() => stderr);
      expect(jobId).not.toBe('');
      expect(list()).toContain(jobId);
      expect(readdirSync(registry).sort()).toEqual([`${jobId}.json`, `${jobId}.sock`]);
      expect(statSync(registry).mode & 0o777).toBe(0o700);

      run.kill('SIGKILL');
      await exited;
      // The killed process could not clean up; the next list does.
      expect(readdirSync(registry)).toHaveLength(2);
      expect(list()).not.toContain(jobId);
      expect(readdirSync(registry)).toEqual([]);

      // A job that ends leaves nothing behind.
      const done = spawnSync(process.execPath, ['bin/weir.js', 'run', 'test/fixtures/jobs/paced-sum.ts', '--param', 'count=100'], {
        encoding: 'utf8',
        env: userEnv,
      });
      expect(done.status, done.stderr).toBe(0);
      expect(readdirSync(registry)).toEqual([]);
    } finally {
      rmSync(runtime, { recursive: true, force: true });
    }
  });

  it('logs a declined savepoint with its cause in the log of the job and answers the caller with it', async () => {
    const run = spawn(
      process.execPath,
      ['bin/weir.js', 'run', 'test/fixtures/jobs/paced-sum.ts', '--param', 'count=4000', '--param', 'rate=1000'],
      {
        env,
      },
    );
    let stderr = '';
    run.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | string | null>((r) => run.on('exit', (code, signal) => r(code ?? signal)));
    const jobId = await jobIdOf(() => stderr);
    expect(jobId, stderr).not.toBe('');
    const refused = weir('savepoint', jobId.slice(0, 8), mkdtempSync(join(tmpdir(), 'weir-cli-declined-')));
    expect(refused.status).toBe(1);
    const cause = refused.stderr.replace(/^weir: /, '').trim();
    expect(cause).toMatch(/checkpoint/i);
    expect(await exited, stderr).toBe(0);
    expect(stderr.split('\n').filter((l) => l.startsWith('weir: savepoint declined: '))).toEqual([`weir: savepoint declined: ${cause}`]);
  }, 60_000);
});
