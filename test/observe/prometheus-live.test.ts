// /metrics of a real job on worker threads: scraped while it runs, the text parses; after it ends, the record counters equal the job result's, operator by operator.
import { afterEach, describe, expect, it } from 'vitest';
import { startJob, startObserver, type Observer } from '../../src/index.ts';
import { parsePrometheus } from './prometheus-parse.ts';

const COUNT = 60_000;

/** test/fixtures/jobs/paced-sum.ts: a paced generator 'Numbers' (so the job runs for a few samples) → key by n % 4 → running sum → collect. */
const JOB = 'test/fixtures/jobs/paced-sum.ts';

let observer: Observer | undefined;
afterEach(async () => {
  await observer?.close();
  observer = undefined;
});

/** Sums a family's samples per `operator` label for one job. */
function perOperator(text: string, name: string, jobId: string): Record<string, number> {
  const family = parsePrometheus(text).get(name);
  if (!family) throw new Error(`no ${name} in the scrape`);
  const out: Record<string, number> = {};
  for (const s of family.samples) if (s.labels.job_id === jobId) out[s.labels.operator] = (out[s.labels.operator] ?? 0) + s.value;
  return out;
}

describe('/metrics of a running job', () => {
  it('parses while the job runs, and its record counters equal the job result once it ended', async () => {
    observer = await startObserver({ port: 0, intervalMs: 200 });
    const client = await startJob(JOB, { observer, parallelism: 2, params: { count: COUNT, rate: 40_000 } });
    const scrape = async () => (await fetch(`${observer!.url}/metrics`)).text();

    // while it runs: a scrape with the job's subtasks in it, strictly parseable, counters below the total
    let during = '';
    for (let i = 0; i < 100; i++) {
      during = await scrape();
      if ((perOperator(during, 'weir_numRecordsOut', client.id).Numbers ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const running = perOperator(during, 'weir_numRecordsOut', client.id);
    expect(running.Numbers).toBeGreaterThan(0);
    expect(running.Numbers).toBeLessThan(COUNT);
    expect(parsePrometheus(during).get('weir_numRecordsIn')?.type).toBe('counter');

    const result = await client.result;
    // the registry takes a final sample when the job ends
    let after = '';
    for (let i = 0; i < 50; i++) {
      after = await scrape();
      if (perOperator(after, 'weir_numRecordsOut', client.id).Numbers === COUNT) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const recordsIn = perOperator(after, 'weir_numRecordsIn', client.id);
    const recordsOut = perOperator(after, 'weir_numRecordsOut', client.id);
    const expectedIn: Record<string, number> = {};
    const expectedOut: Record<string, number> = {};
    for (const [name, totals] of Object.entries(result.operators)) {
      expectedIn[name] = totals.recordsIn;
      expectedOut[name] = totals.recordsOut;
    }
    expect(recordsIn).toEqual(expectedIn);
    expect(recordsOut).toEqual(expectedOut);
    expect(recordsOut.Numbers).toBe(COUNT);
    // the job-level counters are there too
    const restarts = parsePrometheus(after)
      .get('weir_numRestarts')
      ?.samples.find((s) => s.labels.job_id === client.id);
    expect(restarts?.value).toBe(0);
  }, 60_000);
});
