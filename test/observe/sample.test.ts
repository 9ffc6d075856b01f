// Live samples of a running job (JobClient.sample()): exact counters, watermarks, pending windows and timers, splits, backpressure time, restarts and the checkpoint history.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  GlobalWindows,
  Time,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  defineJob,
  fileSource,
  generatorSource,
  startJob,
  type OperatorContext,
  type ReaderOutput,
  type Source,
  type SinkWriter,
  type SourceReader,
  type StateBackendConfig,
} from '../../src/index.ts';
import type { JobSample, SubtaskSample } from '../../src/core/index.ts';
import { spin } from '../fixtures/sinks.ts';
import { SAMPLE_WALK_LIMIT } from '../../src/actors/window-operator.ts';

const BACKENDS: [string, StateBackendConfig][] = [
  ['heap', { kind: 'heap' }],
  ['rocksdb', { kind: 'rocksdb', cacheKeys: 64 }],
];

const scratch = mkdtempSync(join(tmpdir(), 'weir-sample-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const operator = (sample: JobSample, name: string) => {
  const found = sample.subtasks.flatMap((s) => s.operators.filter((o) => o.name === name));
  if (found.length === 0)
    throw new Error(`no operator '${name}' in ${sample.subtasks.flatMap((s) => s.operators.map((o) => o.name)).join(', ')}`);
  return found;
};
const subtasksOf = (sample: JobSample, operatorName: string): SubtaskSample[] =>
  sample.subtasks.filter((s) => s.operators.some((o) => o.name === operatorName));

/** Samples until `done` holds (no time limit of its own: the test's timeout is the limit). */
async function sampleUntil(client: { sample(): Promise<JobSample> }, done: (s: JobSample) => boolean): Promise<JobSample> {
  for (;;) {
    const sample = await client.sample();
    if (done(sample)) return sample;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Ev {
  k: string;
  ts: number;
}

/** Emits `events`, then waits for `release` (a promise the test settles) before it ends. */
function gatedSource(events: Ev[], release: Promise<void>, name = 'Gated'): Source<Ev> {
  return {
    name,
    maxParallelism: 1,
    createReader: (): SourceReader<Ev> => {
      let i = 0;
      let released = false;
      void release.then(() => (released = true));
      return {
        pollNext(output: ReaderOutput<Ev>, max: number) {
          let n = 0;
          while (i < events.length && n < max) {
            output.collect(events[i], events[i].ts);
            i++;
            n++;
          }
          if (i < events.length) return 'more';
          return released ? 'end' : 'wait';
        },
        available: () => release,
      };
    },
  };
}

describe('JobClient.sample()', () => {
  it('has a 32-hex id, or the one given', async () => {
    const job = defineJob((env) => void env.fromSequence(1, 10).collect('out'));
    const client = await startJob(job, { mode: 'local' });
    expect(client.id).toMatch(/^[0-9a-f]{32}$/);
    await client.result;
    const given = await startJob(job, { mode: 'local', jobId: 'ab'.repeat(16) });
    expect(given.id).toBe('ab'.repeat(16));
    expect((await given.sample()).jobId).toBe('ab'.repeat(16));
    await given.result;
    await expect(startJob(job, { mode: 'local', jobId: 'nope' })).rejects.toThrow(/32 lower-case hex/);
  });

  for (const [backend, stateBackend] of BACKENDS) {
    it(`after a bounded job (${backend}): final sample with FINISHED, records in/out equal to the result's, generator splits`, async () => {
      const job = defineJob((env) => {
        env
          .fromSource(
            generatorSource({ count: 1000, generate: (i) => i, timestamp: (i) => i * 10, name: 'Numbers' }),
            WatermarkStrategy.forMonotonousTimestamps<number>(),
          )
          .setParallelism(2)
          .map((n) => n * 2)
          .name('Double')
          .keyBy((n) => n % 7)
          .sum()
          .name('Sum')
          .collect('out');
      });
      const client = await startJob(job, { mode: 'local', parallelism: 2, stateBackend });
      const before = await client.sample();
      expect(before.jobId).toBe(client.id);
      const result = await client.result;
      const sample = await client.sample();
      expect(sample.status).toBe('FINISHED');
      expect(sample.endTime).toBeGreaterThanOrEqual(sample.startTime);
      expect(sample.attempt).toBe(1);
      expect(sample.numRestarts).toBe(0);
      expect(sample.subtasks.length).toBe(result.subtasks.length);
      for (const [name, totals] of Object.entries(result.operators)) {
        const ops = operator(sample, name);
        expect(ops.reduce((n, o) => n + o.recordsIn, 0)).toBe(totals.recordsIn);
        expect(ops.reduce((n, o) => n + o.recordsOut, 0)).toBe(totals.recordsOut);
      }
      expect(operator(sample, 'Sum').reduce((n, o) => n + o.recordsIn, 0)).toBe(1000);
      // Keyed state: 7 keys over both subtasks.
      expect(operator(sample, 'Sum').reduce((n, o) => n + (o.state?.keys ?? 0), 0)).toBe(7);
      // Bytes: the 7 entries encoded (an estimate from sampled entries; each holds a number and its key).
      const bytes = operator(sample, 'Sum').reduce((n, o) => n + (o.state?.bytes ?? 0), 0);
      expect(bytes).toBeGreaterThanOrEqual(7 * 3);
      expect(bytes).toBeLessThan(7 * 64);
      const splits = subtasksOf(sample, 'Numbers').flatMap((s) => s.splits ?? []);
      expect(splits.map((s) => s.split).sort()).toEqual(['generator 0/2', 'generator 1/2']);
      expect(splits.map((s) => s.records).sort()).toEqual([500, 500]);
      expect(splits.map((s) => s.lastEventTime).sort()).toEqual([4990, 9990]);
      for (const s of splits) {
        expect(s.idle).toBe(false);
        expect(s.lastRecordAt).toBeGreaterThanOrEqual(sample.startTime);
      }
      // The end of input is the final watermark everywhere.
      for (const s of sample.subtasks) expect(s.currentOutputWatermark).toBe(Infinity);
      for (const s of subtasksOf(sample, 'Sum')) expect(s.inputWatermarks).toEqual([Infinity, Infinity]);
    });

    it(`shows pending windows, the earliest window and its keys, and event-time timers, while the job waits (${backend})`, async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const events: Ev[] = [
        { k: 'a', ts: 1000 },
        { k: 'b', ts: 2000 },
        { k: 'a', ts: 12000 },
        { k: 'b', ts: 13000 },
        { k: 'c', ts: 14000 },
        { k: 'a', ts: 21000 },
        { k: 'c', ts: 22000 },
        { k: 'b', ts: 33000 },
      ];
      const job = defineJob((env) => {
        env
          .fromSource(gatedSource(events, gate), WatermarkStrategy.forBoundedOutOfOrderness<Ev>(5000))
          .keyBy((e) => e.k)
          .window(TumblingEventTimeWindows.of(Time.seconds(10)))
          .process<string>((key, ctx, items, out) => {
            out.collect(`${key}@${(ctx.window() as { start: number }).start}:${[...items].length}`);
          })
          .name('Windows')
          .collect('out');
      });
      const client = await startJob(job, { mode: 'local', parallelism: 1, stateBackend });
      // Watermark 33000 - 5000 - 1 = 27999 fires [0, 10000) and [10000, 20000).
      const sample = await sampleUntil(client, (s) => {
        const w = s.subtasks.flatMap((t) => t.operators).find((o) => o.name === 'Windows');
        return w !== undefined && w.recordsIn === 8 && w.inputWatermarks?.[0] === 27999;
      });
      const [windows] = operator(sample, 'Windows');
      expect(windows.recordsOut).toBe(5);
      // Left: [20000, 30000) of a and c, [30000, 40000) of b.
      expect(windows.windows).toEqual({ pending: 3, earliest: { start: 20000, end: 30000, keys: 2 } });
      expect(windows.timers).toEqual({ pending: 3, earliest: 29999, earliestKeys: 2 });
      expect(windows.neverFires).toBeUndefined();
      const [task] = subtasksOf(sample, 'Windows');
      expect(task.currentInputWatermark).toBe(27999);
      const [source] = subtasksOf(sample, 'Gated');
      expect(source.splits).toEqual([
        expect.objectContaining({ split: '0/1', watermark: 27999, idle: false, records: 8, lastEventTime: 33000 }),
      ]);
      expect(sample.status).toBe('RUNNING');
      release();
      const result = await client.result;
      expect((result.collected.out as string[]).sort()).toEqual([
        'a@0:1',
        'a@10000:1',
        'a@20000:1',
        'b@0:1',
        'b@10000:1',
        'b@30000:1',
        'c@10000:1',
        'c@20000:1',
      ]);
    });
  }

  it("shows a two-input operator's watermark per input (Flink's currentInput1/2Watermark) and the lower one as its input watermark", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const job = defineJob((env) => {
      const strategy = WatermarkStrategy.forMonotonousTimestamps<Ev>();
      const left = env.fromSource(
        gatedSource(
          [
            { k: 'a', ts: 1000 },
            { k: 'b', ts: 3000 },
          ],
          gate,
          'Left',
        ),
        strategy,
      );
      const right = env.fromSource(gatedSource([{ k: 'c', ts: 10000 }], gate, 'Right'), strategy);
      left
        .connect(right)
        .map(
          (e) => `L${e.ts}`,
          (e) => `R${e.ts}`,
        )
        .name('Both')
        .collect('out');
    });
    const client = await startJob(job, { mode: 'local', parallelism: 1 });
    const sample = await sampleUntil(client, (s) => {
      const both = s.subtasks.flatMap((t) => t.operators).find((o) => o.name === 'Both');
      return both?.inputWatermarks?.[0] === 2999 && both.inputWatermarks[1] === 9999;
    });
    const [both] = operator(sample, 'Both');
    expect(both.inputWatermarks).toEqual([2999, 9999]);
    expect(both.recordsIn).toBe(3);
    const [task] = subtasksOf(sample, 'Both');
    expect(task.currentInputWatermark).toBe(2999);
    release();
    expect(((await client.result).collected.out as string[]).sort()).toEqual(['L1000', 'L3000', 'R10000']);
  });

  it('counts pending windows beyond the walk limit from the timer count, and still names the earliest window with its keys', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const keys = SAMPLE_WALK_LIMIT + 20_000;
    // every key once at 9999: the watermark stops at 9998, one pending window [0, 10000) per key
    const events: Ev[] = Array.from({ length: keys }, (_, i) => ({ k: `k${i}`, ts: 9999 }));
    const job = defineJob((env) => {
      env
        .fromSource(gatedSource(events, gate), WatermarkStrategy.forMonotonousTimestamps<Ev>())
        .keyBy((e) => e.k)
        .window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .aggregate({
          createAccumulator: () => 0,
          add: (_e: Ev, n: number) => n + 1,
          getResult: (n: number) => n,
          merge: (a: number, b: number) => a + b,
        })
        .name('Counts')
        .collect('out');
    });
    const client = await startJob(job, { mode: 'local', parallelism: 1 });
    const sample = await sampleUntil(
      client,
      (s) => s.subtasks.flatMap((t) => t.operators).find((o) => o.name === 'Counts')?.recordsIn === keys,
    );
    const [counts] = operator(sample, 'Counts');
    expect(counts.windows).toEqual({ pending: keys, earliest: { start: 0, end: 10_000, keys } });
    release();
    expect(((await client.result).collected.out as number[]).length).toBe(keys);
  });

  it('names windows that never fire: global windows without a trigger, and a noWatermarks strategy', async () => {
    const job = defineJob((env) => {
      env
        .fromSource(generatorSource({ count: 10, generate: (i) => i, name: 'Numbers' }), WatermarkStrategy.noWatermarks<number>())
        .setParallelism(1)
        .keyBy((n) => n % 2)
        .window(GlobalWindows.create())
        .reduce((a, b) => a + b)
        .name('Global')
        .collect('out');
    });
    const client = await startJob(job, { mode: 'local', parallelism: 1 });
    await client.result;
    const sample = await client.sample();
    expect(operator(sample, 'Global')[0].neverFires).toBe('global-window-without-trigger');
    expect(operator(sample, 'Numbers')[0].neverFires).toBe('no-watermarks');
  });

  it('shows file splits with their records and last event time', async () => {
    const dir = join(scratch, 'files');
    rmSync(dir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.jsonl'), [1, 2, 3].map((t) => JSON.stringify({ t: t * 1000 })).join('\n') + '\n');
    writeFileSync(join(dir, 'b.jsonl'), [7, 9].map((t) => JSON.stringify({ t: t * 1000 })).join('\n') + '\n');
    const job = defineJob((env) => {
      env
        .fromSource(
          fileSource<{ t: number }>({ path: dir, format: 'jsonl', name: 'Files' }),
          WatermarkStrategy.forMonotonousTimestamps<{ t: number }>().withTimestampAssigner((e) => e.t),
        )
        .setParallelism(1)
        .collect('out');
    });
    const client = await startJob(job, { mode: 'local', parallelism: 1 });
    await client.result;
    const sample = await client.sample();
    const splits = subtasksOf(sample, 'Files').flatMap((s) => s.splits ?? []);
    // Each file is read in one poll and released: no periodic watermark came before (the source's
    // watermark at the end is the final one).
    expect(splits.map((s) => [s.split, s.records, s.lastEventTime, s.watermark, s.idle])).toEqual([
      ['a.jsonl', 3, 3000, -Infinity, false],
      ['b.jsonl', 2, 9000, -Infinity, false],
    ]);
  });

  it('a slow sink: the source subtask was backpressured, the sink busy; metrics: false accounts no time', async () => {
    const job = defineJob((env) => {
      env
        .fromSource(generatorSource({ count: 20_000, generate: (i) => i, name: 'Fast' }))
        .rebalance()
        .sinkTo({
          name: 'Slow',
          createWriter: (_ctx: OperatorContext): SinkWriter<number> => ({ write: () => spin(20) }),
        });
    });
    const client = await startJob(job, { mode: 'local', parallelism: 1 });
    await client.result;
    const sample = await client.sample();
    const [fast] = subtasksOf(sample, 'Fast');
    const [slow] = subtasksOf(sample, 'Slow');
    expect(fast.backPressuredMs).toBeGreaterThan(0);
    expect(slow.busyMs).toBeGreaterThan(0);
    expect(slow.mailbox?.bound).toBeGreaterThan(0);
    expect(fast.credits?.total).toBeGreaterThan(0);
    expect(operator(sample, 'Slow')[0].recordsIn).toBe(20_000);

    const off = await startJob(job, { mode: 'local', parallelism: 1, metrics: false });
    await off.result;
    const quiet = await off.sample();
    for (const s of quiet.subtasks) expect([s.busyMs, s.idleMs, s.backPressuredMs]).toEqual([0, 0, 0]);
    expect(operator(quiet, 'Slow')[0].recordsIn).toBe(20_000);
  });

  it('on worker threads: a killed worker shows as a restart with its exception, and checkpoints with their sizes', async () => {
    let killed = false;
    let during: Promise<JobSample> | undefined;
    const client = await startJob('test/fixtures/jobs/paced-sum.ts', {
      parallelism: 2,
      params: { count: 3000, rate: 6000 },
      checkpointIntervalMs: 100,
      onCheckpoint: (checkpoint, attempt, job) => {
        if (checkpoint.id < 2 || attempt !== 1 || killed) return;
        killed = true;
        void job.killWorker(1);
      },
      onEvent: (event) => {
        if (event.kind === 'attempt-failed') during = client.sample();
      },
    });
    // Before the deploy (threads are still starting): no subtasks yet.
    const first = await client.sample();
    expect([first.status, first.subtasks, first.attempt, first.numRestarts]).toEqual(['CREATED', [], 1, 0]);
    const running = await sampleUntil(client, (s) => s.status === 'RUNNING' && s.subtasks.length > 0);
    expect(running.subtasks.map((s) => `${s.vertex}/${s.subtask}`).sort()).toEqual(
      client.graph.vertices.flatMap((v) => Array.from({ length: v.parallelism }, (_, i) => `${v.id}/${i}`)).sort(),
    );
    const result = await client.result;
    const restarting = await (during as Promise<JobSample>);
    expect(restarting.status).toBe('RESTARTING');
    expect(restarting.numRestarts).toBe(1);
    expect(restarting.exceptions).toEqual([expect.objectContaining({ attempt: 1, action: 'restart' })]);
    expect(restarting.exceptions[0].message).toMatch(/worker thread of slot 1 was lost/);
    const sample = await client.sample();
    expect(sample.status).toBe('FINISHED');
    expect(sample.attempt).toBe(2);
    expect(sample.numRestarts).toBe(result.faultTolerance.restarts);
    expect(sample.checkpoints.completed).toBe(result.faultTolerance.checkpointsCompleted);
    const completed = sample.checkpoints.history.filter((h) => h.status === 'COMPLETED');
    expect(completed.length).toBe(result.faultTolerance.checkpointsCompleted);
    // The keyed subtasks read two channels: their barriers align (the final checkpoint's, after the end of input, do not).
    expect(completed.some((h) => h.alignmentMs !== undefined && h.alignmentMs >= 0)).toBe(true);
    for (const h of completed) {
      expect(h.kind).toBe('checkpoint');
      expect(h.sizeBytes).toBeGreaterThan(0);
      expect(h.durationMs).toBeGreaterThanOrEqual(0);
    }
    for (const [name, totals] of Object.entries(result.operators))
      expect(operator(sample, name).reduce((n, o) => n + o.recordsIn, 0)).toBe(totals.recordsIn);
  });

  it('a savepoint shows in the checkpoint history with its folder', async () => {
    // On a worker thread: in local mode a paced source's savepoint waits for the end of the job (as on main, 8530d13).
    const client = await startJob('test/fixtures/jobs/paced-sum.ts', {
      parallelism: 1,
      params: { count: 20_000, rate: 4000 },
      checkpointIntervalMs: 60_000,
    });
    const taken = await client.stopWithSavepoint(join(scratch, 'savepoints'));
    const sample = await client.sample();
    expect(sample.status).toBe('FINISHED');
    const entry = sample.checkpoints.history.find((h) => h.id === taken.id);
    expect(entry).toEqual(expect.objectContaining({ kind: 'savepoint', status: 'COMPLETED', path: taken.path }));
    expect(entry?.sizeBytes).toBe([...taken.states.values()].reduce((n, b) => n + b.byteLength, 0));
    expect((await client.result).savepoint?.id).toBe(taken.id);
  });

  it('a slot that does not answer (its thread stalls in user code) contributes its previous sample', async () => {
    const client = await startJob('test/observe/fixtures/sample-stall.ts', {
      parallelism: 1,
      params: { count: 4000, stallAt: 1000, rate: 4000 },
    });
    let previous = await sampleUntil(client, (s) => s.status === 'RUNNING' && s.subtasks.length > 0);
    // The thread stalls for 2 s: some sample in that time comes back with the subtasks' previous one.
    for (;;) {
      const asked = Date.now();
      const sample = await client.sample();
      expect(sample.status).toBe('RUNNING');
      // Taken before it was asked for: the previous answer (a fresh one is taken after).
      if (sample.subtasks[0].at < asked) {
        expect(sample.subtasks).toEqual(previous.subtasks);
        break;
      }
      previous = sample;
    }
    const result = await client.result;
    expect(result.operators.Stall.recordsIn).toBe(4000);
  });
});
