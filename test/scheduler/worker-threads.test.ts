// Worker threads of a job: one bundle per job content, and threads kept across a restart.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, onTestFinished, describe, expect, it } from 'vitest';
import { executeJob, startJob } from '../../src/index.ts';
import { bundleJobForWorkers } from '../../src/scheduler/job-bundle.ts';

const scratchRoot = resolve('.weir-tmp');
mkdirSync(scratchRoot, { recursive: true });
const scratch = mkdtempSync(join(scratchRoot, 'worker-bundle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A job beside a helper module and a data file, importing weir from this checkout. */
function writeJob(dir: string, factor: number): string {
  mkdirSync(dir, { recursive: true });
  const weir = relative(dir, resolve('src/index.ts'));
  writeFileSync(join(dir, 'label.txt'), 'item\n');
  writeFileSync(join(dir, 'helper.ts'), `export const scale = (n: number): number => n * ${factor};\n`);
  writeFileSync(
    join(dir, 'job.ts'),
    [
      `import { readFileSync } from 'node:fs';`,
      `import { join } from 'node:path';`,
      `import { defineJob, generatorSource } from ${JSON.stringify(weir)};`,
      `import { scale } from './helper.js';`,
      `const label = readFileSync(join(import.meta.dirname, 'label.txt'), 'utf8').trim();`,
      `export default defineJob((env) => {`,
      `  env.fromSource(generatorSource({ count: 6, generate: (i) => i })).map((n: number) => \`\${label}-\${scale(n)}\`).collect('out');`,
      `});`,
    ].join('\n'),
  );
  return pathToFileURL(join(dir, 'job.ts')).href;
}

describe('worker bundle', () => {
  it('is built once per content of the job and its imports, and runs the job on worker threads', async () => {
    // Bundles are opt-in (see workerBundlesOn in src/scheduler/execute.ts).
    process.env.WEIR_WORKER_BUNDLE = '1';
    onTestFinished(() => {
      delete process.env.WEIR_WORKER_BUNDLE;
    });
    const dir = join(scratch, 'job');
    const job = writeJob(dir, 2);
    const first = await bundleJobForWorkers(job);
    expect(first).toMatch(/^file:.*worker-bundles.*\.mjs$/);
    expect(await bundleJobForWorkers(job)).toBe(first);
    // The bundle holds the job: each file keeps its own import.meta (the label file beside the job).
    expect(readFileSync(new URL(first as string), 'utf8')).toContain(JSON.stringify(dir));
    const result = await executeJob(job, { parallelism: 2 });
    expect((result.collected.out as string[]).sort()).toEqual(['item-0', 'item-10', 'item-2', 'item-4', 'item-6', 'item-8']);

    // A changed import is a new bundle, and the job runs the new code.
    writeJob(dir, 3);
    const second = await bundleJobForWorkers(job);
    expect(second).not.toBe(first);
    const again = await executeJob(job, { parallelism: 1 });
    expect((again.collected.out as string[]).sort()).toEqual(['item-0', 'item-12', 'item-15', 'item-3', 'item-6', 'item-9']);
  });
});

describe('worker threads across a restart', () => {
  it('keep the thread that survived a kill: three threads in all, not four, and every number exactly once', async () => {
    let killed = false;
    const client = await startJob('test/scheduler/fixtures/thread-ids.ts', {
      parallelism: 2,
      params: { count: 4000, rate: 4000, interval: 100 },
      onCheckpoint: (checkpoint, attempt, job) => {
        if (checkpoint.id < 2 || attempt !== 1 || killed) return;
        killed = true;
        void job.killWorker(1);
      },
    });
    const result = await client.result;
    expect(killed).toBe(true);
    expect(result.faultTolerance.restarts).toBe(1);
    const tagged = result.collected.tagged as [number, number][];
    expect(tagged.map(([n]) => n).sort((a, b) => a - b)).toEqual(Array.from({ length: 4000 }, (_, i) => i));
    // Attempt 1 ran on two threads; attempt 2 on the survivor and one replacement.
    expect(new Set(tagged.map(([, thread]) => thread)).size).toBe(3);
  });
});
