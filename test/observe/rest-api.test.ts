// The REST API's read-only routes on an observed job: Flink's shapes, rates over the last interval, and 404s that say what was not found.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsRegistry, startObserver } from '../../src/index.ts';
import { buildObserverApp } from '../../src/observe/index.ts';
import { JOB_ID, NOW, at, fakeJob, ordersSample } from './rest-fixtures.ts';

const closers: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** An app over a registry holding the orders job, sampled twice one second apart (the second with doubled counters). */
async function observed() {
  const registry = new MetricsRegistry({ intervalMs: 3_600_000 });
  const job = fakeJob();
  registry.addJob(job);
  await registry.sampleNow(JOB_ID);
  job.current = ordersSample({ now: NOW + 1000, scale: 2 });
  await registry.sampleNow(JOB_ID);
  const app = await buildObserverApp(registry, {});
  closers.push(
    () => registry.close(),
    () => app.close(),
  );
  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url });
    return { status: res.statusCode, type: res.headers['content-type'], body: res.json() };
  };
  return { registry, job, app, get };
}

describe('REST API', () => {
  it('answers /overview, /jobs and /jobs/overview', async () => {
    const { get } = await observed();
    const overview = await get('/overview');
    expect(overview.type).toMatch(/^application\/json/);
    expect(overview.body).toMatchObject({
      'jobs-running': 1,
      'jobs-finished': 0,
      'jobs-failed': 0,
      'jobs-cancelled': 0,
      'slots-total': 2,
      taskmanagers: 1,
    });
    expect(overview.body['flink-version']).toMatch(/^weir \d+\.\d+\.\d+/);
    expect((await get('/jobs')).body).toEqual({ jobs: [{ id: JOB_ID, status: 'RUNNING' }] });
    const [row] = (await get('/jobs/overview')).body.jobs;
    expect(row).toMatchObject({
      jid: JOB_ID,
      name: 'orders',
      state: 'RUNNING',
      'start-time': at(10, 0),
      'end-time': -1,
      duration: NOW + 1000 - at(10, 0),
    });
    expect(row.tasks).toMatchObject({ running: 3, total: 3 });
  });

  it('answers /jobs/:id with each vertex and its records, rates and plan', async () => {
    const { get } = await observed();
    const { status, body } = await get(`/jobs/${JOB_ID}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      jid: JOB_ID,
      name: 'orders',
      state: 'RUNNING',
      now: NOW + 1000,
      attempt: 2,
      numRestarts: 1,
      isStoppable: true,
    });
    expect(body.vertices.map((v: { id: number; name: string; parallelism: number }) => [v.id, v.name, v.parallelism])).toEqual([
      [0, 'Source: Kafka Orders', 1],
      [1, 'Map', 2],
      [2, 'Window(Reduce) -> Collect Sink (default)', 2],
    ]);
    // Second sample: source out 2000 (+1000 in 1 s), each Map in/out 1000 (+500 in 1 s).
    expect(body.vertices[0].metrics).toMatchObject({
      'read-records': 0,
      'write-records': 2000,
      'write-records-per-second': 1000,
      'busy-time-ms-per-second': 100,
    });
    expect(body.vertices[1].metrics).toMatchObject({
      'read-records': 2000,
      'write-records': 2000,
      'read-records-per-second': 1000,
      'write-records-per-second': 1000,
      'backpressured-time-ms-per-second': 600,
      'accumulated-backpressured-time': 2400,
    });
    expect(body.vertices[2].metrics).toMatchObject({ 'state-keys': 21, 'state-bytes': 2001 });
    expect(body.plan.nodes[2].operators).toEqual(['Window(Reduce)', 'Collect Sink (default)']);
  });

  it('answers /jobs/:id/plan with the chains and the partitioning of each edge', async () => {
    const { get } = await observed();
    const { body } = await get(`/jobs/${JOB_ID}/plan`);
    expect(body.plan.jid).toBe(JOB_ID);
    expect(
      body.plan.nodes.map((n: { id: number; description: string; operator: string; parallelism: number; inputs: unknown[] }) => [
        n.id,
        n.description,
        n.operator,
        n.parallelism,
        n.inputs,
      ]),
    ).toEqual([
      [0, 'Source: Kafka Orders', 'source', 1, []],
      [1, 'Map', 'map', 2, [{ num: 0, id: 0, ship_strategy: 'REBALANCE', exchange: 'pipelined_bounded' }]],
      [
        2,
        'Window(Reduce) -> Collect Sink (default)',
        'window-reduce',
        2,
        [{ num: 0, id: 1, ship_strategy: 'HASH', exchange: 'pipelined_bounded' }],
      ],
    ]);
  });

  it('answers a vertex with its subtasks, aggregated metrics, watermarks and back pressure', async () => {
    const { get } = await observed();
    const vertex = (await get(`/jobs/${JOB_ID}/vertices/1`)).body;
    expect(vertex).toMatchObject({ id: 1, name: 'Map', parallelism: 2, now: NOW + 1000 });
    expect(
      vertex.subtasks.map((s: { subtask: number; metrics: Record<string, number> }) => [
        s.subtask,
        s.metrics['read-records'],
        s.metrics['read-records-per-second'],
      ]),
    ).toEqual([
      [0, 1000, 500],
      [1, 1000, 500],
    ]);
    expect(vertex.subtasks[0].watermarks).toEqual({ input: [at(10, 42, 10)], current: at(10, 42, 10), output: at(10, 42, 10) });

    const names = (await get(`/jobs/${JOB_ID}/vertices/1/subtasks/metrics`)).body.map((m: { id: string }) => m.id);
    expect(names).toEqual(
      expect.arrayContaining([
        'numRecordsIn',
        'numRecordsInPerSecond',
        'busyTimeMsPerSecond',
        'backPressuredTimeMsPerSecond',
        'currentInputWatermark',
      ]),
    );
    expect((await get(`/jobs/${JOB_ID}/vertices/1/subtasks/metrics?get=numRecordsInPerSecond,numRecordsIn,nope`)).body).toEqual([
      { id: 'numRecordsInPerSecond', min: 500, max: 500, avg: 500, sum: 1000 },
      { id: 'numRecordsIn', min: 1000, max: 1000, avg: 1000, sum: 2000 },
    ]);
    expect((await get(`/jobs/${JOB_ID}/vertices/2/subtasks/metrics?get=pendingWindows&agg=max,sum&subtasks=1`)).body).toEqual([
      { id: 'pendingWindows', max: 2, sum: 2 },
    ]);

    expect((await get(`/jobs/${JOB_ID}/vertices/2/watermarks`)).body).toEqual([
      { id: '0.currentInputWatermark', value: String(at(10, 42, 10)) },
      { id: '1.currentInputWatermark', value: String(at(10, 42, 10)) },
    ]);

    const map = (await get(`/jobs/${JOB_ID}/vertices/1/backpressure`)).body;
    expect(map).toEqual({
      status: 'ok',
      backpressureLevel: 'high',
      'end-timestamp': NOW + 1000,
      subtasks: [0, 1].map((subtask) => ({ subtask, backpressureLevel: 'high', ratio: 0.6, idleRatio: 0.2, busyRatio: 0.2 })),
    });
    const source = (await get(`/jobs/${JOB_ID}/vertices/0/backpressure`)).body;
    expect([source.backpressureLevel, source.subtasks[0].ratio]).toEqual(['ok', 0.1]);
  });

  it('answers checkpoints (newest first), exceptions and the watermark explanation', async () => {
    const { get } = await observed();
    const cp = (await get(`/jobs/${JOB_ID}/checkpoints`)).body;
    expect(cp.counts).toEqual({ restored: 0, total: 3, in_progress: 0, completed: 2, failed: 1 });
    expect(cp.history.map((h: { id: number; status: string; is_savepoint: boolean }) => [h.id, h.status, h.is_savepoint])).toEqual([
      [3, 'COMPLETED', true],
      [2, 'FAILED', false],
      [1, 'COMPLETED', false],
    ]);
    expect(cp.latest.completed).toMatchObject({
      id: 1,
      end_to_end_duration: 120,
      state_size: 4096,
      alignment_duration: 3,
      trigger_timestamp: at(10, 10),
    });
    expect(cp.latest.savepoint).toMatchObject({ id: 3, external_path: '/tmp/sp/savepoint-3' });
    expect(cp.latest.failed).toMatchObject({ id: 2, failure_message: 'declined by Map (subtask 1)' });

    const ex = (await get(`/jobs/${JOB_ID}/exceptions`)).body;
    expect(ex.exceptionHistory.entries).toEqual([
      {
        exceptionName: 'boom',
        stacktrace: 'boom\n  at map',
        timestamp: at(10, 5),
        taskName: 'Map',
        subtask: 1,
        attempt: 1,
        action: 'restart',
        concurrentExceptions: [],
      },
    ]);

    const explained = (await get(`/jobs/${JOB_ID}/watermark-explain`)).body;
    expect(explained.jobId).toBe(JOB_ID);
    expect(explained.lines[1]).toMatch(/^Window\(Reduce\): window \[10:00:00, 11:00:00\) of 17 keys .* comes from partition orders-3 /);
  });

  it('answers 404 with a message for an unknown job, vertex, request or route, and 400 for a bad vertex id', async () => {
    const { get } = await observed();
    const other = 'ffffffffffffffffffffffffffffffff';
    for (const path of ['', '/plan', '/checkpoints', '/exceptions', '/watermark-explain', '/vertices/0', '/vertices/0/backpressure']) {
      expect(await get(`/jobs/${other}${path}`)).toMatchObject({ status: 404, body: { errors: [`job ${other} not found`] } });
    }
    expect(await get(`/jobs/${JOB_ID}/vertices/9`)).toMatchObject({
      status: 404,
      body: { errors: [`vertex 9 not found in job ${JOB_ID}`] },
    });
    expect(await get(`/jobs/${JOB_ID}/vertices/x/watermarks`)).toMatchObject({
      status: 400,
      body: { errors: [expect.stringMatching(/^params field 'vid' must match pattern/)] },
    });
    expect(await get('/nothing/here?x=1')).toEqual({
      status: 404,
      type: expect.stringMatching(/^application\/json/),
      body: { errors: ['not found: GET /nothing/here'] },
    });
    expect(await get(`/jobs/${JOB_ID}/savepoints/${'0'.repeat(32)}`)).toMatchObject({
      status: 404,
      body: { errors: [`savepoint request ${'0'.repeat(32)} not found for job ${JOB_ID}`] },
    });
  });

  it('counts a finished job as finished, with its end time', async () => {
    const { get, registry, job } = await observed();
    job.current = { ...ordersSample({ now: NOW + 2000, scale: 2 }), status: 'FINISHED' };
    job.finish();
    await job.result;
    await registry.sampleNow(JOB_ID);
    expect((await get('/overview')).body).toMatchObject({ 'jobs-running': 0, 'jobs-finished': 1, 'slots-total': 0 });
    expect((await get('/jobs/overview')).body.jobs[0]).toMatchObject({
      state: 'FINISHED',
      'end-time': NOW + 2000,
      duration: NOW + 2000 - at(10, 0),
    });
  });

  it('serves over HTTP on loopback without a token, with the dashboard at /', async () => {
    const observer = await startObserver({ intervalMs: 3_600_000 });
    closers.push(() => observer.close());
    expect(observer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(observer.token).toBeUndefined();
    observer.addJob(fakeJob());
    const res = await fetch(`${observer.url}/jobs`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ jobs: [{ id: JOB_ID, status: 'RUNNING' }] });
    // Encoded dots in a raw path (fetch would normalise them away) stay a (missing) job id; nothing is read from disk.
    const raw = (path: string) =>
      new Promise<[number, unknown]>((resolve, reject) => {
        const u = new URL(observer.url);
        request({ host: u.hostname, port: u.port, path }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve([res.statusCode ?? 0, JSON.parse(text)]));
        })
          .on('error', reject)
          .end();
      });
    expect(await raw('/jobs/%2e%2e')).toEqual([404, { errors: ['job .. not found'] }]);
    expect(await raw('/jobs/%2e%2e%2f%2e%2e%2fetc%2fpasswd/plan')).toEqual([404, { errors: ['job ../../etc/passwd not found'] }]);
    expect(await raw('/jobs/../../etc/passwd')).toEqual([404, { errors: ['not found: GET /jobs/../../etc/passwd'] }]);
    const page = await fetch(`${observer.url}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const post = await fetch(`${observer.url}/jobs/${JOB_ID}/savepoints`, { method: 'POST' });
    expect(post.status).toBe(202);
  });

  it("answers a two-input head's watermark per input with Flink's currentInput1/2Watermark beside the combined one", async () => {
    const registry = new MetricsRegistry({ intervalMs: 3_600_000 });
    const job = fakeJob();
    const sample = ordersSample();
    const head = sample.subtasks.find((s) => s.vertex === 2 && s.subtask === 0)!.operators[0];
    head.inputWatermarks = [at(10, 42, 10), at(10, 55)];
    job.current = sample;
    registry.addJob(job);
    await registry.sampleNow(JOB_ID);
    const app = await buildObserverApp(registry, {});
    closers.push(
      () => registry.close(),
      () => app.close(),
    );
    const res = await app.inject({ method: 'GET', url: `/jobs/${JOB_ID}/vertices/2/watermarks` });
    expect(res.json()).toEqual([
      { id: '0.currentInputWatermark', value: String(at(10, 42, 10)) },
      { id: '0.currentInput1Watermark', value: String(at(10, 42, 10)) },
      { id: '0.currentInput2Watermark', value: String(at(10, 55)) },
      { id: '1.currentInputWatermark', value: String(at(10, 42, 10)) },
    ]);
  });
});
