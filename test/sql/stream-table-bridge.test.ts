// StreamTableEnvironment: a DataStream becomes a table with a rowtime and a watermark, a SQL window aggregate runs over it, and its rows come back as a DataStream — on two worker threads, planned only on the main thread.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { executeJob } from '../../src/scheduler/execute.ts';
import { StreamExecutionEnvironment } from '../../src/api/environment.ts';
import { StreamTableEnvironment } from '../../src/sql/stream-table-environment.ts';
import { clicks } from '../fixtures/jobs/sql-stream-bridge.ts';

const JOB = new URL('../fixtures/jobs/sql-stream-bridge.ts', import.meta.url);

/** The job's rows computed without SQL: per customer and 10 s window, clicks and distinct pages. */
function expected(n: number): string[] {
  const groups = new Map<string, { clicks: number; pages: Set<string> }>();
  for (const c of clicks(n)) {
    const start = c.ts - (c.ts % 10_000);
    const key = `${c.customer} ${start}`;
    const g = groups.get(key) ?? { clicks: 0, pages: new Set<string>() };
    g.clicks++;
    g.pages.add(c.url);
    groups.set(key, g);
  }
  return [...groups].map(([k, g]) => `${k} ${g.clicks} ${g.pages.size}`).sort();
}

describe('StreamTableEnvironment', () => {
  it('runs DataStream → SQL tumbling-window aggregate → DataStream on two threads with exactly the rows computed without SQL', async () => {
    const result = await executeJob(JOB, { parallelism: 2, params: { rows: '1000' } });
    const out = (result.collected.out as string[]).slice().sort();
    expect(out).toHaveLength(70); // 7 customers × 10 windows of 10 s
    expect(out).toEqual(expected(1000));
    expect(out.slice(0, 2)).toEqual(['c0 1700000000000 15 5', 'c0 1700000010000 14 5']);
  });

  it('gives the same rows on the calling thread (local mode)', async () => {
    const result = await executeJob(JOB, { mode: 'local', parallelism: 1, params: { rows: '300' } });
    expect((result.collected.out as string[]).slice().sort()).toEqual(expected(300));
  });

  it('refuses to plan on a worker thread that was not handed the plan, naming why', async () => {
    const loader = new URL('../../src/core/typescript-loader.mjs', import.meta.url).href;
    const probe = new URL('../fixtures/jobs/sql-stream-bridge-probe.ts', import.meta.url).href;
    const code = `const { parentPort } = require('node:worker_threads');
      (async () => {
        await (await import('${loader}')).registerTypeScript();
        return (await import('${probe}')).probe();
      })().then((r) => parentPort.postMessage(r), (e) => parentPort.postMessage('error: ' + e.message));`;
    const message = await new Promise<string>((resolve, reject) => {
      const w = new Worker(code, { eval: true });
      w.once('message', (m: string) => {
        void w.terminate();
        resolve(m);
      });
      w.once('error', reject);
    });
    expect(message).toContain('this worker thread was not handed the query');
  });

  it('refuses fromDataStream without a schema: JavaScript objects carry no column types', () => {
    const env = new StreamExecutionEnvironment();
    const tEnv = StreamTableEnvironment.create(env);
    expect(() => tEnv.fromDataStream(env.fromElements({ a: 1 }))).toThrow(/needs a Schema with the columns' SQL types/);
  });
});
