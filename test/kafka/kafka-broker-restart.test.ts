// The broker is stopped and restarted while a Kafka → window count → exactly-once Kafka job runs: a read_committed reader still sees every result exactly once, and no transaction is left open.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJob } from '../../src/index.ts';
import { committedMessages } from '../../src/connectors/kafka/source.ts';
import { createTopic, runKafkaTool, startBroker, tempDataDir, type BrokerHandle } from '../../scripts/kafka/broker.mjs';

const JOB = 'test/fixtures/jobs/kafka-window-count.ts';
const N = 6000;
const KEYS = 20;

/** Event i: key k(i mod 20), 10 ms apart, so each 1 s window of a key counts 5 events. */
const event = (i: number) => ({ key: `k${i % KEYS}`, ts: 1_700_000_000_000 + i * 10 });

function expectedCounts(): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < N; i++) {
    const e = event(i);
    const id = `${e.key}@${e.ts - (e.ts % 1000)}`;
    m.set(id, (m.get(id) ?? 0) + 1);
  }
  return m;
}

// Its own broker: stopping the broker of another test file would disturb it.
describe('Kafka broker stopped and restarted mid-run', () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await startBroker({ dataDir: tempDataDir('kafka-restart-test') });
  }, 300_000);

  afterAll(async () => {
    await broker?.stop({ removeData: true });
  }, 60_000);

  it('the job recovers and a read_committed reader sees every window count exactly once; no transaction left open', async () => {
    await createTopic(broker.bootstrap, 'restart-in', { partitions: 2 });
    await createTopic(broker.bootstrap, 'restart-out', { partitions: 2 });
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    for (let from = 0; from < N; from += 1000)
      await producer.send({
        topic: 'restart-in',
        // per partition in timestamp order: partition = i mod 2
        messages: Array.from({ length: 1000 }, (_, k) => ({ value: JSON.stringify(event(from + k)), partition: (from + k) % 2 })),
      });
    await producer.disconnect();

    let outage: Promise<void> | undefined;
    let stoppedAtCheckpoint = 0;
    let stoppedAtMs = 0;
    let restartedAtMs = 0;
    const started = Date.now();
    const client = await startJob(JOB, {
      parallelism: 2,
      // 5 ms per event: 15 s of work per subtask, so the broker stops while the source still reads
      params: { bootstrap: broker.bootstrap, input: 'restart-in', output: 'restart-out', delayMs: 5, interval: 200 },
      onCheckpointCommitted: (id) => {
        if (outage !== undefined || id < 2) return;
        stoppedAtCheckpoint = id;
        outage = (async () => {
          // a clean stop, or a kill when the shutdown takes more than 5 s (it took 35 s once on the loaded machine)
          await broker.stop({ timeoutMs: 5000 });
          stoppedAtMs = Date.now() - started;
          await new Promise((r) => setTimeout(r, 3000));
          await broker.restart();
          restartedAtMs = Date.now() - started;
        })();
      },
    });
    const result = await client.result;
    const endedMs = Date.now() - started;
    expect(outage).toBeDefined();
    await outage;
    console.log(
      `broker stopped after checkpoint ${stoppedAtCheckpoint} (down ${stoppedAtMs}–${restartedAtMs} ms after the start, job ended at ${endedMs} ms); job restarts: ${result.faultTolerance.restarts}, checkpoints: ${result.faultTolerance.checkpointsCompleted}`,
    );
    expect(endedMs).toBeGreaterThan(restartedAtMs); // the job was still running when the broker came back

    // read_committed: every window's count once
    const expected = expectedCounts();
    const consumer = kafka.consumer({ groupId: `check-restart-${Date.now()}` });
    const seen: { id: string; count: number }[] = [];
    let last = Date.now();
    await consumer.connect();
    await consumer.subscribe({ topics: ['restart-out'], fromBeginning: true });
    await consumer.run({
      // committedMessages: kafkajs' own filter lets aborted records through when aborts of two producers interleave
      eachBatch: async ({ batch }) => {
        for (const message of committedMessages(batch)) {
          const r = JSON.parse(String(message.value)) as { key: string; start: number; count: number };
          seen.push({ id: `${r.key}@${r.start}`, count: r.count });
        }
        last = Date.now();
      },
    });
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && (seen.length < expected.size || Date.now() - last < 3000)) await new Promise((r) => setTimeout(r, 100));
    await consumer.disconnect();

    const ids = seen.map((s) => s.id);
    expect(new Set(ids).size, 'duplicates').toBe(ids.length);
    expect(new Map(seen.map((s) => [s.id, s.count]))).toEqual(expected);

    // no transaction of the sink is left open
    const list = await runKafkaTool('transactions', ['--bootstrap-server', broker.bootstrap, 'list']);
    expect(list.code, list.output).toBe(0);
    const ours = list.output.split('\n').filter((l) => l.startsWith('restart-out-'));
    expect(ours.length).toBeGreaterThan(0);
    for (const line of ours) expect(line, line).not.toMatch(/Ongoing|Prepare/);
  }, 300_000);
});
