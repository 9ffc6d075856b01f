// The upsert-kafka SQL connector against a real broker: a topic of upserts and tombstones read as a normalized changelog (+I, -U/+U with the old row, -D with the old row), a changelog written as upserts and tombstones (-U dropped), key.fields-prefix with EXCEPT_KEY and CSV; and the must-show: upsert-kafka → GROUP BY → upsert-kafka exactly-once with a worker killed mid-stream, the output compacted by key equal to the independently computed final table.
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, readCommitted, type BrokerHandle } from '../../scripts/kafka/broker.mjs';
import { sharedBroker } from '../setup/shared-broker.ts';
import { ROW_KIND } from '../../src/sql/plan.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

type Row = Record<string, unknown>;

describe('upsert-kafka SQL connector', () => {
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

  /**
   * The records of `topic` as Kafka's own consumer reads them read_committed, to each partition's last stable offset:
   * `key|value` (a tombstone's value is `null`), in each partition's order.
   */
  async function records(topic: string): Promise<string[]> {
    return (await readCommitted(broker.bootstrap, topic)).map((r) => `${r.key}|${r.value}`);
  }

  /** The first `count` records of a one-partition `topic`, read read_committed with kafkajs (quicker than starting the console consumer's JVM; no aborted transactions here). */
  async function firstRecords(topic: string, count: number): Promise<string[]> {
    const consumer = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).consumer({
      groupId: `check-${topic}`,
      readUncommitted: false,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const got: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`read ${got.length} of ${count} records of ${topic}`)), 30_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            got.push(`${String(message.key)}|${message.value === null ? 'null' : String(message.value)}`);
            if (got.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      return got;
    } finally {
      await consumer.disconnect();
    }
  }

  /** The topic compacted: the last value of each key, a tombstone deleting it. */
  function compact(lines: string[]): Map<string, string> {
    const table = new Map<string, string>();
    for (const l of lines) {
      const at = l.indexOf('|');
      const [key, value] = [l.slice(0, at), l.slice(at + 1)];
      if (value === 'null') table.delete(key);
      else table.set(key, value);
    }
    return new Map([...table].sort());
  }

  const send = (topic: string, rows: [key: string, value: string | null][]) =>
    producer.send({ topic, messages: rows.map(([key, value]) => ({ key, value })) });

  const ratesTable = (name: string, topic: string, extra = '') => `
    CREATE TABLE ${name} (cur STRING, rate DOUBLE, PRIMARY KEY (cur) NOT ENFORCED) WITH (
      'connector' = 'upsert-kafka', 'topic' = '${topic}', 'properties.bootstrap.servers' = '${broker.bootstrap}',
      'key.format' = 'json', 'value.format' = 'json', 'scan.bounded.mode' = 'latest-offset'${extra});`;

  it('reads upserts and tombstones as a normalized changelog, and writes a changelog back as upserts and tombstones', async () => {
    await createTopic(broker.bootstrap, 'rates', { partitions: 1 });
    await createTopic(broker.bootstrap, 'rates-copy', { partitions: 1 });
    await send('rates', [
      ['{"cur":"EUR"}', '{"cur":"EUR","rate":1.1}'],
      ['{"cur":"USD"}', '{"cur":"USD","rate":1.0}'],
      ['{"cur":"EUR"}', '{"cur":"EUR","rate":1.2}'],
      ['{"cur":"USD"}', null],
      ['{"cur":"CHF"}', null],
      ['{"cur":"GBP"}', '{"cur":"GBP","rate":0.9}'],
      ['{"cur":"EUR"}', '{"cur":"EUR","rate":1.2}'],
    ]);
    const env = TableEnvironment.create({ parallelism: 1 });
    await env.executeScript(`
      SET 'execution.checkpointing.interval' = '100 ms';
      ${ratesTable('rates', 'rates')}
      CREATE TABLE rates_copy (cur STRING, rate DOUBLE, PRIMARY KEY (cur) NOT ENFORCED) WITH (
        'connector' = 'upsert-kafka', 'topic' = 'rates-copy', 'properties.bootstrap.servers' = '${broker.bootstrap}',
        'key.format' = 'json', 'value.format' = 'json',
        'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'rates-copy');`);
    const changelog = await env.executeSql('SELECT cur, rate FROM rates');
    expect(changelog.updating).toBe(true);
    expect(changelog.rows.map((r: Row) => `${String(r[ROW_KIND] ?? '+I')} ${String(r.cur)} ${String(r.rate)}`)).toEqual([
      '+I EUR 1.1',
      '+I USD 1',
      '-U EUR 1.1',
      '+U EUR 1.2',
      '-D USD 1',
      '+I GBP 0.9',
    ]);
    await env.executeSql('INSERT INTO rates_copy SELECT cur, rate FROM rates');
    // -U is not written; -D is a tombstone under the key
    expect(await firstRecords('rates-copy', 5)).toEqual([
      '{"cur":"EUR"}|{"cur":"EUR","rate":1.1}',
      '{"cur":"USD"}|{"cur":"USD","rate":1}',
      '{"cur":"EUR"}|{"cur":"EUR","rate":1.2}',
      '{"cur":"USD"}|null',
      '{"cur":"GBP"}|{"cur":"GBP","rate":0.9}',
    ]);
  }, 120_000);

  it("key.fields-prefix with 'value.fields-include' = 'EXCEPT_KEY', CSV values; a table without a PRIMARY KEY is refused", async () => {
    await createTopic(broker.bootstrap, 'prefixed', { partitions: 1 });
    await createTopic(broker.bootstrap, 'prefixed-out', { partitions: 1 });
    await send('prefixed', [
      ['{"id":1}', 'a,10'],
      ['{"id":2}', 'b,20'],
      ['{"id":1}', 'a,11'],
    ]);
    const env = TableEnvironment.create({ parallelism: 1 });
    const options = (
      topic: string,
    ) => `'connector' = 'upsert-kafka', 'topic' = '${topic}', 'properties.bootstrap.servers' = '${broker.bootstrap}',
        'key.format' = 'json', 'key.fields-prefix' = 'k_', 'value.format' = 'csv', 'value.fields-include' = 'EXCEPT_KEY'`;
    await env.executeScript(`
      CREATE TABLE src (k_id INT, name STRING, score INT, PRIMARY KEY (k_id) NOT ENFORCED)
        WITH (${options('prefixed')}, 'scan.bounded.mode' = 'latest-offset');
      CREATE TABLE dst (k_id INT, total INT, PRIMARY KEY (k_id) NOT ENFORCED) WITH (${options('prefixed-out')});
      CREATE TABLE nokey (id INT, v STRING) WITH ('connector' = 'upsert-kafka', 'topic' = 'x',
        'properties.bootstrap.servers' = '${broker.bootstrap}', 'key.format' = 'json', 'value.format' = 'json');`);
    const rows = (await env.executeSql('SELECT k_id, name, score FROM src')).materialize();
    expect(rows).toEqual([
      { k_id: 2, name: 'b', score: 20 },
      { k_id: 1, name: 'a', score: 11 },
    ]);
    await env.executeSql('INSERT INTO dst SELECT k_id, score * 2 FROM src');
    expect(await firstRecords('prefixed-out', 3)).toEqual(['{"id":1}|20', '{"id":2}|40', '{"id":1}|22']);
    await expect(env.executeSql('SELECT * FROM nokey')).rejects.toThrow(
      "table 'nokey': the 'upsert-kafka' connector requires a PRIMARY KEY: declare one with PRIMARY KEY (col, …) NOT ENFORCED",
    );
  }, 120_000);
  it('an upsert-kafka table is a versioned table: orders join the rate valid at their time (event-time temporal join)', async () => {
    await createTopic(broker.bootstrap, 'fx', { partitions: 1 });
    await createTopic(broker.bootstrap, 'fx-orders', { partitions: 1 });
    const rate = (cur: string, r: number, s: number): [string, string] => [
      JSON.stringify({ cur }),
      JSON.stringify({ cur, rate: r, ts: `2024-01-01 00:00:0${s}` }),
    ];
    await send('fx', [rate('EUR', 1.1, 1), rate('USD', 1.0, 1), rate('EUR', 1.2, 5), ['{"cur":"USD"}', null], rate('GBP', 0.9, 6)]);
    await send(
      'fx-orders',
      [
        ['o1', 'EUR', 2],
        ['o2', 'EUR', 6],
        ['o4', 'GBP', 7],
        ['o3', 'EUR', 4],
        ['o5', 'JPY', 8],
      ].map(([id, cur, s]) => [id as string, JSON.stringify({ id, cur, ts: `2024-01-01 00:00:0${String(s)}` })]),
    );
    const env = TableEnvironment.create({ parallelism: 1 });
    await env.executeScript(`
      CREATE TABLE fx (cur STRING, rate DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts, PRIMARY KEY (cur) NOT ENFORCED) WITH (
        'connector' = 'upsert-kafka', 'topic' = 'fx', 'properties.bootstrap.servers' = '${broker.bootstrap}',
        'key.format' = 'json', 'value.format' = 'json', 'scan.bounded.mode' = 'latest-offset');
      CREATE TABLE orders (id STRING, cur STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (
        'connector' = 'kafka', 'topic' = 'fx-orders', 'properties.bootstrap.servers' = '${broker.bootstrap}',
        'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'json');`);
    const result = await env.executeSql(
      'SELECT o.id, r.rate FROM orders AS o LEFT JOIN fx FOR SYSTEM_TIME AS OF o.ts AS r ON o.cur = r.cur',
    );
    expect(result.updating).toBe(false);
    expect(result.rows.map((r: Row) => `${String(r.id)} ${String(r.rate)}`).sort()).toEqual([
      'o1 1.1',
      'o2 1.2',
      'o3 1.1',
      'o4 0.9',
      'o5 null',
    ]);
  }, 120_000);

  it('exactly once with updates: upsert-kafka → GROUP BY → upsert-kafka with a worker killed mid-stream; the output compacted by key is the final table', async () => {
    await createTopic(broker.bootstrap, 'balances', { partitions: 2 });
    await createTopic(broker.bootstrap, 'totals', { partitions: 2 });
    // 4,000 upserts and tombstones of 50 accounts in 5 regions (an account may move between regions), seeded
    const BATCHES = 40;
    const PER_BATCH = 100;
    let seed = 7;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const events: [key: string, value: string | null][] = [];
    const balances = new Map<string, { region: string; amount: number }>();
    for (let i = 0; i < BATCHES * PER_BATCH; i++) {
      const account = `a${next(50)}`;
      const key = JSON.stringify({ account });
      if (next(8) === 0) {
        events.push([key, null]);
        balances.delete(account);
      } else {
        const row = { account, region: `r${next(5)}`, amount: next(1000) };
        events.push([key, JSON.stringify(row)]);
        balances.set(account, { region: row.region, amount: row.amount });
      }
    }
    const expected = new Map<string, string>();
    for (const { region, amount } of balances.values()) {
      const key = JSON.stringify({ region });
      const prior = expected.has(key) ? (JSON.parse(expected.get(key) as string) as { total: number; n: number }) : { total: 0, n: 0 };
      expected.set(key, JSON.stringify({ region, total: prior.total + amount, n: prior.n + 1 }));
    }
    const want = new Map([...expected].sort());
    expect(want.size).toBe(5);

    // the kill comes at the first checkpoint completed after a quarter of the input was sent
    let sent = 0;
    let killedAt: number | undefined;
    let attempts = 0;
    let running: () => void = () => {};
    const started = new Promise<void>((resolve) => (running = resolve));
    const env = TableEnvironment.create({
      parallelism: 2,
      onCheckpoint: (_c, attempt, client) => {
        running();
        attempts = Math.max(attempts, attempt);
        if (killedAt !== undefined || sent < BATCHES / 4) return;
        killedAt = sent;
        void client.killWorker(1).catch(() => undefined);
      },
    });
    await env.executeScript(`
      SET 'execution.checkpointing.interval' = '200 ms';
      CREATE TABLE balances (account STRING, region STRING, amount BIGINT, PRIMARY KEY (account) NOT ENFORCED) WITH (
        'connector' = 'upsert-kafka', 'topic' = 'balances', 'properties.bootstrap.servers' = '${broker.bootstrap}',
        'key.format' = 'json', 'value.format' = 'json');
      CREATE TABLE totals (region STRING, total BIGINT, n BIGINT, PRIMARY KEY (region) NOT ENFORCED) WITH (
        'connector' = 'upsert-kafka', 'topic' = 'totals', 'properties.bootstrap.servers' = '${broker.bootstrap}',
        'key.format' = 'json', 'value.format' = 'json',
        'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'totals');`);
    const job = env
      .executeSql('INSERT INTO totals SELECT region, SUM(amount), COUNT(*) FROM balances GROUP BY region')
      .catch((e: Error) => e);
    await started;
    for (let b = 0; b < BATCHES; b++) {
      await send('balances', events.slice(b * PER_BATCH, (b + 1) * PER_BATCH));
      sent++;
      await new Promise((r) => setTimeout(r, 60));
    }
    // the job never ends (the source is unbounded): read until the compacted output is the final table, then cancel
    let got = new Map<string, string>();
    for (let tries = 0; tries < 40 && JSON.stringify([...got]) !== JSON.stringify([...want]); tries++) {
      if (tries > 0) await new Promise((r) => setTimeout(r, 500));
      got = compact(await records('totals'));
    }
    await env.currentJob()?.cancel();
    await job;
    // killed mid-stream, and the job restarted
    expect(killedAt).toBeLessThan(BATCHES);
    expect(attempts).toBeGreaterThanOrEqual(1);
    expect(got).toEqual(want);
  }, 180_000);
});
