// /metrics: Prometheus text exposition through prom-client that parses back, with counters equal to the sampled numbers.
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../src/index.ts';
import { buildObserverApp, createPrometheusExporter } from '../../src/observe/index.ts';
import { JOB_ID, NOW, at, fakeJob, ordersGraph, ordersSample } from './rest-fixtures.ts';
import { parsePrometheus, type Family } from './prometheus-parse.ts';

const closers: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function scraped() {
  const registry = new MetricsRegistry({ intervalMs: 3_600_000 });
  const job = fakeJob();
  registry.addJob(job);
  await registry.sampleNow(JOB_ID);
  job.current = ordersSample({ now: NOW + 1000, scale: 2 });
  await registry.sampleNow(JOB_ID);
  closers.push(() => registry.close());
  return { registry, job };
}

const value = (f: Map<string, Family>, name: string, labels: Record<string, string>): number | undefined =>
  f.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('Prometheus /metrics', () => {
  it('serves text that parses, with HELP and TYPE for every family and the job, operator and subtask labels', async () => {
    const { registry } = await scraped();
    const app = await buildObserverApp(registry, {});
    closers.push(() => app.close());
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheus(res.body);
    for (const [name, f] of families) {
      expect(name, name).toMatch(/^weir_/);
      expect(f.help, name).toBeTruthy();
      expect(f.type, name).toMatch(/^(counter|gauge)$/);
    }
    expect([...families.keys()].sort()).toEqual(
      [
        'numRecordsIn',
        'numRecordsOut',
        'numRecordsInPerSecond',
        'numRecordsOutPerSecond',
        'numLateRecordsDropped',
        'currentInputWatermark',
        'currentOutputWatermark',
        'busyTimeMsPerSecond',
        'idleTimeMsPerSecond',
        'backPressuredTimeMsPerSecond',
        'mailboxQueued',
        'outputCreditsAvailable',
        'stateKeys',
        'stateBytesEstimate',
        'pendingTimers',
        'pendingWindows',
        'numRestarts',
        'lastCheckpointDuration',
        'lastCheckpointSize',
        'checkpointAlignmentTime',
        'numberOfCompletedCheckpoints',
        'numberOfFailedCheckpoints',
        'uptime',
      ]
        .map((n) => `weir_${n}`)
        .sort(),
    );
    expect(families.get('weir_numRecordsIn')?.type).toBe('counter');
    expect(families.get('weir_busyTimeMsPerSecond')?.type).toBe('gauge');
    for (const s of families.get('weir_numRecordsOut')?.samples ?? [])
      expect(Object.keys(s.labels).sort()).toEqual(['job', 'job_id', 'operator', 'subtask']);
    expect(families.get('weir_uptime')?.samples).toEqual([{ labels: { job: 'orders', job_id: JOB_ID }, value: NOW + 1000 - at(10, 0) }]);
  });

  it("has counters equal to the latest sample's numbers, and rates of the last interval", async () => {
    const { registry } = await scraped();
    const f = parsePrometheus(await createPrometheusExporter(registry).scrape());
    const sample = registry.latest(JOB_ID);
    if (!sample) throw new Error('no sample');
    let checked = 0;
    for (const s of sample.subtasks)
      for (const op of s.operators) {
        const labels = { job: 'orders', job_id: JOB_ID, operator: op.name, subtask: String(s.subtask) };
        expect(value(f, 'weir_numRecordsIn', labels)).toBe(op.recordsIn);
        expect(value(f, 'weir_numRecordsOut', labels)).toBe(op.recordsOut);
        expect(value(f, 'weir_numLateRecordsDropped', labels)).toBe(op.counters?.numLateRecordsDropped ?? 0);
        checked++;
      }
    expect(checked).toBe(7);
    const job = { job: 'orders', job_id: JOB_ID };
    expect([
      value(f, 'weir_numRestarts', job),
      value(f, 'weir_numberOfCompletedCheckpoints', job),
      value(f, 'weir_numberOfFailedCheckpoints', job),
      value(f, 'weir_lastCheckpointDuration', job),
      value(f, 'weir_lastCheckpointSize', job),
      value(f, 'weir_checkpointAlignmentTime', job),
    ]).toEqual([1, 2, 1, 250, 8192, 5]);
    const map0 = { operator: 'Map', subtask: '0' };
    expect(value(f, 'weir_numRecordsInPerSecond', map0)).toBe(500);
    expect(value(f, 'weir_backPressuredTimeMsPerSecond', map0)).toBe(600);
    expect(value(f, 'weir_pendingWindows', { operator: 'Window(Reduce)', subtask: '1' })).toBe(2);
    expect(value(f, 'weir_stateKeys', { operator: 'Window(Reduce)', subtask: '1' })).toBe(11);
    expect(value(f, 'weir_currentInputWatermark', { operator: 'Window(Reduce)', subtask: '0' })).toBe(at(10, 42, 10));
    expect(value(f, 'weir_mailboxQueued', { operator: 'Source: Kafka Orders', subtask: '0' })).toBe(0);
    expect(value(f, 'weir_outputCreditsAvailable', { operator: 'Source: Kafka Orders', subtask: '0' })).toBe(3);
    // A source has no input watermark.
    expect(value(f, 'weir_currentInputWatermark', { operator: 'Kafka Orders' })).toBeUndefined();
  });

  it('shows no watermark yet as -Inf, and keeps one registry per observer', async () => {
    const registry = new MetricsRegistry({ intervalMs: 3_600_000 });
    closers.push(() => registry.close());
    registry.addJob(fakeJob(ordersGraph(), ordersSample({ slow: Number.NEGATIVE_INFINITY })));
    await registry.sampleNow(JOB_ID);
    const a = createPrometheusExporter(registry);
    const b = createPrometheusExporter(new MetricsRegistry());
    const f = parsePrometheus(await a.scrape());
    expect(value(f, 'weir_currentOutputWatermark', { operator: 'Map', subtask: '1' })).toBe(-Infinity);
    expect(parsePrometheus(await b.scrape()).get('weir_numRecordsIn')?.samples).toEqual([]);
    expect(a.registry).not.toBe(b.registry);
  });
});
