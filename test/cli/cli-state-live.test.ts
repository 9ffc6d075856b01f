// `weir state get --job`: a running job's keyed state read live from another shell over its control socket, and the same through its REST API.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const env = { ...process.env, WEIR_JOBS_DIR: mkdtempSync(join(tmpdir(), 'weir-jobs-')) };

function weir(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/weir.js', ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The first match of `pattern` in what `text()` returns, waited for up to 15 s. */
async function waitFor(text: () => string, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 150; i++) {
    const found = pattern.exec(text())?.[1];
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${pattern} in: ${text()}`);
}

describe('weir state get --job', () => {
  it('reads a running job’s keyed state from another shell and over REST', async () => {
    const run = spawn(
      process.execPath,
      [
        'bin/weir.js',
        'run',
        'test/fixtures/jobs/state-plan.ts',
        '-p',
        '2',
        '--param',
        'hold=true',
        '--param',
        'count=1000',
        '--rest-port',
        '0',
      ],
      { env },
    );
    let stderr = '';
    run.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | string | null>((r) => run.on('exit', (code, signal) => r(code ?? signal)));
    try {
      const jobId = await waitFor(() => stderr, /job ([0-9a-f]{32}) running/);
      const url = await waitFor(() => stderr, /REST API at (http:\/\/\S+)/);
      // Every record counted: key 3 saw 3, 13, …, 993.
      const rest = (path: string) => fetch(`${url}${path}`).then(async (r) => ({ status: r.status, body: await r.json() }));
      for (let i = 0; i < 100; i++) {
        const { body } = await rest(`/jobs/${jobId}/state/totals/count?key=3`);
        if (body.value === 100) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const [text, json, unknownState, unknownJob, recent, missing] = await Promise.all([
        weir('state', 'get', '--job', jobId.slice(0, 8), 'totals', 'count', '3'),
        weir('state', 'get', '--job', jobId, 'totals', 'recent', '3', '--json'),
        weir('state', 'get', '--job', jobId, 'totals', 'cnt', '3'),
        weir('state', 'get', '--job', 'ffffffff', 'totals', 'count', '3'),
        rest(`/jobs/${jobId}/state/totals/recent?key=3`),
        rest(`/jobs/${jobId}/state/totalz/count?key=3`),
      ]);
      expect(text.status, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/^100 {2}\(value state, subtask [01], key group \d+\)\n$/);
      expect(json.status).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({
        uid: 'totals',
        state: 'recent',
        key: 3,
        kind: 'list',
        found: true,
        value: [973, 983, 993],
      });
      expect(unknownState.status).toBe(1);
      expect(unknownState.stderr).toBe("weir: operator 'totals' has no keyed state 'cnt'; its keyed states: 'count', 'last', 'recent'\n");
      expect(unknownJob.status).toBe(1);
      expect(unknownJob.stderr).toBe("weir: no running job with id ffffffff (see 'weir list')\n");
      expect(recent.status).toBe(200);
      expect(recent.body).toMatchObject({ uid: 'totals', state: 'recent', key: 3, found: true, value: [973, 983, 993] });
      expect(missing.status).toBe(404);
      expect(missing.body.errors[0]).toMatch(
        /^job 'weir job' has no operator with uid 'totalz'; its operators: 'numbers' \(Numbers\), 'totals' \(Totals\)/,
      );
    } finally {
      run.kill('SIGTERM');
      await exited;
    }
  });
});
