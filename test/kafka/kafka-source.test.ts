// The Kafka source against a real broker: split assignment, offsets restored after a worker kill, transactional topics (error policies: kafka-source-errors.test.ts).
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJob, type JobClient } from '../../src/index.ts';
import { createTopic, type BrokerHandle } from '../../scripts/kafka/broker.mjs';
import { sharedBroker } from '../setup/shared-broker.ts';

const JOB = 'test/fixtures/jobs/kafka-source.ts';
const N = 2000;

describe('kafkaSource', () => {
  let broker: BrokerHandle;
  let producer: Producer;

  beforeAll(async () => {
    broker = await sharedBroker();
    producer = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
  }, 300_000);

  afterAll(async () => {
    await producer?.disconnect();
  }, 60_000);

  async function produce(topic: string, values: (string | Buffer)[], partitions = 2) {
    await producer.send({ topic, messages: values.map((value, i) => ({ value, partition: i % partitions })) });
  }

  it('reads exactly N records from 2 partitions at parallelism 2, with offsets restored after a worker kill', async () => {
    await createTopic(broker.bootstrap, 'src-kill', { partitions: 2 });
    await produce(
      'src-kill',
      Array.from({ length: N }, (_, i) => JSON.stringify({ i })),
    );
    let killed = false;
    let client: JobClient | undefined;
    client = await startJob(JOB, {
      parallelism: 2,
      // 3 s of work per subtask: the kill lands while both still read (a subtask that already ended
      // has committed its output at the end of input, and a restore from an earlier checkpoint would replay it)
      params: { bootstrap: broker.bootstrap, topic: 'src-kill', delayMs: 3, interval: 50 },
      onCheckpoint: (c, _a, cl) => {
        if (killed || c.id < 2) return;
        killed = true;
        void cl.killWorker(1).catch(() => undefined);
      },
    });
    const result = await client.result;
    expect(killed).toBe(true);
    expect(result.faultTolerance.restarts).toBe(1);
    const out = (result.collected.out as { i: number }[]).map((r) => r.i).sort((a, b) => a - b);
    expect(out.length).toBe(N);
    expect(out).toEqual(Array.from({ length: N }, (_, i) => i));
  }, 120_000);

  it('reads a transactional topic to its end in bounded mode: committed records only, past the markers', async () => {
    await createTopic(broker.bootstrap, 'src-tx', { partitions: 2 });
    const tx = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).producer({
      transactionalId: 'src-tx-producer',
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await tx.connect();
    const send = async (from: number, commit: boolean) => {
      const t = await tx.transaction();
      await t.send({
        topic: 'src-tx',
        messages: Array.from({ length: 50 }, (_, k) => ({ value: JSON.stringify({ i: from + k }), partition: k % 2 })),
      });
      await (commit ? t.commit() : t.abort());
    };
    await send(0, true);
    await send(1000, false);
    await send(50, true);
    await tx.disconnect();
    const client = await startJob(JOB, { parallelism: 2, params: { bootstrap: broker.bootstrap, topic: 'src-tx' } });
    const result = await client.result;
    const out = (result.collected.out as { i: number }[]).map((r) => r.i).sort((a, b) => a - b);
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i));
  }, 120_000);

  it('reads only committed records when aborted transactions of two producers interleave (kafkajs alone lets one through)', async () => {
    await createTopic(broker.bootstrap, 'src-tx-interleaved', { partitions: 1 });
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const a = kafka.producer({ transactionalId: 'interleaved-a', idempotent: true, maxInFlightRequests: 1 });
    const b = kafka.producer({ transactionalId: 'interleaved-b', idempotent: true, maxInFlightRequests: 1 });
    await a.connect();
    await b.connect();
    const batch = (from: number) => ({
      topic: 'src-tx-interleaved',
      messages: Array.from({ length: 20 }, (_, k) => ({ value: JSON.stringify({ i: from + k }) })),
    });
    // a begins before b and is aborted after it: the broker lists b's aborted transaction first
    const ta = await a.transaction();
    await ta.send(batch(1000));
    const tb = await b.transaction();
    await tb.send(batch(2000));
    await tb.abort();
    await ta.abort();
    for (const [p, from] of [
      [a, 0],
      [b, 20],
      [a, 40],
    ] as const) {
      const t = await p.transaction();
      await t.send(batch(from));
      await t.commit();
    }
    await a.disconnect();
    await b.disconnect();
    const client = await startJob(JOB, { parallelism: 1, params: { bootstrap: broker.bootstrap, topic: 'src-tx-interleaved' } });
    expect(ids(await client.result)).toEqual(range(0, 60));
  }, 120_000);

  const ids = (result: { collected: Record<string, unknown[]> }) =>
    (result.collected.out as { i: number }[]).map((r) => r.i).sort((a, b) => a - b);
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

  it('reads every topic a pattern matches, and none other', async () => {
    for (const t of ['pat-orders-a', 'pat-orders-b', 'pat-other']) await createTopic(broker.bootstrap, t, { partitions: 2 });
    await produce(
      'pat-orders-a',
      range(0, 100).map((i) => JSON.stringify({ i })),
    );
    await produce(
      'pat-orders-b',
      range(100, 150).map((i) => JSON.stringify({ i })),
    );
    await produce(
      'pat-other',
      range(1000, 1010).map((i) => JSON.stringify({ i })),
    );
    const result = await (
      await startJob(JOB, { parallelism: 2, params: { bootstrap: broker.bootstrap, topicPattern: '^pat-orders-' } })
    ).result;
    expect(ids(result)).toEqual(range(0, 150));
  }, 120_000);

  it('starts at the first record at or after a timestamp', async () => {
    await createTopic(broker.bootstrap, 'src-time', { partitions: 2 });
    const base = 1_700_000_000_000;
    await producer.send({
      topic: 'src-time',
      messages: range(0, 200).map((i) => ({ value: JSON.stringify({ i }), partition: i % 2, timestamp: String(base + i * 10) })),
    });
    const result = await (
      await startJob(JOB, { parallelism: 2, params: { bootstrap: broker.bootstrap, topic: 'src-time', startFrom: `ts:${base + 1205}` } })
    ).result;
    // Records 121.. have timestamps at or after base + 1,210 ms; record 120 (base + 1,200) is before.
    expect(ids(result)).toEqual(range(121, 200));
  }, 120_000);

  it('commits offsets to its group when checkpoints complete, and a later job starts from them', async () => {
    await createTopic(broker.bootstrap, 'src-commit', { partitions: 2 });
    await produce(
      'src-commit',
      range(0, 300).map((i) => JSON.stringify({ i })),
    );
    const params = { bootstrap: broker.bootstrap, topic: 'src-commit', groupId: 'weir-commit-test', startFrom: 'committed' };
    // No committed offsets yet: the first job starts at the beginning.
    const first = await (await startJob(JOB, { parallelism: 2, params })).result;
    expect(ids(first)).toEqual(range(0, 300));
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: 'weir-commit-test', topics: ['src-commit'] });
    await admin.disconnect();
    // The final checkpoint's offsets: the end of each partition (150 records each).
    expect(committed[0].partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, '150'],
      [1, '150'],
    ]);
    await produce(
      'src-commit',
      range(300, 340).map((i) => JSON.stringify({ i })),
    );
    const second = await (await startJob(JOB, { parallelism: 2, params })).result;
    expect(ids(second)).toEqual(range(300, 340));
  }, 180_000);
});
