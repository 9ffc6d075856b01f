// Malformed Kafka records under each error policy, against a real broker: fail names topic/partition/offset; skip counts; dead-letter writes the raw record to a topic.
import { Kafka, logLevel, type IHeaders, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEAD_LETTER_HEADERS, startJob, type JobResult } from '../../src/index.ts';
import { createTopic, type BrokerHandle } from '../../scripts/kafka/broker.mjs';
import { sharedBroker } from '../setup/shared-broker.ts';

const JOB = 'test/fixtures/jobs/kafka-source.ts';
const N = 400;

/** Record i of the input: every 25th (from 7) is malformed, in a different way each time; each has a key and a header. */
function inputRecord(i: number): { key: string; value: Buffer; headers: IHeaders; partition: number; bad: boolean } {
  const bad = i % 25 === 7;
  const value = !bad
    ? Buffer.from(JSON.stringify({ i }))
    : i % 2 === 1
      ? Buffer.from([0xff, 0xfe, 0x00, i & 0xff]) // not UTF-8, not JSON
      : Buffer.from(`{"i": ${i}, truncated`);
  return { key: `k${i}`, value, headers: { origin: `test-${i}`, trace: Buffer.from([i & 0xff, 1]) }, partition: i % 2, bad };
}

const BAD = Array.from({ length: N }, (_, i) => i).filter((i) => inputRecord(i).bad);
const GOOD = Array.from({ length: N }, (_, i) => i).filter((i) => !inputRecord(i).bad);

/** Sum of one counter of the source over its subtasks. */
function sourceCounter(result: JobResult, name: string): number {
  let sum = 0;
  for (const s of result.subtasks) for (const op of s.operators) if (op.name === 'Kafka Source') sum += op.counters?.[name] ?? 0;
  return sum;
}

describe('kafkaSource error policies', () => {
  let broker: BrokerHandle;
  let producer: Producer;
  let kafka: Kafka;

  beforeAll(async () => {
    broker = await sharedBroker();
    kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
  }, 300_000);

  afterAll(async () => {
    await producer?.disconnect();
  }, 60_000);

  async function input(topic: string): Promise<void> {
    await createTopic(broker.bootstrap, topic, { partitions: 2 });
    await producer.send({
      topic,
      messages: Array.from({ length: N }, (_, i) => {
        const r = inputRecord(i);
        return { key: r.key, value: r.value, headers: r.headers, partition: r.partition };
      }),
    });
  }

  /** Every record of a topic (read_committed), once `expected` arrived and 2 s passed without more. */
  async function readTopic(topic: string, expected: number) {
    const consumer = kafka.consumer({ groupId: `check-${topic}-${Date.now()}` });
    const records: { key: string; value: Buffer; headers: Record<string, string> }[] = [];
    let last = Date.now();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = Buffer.isBuffer(v) ? v.toString('hex') : String(v);
        records.push({ key: String(message.key), value: message.value as Buffer, headers });
        last = Date.now();
      },
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (records.length < expected || Date.now() - last < 2000)) await new Promise((r) => setTimeout(r, 100));
    await consumer.disconnect();
    return records;
  }

  const ids = (result: JobResult) => (result.collected.out as { i: number }[]).map((r) => r.i).sort((a, b) => a - b);

  it('fail: the job fails with an error naming topic, partition and offset of the first malformed record', async () => {
    await input('err-fail');
    const client = await startJob(JOB, {
      parallelism: 2,
      params: { bootstrap: broker.bootstrap, topic: 'err-fail', onError: 'fail', restarts: 0 },
    });
    const error = await client.result.then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    // the first malformed record of either partition, whichever subtask gets there first: record 7
    // (partition 1 holds the odd records in order: offset 3) or record 32 (partition 0, offset 16)
    expect(error?.message).toMatch(/cannot deserialize the record of topic 'err-fail' partition (1 offset 3|0 offset 16): /);
    expect(error?.code).toBe('WEIR_USER_FUNCTION');
  }, 120_000);

  it('skip: malformed records are counted and every other record arrives exactly once', async () => {
    await input('err-skip');
    const client = await startJob(JOB, { parallelism: 2, params: { bootstrap: broker.bootstrap, topic: 'err-skip', onError: 'skip' } });
    const result = await client.result;
    expect(ids(result)).toEqual(GOOD);
    expect(sourceCounter(result, 'kafka.records_skipped')).toBe(BAD.length);
    expect(sourceCounter(result, 'kafka.records_dead_lettered')).toBe(0);
  }, 120_000);

  it('skip: the first skipped records are logged with partition, offset and reason, then their count', async () => {
    await input('err-skip-log');
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (String(chunk).startsWith('weir: Kafka source')) lines.push(...String(chunk).trimEnd().split('\n'));
      else return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
      return true;
    });
    let result: JobResult;
    try {
      const client = await startJob(JOB, {
        mode: 'local',
        parallelism: 2,
        params: { bootstrap: broker.bootstrap, topic: 'err-skip-log', onError: 'skip', logFirst: 3, logEveryMs: 600_000 },
      });
      result = await client.result;
    } finally {
      spy.mockRestore();
    }
    expect(ids(result)).toEqual(GOOD);
    expect(sourceCounter(result, 'kafka.records_skipped')).toBe(BAD.length);
    const reason = (i: number) => {
      try {
        JSON.parse(inputRecord(i).value.toString('utf8'));
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error(`record ${i} is valid`);
    };
    for (const partition of [0, 1]) {
      const who = `Kafka source 'Kafka Source' (subtask ${partition})`;
      const bad = BAD.filter((i) => i % 2 === partition);
      expect(lines.filter((l) => l.startsWith(`weir: ${who}`))).toEqual([
        ...bad
          .slice(0, 3)
          .map(
            (i) =>
              `weir: ${who} skipped a record it cannot deserialize: topic 'err-skip-log' partition ${partition} offset ${Math.floor(i / 2)}: ${reason(i)}`,
          ),
        `weir: ${who}: logged the first 3 skipped record(s); more are counted, one line every 600 s at most`,
        `weir: ${who} skipped ${bad.length - 3} more record(s) (${bad.length} in all)`,
      ]);
    }
  }, 120_000);

  it('skip with a worker kill: the total counts each malformed record once (the count is in the checkpoints)', async () => {
    await input('err-skip-kill');
    let killed = false;
    const client = await startJob(JOB, {
      parallelism: 2,
      params: { bootstrap: broker.bootstrap, topic: 'err-skip-kill', onError: 'skip', delayMs: 10, interval: 50, logFirst: 0 },
      onCheckpoint: (c, _a, cl) => {
        if (killed || c.id < 2) return;
        killed = true;
        void cl.killWorker(1).catch(() => undefined);
      },
    });
    const result = await client.result;
    expect(killed).toBe(true);
    expect(result.faultTolerance.restarts).toBe(1);
    expect(ids(result)).toEqual(GOOD);
    expect(sourceCounter(result, 'kafka.records_skipped')).toBe(BAD.length);
  }, 120_000);

  it('dead-letter: each malformed record lands raw on the dead-letter topic with its origin and error; the rest exactly once', async () => {
    await input('err-dlq');
    await createTopic(broker.bootstrap, 'err-dlq-dead', { partitions: 1 });
    const client = await startJob(JOB, {
      parallelism: 2,
      params: { bootstrap: broker.bootstrap, topic: 'err-dlq', onError: 'dead-letter', deadLetterTopic: 'err-dlq-dead' },
    });
    const result = await client.result;
    expect(ids(result)).toEqual(GOOD);
    expect(sourceCounter(result, 'kafka.records_dead_lettered')).toBe(BAD.length);
    expect(sourceCounter(result, 'kafka.records_skipped')).toBe(0);

    const dead = await readTopic('err-dlq-dead', BAD.length);
    expect(dead.length).toBe(BAD.length); // no failure, so exactly once
    const byKey = new Map(dead.map((d) => [d.key, d]));
    for (const i of BAD) {
      const r = inputRecord(i);
      const d = byKey.get(r.key);
      expect(d, `record ${i}`).toBeDefined();
      expect(Buffer.compare(d!.value, r.value), `value of record ${i}`).toBe(0);
      expect(d!.headers.origin).toBe(Buffer.from(`test-${i}`).toString('hex'));
      expect(d!.headers.trace).toBe(Buffer.from([i & 0xff, 1]).toString('hex'));
      expect(d!.headers[DEAD_LETTER_HEADERS.topic]).toBe(Buffer.from('err-dlq').toString('hex'));
      expect(d!.headers[DEAD_LETTER_HEADERS.partition]).toBe(Buffer.from(String(i % 2)).toString('hex'));
      expect(d!.headers[DEAD_LETTER_HEADERS.offset]).toBe(Buffer.from(String(Math.floor(i / 2))).toString('hex'));
      const reason = Buffer.from(d!.headers[DEAD_LETTER_HEADERS.error], 'hex').toString('utf8');
      expect(reason).toMatch(/JSON/);
    }
  }, 120_000);

  it('dead-letter with a worker kill: main output exactly once, every malformed record on the dead-letter topic at least once', async () => {
    await input('err-dlq-kill');
    await createTopic(broker.bootstrap, 'err-dlq-kill-dead', { partitions: 1 });
    let killed = false;
    const client = await startJob(JOB, {
      parallelism: 2,
      params: {
        bootstrap: broker.bootstrap,
        topic: 'err-dlq-kill',
        onError: 'dead-letter',
        deadLetterTopic: 'err-dlq-kill-dead',
        delayMs: 10, // 2 s of work per subtask: the kill lands while both still read
        interval: 50,
      },
      onCheckpoint: (c, _a, cl) => {
        if (killed || c.id < 2) return;
        killed = true;
        void cl.killWorker(1).catch(() => undefined);
      },
    });
    const result = await client.result;
    expect(killed).toBe(true);
    expect(result.faultTolerance.restarts).toBe(1);
    expect(ids(result)).toEqual(GOOD);
    const dead = await readTopic('err-dlq-kill-dead', BAD.length);
    expect(new Set(dead.map((d) => d.key))).toEqual(new Set(BAD.map((i) => `k${i}`)));
    expect(dead.length).toBeGreaterThanOrEqual(BAD.length);
    console.log(`dead letters after a kill: ${dead.length} for ${BAD.length} malformed records`);
  }, 120_000);
});
