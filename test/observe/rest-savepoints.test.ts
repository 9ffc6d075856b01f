// Mutating REST calls: the bearer token, validated bodies, and savepoint targets that cannot leave the allowed directory (CVE-2020-17519 is the counter-example).
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsRegistry, startObserver } from '../../src/index.ts';
import { buildObserverApp, resolveSavepointTarget } from '../../src/observe/index.ts';
import { JOB_ID, fakeJob, ordersGraph, type FakeJob } from './rest-fixtures.ts';

const closers: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const TOKEN = 'a'.repeat(32);

async function observed(options: { token?: string; savepointDir?: string; job?: FakeJob } = {}) {
  const registry = new MetricsRegistry({ intervalMs: 3_600_000 });
  const job = options.job ?? fakeJob();
  registry.addJob(job);
  const app = await buildObserverApp(registry, { token: options.token, savepointDir: options.savepointDir });
  closers.push(
    () => registry.close(),
    () => app.close(),
  );
  const post = async (url: string, body?: unknown, token?: string) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await app.inject({ method: 'POST', url, headers, ...(body === undefined ? {} : { payload: body as object }) });
    return { status: res.statusCode, body: res.json() };
  };
  /** Polls the request until it completed. */
  const settle = async (rid: string) => {
    for (;;) {
      const res = (await app.inject({ method: 'GET', url: `/jobs/${JOB_ID}/savepoints/${rid}` })).json();
      if (res.status.id === 'COMPLETED') return res;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { registry, job, app, post, settle };
}

describe('savepoint routes', () => {
  it('refuses a POST without the token, or with a wrong one, when a token is set; GETs need none', async () => {
    const { post, app, job } = await observed({ token: TOKEN });
    for (const token of [undefined, 'b'.repeat(32), 'short']) {
      const res = await post(`/jobs/${JOB_ID}/savepoints`, {}, token);
      expect(res).toEqual({ status: 401, body: { errors: ['missing or wrong token: send Authorization: Bearer <token>'] } });
    }
    const basic = await app.inject({ method: 'POST', url: `/jobs/${JOB_ID}/stop`, headers: { authorization: `Basic ${TOKEN}` } });
    expect(basic.statusCode).toBe(401);
    expect(basic.headers['www-authenticate']).toBe('Bearer');
    expect(job.savepoints).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/jobs' })).statusCode).toBe(200);
    const ok = await post(`/jobs/${JOB_ID}/savepoints`, {}, TOKEN);
    expect(ok.status).toBe(202);
    expect(ok.body['request-id']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('triggers a savepoint into a directory inside the allowed root and reports its location', async () => {
    const root = mkdtempSync(join(tmpdir(), 'weir-observe-'));
    const { post, settle, job } = await observed({ savepointDir: root });
    const res = await post(`/jobs/${JOB_ID}/savepoints`, { 'target-directory': 'nightly/a' });
    expect(res.status).toBe(202);
    expect(await settle(res.body['request-id'])).toEqual({
      status: { id: 'COMPLETED' },
      operation: { location: join(root, 'nightly/a/savepoint-7') },
    });
    const same = await post(`/jobs/${JOB_ID}/savepoints`, { 'target-directory': root });
    await settle(same.body['request-id']);
    expect(job.savepoints).toEqual([
      { dir: join(root, 'nightly/a'), stop: false },
      { dir: root, stop: false },
    ]);
  });

  it('refuses targets outside the allowed root: ../, absolute paths, percent-encoded dots and a symlink pointing out', async () => {
    const base = mkdtempSync(join(tmpdir(), 'weir-observe-'));
    const root = join(base, 'root');
    mkdirSync(root);
    mkdirSync(join(base, 'outside'));
    symlinkSync(join(base, 'outside'), join(root, 'link'));
    const { post, job } = await observed({ savepointDir: root });
    const cases = ['../outside', 'a/../../outside', '/etc', join(base, 'outside'), `${root}-sibling`, 'link', 'link/deeper/still'];
    for (const target of cases) {
      const res = await post(`/jobs/${JOB_ID}/savepoints`, { 'target-directory': target });
      expect(res, target).toEqual({
        status: 400,
        body: { errors: [`target directory '${target}' is outside the allowed savepoint directory ${root}`] },
      });
    }
    for (const target of ['%2e%2e/outside', '..%2Foutside', '%252e%252e']) {
      const res = await post(`/jobs/${JOB_ID}/stop`, { targetDirectory: target });
      expect(res, target).toEqual({
        status: 400,
        body: { errors: [`target directory '${target}' is percent-encoded; send the plain path`] },
      });
    }
    expect(job.savepoints).toEqual([]);
    // `..` that stays inside is fine.
    expect(await resolveSavepointTarget(root, 'a/../b')).toEqual({ ok: true, path: join(root, 'b') });
    expect(await resolveSavepointTarget(root, 'x\0y')).toEqual({ ok: false, reason: 'target directory contains a NUL character' });
  });

  it('validates bodies and names the bad field', async () => {
    const { post } = await observed({ savepointDir: tmpdir() });
    expect(await post(`/jobs/${JOB_ID}/savepoints`, { 'target-directory': 5 })).toEqual({
      status: 400,
      body: { errors: ["body field 'target-directory' must be string"] },
    });
    expect(await post(`/jobs/${JOB_ID}/savepoints`, { target: 'x' })).toEqual({
      status: 400,
      body: { errors: ["body has unknown field 'target'"] },
    });
    expect(await post(`/jobs/${JOB_ID}/stop`, { drain: true })).toEqual({
      status: 400,
      body: { errors: ["body field 'drain' must be equal to constant"] },
    });
    expect(await post(`/jobs/${JOB_ID}/stop`, { targetDirectory: '' })).toEqual({
      status: 400,
      body: { errors: ["body field 'targetDirectory' must NOT have fewer than 1 characters"] },
    });
    expect(await post(`/jobs/${JOB_ID}/stop`, [1, 2])).toEqual({ status: 400, body: { errors: ['body must be object'] } });
  });

  it('stops with a savepoint, reports a failed one, and refuses jobs without checkpointing or a root', async () => {
    const { post, settle, job } = await observed();
    const stop = await post(`/jobs/${JOB_ID}/stop`, { drain: false });
    await settle(stop.body['request-id']);
    expect(job.savepoints).toEqual([{ dir: undefined, stop: true }]);

    job.failNext = 'savepoint 8 failed: declined by Map (subtask 1)';
    const failed = await post(`/jobs/${JOB_ID}/savepoints`);
    expect(await settle(failed.body['request-id'])).toEqual({
      status: { id: 'COMPLETED' },
      operation: { 'failure-cause': { class: 'WeirError', 'stack-trace': 'savepoint 8 failed: declined by Map (subtask 1)' } },
    });

    // Neither the observer's savepointDir nor the job's checkpoint folder: a target cannot be checked, so it is refused.
    expect(await post(`/jobs/${JOB_ID}/savepoints`, { 'target-directory': 'x' })).toMatchObject({
      status: 400,
      body: { errors: [expect.stringMatching(/^no savepoint directory is allowed/)] },
    });

    const other = 'ffffffffffffffffffffffffffffffff';
    expect(await post(`/jobs/${other}/savepoints`)).toEqual({ status: 404, body: { errors: [`job ${other} not found`] } });
  });

  it('answers 409 for a job without checkpointing', async () => {
    const { post } = await observed({ job: fakeJob(ordersGraph({ checkpointing: false })) });
    expect(await post(`/jobs/${JOB_ID}/savepoints`)).toEqual({
      status: 409,
      body: { errors: [`job ${JOB_ID} has no checkpointing: enable it to take savepoints`] },
    });
  });

  it("defaults the root to the job's checkpoint directory", async () => {
    const checkpointDir = mkdtempSync(join(tmpdir(), 'weir-observe-'));
    const job = fakeJob(undefined, undefined, { checkpointPath: join(checkpointDir, 'orders', 'run-1') });
    const { post, settle } = await observed({ job });
    const ok = await post(`/jobs/${JOB_ID}/savepoints`, { 'target-directory': 'savepoints' });
    await settle(ok.body['request-id']);
    expect(job.savepoints).toEqual([{ dir: join(checkpointDir, 'savepoints'), stop: false }]);
    expect((await post(`/jobs/${JOB_ID}/savepoints`, { 'target-directory': '..' })).status).toBe(400);
  });

  it('makes up a token when it binds beyond loopback', async () => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!address) return; // no interface beyond loopback on this machine
    const observer = await startObserver({ host: address, intervalMs: 3_600_000 });
    closers.push(() => observer.close());
    expect(observer.token).toMatch(/^[0-9a-f]{32}$/);
    observer.addJob(fakeJob());
    const denied = await fetch(`${observer.url}/jobs/${JOB_ID}/savepoints`, { method: 'POST' });
    expect([denied.status, await denied.json()]).toEqual([401, { errors: ['missing or wrong token: send Authorization: Bearer <token>'] }]);
    const allowed = await fetch(`${observer.url}/jobs/${JOB_ID}/savepoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${observer.token}` },
    });
    expect(allowed.status).toBe(202);
  });
});

describe('on loopback without a token', () => {
  it('answers loopback host names only (DNS rebinding) and refuses cross-origin POSTs', async () => {
    const observer = await startObserver({ intervalMs: 3_600_000 });
    closers.push(() => observer.close());
    const job = fakeJob();
    observer.addJob(job);
    const port = new URL(observer.url).port;
    const { request } = await import('node:http');
    const call = (method: string, path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await call('GET', '/jobs', { host: `evil.example:${port}` })).toEqual({
      status: 403,
      body: { errors: [`host 'evil.example:${port}' is not allowed: the observer answers loopback names only`] },
    });
    expect((await call('GET', '/jobs', { host: `localhost:${port}` })).status).toBe(200);
    expect((await call('GET', '/jobs', { host: `[::1]:${port}` })).status).toBe(200);
    expect(await call('POST', `/jobs/${JOB_ID}/savepoints`, { host: `127.0.0.1:${port}`, origin: 'https://evil.example' })).toEqual({
      status: 403,
      body: { errors: ['cross-origin request from https://evil.example refused'] },
    });
    expect(job.savepoints).toEqual([]);
    expect(
      (await call('POST', `/jobs/${JOB_ID}/savepoints`, { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` })).status,
    ).toBe(202);
  });
});
