// `weir plan`: the state-plan diff of a changed job against a savepoint, its verdicts and exit codes, and `weir run --from-savepoint` refusing the same restores before any worker starts.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startJob } from '../../src/index.ts';

const JOB = 'test/fixtures/jobs/state-plan.ts';
const KEYS = 10;

/** Runs the weir command; resolves with its exit code and output (several run side by side). */
function weir(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/weir.js', ...args], { env: { ...process.env, WEIR_JOBS_DIR: jobsDir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

const jobsDir = mkdtempSync(join(tmpdir(), 'weir-plan-jobs-'));

/** A savepoint of the fixture job (parallelism 2) once every record reached its state. */
async function savepointOf(variant: string, dir: string): Promise<string> {
  const client = await startJob(JOB, { mode: 'local', parallelism: 2, params: { variant, hold: true, count: 1000, keys: KEYS } });
  const uid = variant.startsWith('generated') ? '1-keyed-process' : 'totals';
  for (let i = 0; i < 400; i++) {
    const counts = await Promise.all(
      Array.from({ length: KEYS }, (_, k) =>
        client.queryState(uid, 'count', k).then(
          (v) => v.value,
          () => undefined,
        ),
      ),
    );
    if (counts.every((c) => c === 1000 / KEYS)) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const taken = await client.stopWithSavepoint(dir);
  await client.result;
  return taken.path as string;
}

type Outcome = Awaited<ReturnType<typeof weir>>;
let base: string;
/** Every command of this file, started together once the savepoints exist (the file's time is their slowest). */
let runs: Record<string, Promise<Outcome>>;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-plan-'));
  base = await savepointOf('base', join(dir, 'base'));
  const generated = await savepointOf('generated', join(dir, 'generated'));
  // With the stateless map 'doubled' the base job no longer has.
  const withMap = await savepointOf('added', join(dir, 'added'));
  const plan = (savepoint: string, variant: string, ...extra: string[]) =>
    weir('plan', JOB, '--from-savepoint', savepoint, '-p', '3', '--param', `variant=${variant}`, ...extra);
  // The source resumes at 1000 and ends at 1010: one more record per key.
  const run = (variant: string, ...extra: string[]) =>
    weir('run', JOB, '--from-savepoint', base, '-p', '2', '--param', `variant=${variant}`, '--param', 'count=1010', '--json', ...extra);
  runs = {
    same: plan(base, 'base'),
    added: plan(base, 'added'),
    removed: plan(base, 'removed'),
    renamed: plan(base, 'renamed'),
    kind: plan(base, 'kind'),
    ttl: plan(base, 'ttl'),
    longer: plan(base, 'ttl-longer'),
    maxp: plan(base, 'maxp'),
    shifted: plan(generated, 'generated-added'),
    json: weir('plan', JOB, '--from-savepoint', base, '--param', 'variant=kind', '--json'),
    missing: weir('plan', JOB, '--from-savepoint', join(tmpdir(), 'no-such-savepoint-here')),
    runKind: run('kind'),
    runRemoved: run('removed'),
    runMaxp: run('maxp'),
    runAllowed: run('removed', '--allow-non-restored-state', '--local'),
    statelessGone: plan(withMap, 'base'),
    runStatelessGone: weir('run', JOB, '--from-savepoint', withMap, '-p', '2', '--param', 'variant=base', '--param', 'count=1010', '--json', '--local'),
    runLonger: run('ttl-longer', '--local'),
    runShifted: weir(
      'run',
      JOB,
      '--from-savepoint',
      generated,
      '-p',
      '2',
      '--param',
      'variant=generated-added',
      '--param',
      'count=1000',
      '--allow-non-restored-state',
      '--local',
      '-q',
    ),
  };
});

describe('weir plan', () => {
  it('gives each changed job its verdict and exit code', async () => {
    const [same, added, removed, renamed, kind, ttl, longer, maxp, shifted] = await Promise.all(
      ['same', 'added', 'removed', 'renamed', 'kind', 'ttl', 'longer', 'maxp', 'shifted'].map((name) => runs[name]),
    );

    // The same job at another parallelism: every operator restored, the new key-group ranges.
    expect(same.status, same.stderr).toBe(0);
    expect(same.stdout).toContain(`state plan of job 'weir job' from savepoint `);
    expect(same.stdout).toContain('max parallelism: 128 → 128\n');
    expect(same.stdout).toContain('  totals (Totals): restored (30 keyed entries in 9 key group(s)), parallelism 2 → 3\n');
    expect(same.stdout).toContain(
      [
        '      state count: value — restored',
        '      state last: value, TTL 60000 ms — restored',
        '      state recent: list — restored',
        '      key groups: 0:[0-42] 1:[43-85] 2:[86-127]',
      ].join('\n'),
    );
    expect(same.stdout).toContain('  flags (Flags): restored (10 keyed entries in 9 key group(s)), parallelism 2 → 3\n');
    expect(same.stdout).toContain('  numbers (Numbers): restored (function state), parallelism 1\n');
    expect(same.stdout).not.toContain('warnings:');
    expect(same.stdout.trimEnd().endsWith('verdict: restores cleanly (exit 0)')).toBe(true);

    expect(added.status).toBe(0);
    expect(added.stdout).toContain('  doubled (Map): new (starts empty), parallelism 3\n');
    expect(added.stdout).toContain('verdict: restores cleanly (exit 0)');

    expect(removed.status).toBe(3);
    expect(removed.stdout).toContain(
      '  flags (Flags): DROPPED (10 keyed entries in 9 key group(s)): needs --allow-non-restored-state, parallelism 2\n      state seen: value — dropped with its operator\n',
    );
    expect(removed.stdout).toContain('verdict: needs --allow-non-restored-state (state would be dropped) (exit 3)');

    expect(renamed.status).toBe(3);
    expect(renamed.stdout).toContain(
      '  totals-v2 (Totals): new (starts empty), parallelism 3\n      state count: value — new (starts empty)\n',
    );
    expect(renamed.stdout).toContain('  totals (Totals): DROPPED (30 keyed entries in 9 key group(s))');
    expect(renamed.stdout).toContain(
      "  - operator 'totals' (Totals) is in the savepoint (30 keyed entries in 9 key group(s)) but not in the job: its state is dropped, which needs --allow-non-restored-state (allowNonRestoredState)",
    );

    expect(kind.status).toBe(4);
    expect(kind.stdout).toContain('      state count: value → list — KIND CHANGED (refused)\n');
    expect(kind.stdout).toContain(
      "verdict: would fail (exit 4)\n  - operator 'totals' (Totals): state 'count' was value state in the savepoint and is now registered as list state; a state's kind cannot change (give the new state another name)",
    );

    expect(ttl.status).toBe(4);
    expect(ttl.stdout).toContain('      state count: value → value, TTL 60000 ms — TTL TURNED ON (refused)\n');

    // A TTL of another length is allowed; the plan says so.
    expect(longer.status).toBe(0);
    expect(longer.stdout).toContain('      state last: value, TTL 60000 ms → value, TTL 120000 ms — TTL changed (allowed)\n');
    expect(longer.stdout).toContain("state 'last' TTL changes from 60000 ms to 120000 ms: restored entries expire by the new TTL");

    expect(maxp.status).toBe(4);
    expect(maxp.stdout).toContain('max parallelism: 128 → 256 (CHANGED: refused)\n');
    expect(maxp.stdout).toContain('      key groups: 0:[0-85] 1:[86-170] 2:[171-255]\n');
    expect(maxp.stdout).toContain('  - max parallelism changed: the savepoint has 128 key groups, the job 256');

    // Derived ids: adding a map before the keyed operators moves their ids; Totals now takes Flags' state.
    expect(shifted.status).toBe(3);
    expect(shifted.stdout).toContain(
      '  1-keyed-process (Totals) [no uid]: DROPPED (30 keyed entries in 9 key group(s)): needs --allow-non-restored-state',
    );
    expect(shifted.stdout).toContain("operator 'Totals' has no uid: its id '2-keyed-process' is derived from its position");
    expect(shifted.stdout).toContain(
      "operator 'Totals' takes the state of the savepoint's operator 'Flags': both have the derived id '2-keyed-process'",
    );
    expect(shifted.stdout).toContain(
      '  2-keyed-process (Totals) [no uid]: restored (10 keyed entries in 9 key group(s)), parallelism 2 → 3\n',
    );
  });

  it('prints the plan as JSON', async () => {
    const { status, stdout } = await runs.json;
    expect(status).toBe(4);
    const plan = JSON.parse(stdout);
    expect(plan.verdict).toBe('fails');
    expect(plan.exitCode).toBe(4);
    expect(plan.maxParallelism).toEqual({ savepoint: 128, job: 128 });
    const totals = plan.operators.find((o: { uid: string }) => o.uid === 'totals');
    expect(totals.status).toBe('restored');
    expect(totals.states).toEqual([
      { name: 'count', status: 'kind-changed', before: { kind: 'value', ttl: false }, after: { kind: 'list', ttl: false } },
      {
        name: 'last',
        status: 'restored',
        before: { kind: 'value', ttl: true, ttlMs: 60000 },
        after: { kind: 'value', ttl: true, ttlMs: 60000 },
      },
      { name: 'recent', status: 'restored', before: { kind: 'list', ttl: false }, after: { kind: 'list', ttl: false } },
    ]);
    expect(totals.keyGroups).toEqual([{ subtask: 0, start: 0, end: 127 }]);
  });

  it('exits 4 for a savepoint that cannot be read', async () => {
    const missing = await runs.missing;
    expect(missing.status, missing.stderr).toBe(4);
    expect(missing.stderr).toMatch(/^weir plan: \[WEIR_[A-Z_]+\] .*no-such-savepoint-here/);
  });
});

describe('weir run --from-savepoint', () => {
  it('refuses what the plan refuses before any worker starts, and runs with --allow-non-restored-state', async () => {
    const [kind, removed, maxp, allowed] = await Promise.all([runs.runKind, runs.runRemoved, runs.runMaxp, runs.runAllowed]);
    for (const [refused, reason] of [
      [kind, "operator 'totals' (Totals): state 'count' was value state in the savepoint and is now registered as list state"],
      [removed, "operator 'flags' (Flags) is in the savepoint (keyed state in 9 key group(s)) but not in the job"],
      [maxp, 'max parallelism changed: the savepoint has 128 key groups, the job 256'],
    ] as const) {
      expect(refused.status).toBe(1);
      // The refusal is the run's only line: no job was started (no 'running' line, no worker output).
      const lines = refused.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^weir: job failed \[WEIR_STATE_RESTORE\]: cannot restore job 'weir job' from /);
      expect(lines[0]).toContain(reason);
      expect(lines[0]).toContain(`(see 'weir plan ${JOB} --from-savepoint `);
      expect(refused.stdout).toBe('');
    }
    expect(allowed.status, allowed.stderr).toBe(0);
    // Restored counts go on from 100 per key.
    const out = JSON.parse(allowed.stdout).collected.out as [number, number][];
    expect(out.sort((a, b) => a[0] - b[0])).toEqual(Array.from({ length: KEYS }, (_, k) => [k, 101]));
  });

  it('skips an operator the job no longer has when it held no state, as Flink does: no --allow-non-restored-state needed', async () => {
    const [planned, ran] = await Promise.all([runs.statelessGone, runs.runStatelessGone]);
    expect(planned.status, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('  doubled (Map): not in the job, held no state (skipped), parallelism 2\n');
    expect(planned.stdout.trimEnd().endsWith('verdict: restores cleanly (exit 0)')).toBe(true);
    expect(ran.status, ran.stderr).toBe(0);
    // Restored counts go on from 100 per key.
    const out = JSON.parse(ran.stdout).collected.out as [number, number][];
    expect(out.sort((a, b) => a[0] - b[0])).toEqual(Array.from({ length: KEYS }, (_, k) => [k, 101]));
  });

  it('logs what restores but is worth knowing: a TTL change, state taken by another operator through derived ids', async () => {
    const [longer, shifted] = await Promise.all([runs.runLonger, runs.runShifted]);
    expect(longer.status, longer.stderr).toBe(0);
    expect(longer.stderr.split('\n')[0]).toBe(
      "weir: warning: operator 'totals' (Totals): state 'last' TTL changes from 60000 ms to 120000 ms: restored entries expire by the new TTL",
    );
    expect(shifted.status, shifted.stderr).toBe(0);
    const warnings = shifted.stderr.split('\n').filter((l) => l.startsWith('weir: warning: '));
    expect(warnings).toEqual([
      "weir: warning: operator 'Totals' takes the state of the savepoint's operator 'Flags': both have the derived id '2-keyed-process' (the graph changed before them); give both .uid('...') in the job that took the savepoint",
      "weir: warning: state restored by derived operator id(s) '0-source', '2-keyed-process': they change when the graph changes before those operators; give them .uid('...')",
    ]);
  });
});
