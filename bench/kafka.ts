//! Kafka → weir → Kafka throughput at parallelism 1 and 2, at least once and exactly once, against a plain kafkajs consume-transform-produce loop in the same run.
//
//   npm run bench:kafka                            300k records, 3 runs per mode (starts its own broker)
//   npm run bench:kafka -- --records 100000 --runs 1
//   WEIR_KAFKA_BOOTSTRAP=HOST:PORT npm run bench:kafka    (your cluster)
//
// Every mode reads the same input topic (2 partitions, JSON records) from the beginning to its
// end, applies the same map and writes a fresh output topic (2 partitions). Rates are input
// records over the wall time of the whole run: for weir the whole `executeJob` call (thread
// start-up, consumer group join and the final commit included), for the loop from connecting to
// the last acknowledged send. Each output topic is read back (read_committed) and checked: every
// input record once. Checkpoints every second in every weir mode.

import { Kafka, logLevel, type Admin } from 'kafkajs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { executeJob } from '../src/index.ts';
import { startBroker, tempDataDir, type BrokerHandle } from '../scripts/kafka/broker.mjs';
import { inputRecord, transform, type InputRecord, type OutputRecord } from './kafka-lib.ts';
import { formatCount, formatRate, machineInfo, machineLine, median, sourceRevision, textTable, writeResults } from './lib/report.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const JOB = join(here, 'kafka-job.ts');

/** A way of moving the input topic to an output topic. */
interface Mode {
  id: string;
  label: string;
  parallelism?: number;
  guarantee?: 'at-least-once' | 'exactly-once';
}

const MODES: Mode[] = [
  { id: 'loop', label: 'kafkajs loop (consume → map → produce)' },
  { id: 'p1-alo', label: 'weir p=1 at-least-once', parallelism: 1, guarantee: 'at-least-once' },
  { id: 'p1-eo', label: 'weir p=1 exactly-once', parallelism: 1, guarantee: 'exactly-once' },
  { id: 'p2-alo', label: 'weir p=2 at-least-once', parallelism: 2, guarantee: 'at-least-once' },
  { id: 'p2-eo', label: 'weir p=2 exactly-once', parallelism: 2, guarantee: 'exactly-once' },
];

function parseOptions() {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '300000' },
      runs: { type: 'string', default: '3' },
      modes: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const records = Number(values.records.replace(/_/g, ''));
  const runs = Number(values.runs);
  if (!Number.isSafeInteger(records) || records < 1) throw new RangeError(`--records must be a positive integer, got ${values.records}`);
  if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError(`--runs must be a positive integer, got ${values.runs}`);
  const ids = values.modes?.split(',') ?? MODES.map((m) => m.id);
  const modes = MODES.filter((m) => m.id === 'loop' || ids.includes(m.id));
  return { records, runs, modes, out: values.out ?? join(here, 'results', 'kafka.json') };
}

/** The plain kafkajs loop: one consumer, one producer, each fetched batch mapped and sent (awaited) before the next. */
async function loop(kafka: Kafka, input: string, output: string, records: number): Promise<number> {
  const t0 = performance.now();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: `bench-loop-${output}`, maxWaitTimeInMs: 200 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [input], fromBeginning: true });
  let consumed = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          const messages = batch.messages.map((m) => {
            const r = transform(JSON.parse(String(m.value)) as InputRecord);
            return { key: r.key, value: JSON.stringify(r) };
          });
          await producer.send({ topic: output, messages });
          consumed += messages.length;
          if (consumed >= records) resolve();
        },
      })
      .catch(reject);
  });
  const ms = performance.now() - t0;
  await consumer.disconnect();
  await producer.disconnect();
  return ms;
}

/** Reads a topic to its end (read_committed) and checks it holds every input record's output exactly once. */
async function check(kafka: Kafka, admin: Admin, topic: string, records: number): Promise<string> {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
  const seen = new Uint8Array(records);
  let count = 0;
  let wrong = 0;
  const consumer = kafka.consumer({ groupId: `bench-check-${topic}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reading ${topic} took more than 300 s`)), 300_000);
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      const last = (e.payload as { lastOffset?: string | null }).lastOffset;
      const high = ends.get(e.payload.partition);
      if (high !== undefined && last !== null && last !== undefined && BigInt(last) >= high - 1n) pending.delete(e.payload.partition);
      if (pending.size === 0) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const r = JSON.parse(String(message.value)) as OutputRecord;
      count++;
      const expected = transform(inputRecord(r.i));
      if (r.cents !== expected.cents || r.big !== expected.big || r.key !== expected.key || seen[r.i]++ > 0) wrong++;
    },
  });
  if (pending.size > 0) await done;
  await consumer.disconnect();
  const missing = seen.reduce((n, s) => n + (s === 0 ? 1 : 0), 0);
  return count === records && wrong === 0 && missing === 0 ? 'ok' : `BAD: ${count} records, ${missing} missing, ${wrong} wrong or repeated`;
}

async function main(): Promise<void> {
  const options = parseOptions();
  const machine = machineInfo();
  const startedAt = new Date();
  const revision = sourceRevision();
  const command = `npm run bench:kafka${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  console.log(
    `weir Kafka benchmark — ${startedAt.toISOString()}${revision ? ` — weir ${revision.commit}${revision.srcDirty ? ' + uncommitted src/ changes' : ''}` : ''}`,
  );
  console.log(machineLine(machine));

  let broker: BrokerHandle | undefined;
  const bootstrap = process.env.WEIR_KAFKA_BOOTSTRAP || (broker = await startBroker({ dataDir: tempDataDir('kafka-bench') })).bootstrap;
  console.log(`Kafka ${broker ? `${broker.version}, local single-node broker` : 'cluster'} at ${bootstrap}`);
  const kafka = new Kafka({ clientId: 'weir-bench', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const stamp = Date.now().toString(36);
    const input = `bench-in-${stamp}`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    for (let from = 0; from < options.records; from += 10_000) {
      const messages = [];
      for (let i = from; i < Math.min(options.records, from + 10_000); i++) {
        const r = inputRecord(i);
        messages.push({ key: r.key, value: JSON.stringify(r), partition: i % 2 });
      }
      await producer.send({ topic: input, messages });
    }
    await producer.disconnect();
    console.log(
      `input: ${formatCount(options.records)} JSON records in 2 partitions; median of ${options.runs} run(s), runs interleaved across modes; command: ${command}\n`,
    );

    const wall = new Map<string, number[]>(options.modes.map((m) => [m.id, []]));
    const checks = new Map<string, string[]>(options.modes.map((m) => [m.id, []]));
    for (let run = 1; run <= options.runs; run++) {
      for (const mode of options.modes) {
        const output = `bench-out-${stamp}-${mode.id}-${run}`;
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic: output, numPartitions: 2 }] });
        let ms: number;
        if (mode.id === 'loop') ms = await loop(kafka, input, output, options.records);
        else {
          const t0 = performance.now();
          await executeJob(JOB, {
            parallelism: mode.parallelism,
            params: { bootstrap, input, output, guarantee: mode.guarantee as string },
          });
          ms = performance.now() - t0;
        }
        const ok = await check(kafka, admin, output, options.records);
        await admin.deleteTopics({ topics: [output] }).catch(() => undefined);
        (wall.get(mode.id) as number[]).push(ms);
        (checks.get(mode.id) as string[]).push(ok);
        console.log(
          `  run ${run}/${options.runs} ${mode.id.padEnd(7)} ${ms.toFixed(0).padStart(7)} ms  ${formatRate(options.records / (ms / 1000)).padStart(10)}  ${ok}`,
        );
      }
    }

    const loopRate = options.records / (median(wall.get('loop') as number[]) / 1000);
    const rows: string[][] = [];
    const results = [];
    for (const mode of options.modes) {
      const runs = wall.get(mode.id) as number[];
      const rate = options.records / (median(runs) / 1000);
      const bad = (checks.get(mode.id) as string[]).filter((c) => c !== 'ok');
      rows.push([
        mode.label,
        median(runs).toFixed(0),
        formatRate(rate),
        mode.id === 'loop' ? '1.00×' : `${(rate / loopRate).toFixed(2)}×`,
        runs.map((x) => x.toFixed(0)).join(' '),
        bad.length === 0 ? 'ok' : bad.join('; '),
      ]);
      results.push({
        mode: mode.id,
        label: mode.label,
        wallMs: runs,
        medianRate: rate,
        ratioToLoop: rate / loopRate,
        checks: checks.get(mode.id),
      });
    }
    console.log(`\nKafka → map → Kafka, ${formatCount(options.records)} records`);
    console.log(textTable(['mode', '>median ms', '>rate', '>vs loop', '>runs (ms)', 'output check'], rows));
    writeResults(
      options.out,
      { benchmark: 'kafka', startedAt, command, revision, machine },
      { kafka: broker ? `${broker.version} local` : 'external', records: options.records, runs: options.runs, results },
    );
  } finally {
    await admin.disconnect();
    await broker?.stop({ removeData: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
