// The package as its users get it: packed with npm pack, installed into an empty app, and run through the installed `weir` command and through executeJob, with .ts, .mts and .mjs jobs, on worker threads and locally.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve('.');
const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
let work: string;
let app: string;
/** A private temp folder for the jobs (TMPDIR), to see what they leave behind. */
let jobTmp: string;
/** A private cache folder (WEIR_CACHE_DIR), so compiled jobs are not shared with other runs. */
let cache: string;

function write(path: string, text: string): void {
  mkdirSync(join(app, path, '..'), { recursive: true });
  writeFileSync(join(app, path), text);
}

/** Runs a command in the app, as its user would, with the private temp and cache folders. */
function inApp(command: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, TMPDIR: jobTmp, WEIR_CACHE_DIR: cache, WEIR_JOBS_DIR: '' } as Record<string, string | undefined>;
  delete env.WEIR_JOBS_DIR;
  delete env.XDG_RUNTIME_DIR;
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  const run = spawnSync(command, args, { cwd: app, encoding: 'utf8', env, timeout: 120_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const JOB_BODY = `
export default defineJob((env, params) => {
  const count = Number(params.count ?? 1000);
  env
    .fromSequence(1, count)
    .map(new Doubler())
    .name('Doubler')
    .filter((x) => x % 3 === 0)
    .collect('out');
});
`;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'weir-package-'));
  app = join(work, 'app');
  jobTmp = join(work, 'tmp');
  cache = join(work, 'cache');
  mkdirSync(app);
  mkdirSync(jobTmp);
  // npm pack runs the prepack script (the build), as publishing does.
  const packed = execFileSync('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop() as string;
  // An app as `npm init` makes it: no "type": "module".
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  execFileSync('npm', ['install', join(work, packed), 'typescript@5', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: app,
    encoding: 'utf8',
  });
  // A TypeScript job that imports a helper the NodeNext way (./lib.js names lib.ts), and throws on request.
  write(
    'jobs/lib.ts',
    `import { MapFunction } from '${MANIFEST.name}';
export class Doubler extends MapFunction<number, number> {
  map(x: number): number {
    if (x === Number(process.env.FAIL_AT)) {
      throw new Error(\`boom at record \${x}\`);
    }
    return x * 2;
  }
}
`,
  );
  write('jobs/job.ts', `import { defineJob } from '${MANIFEST.name}';\nimport { Doubler } from './lib.js';\n${JOB_BODY}`);
  write('jobs/job.mts', `import { defineJob } from '${MANIFEST.name}';\nimport { Doubler } from './lib.ts';\n${JOB_BODY}`);
  write(
    'jobs/job.mjs',
    `import { defineJob, MapFunction } from '${MANIFEST.name}';\nclass Doubler extends MapFunction { map(x) { return x * 2; } }\n${JOB_BODY}`,
  );
  // The library way: a plain node script (no loader flag) that runs a job with executeJob.
  write(
    'embed.mjs',
    `import { executeJob } from '${MANIFEST.name}';
const [job, mode] = process.argv.slice(2);
const result = await executeJob(job, { mode, parallelism: 2, params: { count: 1000 } });
console.log(JSON.stringify({ out: result.collected.out, mode: result.mode }));
`,
  );
  // weir-stream/testing from a plain node script: a job simulated twice under one seed, then explored.
  write(
    'simulate.mjs',
    `import { exploreJob, simulateJob } from '${MANIFEST.name}/testing';
const options = { seed: 3, parallelism: 2, params: { count: 200 } };
const a = await simulateJob('jobs/job.mjs', options);
const b = await simulateJob('jobs/job.mjs', options);
const explored = await exploreJob('jobs/job.mjs', { seeds: 3, parallelism: 2, params: { count: 200 }, check: (r) => r.outputs.out.length === 66 });
console.log(JSON.stringify({ same: JSON.stringify(a) === JSON.stringify(b), steps: a.steps, out: a.outputs.out, explored }));
`,
  );
  // The simulation's types, checked with the app's code below.
  write(
    'jobs/simulate-check.ts',
    `import { simulateJob, type SimulationResult } from '${MANIFEST.name}/testing';
export async function run(): Promise<number> {
  const result: SimulationResult = await simulateJob('jobs/job.ts', { seed: 1, faults: [{ kind: 'kill', task: 'Doubler', atRecord: 5 }] });
  return result.trace.length;
}
`,
  );
  // A strict TypeScript build of the app's code against the installed types.
  write(
    'tsconfig.json',
    JSON.stringify({
      compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, allowImportingTsExtensions: true, skipLibCheck: false },
      include: ['jobs/*.ts', 'jobs/*.mts'],
    }),
  );
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** What every job above collects: the doubles of 1..1000 that are multiples of 3. */
const EXPECTED = Array.from({ length: 1000 }, (_, i) => (i + 1) * 2).filter((x) => x % 3 === 0);

describe('the packed package, installed into an empty app', () => {
  it('ships one runtime: the built dist/ and no sources', () => {
    const installed = join(app, 'node_modules', MANIFEST.name);
    expect(existsSync(join(installed, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', '.bin', 'weir'))).toBe(true);
  });

  it('prints its version through npx weir', () => {
    const r = inApp('npx', ['weir', '--version']);
    expect(r.stdout.trim()).toBe(`${MANIFEST.name} ${MANIFEST.version}`);
  });

  for (const job of ['jobs/job.ts', 'jobs/job.mts', 'jobs/job.mjs']) {
    for (const local of [false, true]) {
      it(`runs ${job} through npx weir run ${local ? '--local' : '-p 2 (threads)'}`, () => {
        const r = inApp('npx', ['weir', 'run', job, '--json', ...(local ? ['--local'] : ['-p', '2'])]);
        expect(r.code, r.stderr).toBe(0);
        const result = JSON.parse(r.stdout);
        expect(result.mode).toBe(local ? 'local' : 'threads');
        expect([...result.collected.out].sort((a: number, b: number) => a - b)).toEqual(EXPECTED);
      });
    }
  }

  for (const job of ['jobs/job.ts', 'jobs/job.mjs']) {
    for (const mode of ['threads', 'local']) {
      it(`runs ${job} through executeJob from a plain node script (${mode})`, () => {
        const r = inApp(process.execPath, ['embed.mjs', job, mode]);
        expect(r.code, r.stderr).toBe(0);
        const result = JSON.parse(r.stdout);
        expect(result.mode).toBe(mode);
        expect([...result.out].sort((a: number, b: number) => a - b)).toEqual(EXPECTED);
      });
    }
  }

  it('simulates a job through weir-stream/testing: the same seed gives the same run', () => {
    const r = inApp(process.execPath, ['simulate.mjs']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.same).toBe(true);
    expect(result.steps).toBeGreaterThan(10);
    const upTo200 = EXPECTED.filter((x) => x <= 400);
    expect([...result.out].sort((a: number, b: number) => a - b)).toEqual(upTo200);
    expect(result.explored).toEqual({ ok: true, seedsRun: 3 });
  });

  it("names the user's file and line when a user function throws (exit 1)", () => {
    const env = { ...process.env, FAIL_AT: '500' };
    const r = spawnSync('npx', ['weir', 'run', 'jobs/job.ts'], { cwd: app, encoding: 'utf8', env: { ...env, TMPDIR: jobTmp, WEIR_CACHE_DIR: cache } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "weir: job failed [WEIR_USER_FUNCTION]: user function of operator 'Doubler' (subtask 0) threw: Error: boom at record 500 (jobs/lib.ts:5:13)",
    );
  });

  it('runs a SQL script through npx weir sql -f (worker threads, the parser only where it is submitted)', () => {
    write(
      'count.sql',
      `CREATE TABLE nums (id BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH ('connector' = 'datagen', 'number-of-rows' = '100');
CREATE TABLE counts (c BIGINT) WITH ('connector' = 'print');
INSERT INTO counts
SELECT COUNT(*) AS c FROM TABLE(TUMBLE(TABLE nums, DESCRIPTOR(ts), INTERVAL '1' HOUR)) GROUP BY window_start, window_end;
`,
    );
    const r = inApp('npx', ['weir', 'sql', '-f', 'count.sql', '-p', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('+I[100]');
    expect(r.stdout).toMatch(/\[INFO\] Job 'insert-into_counts' finished in \d+ ms \(threads, 2 slot\(s\)\)/);
  });

  it('compiles a job once: later runs read it from the cache', () => {
    const compiled = readdirSync(join(cache, 'ts'));
    expect(compiled.filter((f) => f.endsWith('.mjs')).length).toBeGreaterThanOrEqual(3);
    expect(inApp('npx', ['weir', 'run', 'jobs/job.ts', '-p', '2']).code).toBe(0);
    expect(readdirSync(join(cache, 'ts')).sort()).toEqual(compiled.sort());
  });

  it('type-checks a strict TypeScript app against the installed types', () => {
    const r = inApp(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('leaves nothing in the temp folder after its jobs but the empty per-user job registry', () => {
    const runtime = `weir-${userInfo().uid}`;
    expect(readdirSync(jobTmp)).toEqual([runtime]);
    expect(readdirSync(join(jobTmp, runtime))).toEqual(['jobs']);
    expect(readdirSync(join(jobTmp, runtime, 'jobs'))).toEqual([]);
  });
});
