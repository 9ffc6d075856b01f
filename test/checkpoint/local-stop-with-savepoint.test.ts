// Stop-with-savepoint in local mode: the job ends with the savepoint, its output stops exactly at the sources' savepoint position, and resuming continues exactly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  KeyedProcessFunction,
  RestartStrategies,
  ValueStateDescriptor,
  defineJob,
  executeJob,
  generatorSource,
  startJob,
  type Collector,
  type KeyedProcessContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { readSavepoint } from '../../src/tools/index.ts';

const COUNT = 40_000;
const KEYS = 4;

/** `[index, running count of its key]` for every index of the generator. */
class RunningCount extends KeyedProcessFunction<number, number, [number, number]> {
  private count!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count', 0));
  }
  processElement(i: number, _ctx: KeyedProcessContext, out: Collector<[number, number]>) {
    const c = (this.count.value() ?? 0) + 1;
    this.count.update(c);
    out.collect([i, c]);
  }
}

const job = defineJob((env, params) => {
  env.enableCheckpointing(30);
  env.setRestartStrategy(RestartStrategies.noRestart());
  env
    .fromSource(generatorSource({ count: COUNT, generate: (i) => i, recordsPerSecond: Number(params.rate) || undefined, name: 'Numbers' }))
    .uid('numbers')
    .keyBy((i) => i % KEYS)
    .process(new RunningCount())
    .uid('count')
    .collect('out', { exactlyOnce: true })
    .uid('collect');
});

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The indices the sources had emitted when the savepoint was taken: all but the ranges its readers still had to read. */
async function emittedBefore(path: string): Promise<Set<number>> {
  const remaining = (await readSavepoint(path).operator('numbers').functionStates()) as [number, number][][];
  const left = new Set<number>();
  for (const ranges of remaining) for (const [from, to] of ranges ?? []) for (let i = from; i < to; i++) left.add(i);
  const emitted = new Set<number>();
  for (let i = 0; i < COUNT; i++) if (!left.has(i)) emitted.add(i);
  return emitted;
}

const indices = (out: unknown) => new Set((out as [number, number][]).map(([i]) => i));

describe('stop-with-savepoint in local mode', () => {
  it('ends the job with the savepoint, stops the output at its source position, and resumes exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-local-stop-'));
    dirs.push(dir);
    // Paced at 10 000 records/s: about 4 s of input, far from the end when the savepoints are taken.
    const params = { rate: 10_000 };

    // Right after startJob, while the attempt is still opening its operators.
    const first = await startJob(job, { mode: 'local', parallelism: 2, params });
    const taken = await first.stopWithSavepoint(dir);
    const firstResult = await first.result;
    expect(firstResult.savepoint).toEqual({ id: taken.id, path: taken.path });
    expect((await first.sample()).status).toBe('FINISHED');
    const firstOut = firstResult.collected.out as [number, number][];
    expect(indices(firstOut)).toEqual(await emittedBefore(taken.path as string));

    // Resumed from it, stopped again mid-run (after its second checkpoint).
    let stopping: Promise<{ id: number; path?: string }> | undefined;
    const second = await startJob(job, {
      mode: 'local',
      parallelism: 2,
      params,
      fromSavepoint: taken.path,
      onCheckpoint: (c, _a, client) => {
        if (c.id === taken.id + 2) stopping = client.stopWithSavepoint(dir);
      },
    });
    const secondResult = await second.result;
    const again = await (stopping as Promise<{ id: number; path?: string }>);
    expect(secondResult.savepoint).toEqual({ id: again.id, path: again.path });
    const emitted = await emittedBefore(again.path as string);
    expect(emitted.size).toBeGreaterThan(0);
    expect(emitted.size).toBeLessThan(COUNT);
    const secondOut = secondResult.collected.out as [number, number][];
    expect(secondOut).toHaveLength(emitted.size - firstOut.length);
    expect(new Set([...indices(firstOut), ...indices(secondOut)])).toEqual(emitted);

    // The rest, unpaced: every index once, and each key's count runs 1, 2, … across the three runs.
    const last = await executeJob(job, { mode: 'local', parallelism: 2, params: { rate: 0 }, fromSavepoint: again.path });
    const all = [...firstOut, ...secondOut, ...(last.collected.out as [number, number][])];
    expect(all).toHaveLength(COUNT);
    expect(indices(all).size).toBe(COUNT);
    const counts = Array.from({ length: KEYS }, () => [] as number[]);
    for (const [i, c] of all) counts[i % KEYS].push(c);
    for (const perKey of counts) expect(perKey.sort((a, b) => a - b)).toEqual(Array.from({ length: COUNT / KEYS }, (_, n) => n + 1));
  });
});
