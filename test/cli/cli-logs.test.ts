// weir run logs one JSON object per line when stderr is not a terminal: every restart with its cause, the job's id on every line, levels by consequence; --log-level filters.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** `weir` with the CLI's own default log format (the suite sets WEIR_LOG_FORMAT=pretty for the others). */
function weir(...args: string[]) {
  const env = { ...process.env };
  delete env.WEIR_LOG_FORMAT;
  delete env.WEIR_LOG_LEVEL;
  const run = spawnSync(process.execPath, ['bin/weir.js', ...args], { encoding: 'utf8', timeout: 60_000, env });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

type Line = Record<string, unknown> & { level: string; msg: string; jobId: string; time: string };

/** Every stderr line parsed as JSON (the test fails on a line that is not). */
function jsonLines(stderr: string): Line[] {
  return stderr
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Line;
      } catch {
        throw new Error(`not a JSON log line: ${l}`);
      }
    });
}

describe('weir run logs', () => {
  it('writes JSON lines off a terminal: each failed attempt at warn (restart) or error (give up) with its operator, subtask, attempt and error code', () => {
    const { code, stderr } = weir('run', 'test/fixtures/jobs/always-failing.ts', '-p', '1', '--param', 'attempts=default');
    expect(code).toBe(1);
    const lines = jsonLines(stderr);
    const jobId = lines[0].jobId;
    expect(jobId).toMatch(/^[0-9a-f]{32}$/);
    for (const l of lines) {
      expect(l.jobId).toBe(jobId);
      expect(Date.parse(l.time)).not.toBeNaN();
      expect(l.pid).toBeTypeOf('number');
    }
    const running = lines.filter((l) => l.event === 'running');
    expect(running).toHaveLength(1);
    expect(running[0].msg).toContain(`job ${jobId} running`);
    const attempts = lines.filter((l) => l.event === 'attempt-failed');
    expect(attempts.map((l) => [l.level, l.attempt, l.operator, l.subtask, l.next, (l.error as { code: string }).code])).toEqual([
      ['warn', 1, 'Map', 0, 'restart', 'WEIR_USER_FUNCTION'],
      ['warn', 2, 'Map', 0, 'restart', 'WEIR_USER_FUNCTION'],
      ['warn', 3, 'Map', 0, 'restart', 'WEIR_USER_FUNCTION'],
      ['error', 4, 'Map', 0, 'give-up', 'WEIR_USER_FUNCTION'],
    ]);
    expect(attempts.slice(0, 3).map((l) => [l.restart, l.delayMs])).toEqual([
      [1, 1000],
      [2, 1000],
      [3, 1000],
    ]);
    expect(attempts[3].msg).toContain('giving up: fixed-delay restart strategy: 3 restart(s) used up');
    const failed = lines.filter((l) => l.event === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 'error', code: 'WEIR_USER_FUNCTION' });
    expect(failed[0].msg).toMatch(/^job failed \[WEIR_USER_FUNCTION\]: .*always broken/);
  }, 60_000);

  it('ends a finished job with one JSON line holding the operator totals', () => {
    const { code, stderr } = weir('run', 'test/fixtures/jobs/paced-sum.ts', '--param', 'count=100');
    expect(code, stderr).toBe(0);
    const finished = jsonLines(stderr).filter((l) => l.event === 'finished');
    expect(finished).toHaveLength(1);
    expect(finished[0].level).toBe('info');
    expect(finished[0].msg).toMatch(/^job '.*' finished in \d+ ms/);
    const operators = finished[0].operators as Record<string, { recordsIn: number; recordsOut: number }>;
    expect(Object.keys(operators).length).toBeGreaterThan(0);
  }, 60_000);

  it('--log-level warn keeps the restarts and drops the info lines; --log-format pretty prints weir: lines', () => {
    const quiet = weir('run', 'test/fixtures/jobs/always-failing.ts', '-p', '1', '--param', 'attempts=default', '--log-level', 'warn');
    const lines = jsonLines(quiet.stderr);
    expect(lines.filter((l) => l.level === 'info')).toEqual([]);
    expect(lines.filter((l) => l.event === 'attempt-failed')).toHaveLength(4);
    const pretty = weir('run', 'test/fixtures/jobs/always-failing.ts', '-p', '1', '--param', 'attempts=default', '--log-format', 'pretty');
    expect(pretty.stderr.split('\n').filter((l) => /^weir: attempt \d failed in 'Map'/.test(l))).toHaveLength(4);
    const bad = weir('run', 'test/fixtures/jobs/paced-sum.ts', '--log-level', 'loud');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--log-level must be trace or debug or info or warn or error or fatal or silent, got 'loud'`);
  }, 60_000);

  it('keeps the stream one JSON object per line when a worker logs a skipped record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-cli-logs-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, ['{"key":"a","seq":0,"ts":0}', '{not json', '{"key":"a","seq":1,"ts":1}'].join('\n') + '\n');
    try {
      const { code, stderr } = weir('run', 'test/fixtures/jobs/file-source.ts', '--param', `path=${input}`, '--param', 'onError=skip');
      expect(code, stderr).toBe(0);
      const skipped = jsonLines(stderr).filter((l) => l.event === 'records-skipped');
      expect(skipped.map((l) => [l.level, l.msg])).toEqual([
        [
          'warn',
          `file source 'File Source' (subtask 0) skipped a malformed JSON line: ${input} line 2: invalid JSON (Expected property name or '}' in JSON at position 1): "{not json"`,
        ],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
