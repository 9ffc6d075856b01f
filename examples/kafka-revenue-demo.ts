// One command for the Customer Revenue Pipeline on Kafka: a local broker (unless one is named), orders produced, examples/kafka-revenue.ts run, the output topic printed, the broker stopped.
//   npm run demo:kafka
//   npm run demo:kafka -- --orders 1000000 -p 2          (more orders; parallelism)
//   npm run demo:kafka -- --bootstrap HOST:PORT          (your cluster: nothing is started or stopped; WEIR_KAFKA_BOOTSTRAP works too)
//
// flags: --orders N (200,000), --hours H (12), --customers N (5,000), --delayed per-mille (2),
// --partitions N (4), -p N (2), --top N (3), --json (print the results as JSON instead of tables).
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { fileURLToPath } from 'node:url';
import { executeJob } from '../src/index.ts';
import { startBroker, tempDataDir } from '../scripts/kafka/broker.mjs';
import { orderAt, orderStreamConfig, type CustomerRevenue, type Order } from './revenue-pipeline.ts';

const JOB = fileURLToPath(new URL('./kafka-revenue.ts', import.meta.url));

function flags(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new RangeError(`unexpected argument ${argv[i]}`);
    if (m[2] !== undefined) out[m[1]] = m[2];
    else if (m[1] === 'json') out.json = 'true';
    else out[m[1]] = argv[++i];
  }
  return out;
}

/** Reads a topic from the beginning to the end offsets it has now (read_committed), decoding JSON values. */
async function readTopic<T>(kafka: Kafka, admin: Admin, topic: string): Promise<T[]> {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
  const pending = new Set([...ends].filter(([, o]) => o.high > o.low).map(([p]) => p));
  const values: T[] = [];
  if (pending.size === 0) return values;
  const consumer = kafka.consumer({ groupId: `kafka-revenue-demo-reader-${Date.now()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reading ${topic} took more than 120 s`)), 120_000);
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      const end = ends.get(e.payload.partition);
      const last = (e.payload as { lastOffset?: string | null }).lastOffset;
      // transaction markers hold the last offsets: a batch that reaches high - 1 has delivered everything
      if (end && last !== null && last !== undefined && BigInt(last) >= end.high - 1n) pending.delete(e.payload.partition);
      if (pending.size === 0) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(JSON.parse(String(message.value)) as T);
    },
  });
  await done;
  await consumer.disconnect();
  return values;
}

const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const integer = new Intl.NumberFormat('en-US');
const money = (cents: number): string => dollars.format(cents / 100);
const utc = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** A text table, numbers right-aligned. */
function table(rows: string[][], right: number[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => `  ${r.map((cell, c) => (right.includes(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ')}`.trimEnd())
    .join('\n');
}

async function main(): Promise<void> {
  const f = flags(process.argv.slice(2));
  const config = orderStreamConfig({
    orders: f.orders ?? '200000',
    hours: f.hours ?? '12',
    customers: f.customers ?? '5000',
    delayed: f.delayed ?? '2',
  });
  const json = f.json === 'true';
  const say = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);

  // 1. the broker: the one named, or a local one in a temp folder (started here, then stopped and removed here)
  const named = f.bootstrap || process.env.WEIR_KAFKA_BOOTSTRAP || undefined;
  const broker = named ? undefined : await startBroker({ quiet: false, dataDir: tempDataDir('kafka-demo') });
  const bootstrap = named ?? (broker?.bootstrap as string);
  const startedHere = broker !== undefined && !broker.attached;
  say(
    `Kafka at ${bootstrap}${named ? ' (given)' : startedHere ? ' (local broker started for this run)' : ' (local broker already running)'}`,
  );

  const kafka = new Kafka({ clientId: 'kafka-revenue-demo', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // 2. topics of this run
    const run = Date.now().toString(36);
    const topics = { orders: `orders-${run}`, output: `revenue-${run}`, late: `late-orders-${run}` };
    const partitions = Number(f.partitions ?? 4);
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: topics.orders, numPartitions: partitions },
        { topic: topics.output, numPartitions: partitions },
        { topic: topics.late, numPartitions: 1 },
      ],
    });

    // 3. the orders, keyed by customer (each partition keeps the order in which they were placed)
    const producing = performance.now();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const batch = 5000;
    for (let from = 0; from < config.orders; from += batch) {
      const messages = [];
      for (let i = from; i < Math.min(config.orders, from + batch); i++) {
        const o = orderAt(i, config);
        messages.push({ key: o.customerId, value: JSON.stringify(o), timestamp: String(o.ts) });
      }
      await producer.send({ topic: topics.orders, messages });
    }
    await producer.disconnect();
    const produced = performance.now();
    say(
      `produced ${integer.format(config.orders)} orders to '${topics.orders}' (${partitions} partitions) in ${((produced - producing) / 1000).toFixed(1)} s`,
    );

    // 4. the job
    const parallelism = Number(f.p ?? f.parallelism ?? 2);
    const result = await executeJob(JOB, {
      parallelism,
      params: { bootstrap, orders: topics.orders, output: topics.output, late: topics.late, txPrefix: `kafka-revenue-${run}` },
    });
    const ran = performance.now();
    say(
      `ran examples/kafka-revenue.ts at parallelism ${parallelism} in ${((ran - produced) / 1000).toFixed(1)} s (${result.faultTolerance.checkpointsCompleted} checkpoints)`,
    );

    // 5. what the job wrote, as a read_committed consumer sees it
    const revenue = await readTopic<CustomerRevenue>(kafka, admin, topics.output);
    const late = await readTopic<Order>(kafka, admin, topics.late);
    if (json) {
      process.stdout.write(`${JSON.stringify({ topics, orders: config.orders, revenue, late })}\n`);
      return;
    }
    const hours = new Map<number, CustomerRevenue[]>();
    for (const r of revenue) hours.set(r.windowStart, [...(hours.get(r.windowStart) ?? []), r]);
    const top = Number(f.top ?? 3);
    const rows: string[][] = [['hour (UTC)', 'revenue', 'customers', `top ${top}`]];
    for (const start of [...hours.keys()].sort((a, b) => a - b)) {
      const rs = (hours.get(start) as CustomerRevenue[]).sort((a, b) => b.revenue - a.revenue || (a.customerId < b.customerId ? -1 : 1));
      rows.push([
        utc(start),
        money(rs.reduce((s, r) => s + r.revenue, 0)),
        integer.format(rs.length),
        rs
          .slice(0, top)
          .map((r) => `${r.customerId} ${money(r.revenue)}`)
          .join(', '),
      ]);
    }
    say(`\nhourly revenue per customer, read from '${topics.output}' (read_committed, ${integer.format(revenue.length)} records)`);
    say(table(rows, [1, 2]));
    const paidLate = late.filter((o) => o.amount > 0);
    say(
      `late orders (their hour had closed), read from '${topics.late}': ${integer.format(paidLate.length)}, ${money(paidLate.reduce((s, o) => s + o.amount, 0))}`,
    );
    // the totals again, computed here from the same order stream without weir
    let paid = 0;
    for (let i = 0; i < config.orders; i++) {
      const amount = orderAt(i, config).amount;
      if (amount > 0) paid += amount;
    }
    const out = revenue.reduce((s, r) => s + r.revenue, 0) + paidLate.reduce((s, o) => s + o.amount, 0);
    say(
      `check: hourly revenue + late orders = ${money(out)}; paid orders produced = ${money(paid)} ${out === paid ? '(equal)' : '(DIFFERENT)'}`,
    );
    if (out !== paid) process.exitCode = 1;
  } finally {
    await admin.disconnect();
    if (startedHere) {
      await broker?.stop({ removeData: true });
      say('stopped the local broker and removed its data');
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
