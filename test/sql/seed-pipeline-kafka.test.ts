// The seed pipeline in SQL against a real Kafka broker: orders from a topic (JSON, bounded at the latest offsets) → hourly revenue per customer into a topic with exactly-once delivery, read read_committed, exact against the independent computation with late rows counted; the Kafka timestamp as a METADATA column.
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, type BrokerHandle } from '../../scripts/kafka/broker.mjs';
import { sharedBroker } from '../setup/shared-broker.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';
import { expected, iso, orders } from './seed-helpers.ts';

describe('the seed pipeline in SQL on Kafka', () => {
  let broker: BrokerHandle;
  let producer: Producer;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    broker = await sharedBroker();
    producer = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
  }, 300_000);

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
  }, 60_000);

  it('gives the exact hourly revenue per customer, exactly once, late rows counted (seed 13)', async () => {
    const rows = orders(13, 2000, 97);
    const want = expected(rows);
    expect(want.late).toBeGreaterThan(5);
    await createTopic(broker.bootstrap, 'orders', { partitions: 1 });
    await createTopic(broker.bootstrap, 'revenue', { partitions: 2 });
    const base = Date.now() - 3_600_000;
    await producer.send({
      topic: 'orders',
      messages: rows.map((o, i) => ({
        value: JSON.stringify({ order_id: o.id, customer: o.customer, amount: o.amount, ts: iso(o.ts) }),
        timestamp: String(base + i),
      })),
    });

    const env = TableEnvironment.create({ parallelism: 1 });
    await env.executeScript(`
      SET 'execution.checkpointing.interval' = '200 ms';
      CREATE TABLE orders (
        order_id BIGINT,
        customer STRING,
        amount BIGINT,
        ts TIMESTAMP(3),
        produced TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
        WATERMARK FOR ts AS ts - INTERVAL '30' SECOND
      ) WITH (
        'connector' = 'kafka', 'topic' = 'orders', 'properties.bootstrap.servers' = '${broker.bootstrap}',
        'properties.group.id' = 'revenue-sql', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',
        'format' = 'json'
      );
      CREATE TABLE hourly_revenue (customer STRING, window_start TIMESTAMP(3), revenue BIGINT) WITH (
        'connector' = 'kafka', 'topic' = 'revenue', 'properties.bootstrap.servers' = '${broker.bootstrap}',
        'format' = 'json', 'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'revenue-sql'
      );`);
    // the metadata column reads the records' Kafka timestamps
    const produced = await env.sqlQuery('SELECT order_id, produced FROM orders').execute();
    expect(produced.rows.map((r) => (r.produced as number) - (r.order_id as number))).toEqual(rows.map(() => base - 1));

    const [result] = await env.executeScript(`
      INSERT INTO hourly_revenue
      SELECT customer, window_start, SUM(amount) AS revenue
      FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' HOUR))
      WHERE amount > 0
      GROUP BY customer, window_start, window_end;`);
    expect(result.lateRowsDropped).toBe(want.late);

    consumer = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).consumer({
      groupId: 'revenue-check',
      readUncommitted: false,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: 'revenue', fromBeginning: true });
    const got = new Map<string, number>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${got.size} of ${want.revenue.size} rows`)), 30_000);
      void consumer?.run({
        eachMessage: async ({ message }) => {
          const r = JSON.parse(String(message.value)) as { customer: string; window_start: string; revenue: number };
          const key = `${r.customer},${r.window_start}`;
          expect(got.has(key)).toBe(false);
          got.set(key, r.revenue);
          if (got.size === want.revenue.size) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    expect(new Map([...got].sort())).toEqual(new Map([...want.revenue].sort()));
  }, 180_000);
});
