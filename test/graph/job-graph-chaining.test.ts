// The job graph: operators chain on forward edges of equal parallelism, names and fingerprints are stable, bad graphs are refused.
import { describe, expect, it } from 'vitest';
import { ErrorCodes, StreamExecutionEnvironment, WeirError, executeJob } from '../../src/index.ts';

const env = (parallelism = 2) => new StreamExecutionEnvironment({ parallelism });

describe('chaining', () => {
  it('chains forward edges of equal parallelism and breaks at keyBy, rebalance and parallelism changes', () => {
    const e = env();
    e.fromSequence(1, 10)
      .map((n) => n)
      .filter(() => true)
      .keyBy((n) => n % 2)
      .sum()
      .map((n) => n)
      .setParallelism(3)
      .rebalance()
      .collect();
    const graph = e.buildJobGraph();
    expect(graph.vertices.map((v) => [v.name, v.parallelism])).toEqual([
      ['Source: Sequence Source -> Map #1 -> Filter', 2],
      ['Sum', 2],
      ['Map #4', 3],
      ['Collect Sink (default)', 2],
    ]);
    expect(graph.edges.map((e2) => e2.partitioner)).toEqual(['hash', 'rebalance', 'rebalance']);
    expect(graph.slots).toBe(3);
  });

  it('keeps a disableChaining() operator in its own task', () => {
    const e = env();
    e.fromSequence(1, 10)
      .map((n) => n)
      .disableChaining()
      .filter(() => true)
      .collect();
    expect(e.buildJobGraph().vertices.map((v) => v.name)).toEqual(['Source: Sequence Source', 'Map', 'Filter -> Collect Sink (default)']);
  });

  it('does not chain an operator with two inputs (union)', () => {
    const e = env();
    const a = e.fromSequence(1, 10);
    a.union(e.fromSequence(20, 30))
      .map((n) => n)
      .collect();
    const graph = e.buildJobGraph();
    expect(graph.vertices.map((v) => v.name)).toEqual([
      'Source: Sequence Source #0',
      'Source: Sequence Source #1',
      'Map -> Collect Sink (default)',
    ]);
    expect(graph.vertices[2].inputs).toHaveLength(2);
  });
});

describe('fingerprint', () => {
  const build = (p: number, extra = false) => {
    const e = env(p);
    const s = e
      .fromSequence(1, 10)
      .map((n) => n)
      .name('Square');
    (extra ? s.filter(() => true) : s).collect();
    return e.buildJobGraph().fingerprint;
  };
  it('is the same for the same graph and differs when the shape changes', () => {
    expect(build(2)).toBe(build(2));
    expect(build(2)).not.toBe(build(3));
    expect(build(2)).not.toBe(build(2, true));
  });

  it('makes a job that builds another graph on a worker fail clearly', async () => {
    const error = await executeJob('test/fixtures/jobs/thread-dependent.ts', { parallelism: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeirError);
    expect((error as WeirError).code).toBe(ErrorCodes.GRAPH_MISMATCH);
    expect((error as WeirError).message).toMatch(/differs from the coordinator's/);
  });

  it('refuses a module whose default export is not a job', async () => {
    const error = await executeJob('test/fixtures/jobs/not-a-job.ts').catch((e: unknown) => e);
    expect((error as WeirError).code).toBe(ErrorCodes.JOB_MODULE);
    expect((error as WeirError).message).toMatch(/must default-export a job made by defineJob/);
  });
});

describe('invalid graphs', () => {
  it('refuses an empty job, a parallel collection source, bad parallelism and duplicate uids', () => {
    expect(() => env().buildJobGraph()).toThrow(/the job has no operators/);
    expect(() => env().fromCollection([1]).setParallelism(2)).toThrow(/supports parallelism 1 at most, got 2/);
    expect(() =>
      env()
        .fromSequence(1, 2)
        .map((n) => n)
        .setParallelism(0),
    ).toThrow(/parallelism must be a positive integer, got 0/);
    expect(
      () => new StreamExecutionEnvironment({ parallelism: 300, maxParallelism: 128 }).fromSequence(1, 2).collect() && undefined,
    ).not.toThrow();
    const tooWide = new StreamExecutionEnvironment({ parallelism: 300, maxParallelism: 128 });
    tooWide.fromSequence(1, 2).collect();
    expect(() => tooWide.buildJobGraph()).toThrow(/parallelism 300 exceeds maxParallelism 128/);
    const dup = env();
    dup
      .fromSequence(1, 2)
      .uid('same')
      .map((n) => n)
      .uid('same')
      .collect();
    expect(() => dup.buildJobGraph()).toThrow(/two operators share the uid 'same'/);
    expect(() => env().setBufferTimeout(-5)).toThrow(/buffer timeout must be -1, 0 or a positive number/);
  });

  it('refuses running a definition object on threads', async () => {
    const { defineJob } = await import('../../src/index.ts');
    const job = defineJob((e) => void e.fromSequence(1, 3).collect());
    await expect(executeJob(job)).rejects.toThrow(/can only run in local mode/);
    expect((await executeJob(job, { mode: 'local' })).collected.default).toEqual([1, 2, 3]);
  });
});
