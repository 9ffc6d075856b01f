// Per-partition watermarks of the Kafka source against a real broker: an idle partition holds windows back, unless the strategy has idleness; the watermark explainer names the partition and suggests idleness.
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainWatermarks, startJob, type JobClient, type WatermarkExplanation } from '../../src/index.ts';
import { createTopic, type BrokerHandle } from '../../scripts/kafka/broker.mjs';
import { sharedBroker } from '../setup/shared-broker.ts';

const JOB = 'test/fixtures/jobs/kafka-idle-partitions.ts';
const T0 = 1_700_000_000_000;
/** Partition 0: 50 events over 5 s of event time (5 keys, 100 ms apart), then one at T0 + 10 s that moves its watermark past them. */
const EVENTS = [...Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 5}`, ts: T0 + i * 100 })), { key: 'last', ts: T0 + 10_000 }];
/** Every 1 s window of every key in the first 5 s counts 2. */
const EXPECTED = Array.from({ length: 5 }, (_, w) => Array.from({ length: 5 }, (_, k) => `k${k}@${T0 + w * 1000}=2`))
  .flat()
  .sort();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Kafka source per-partition watermarks', () => {
  let broker: BrokerHandle;
  let kafka: Kafka;
  let producer: Producer;

  beforeAll(async () => {
    broker = await sharedBroker();
    kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
  }, 300_000);

  afterAll(async () => {
    await producer?.disconnect();
  }, 60_000);

  /** Follows a topic from the beginning; `values` fills as records arrive. */
  async function follow(topic: string): Promise<{ values: string[]; consumer: Consumer }> {
    const values: string[] = [];
    const consumer = kafka.consumer({ groupId: `check-${topic}-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        values.push(String(message.value));
      },
    });
    return { values, consumer };
  }

  async function until(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }

  const counts = (values: string[]) =>
    values
      .map((v) => JSON.parse(v) as { key: string; start: number; count: number })
      .map((r) => `${r.key}@${r.start}=${r.count}`)
      .sort();

  async function run(name: string, idleMs: number | undefined) {
    const topics = { input: `${name}-in`, seen: `${name}-seen`, output: `${name}-out` };
    await createTopic(broker.bootstrap, topics.input, { partitions: 2 });
    await createTopic(broker.bootstrap, topics.seen, { partitions: 1 });
    await createTopic(broker.bootstrap, topics.output, { partitions: 1 });
    let checkpoints = 0;
    const client: JobClient = await startJob(JOB, {
      params: { bootstrap: broker.bootstrap, ...topics, ...(idleMs === undefined ? {} : { idleMs }) },
      onCheckpoint: () => void checkpoints++,
    });
    const ended = client.result.catch((e: unknown) => e);
    const seen = await follow(topics.seen);
    const output = await follow(topics.output);
    // the reader is open (a checkpoint passed) and, with idleness, partition 1 has gone idle before partition 0 gets data
    await until('the first checkpoints', () => checkpoints >= 3 + Math.ceil((idleMs ?? 0) / 100));
    await producer.send({ topic: topics.input, messages: EVENTS.map((e) => ({ value: JSON.stringify(e), partition: 0 })) });
    await until('every event through the source', () => seen.values.length >= EVENTS.length);
    return { client, ended, seen, output };
  }

  /** The explanation of the window operator (the only one with windows). */
  async function explainWindow(client: JobClient): Promise<{ e: WatermarkExplanation; op: WatermarkExplanation['operators'][number] }> {
    const e = explainWatermarks(client.graph, await client.sample());
    const ops = e.operators.filter((o) => o.windows !== undefined);
    expect(ops, e.lines.join('\n')).toHaveLength(1);
    return { e, op: ops[0] };
  }

  it('with withIdleness, an idle partition does not hold back the windows of the other', async () => {
    const { client, ended, seen, output } = await run('idle', 500);
    await until('all window counts', () => output.values.length >= EXPECTED.length);
    await sleep(1000); // nothing more may come: partition 0's watermark is at T0 + 10 s
    expect(counts(output.values)).toEqual(EXPECTED);
    // The explainer says so: the first five seconds' windows fired; the one window left, [T0 + 10 s, T0 + 11 s)
    // of key 'last', waits for partition 0 (idle too by now: it has had nothing for over 500 ms, so the
    // watermark stays where it left it), and no advice to set withIdleness.
    const { e, op } = await explainWindow(client);
    const text = e.lines.join('\n');
    expect(op.state, text).toBe('waiting');
    expect(op.windows, text).toEqual({ pending: 1, earliest: { start: T0 + 10_000, end: T0 + 11_000, keys: 1 } });
    expect(op.origin, text).toMatchObject({ split: 'idle-in-0', idle: true, lastEventTime: T0 + 10_000, watermark: T0 + 9_999 });
    expect(op.line).toContain('comes from partition idle-in-0');
    expect(op.line).toContain('is marked idle');
    expect(text).not.toContain('set withIdleness');
    await client.cancel();
    await ended;
    await seen.consumer.disconnect();
    await output.consumer.disconnect();
  }, 180_000);

  it('without idleness, the idle partition stalls the windows until it gets a record', async () => {
    const { client, ended, seen, output } = await run('stall', undefined);
    // every event went through the source, and more than ten watermark intervals (200 ms) pass: no window fires
    await sleep(3000);
    expect(output.values).toEqual([]);
    // The explainer names the partition that holds the watermark back and suggests idleness
    // (26 pending windows: 5 keys × 5 seconds, and key 'last' at T0 + 10 s).
    const stalled = await explainWindow(client);
    const text = stalled.e.lines.join('\n');
    expect(stalled.op.state, text).toBe('waiting');
    expect(stalled.op.windows, text).toEqual({ pending: 26, earliest: { start: T0, end: T0 + 1000, keys: 5 } });
    expect(stalled.op.waitsFor, text).toBe(T0 + 1000);
    expect(stalled.op.origin, text).toMatchObject({ split: 'stall-in-1', idle: false });
    expect(stalled.op.line).toContain('comes from partition stall-in-1');
    expect(stalled.op.line).toContain('is not marked idle (set withIdleness)');
    // a record in partition 1 moves its watermark: now the windows fire, with the same counts
    await producer.send({ topic: 'stall-in', messages: [{ value: JSON.stringify({ key: 'late-start', ts: T0 + 10_000 }), partition: 1 }] });
    await until('all window counts', () => output.values.length >= EXPECTED.length);
    await sleep(1000);
    expect(counts(output.values)).toEqual(EXPECTED);
    await client.cancel();
    await ended;
    await seen.consumer.disconnect();
    await output.consumer.disconnect();
  }, 180_000);
});
