// The exactly-once Kafka sink's loss window is closed: workers killed between a checkpoint's completion and its commit (before, during, after it), 20 times, and the topic read read_committed equals the failure-free run.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, executeJob, startJob, type ExecuteOptions, type JobResult, type WeirError } from '../../src/index.ts';
import { createTopic, readCommitted as readTopicCommitted, type BrokerHandle } from '../../scripts/kafka/broker.mjs';
import { sharedBroker } from '../setup/shared-broker.ts';
import { commitFaultOf } from '../fixtures/jobs/kafka-sink-commit-kills.ts';

const JOB = 'test/fixtures/jobs/kafka-sink-commit-kills.ts';
const KILLS = 20;

describe('exactly-once Kafka sink, kills between a checkpoint completing and its commit', () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await sharedBroker();
  }, 300_000);

  /**
   * Every record of the topic as Kafka's own consumer reads it with read_committed, to each partition's last stable offset (kafkajs'
   * consumer lets records of aborted transactions through when aborts of two producers interleave,
   * as kills leave them: see committedMessages in src/connectors/kafka/source.ts), with where each
   * value is (`partition@offset`).
   */
  async function readCommitted(topic: string): Promise<{ values: number[]; at: Map<number, string[]> }> {
    const values: number[] = [];
    const at = new Map<number, string[]>();
    for (const r of await readTopicCommitted(broker.bootstrap, topic)) {
      const m = /^\{"i":(\d+)\}$/.exec(r.value ?? '');
      if (!m) throw new Error(`unexpected record ${r.partition}@${r.offset} of ${topic}: ${r.value}`);
      const i = Number(m[1]);
      values.push(i);
      at.set(i, [...(at.get(i) ?? []), `${r.partition}@${r.offset}`]);
    }
    return { values, at };
  }

  /** Runs the job; resolves with its result and the number of kills its fault point took. */
  async function run(topic: string, count: number, params: Record<string, number>, options: Partial<ExecuteOptions> = {}) {
    await createTopic(broker.bootstrap, topic, { partitions: 2 });
    const faultDir = mkdtempSync(join(tmpdir(), 'weir-kafka-kills-'));
    try {
      const client = await startJob(JOB, {
        parallelism: 2,
        params: { bootstrap: broker.bootstrap, topic, count, faultDir, ...params },
        ...options,
      });
      const result: JobResult = await client.result;
      return { result, kills: readdirSync(faultDir).filter((f) => f.startsWith('fired-')).length };
    } finally {
      rmSync(faultDir, { recursive: true, force: true });
    }
  }

  const sorted = (values: number[]) => values.sort((a, b) => a - b);
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);

  it(`${KILLS} kills before, during and after commits: 0 lost, 0 duplicated`, async () => {
    // 30 s at 1,000 records/s: each kill cycle uses up to 0.8 s of it (measured under load), so all 20 come before the end
    const count = 30_000;
    const golden = await run('kills-golden', count, { kills: 0, restarts: 0, rate: 20_000 });
    expect(golden.result.faultTolerance.restarts).toBe(0);
    const goldenValues = sorted((await readCommitted('kills-golden')).values);
    expect(goldenValues).toEqual(range(count));

    const { result, kills } = await run('kills', count, { kills: KILLS, first: 3, rate: 1000 });
    const { values: read, at } = await readCommitted('kills');
    const values = sorted(read);
    const seen = new Set(values);
    const lost = count - seen.size;
    const duplicated = values.length - seen.size;
    const twice = [...at].filter(([, where]) => where.length > 1);
    if (twice.length > 0) console.log(`duplicated, with partition@offset: ${JSON.stringify(twice.slice(0, 5))}`);
    expect({ kills, restarts: result.faultTolerance.restarts }).toEqual({ kills: KILLS, restarts: KILLS });
    expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(values).toEqual(goldenValues);
  }, 600_000);

  it("a savepoint at parallelism 2 restored at parallelism 1: the removed subtask's transactions are settled by its marker, every record once", async () => {
    const topic = 'rescale';
    const count = 4000;
    await createTopic(broker.bootstrap, topic, { partitions: 2 });
    const savepoints = mkdtempSync(join(tmpdir(), 'weir-kafka-rescale-'));
    try {
      let stop: Promise<string> | undefined;
      const params = { bootstrap: broker.bootstrap, topic, count, faultDir: savepoints, kills: 0 };
      const client = await startJob(JOB, {
        parallelism: 2,
        params,
        onCheckpoint: (c, _a, cl) => {
          if (c.id === 3) stop = cl.stopWithSavepoint(savepoints).then((s) => s.path as string);
        },
      });
      const ended = await client.result;
      const path = await (stop as Promise<string>);
      // Stopped with a savepoint (not finished before it): the result names it.
      expect(ended.savepoint?.path).toBe(path);
      const result = await executeJob(JOB, { parallelism: 1, params, fromSavepoint: path });
      expect(result.faultTolerance.restarts).toBe(0);
      expect(sorted((await readCommitted(topic)).values)).toEqual(range(count));
    } finally {
      rmSync(savepoints, { recursive: true, force: true });
    }
  }, 180_000);
});
