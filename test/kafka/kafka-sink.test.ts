// The Kafka sink against a real broker: exactly-once transactions read back with read_committed after a worker kill; at-least-once.
import { Kafka, logLevel } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startJob, type ExecuteOptions } from '../../src/index.ts';
import { committedMessages } from '../../src/connectors/kafka/source.ts';
import { createTopic, type BrokerHandle } from '../../scripts/kafka/broker.mjs';
import { sharedBroker } from '../setup/shared-broker.ts';

const JOB = 'test/fixtures/jobs/kafka-sink.ts';
const COUNT = 3000;

describe('kafkaSink', () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await sharedBroker();
  }, 300_000);

  /** Reads the topic from the beginning until `expected` records arrived and 1.5 s passed without more. */
  async function readAll(topic: string, readUncommitted: boolean, expected: number): Promise<number[]> {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `check-${topic}-${Date.now()}`, readUncommitted });
    const values: number[] = [];
    let last = Date.now();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      // committedMessages: kafkajs' own filter lets aborted records through when aborts of the two subtasks interleave
      eachBatch: async ({ batch }) => {
        for (const message of readUncommitted ? batch.messages : committedMessages(batch))
          values.push((JSON.parse(String(message.value)) as { i: number }).i);
        last = Date.now();
      },
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (values.length < expected || Date.now() - last < 3000)) await new Promise((r) => setTimeout(r, 100));
    await consumer.disconnect();
    return values;
  }

  async function run(topic: string, params: Record<string, string | number>, options: Partial<ExecuteOptions> = {}) {
    await createTopic(broker.bootstrap, topic, { partitions: 2 });
    const client = await startJob(JOB, {
      parallelism: 2,
      params: { bootstrap: broker.bootstrap, topic, count: COUNT, ...params },
      ...options,
    });
    return client.result;
  }

  it('exactly-once: a read_committed consumer sees each record once after a worker kill (after a commit)', async () => {
    let killed = false;
    const result = await run(
      'eo-kill',
      // checkpoints far enough apart that the kill lands before the next one completes
      { guarantee: 'exactly-once', interval: 400, rate: 1000 }, // 3 s: checkpoint 3 completes while the job runs
      {
        onCheckpointCommitted: (id, _a, client) => {
          if (killed || id < 3) return;
          killed = true;
          void client.killWorker(1).catch(() => undefined);
        },
      },
    );
    expect(killed).toBe(true);
    expect(result.faultTolerance.restarts).toBe(1);
    const values = (await readAll('eo-kill', false, COUNT)).sort((a, b) => a - b);
    expect(values.length).toBe(COUNT);
    expect(values).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    // the aborted transaction's records are in the log, invisible to read_committed
    const all = await readAll('eo-kill', true, COUNT);
    expect(all.length).toBeGreaterThanOrEqual(COUNT);
  }, 180_000);

  it('exactly-once: a worker killed as a checkpoint completes, before its commit, loses and duplicates nothing', async () => {
    let killed = false;
    const result = await run(
      'eo-window',
      { guarantee: 'exactly-once', interval: 400, rate: 1000 }, // 3 s: checkpoint 3 completes while the job runs
      {
        onCheckpoint: (c, _a, client) => {
          if (killed || c.id < 3) return;
          killed = true;
          void client.killWorker(1).catch(() => undefined);
        },
      },
    );
    expect(killed).toBe(true);
    expect(result.faultTolerance.restarts).toBe(1);
    const values = (await readAll('eo-window', false, COUNT)).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: COUNT }, (_, i) => i));
  }, 180_000);

  it('exactly-once without failures: every record once', async () => {
    const result = await run('eo', { guarantee: 'exactly-once' });
    expect(result.faultTolerance.restarts).toBe(0);
    const values = (await readAll('eo', false, COUNT)).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: COUNT }, (_, i) => i));
  }, 180_000);

  it('at-least-once without failures writes every record', async () => {
    const result = await run('alo', { guarantee: 'at-least-once' });
    expect(result.faultTolerance.restarts).toBe(0);
    const values = new Set(await readAll('alo', true, COUNT));
    expect(values.size).toBe(COUNT);
  }, 180_000);
});
