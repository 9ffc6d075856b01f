// `weir run --resume` after whole-process `kill -9`s: the output of an exactly-once file sink equals the failure-free run's.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runWeirProcess, type WeirProcessOutcome } from '../../bench/lib/weir-process.ts';
import { mulberry32 as random } from '../fixtures/random.ts';

const KEYS = 8;
const PER_KEY = 3000;

/** Runs `weir run` on the chaos file-sink job at p=2 (see runWeirProcess for the kill). */
function weirRun(args: string[], killAfterMs: number | undefined): Promise<WeirProcessOutcome> {
  return runWeirProcess(['run', 'test/fixtures/jobs/chaos-file-sink.ts', '-p', '2', ...args], killAfterMs);
}

/** The failure-free run writes each key's sequence 0..PER_KEY-1 once (the generator is deterministic): so must the resumed runs together. */
function expectExactlyOnce(out: string, seed: number): void {
  const names = readdirSync(out);
  expect(
    names.filter((n) => n.startsWith('.')),
    `seed ${seed}: hidden part files left`,
  ).toEqual([]);
  const counts = new Map<string, number>();
  for (const name of names)
    for (const line of readFileSync(join(out, name), 'utf8').split('\n')) if (line !== '') counts.set(line, (counts.get(line) ?? 0) + 1);
  const duplicated = [...counts.values()].filter((c) => c > 1).length;
  let lost = 0;
  for (let key = 0; key < KEYS; key++) for (let seq = 0; seq < PER_KEY; seq++) if (!counts.has(JSON.stringify({ key, seq }))) lost++;
  expect({ seed, lost, duplicated, lines: counts.size }).toEqual({ seed, lost: 0, duplicated: 0, lines: KEYS * PER_KEY });
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('weir run --resume after kill -9', () => {
  it('resumes five whole-process kills at random moments and writes every record exactly once', async () => {
    const seed = Number(process.env.WEIR_TEST_SEED ?? Date.now() % 1_000_000);
    const next = random(seed);
    const root = mkdtempSync(join(tmpdir(), 'weir-resume-kill-'));
    dirs.push(root);
    const checkpoints = join(root, 'checkpoints');
    const out = join(root, 'out');
    const params = ['--param', `out=${out}`, '--param', `keys=${KEYS}`, '--param', `perKey=${PER_KEY}`];
    params.push('--param', 'interval=100', '--param', 'rate=4000', '--checkpoint-dir', checkpoints);
    const log: string[] = [];
    let resumedFromCheckpoint = 0;
    for (let kill = 0; kill < 5; kill++) {
      const delay = Math.round(next() * 800);
      const run = await weirRun(kill === 0 ? params : [...params, '--resume', checkpoints], delay);
      log.push(`kill ${kill + 1}, ${delay} ms after the first checkpoint: ${run.signal ?? run.code}\n${run.stderr}`);
      expect(run.signal, `seed ${seed}: the run ended before its kill\n${log.join('\n')}`).toBe('SIGKILL');
      expect(run.stderr).toContain(`weir: checkpoints go to ${join(checkpoints, 'weir_job', 'run-')}`);
      if (kill > 0 && /weir: resuming from checkpoint \d+ at .*run-.*chk-\d+/.test(run.stderr)) resumedFromCheckpoint++;
    }
    const last = await weirRun([...params, '--resume', checkpoints], undefined);
    log.push(`final: ${last.code}\n${last.stderr}`);
    expect(last.code, `seed ${seed}\n${log.join('\n')}`).toBe(0);
    expect(last.stderr).toMatch(/weir: resuming from checkpoint \d+ at /);
    // Every run after a kill resumed from a checkpoint of a killed run (one each was complete).
    expect(resumedFromCheckpoint, `seed ${seed}\n${log.join('\n')}`).toBe(4);

    expectExactlyOnce(out, seed);
    // Every run kept its own folder: five killed runs and the last one.
    expect(readdirSync(join(checkpoints, 'weir_job')).filter((n) => n.startsWith('run-'))).toHaveLength(6);
  }, 240_000);
  it('keeps checkpointing where it resumed from when given only --resume: a second kill resumes from the resumed run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'weir-resume-only-'));
    dirs.push(root);
    const checkpoints = join(root, 'checkpoints');
    const out = join(root, 'out');
    const params = ['--param', `out=${out}`, '--param', `keys=${KEYS}`, '--param', `perKey=${PER_KEY}`, '--param', 'interval=100', '--param', 'rate=4000'];
    const first = await weirRun([...params, '--checkpoint-dir', checkpoints], 300);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    // Only --resume, as an operator types it after a crash.
    const second = await weirRun([...params, '--resume', checkpoints], 300);
    expect(second.signal, second.stderr).toBe('SIGKILL');
    const secondRun = /weir: checkpoints go to (\S+)/.exec(second.stderr)?.[1];
    expect(secondRun, second.stderr).toMatch(new RegExp(`^${join(checkpoints, 'weir_job', 'run-').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const last = await weirRun([...params, '--resume', checkpoints], undefined);
    expect(last.code, last.stderr).toBe(0);
    // The third run resumed from a checkpoint the second (resumed) run wrote.
    expect(last.stderr).toContain(`weir: resuming from checkpoint `);
    // The same job resumed: its derived operator ids are the ones that wrote the checkpoint, nothing to warn about.
    expect(last.stderr).not.toContain('weir: warning:');
    expect(/weir: resuming from checkpoint \d+ at (\S+)\/chk-\d+/.exec(last.stderr)?.[1]).toBe(secondRun);
    expectExactlyOnce(out, 0);
    // The last run finished in a folder of its own there: a later --resume has nothing to resume.
    const lastRun = /weir: checkpoints go to (\S+)/.exec(last.stderr)?.[1] as string;
    expect(readdirSync(lastRun)).toContain('_finished');
  }, 120_000);
});
