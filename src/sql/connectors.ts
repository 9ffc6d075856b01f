//! SQL connectors by Flink's names and option keys (filesystem, datagen, nexmark, print, blackhole), over weir's sources and sinks.

import { existsSync, statSync } from 'node:fs';
import { BroadcastChannel } from 'node:worker_threads';
import { MapFunction } from '../api/functions.ts';
import type { DataStream } from '../api/datastream.ts';
import type { StreamExecutionEnvironment } from '../api/environment.ts';
import type { ReaderOutput, Source, SourceOutput, SourceReader } from '../actors/operator.ts';
import { configError } from '../core/errors.ts';
import type { WatermarkStrategy } from '../time/watermark-strategy.ts';
import { csvField, exactlyOnceFileSink } from '../connectors/file-sink.ts';
import { parseCsvRecord } from '../connectors/file-formats.ts';
import { kafkaSink } from '../connectors/kafka/sink.ts';
import { kafkaSource, type KafkaRecordMeta } from '../connectors/kafka/source.ts';
import { fileSource } from '../connectors/file-source.ts';
import { generatorSource } from '../connectors/sources.ts';
import { nexmarkSource } from '../connectors/nexmark/source.ts';
import type { NexmarkConfig } from '../connectors/nexmark/config.ts';
import type { NexmarkEvent } from '../connectors/nexmark/model.ts';
import { formatTimestamp, parseTimestamp } from './functions.ts';
import type { Collector } from '../actors/operators.ts';
import {
  COLLECT_ID,
  LIVE_CHANNEL_OPTION,
  ROW_KIND,
  type RowKind,
  type PlanField,
  type SinkNode,
  type SourceNode,
  type SqlType,
} from './plan.ts';

type Row = Record<string, unknown>;

/** The option keys each connector accepts (Flink's names); anything else is refused by name. */
const OPTIONS: Record<string, { source: boolean; sink: boolean; keys: string[] }> = {
  filesystem: {
    source: true,
    sink: true,
    keys: [
      'connector',
      'path',
      'format',
      'csv.field-delimiter',
      'csv.ignore-parse-errors',
      'json.ignore-parse-errors',
      'debezium-json.ignore-parse-errors',
      'source.monitor-interval',
      'sink.rolling-policy.file-size',
      'sink.rolling-policy.rollover-interval',
    ],
  },
  kafka: {
    source: true,
    sink: true,
    keys: [
      'connector',
      'topic',
      'topic-pattern',
      'properties.bootstrap.servers',
      'properties.group.id',
      'properties.commit.offsets.on.checkpoint',
      'scan.startup.mode',
      'scan.startup.timestamp-millis',
      'scan.bounded.mode',
      'format',
      'value.format',
      'csv.field-delimiter',
      'csv.ignore-parse-errors',
      'json.ignore-parse-errors',
      'sink.delivery-guarantee',
      'sink.transactional-id-prefix',
    ],
  },
  'upsert-kafka': {
    source: true,
    sink: true,
    keys: [
      'connector',
      'topic',
      'properties.bootstrap.servers',
      'properties.group.id',
      'key.format',
      'value.format',
      'key.fields-prefix',
      'value.fields-include',
      'key.csv.field-delimiter',
      'value.csv.field-delimiter',
      'value.csv.ignore-parse-errors',
      'value.json.ignore-parse-errors',
      'scan.bounded.mode',
      'sink.delivery-guarantee',
      'sink.transactional-id-prefix',
    ],
  },
  datagen: { source: true, sink: false, keys: ['connector', 'number-of-rows', 'rows-per-second'] },
  nexmark: {
    source: true,
    sink: false,
    keys: [
      'connector',
      'events.num',
      'first-event.rate',
      'next-event.rate',
      'person.proportion',
      'auction.proportion',
      'bid.proportion',
      'nexmark.seed',
    ],
  },
  print: { source: false, sink: true, keys: ['connector', 'print-identifier', 'standard-error'] },
  blackhole: { source: false, sink: true, keys: ['connector'] },
  collect: { source: false, sink: true, keys: [LIVE_CHANNEL_OPTION] },
};

function checkOptions(table: string, connector: string, options: Record<string, string>, as: 'source' | 'sink'): void {
  const spec = OPTIONS[connector];
  if (spec === undefined) {
    if (connector === 'kafka') throw configError(`table '${table}': not supported yet: the '${connector}' SQL connector`);
    throw configError(
      `table '${table}': unknown connector '${connector}'; weir has ${Object.keys(OPTIONS)
        .filter((c) => c !== 'collect')
        .join(', ')}`,
    );
  }
  if (!spec[as]) throw configError(`table '${table}': connector '${connector}' cannot be used as a ${as}`);
  for (const key of Object.keys(options)) {
    if (key.startsWith('fields.')) continue;
    if (!spec.keys.includes(key))
      throw configError(`table '${table}': unsupported option '${key}' for connector '${connector}'; supported: ${spec.keys.join(', ')}`);
  }
}

function required(table: string, options: Record<string, string>, key: string): string {
  const v = options[key];
  if (v === undefined) throw configError(`table '${table}': missing required option '${key}'`);
  return v;
}

/** Converts an external value (CSV text, JSON value) to the column's SQL value; empty or absent is NULL. */
export function converter(type: SqlType, where: string): (v: unknown) => unknown {
  switch (type.kind) {
    case 'STRING':
      return (v) => (v === undefined || v === null ? null : String(v));
    case 'BOOLEAN':
      return (v) => {
        if (v === undefined || v === null || v === '') return null;
        if (typeof v === 'boolean') return v;
        const t = String(v).toLowerCase();
        if (t === 'true' || t === 'false') return t === 'true';
        throw new Error(`${where}: '${String(v)}' is not a BOOLEAN`);
      };
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
    case 'BIGINT':
    case 'FLOAT':
    case 'DOUBLE':
    case 'DECIMAL': {
      const integer = ['TINYINT', 'SMALLINT', 'INT', 'BIGINT'].includes(type.kind);
      return (v) => {
        if (v === undefined || v === null || v === '') return null;
        const n = typeof v === 'number' ? v : Number(String(v).trim());
        if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`${where}: '${String(v)}' is not a ${type.kind}`);
        return n;
      };
    }
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      return (v) => {
        if (v === undefined || v === null || v === '') return null;
        if (typeof v === 'number') return v;
        const ms = parseTimestamp(String(v));
        if (ms === null) throw new Error(`${where}: '${String(v)}' is not a TIMESTAMP (expected yyyy-MM-dd HH:mm:ss[.SSS])`);
        return ms;
      };
    default:
      return (v) => (v === undefined ? null : v);
  }
}

/** Reads a source table's physical columns as rows. */
/** Connectors whose row-building step also adds the table's computed columns (`sourceFor`'s `finish`), saving an operator. */
export const COMPUTES_COLUMNS = new Set(['filesystem', 'datagen', 'nexmark']);

/**
 * Connectors that take the table's watermark strategy into the source operator (`sourceFor`'s
 * `watermarks`), saving an operator. Only readers that emit one stream per subtask (no per-split
 * outputs), so the watermark is the same as an assigner right after the source would give, which is
 * what Flink's planner does for these tables.
 */
export const WATERMARKS_IN_SOURCE = new Set(['datagen', 'nexmark']);

/** `source` with each record turned into `fn(record)` inside the source operator (no operator of its own). */
function mappedSource<A, B>(source: Source<A>, fn: (a: A) => B): Source<B> {
  const wrap = (out: SourceOutput<B>): SourceOutput<A> => ({ collect: (v, ts) => out.collect(fn(v), ts) });
  return {
    name: source.name,
    maxParallelism: source.maxParallelism,
    createReader(context) {
      const reader = source.createReader(context);
      let last: ReaderOutput<B> | undefined;
      let wrapped: ReaderOutput<A> | undefined;
      const outputFor = (out: ReaderOutput<B>): ReaderOutput<A> => {
        if (out !== last || wrapped === undefined) {
          last = out;
          wrapped = {
            collect: (v, ts) => out.collect(fn(v), ts),
            createOutputForSplit: (id) => wrap(out.createOutputForSplit(id)),
            releaseOutputForSplit: (id) => out.releaseOutputForSplit(id),
            collectSide: out.collectSide === undefined ? undefined : (tag, v, ts) => out.collectSide?.(tag, v, ts),
          };
        }
        return wrapped;
      };
      const mapped: SourceReader<B> = { pollNext: (out, max) => reader.pollNext(outputFor(out), max) };
      if (reader.open) mapped.open = () => reader.open?.();
      if (reader.available) mapped.available = () => reader.available?.() as Promise<void>;
      if (reader.snapshotState) mapped.snapshotState = (id) => reader.snapshotState?.(id);
      if (reader.notifyCheckpointComplete) mapped.notifyCheckpointComplete = (id) => reader.notifyCheckpointComplete?.(id);
      if (reader.counters) mapped.counters = () => reader.counters?.() ?? {};
      if (reader.close) mapped.close = () => reader.close?.();
      return mapped;
    },
  };
}

/**
 * The rows of a source table. For the connectors in {@link COMPUTES_COLUMNS}, `finish` (the
 * computed columns) runs on each row where the connector builds it; for those in
 * {@link WATERMARKS_IN_SOURCE}, `watermarks` is applied in the source. Other connectors ignore them.
 */
export function sourceFor(
  env: StreamExecutionEnvironment,
  node: SourceNode,
  finish: (r: Row) => Row = (r) => r,
  watermarks?: WatermarkStrategy<Row>,
): DataStream<Row> {
  const { table, connector, options, physical } = node;
  checkOptions(table, connector, options, 'source');
  if (node.metadata.length > 0 && connector !== 'kafka' && connector !== 'upsert-kafka') {
    throw configError(`table '${table}': connector '${connector}' has no metadata; column '${node.metadata[0].name}' cannot be read`);
  }
  const name = `${table} (${connector})`;
  switch (connector) {
    case 'filesystem': {
      const path = required(table, options, 'path');
      const format = required(table, options, 'format');
      if (format === 'debezium-json') return debeziumFileSource(env, node, path, name, finish);
      if (format !== 'csv' && format !== 'json')
        throw configError(`table '${table}': format '${format}' is not supported; use csv, json or debezium-json`);
      const skip = options[`${format}.ignore-parse-errors`] === 'true';
      const convert = physical.map((f) => ({ name: f.name, fn: converter(f.type, `table '${table}', column '${f.name}'`) }));
      const source = fileSource<Row>({
        path,
        format: format === 'csv' ? 'csv' : 'jsonl',
        csv:
          format === 'csv'
            ? { columns: physical.map((f) => f.name), header: false, delimiter: options['csv.field-delimiter'] ?? ',' }
            : undefined,
        onError: skip ? 'skip' : 'fail',
        name,
      });
      // A single file is one split: one reader, so no idle reader holds the watermark back.
      const single = existsSync(path) && statSync(path).isFile();
      const read = env.fromSource(source, name).uid(node.uid);
      if (single) read.setParallelism(1);
      const converted = read
        .map((raw: Row) => {
          const row: Row = {};
          for (const c of convert) row[c.name] = c.fn(raw[c.name]);
          return finish(row);
        })
        .name(`${table}: convert`)
        .uid(`${node.uid}/convert`);
      // The one reader's chain stays one subtask, so the watermark assigner after it sees the file in order
      // (as Flink's, in the source's chain); spread over subtasks first, each would see part of it and lag.
      return single ? converted.setParallelism(1) : converted;
    }
    case 'kafka':
      return kafkaTableSource(env, node, name);
    case 'upsert-kafka':
      return upsertKafkaSource(env, node, name);
    case 'datagen': {
      const count = Number(required(table, options, 'number-of-rows'));
      if (!Number.isSafeInteger(count) || count < 0) throw configError(`table '${table}': 'number-of-rows' must be a non-negative integer`);
      const gens = physical.map((f) => ({ name: f.name, fn: datagenField(table, f, options) }));
      const rate = options['rows-per-second'] !== undefined ? Number(options['rows-per-second']) : undefined;
      const source = generatorSource<Row>({
        count,
        recordsPerSecond: rate,
        name,
        generate: (i) => {
          const row: Row = {};
          for (const g of gens) row[g.name] = g.fn(i);
          return finish(row);
        },
      });
      return (watermarks === undefined ? env.fromSource(source, name) : env.fromSource(source, watermarks, name)).uid(node.uid);
    }
    case 'nexmark': {
      const config: NexmarkConfig = {};
      const num = (key: string) => (options[key] !== undefined ? Number(options[key]) : undefined);
      config.events = num('events.num') ?? 100_000_000;
      const first = num('first-event.rate');
      const next = num('next-event.rate');
      if (first !== undefined && next !== undefined && first !== next)
        throw configError(`table '${table}': 'first-event.rate' and 'next-event.rate' must be equal (weir's generator has one rate)`);
      if (first ?? next) config.eventsPerSecond = (first ?? next) as number;
      if (num('person.proportion') !== undefined) config.personProportion = num('person.proportion');
      if (num('auction.proportion') !== undefined) config.auctionProportion = num('auction.proportion');
      if (num('bid.proportion') !== undefined) config.bidProportion = num('bid.proportion');
      if (num('nexmark.seed') !== undefined) config.seed = num('nexmark.seed');
      const rowFields = (kind: string) => physical.find((f) => f.name === kind)?.type.fields?.map((f) => f.name) ?? [];
      const personFields = rowFields('person');
      const auctionFields = rowFields('auction');
      const bidFields = rowFields('bid');
      // One object literal per kind, compiled once: every row of a kind has the same shape.
      const picker = (names: string[]) =>
        new Function('e', `return { ${names.map((n) => `${JSON.stringify(n)}: e[${JSON.stringify(n)}] ?? null`).join(', ')} };`) as (
          e: NexmarkEvent,
        ) => Row;
      const pickBid = picker(bidFields);
      const pickAuction = picker(auctionFields);
      const pickPerson = picker(personFields);
      // Rows are built in the source operator.
      const rows = mappedSource(nexmarkSource(config, name), (e: NexmarkEvent): Row => {
        if (e.kind === 'bid') return finish({ event_type: 2, person: null, auction: null, bid: pickBid(e) });
        if (e.kind === 'auction') return finish({ event_type: 1, person: null, auction: pickAuction(e), bid: null });
        return finish({ event_type: 0, person: pickPerson(e), auction: null, bid: null });
      });
      return (watermarks === undefined ? env.fromSource(rows, name) : env.fromSource(rows, watermarks, name)).uid(node.uid);
    }
    default:
      throw configError(`table '${table}': connector '${connector}' cannot be read`);
  }
}

function formatOf(table: string, options: Record<string, string>): 'csv' | 'json' {
  const format = options.format ?? options['value.format'];
  if (format === undefined) throw configError(`table '${table}': missing required option 'format'`);
  if (format !== 'csv' && format !== 'json') throw configError(`table '${table}': format '${format}' is not supported; use csv or json`);
  return format;
}

/** Kafka metadata Flink's kafka connector exposes, by key. */
const KAFKA_METADATA: Record<string, (m: KafkaRecordMeta) => unknown> = {
  timestamp: (m) => Number(m.timestamp),
  partition: (m) => m.partition,
  offset: (m) => Number(m.offset),
  topic: (m) => m.topic,
};

/** A Kafka topic as a table: values in JSON or CSV, metadata columns from the record, Flink's startup and bounded modes. */
function kafkaTableSource(env: StreamExecutionEnvironment, node: SourceNode, name: string): DataStream<Row> {
  const { table, options, physical, metadata } = node;
  const format = formatOf(table, options);
  const delimiter = options['csv.field-delimiter'] ?? ',';
  const convert = physical.map((f) => ({ name: f.name, fn: converter(f.type, `table '${table}', column '${f.name}'`) }));
  const meta = metadata.map((m) => {
    const get = KAFKA_METADATA[m.key];
    if (get === undefined)
      throw configError(
        `table '${table}': unknown metadata key '${m.key}' of column '${m.name}'; kafka has ${Object.keys(KAFKA_METADATA).join(', ')}`,
      );
    return { name: m.name, get };
  });
  const mode = options['scan.startup.mode'] ?? 'group-offsets';
  const startFrom =
    mode === 'earliest-offset'
      ? ('earliest' as const)
      : mode === 'latest-offset'
        ? ('latest' as const)
        : mode === 'group-offsets'
          ? ('committed' as const)
          : mode === 'timestamp'
            ? { timestamp: Number(required(table, options, 'scan.startup.timestamp-millis')) }
            : undefined;
  if (startFrom === undefined)
    throw configError(
      `table '${table}': 'scan.startup.mode' must be earliest-offset, latest-offset, group-offsets or timestamp, got '${mode}'`,
    );
  const bounded = options['scan.bounded.mode'];
  if (bounded !== undefined && bounded !== 'latest-offset' && bounded !== 'unbounded') {
    throw configError(`table '${table}': not supported yet: 'scan.bounded.mode' = '${bounded}' (weir has latest-offset and unbounded)`);
  }
  const topic = options.topic;
  const pattern = options['topic-pattern'];
  if ((topic === undefined) === (pattern === undefined))
    throw configError(`table '${table}': give exactly one of 'topic' and 'topic-pattern'`);
  const skip = options[`${format}.ignore-parse-errors`] === 'true';
  // As Flink's KafkaSource: a source with a group id commits its offsets to the group when a checkpoint completes.
  const commit = options['properties.commit.offsets.on.checkpoint'] ?? (options['properties.group.id'] === undefined ? 'false' : 'true');
  if (commit !== 'true' && commit !== 'false')
    throw configError(`table '${table}': 'properties.commit.offsets.on.checkpoint' must be 'true' or 'false', got '${commit}'`);
  const source = kafkaSource<Row>({
    brokers: required(table, options, 'properties.bootstrap.servers').split(','),
    topics: topic?.split(';'),
    topicPattern: pattern,
    groupId: options['properties.group.id'],
    commitOffsetsOnCheckpoint: commit === 'true',
    startFrom,
    stopAtOffsets: bounded === 'latest-offset' ? 'latest' : undefined,
    onError: skip ? 'skip' : 'fail',
    name,
    deserializer: (value, m) => {
      if (value === null) throw new Error('a record without a value');
      const text = value.toString('utf8');
      let raw: Row;
      if (format === 'json') {
        const parsed = JSON.parse(text) as unknown;
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
          throw new Error(`not a JSON object: ${text.slice(0, 60)}`);
        raw = parsed as Row;
      } else {
        const r = parseCsvRecord(text, delimiter);
        if (r.kind !== 'fields') throw new Error(r.kind === 'malformed' ? r.reason : 'an incomplete CSV record');
        raw = {};
        physical.forEach((f, i) => (raw[f.name] = r.fields[i]));
      }
      const row: Row = {};
      for (const c of convert) row[c.name] = c.fn(raw[c.name]);
      for (const x of meta) row[x.name] = x.get(m);
      return row;
    },
  });
  return env.fromSource(source, name).uid(node.uid);
}

/**
 * A file of Debezium JSON change events as a changelog (Flink's 'debezium-json' format): `op` c
 * (create) and r (snapshot read) are `+I` of `after`, u is `-U` of `before` then `+U` of `after`,
 * d is `-D` of `before`. A single file is read by one subtask, in order.
 */
function debeziumFileSource(
  env: StreamExecutionEnvironment,
  node: SourceNode,
  path: string,
  name: string,
  finish: (r: Row) => Row,
): DataStream<Row> {
  const { table, physical } = node;
  const convert = physical.map((f) => ({ name: f.name, fn: converter(f.type, `table '${table}', column '${f.name}'`) }));
  const skip = node.options['debezium-json.ignore-parse-errors'] === 'true';
  const source = fileSource<Row>({ path, format: 'jsonl', onError: skip ? 'skip' : 'fail', name });
  const image = (raw: unknown, kind: RowKind | undefined, op: string): Row => {
    if (raw === null || typeof raw !== 'object') throw new Error(`table '${table}': a Debezium '${op}' event without its row image`);
    const row: Row = {};
    for (const c of convert) row[c.name] = c.fn((raw as Row)[c.name]);
    const out = finish(row);
    if (kind !== undefined) out[ROW_KIND] = kind;
    return out;
  };
  const single = existsSync(path) && statSync(path).isFile();
  const read = env.fromSource(source, name).uid(node.uid);
  if (single) read.setParallelism(1);
  const rows = read
    .flatMap<Row>((e: Row, out: Collector<Row>) => {
      const op = e.op;
      if (op === 'c' || op === 'r') out.collect(image(e.after, undefined, op));
      else if (op === 'u') {
        out.collect(image(e.before, '-U', op));
        out.collect(image(e.after, '+U', op));
      } else if (op === 'd') out.collect(image(e.before, '-D', op));
      else throw new Error(`table '${table}': unknown Debezium operation '${String(op)}' (expected c, r, u or d)`);
    })
    .name(`${table}: debezium-json`)
    .uid(`${node.uid}/convert`);
  return single ? rows.setParallelism(1) : rows;
}

/** How an upsert-kafka table's columns map to the record: key fields (the primary key) and value fields, each with its name in the format. */
interface UpsertLayout {
  keyFormat: 'csv' | 'json';
  valueFormat: 'csv' | 'json';
  /** Key columns: the table's column and its name in the key (without `key.fields-prefix`). */
  key: { column: string; name: string; type: SqlType }[];
  value: PlanField[];
  keyDelimiter: string;
  valueDelimiter: string;
}

function upsertLayout(
  table: string,
  options: Record<string, string>,
  physical: PlanField[],
  primaryKey: string[] | undefined,
): UpsertLayout {
  const format = (key: 'key.format' | 'value.format') => {
    const f = required(table, options, key);
    if (f !== 'csv' && f !== 'json') throw configError(`table '${table}': '${key}' = '${f}' is not supported; use csv or json`);
    return f;
  };
  if (primaryKey === undefined || primaryKey.length === 0)
    throw configError(
      `table '${table}': the 'upsert-kafka' connector requires a PRIMARY KEY: declare one with PRIMARY KEY (col, …) NOT ENFORCED`,
    );
  const include = options['value.fields-include'] ?? 'ALL';
  if (include !== 'ALL' && include !== 'EXCEPT_KEY')
    throw configError(`table '${table}': 'value.fields-include' must be ALL or EXCEPT_KEY, got '${include}'`);
  const prefix = options['key.fields-prefix'] ?? '';
  if (prefix !== '' && include !== 'EXCEPT_KEY')
    throw configError(
      `table '${table}': 'key.fields-prefix' needs 'value.fields-include' = 'EXCEPT_KEY' (the key fields would appear in the value under their prefixed names)`,
    );
  const key = primaryKey.map((column) => {
    const f = physical.find((x) => x.name === column);
    if (f === undefined)
      throw configError(`table '${table}': PRIMARY KEY column '${column}' must be a physical column to be written in the record key`);
    if (!column.startsWith(prefix))
      throw configError(`table '${table}': key column '${column}' must start with the 'key.fields-prefix' '${prefix}'`);
    return { column, name: column.slice(prefix.length), type: f.type };
  });
  return {
    keyFormat: format('key.format'),
    valueFormat: format('value.format'),
    key,
    value: include === 'ALL' ? physical : physical.filter((f) => !primaryKey.includes(f.name)),
    keyDelimiter: options['key.csv.field-delimiter'] ?? ',',
    valueDelimiter: options['value.csv.field-delimiter'] ?? ',',
  };
}

/** Parses a record's key or value in `format` into `raw[name]` by the fields' names (CSV: by position). */
function parseFields(text: string, format: 'csv' | 'json', delimiter: string, names: string[], what: string): Row {
  if (format === 'json') {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error(`${what} is not a JSON object: ${text.slice(0, 60)}`);
    return parsed as Row;
  }
  const r = parseCsvRecord(text, delimiter);
  if (r.kind !== 'fields') throw new Error(`${what}: ${r.kind === 'malformed' ? r.reason : 'an incomplete CSV record'}`);
  const raw: Row = {};
  names.forEach((n, i) => (raw[n] = r.fields[i]));
  return raw;
}

/**
 * An upsert-kafka topic as a changelog (Flink's upsert-kafka source): a record with a value is an
 * upsert of its key, a record without one (a tombstone) deletes its key, the row holding the key
 * columns only. The planner's ChangelogNormalize after it (runtime's buildSource) makes the full
 * changelog. Read from the earliest offset, as Flink's, so the table is the whole topic.
 */
function upsertKafkaSource(env: StreamExecutionEnvironment, node: SourceNode, name: string): DataStream<Row> {
  const { table, options, physical, metadata } = node;
  const layout = upsertLayout(table, options, physical, node.primaryKey);
  const keyConvert = layout.key.map((k) => ({ ...k, fn: converter(k.type, `table '${table}', key column '${k.column}'`) }));
  const valueConvert = layout.value.map((f) => ({ name: f.name, fn: converter(f.type, `table '${table}', column '${f.name}'`) }));
  const meta = metadata.map((m) => {
    const get = KAFKA_METADATA[m.key];
    if (get === undefined)
      throw configError(
        `table '${table}': unknown metadata key '${m.key}' of column '${m.name}'; upsert-kafka has ${Object.keys(KAFKA_METADATA).join(', ')}`,
      );
    return { name: m.name, get };
  });
  const bounded = options['scan.bounded.mode'];
  if (bounded !== undefined && bounded !== 'latest-offset' && bounded !== 'unbounded')
    throw configError(`table '${table}': not supported yet: 'scan.bounded.mode' = '${bounded}' (weir has latest-offset and unbounded)`);
  const keyNames = layout.key.map((k) => k.name);
  const skip = options[`value.${layout.valueFormat}.ignore-parse-errors`] === 'true';
  const source = kafkaSource<Row>({
    brokers: required(table, options, 'properties.bootstrap.servers').split(','),
    topics: [required(table, options, 'topic')],
    groupId: options['properties.group.id'],
    startFrom: 'earliest',
    stopAtOffsets: bounded === 'latest-offset' ? 'latest' : undefined,
    onError: skip ? 'skip' : 'fail',
    name,
    deserializer: (value, m) => {
      if (m.key === null) throw new Error('a record without a key (upsert-kafka needs the primary key in the record key)');
      const rawKey = parseFields(m.key.toString('utf8'), layout.keyFormat, layout.keyDelimiter, keyNames, 'the key');
      const row: Row = {};
      if (value === null) {
        for (const f of physical) row[f.name] = null;
      } else {
        const raw = parseFields(
          value.toString('utf8'),
          layout.valueFormat,
          layout.valueDelimiter,
          layout.value.map((f) => f.name),
          'the value',
        );
        for (const c of valueConvert) row[c.name] = c.fn(raw[c.name]);
      }
      for (const k of keyConvert) row[k.column] = k.fn(rawKey[k.name]);
      for (const x of meta) row[x.name] = x.get(m);
      if (value === null) row[ROW_KIND] = '-D';
      return row;
    },
  });
  return env.fromSource(source, name).uid(node.uid);
}

/**
 * Writes a changelog to an upsert-kafka topic (Flink's upsert-kafka sink): `+I`/`+U` as the row
 * under its primary key, `-D` as a tombstone (the key without a value), `-U` dropped (the `+U`
 * after it overwrites the key). Records of a key go to one partition (the key's hash), in order.
 */
function upsertKafkaSink(input: DataStream<Row>, node: SinkNode): void {
  const { table, options, fields } = node;
  const layout = upsertLayout(table, options, fields, node.primaryKey);
  const keyValues = externalValues(layout.key.map((k) => ({ name: k.column, type: k.type })));
  const valueValues = externalValues(layout.value);
  const encode = (vs: unknown[], names: string[], format: 'csv' | 'json', delimiter: string): string => {
    if (format === 'csv') return vs.map((v) => csvField(v, delimiter)).join(delimiter);
    const o: Row = {};
    names.forEach((n, i) => (o[n] = vs[i]));
    return JSON.stringify(o);
  };
  const keyNames = layout.key.map((k) => k.name);
  const valueNames = layout.value.map((f) => f.name);
  const guarantee = options['sink.delivery-guarantee'] ?? 'at-least-once';
  if (!['at-least-once', 'exactly-once', 'none'].includes(guarantee))
    throw configError(`table '${table}': 'sink.delivery-guarantee' must be exactly-once, at-least-once or none, got '${guarantee}'`);
  const sink = kafkaSink<Row>({
    brokers: required(table, options, 'properties.bootstrap.servers').split(','),
    topic: required(table, options, 'topic'),
    guarantee: guarantee === 'exactly-once' ? 'exactly-once' : 'at-least-once',
    transactionalIdPrefix: options['sink.transactional-id-prefix'] ?? `weir-sql-${table}`,
    key: (r) => encode(keyValues(r), keyNames, layout.keyFormat, layout.keyDelimiter),
    serializer: (r) => (r[ROW_KIND] === '-D' ? null : encode(valueValues(r), valueNames, layout.valueFormat, layout.valueDelimiter)),
    name: `${table} (upsert-kafka)`,
  });
  input
    .filter((r: Row) => r[ROW_KIND] !== '-U')
    .name(`${table}: drop -U`)
    .uid(`${node.uid}/drop-update-before`)
    .sinkTo(sink)
    .name(`${table} (upsert-kafka)`)
    .uid(node.uid);
}

/** datagen's per-field generators: `fields.<name>.kind` = random (default) | sequence, with min/max/length/start/end. */
function datagenField(table: string, f: PlanField, options: Record<string, string>): (i: number) => unknown {
  const opt = (k: string) => options[`fields.${f.name}.${k}`];
  const kind = opt('kind') ?? 'random';
  if (kind === 'sequence') {
    const start = Number(opt('start') ?? 0);
    const end = Number(opt('end') ?? Number.MAX_SAFE_INTEGER);
    return (i) => {
      const v = start + i;
      if (v > end) throw new Error(`table '${table}': sequence of '${f.name}' ran past its end ${end}`);
      return f.type.kind === 'STRING' ? String(v) : v;
    };
  }
  if (kind !== 'random') throw configError(`table '${table}': fields.${f.name}.kind must be random or sequence`);
  // deterministic per (row, field), so a replay after a restore produces the same rows
  const salt = [...f.name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7);
  const rand = (i: number) => {
    let x = (i * 2654435761 + salt) | 0;
    x ^= x >>> 16;
    x = Math.imul(x, 2246822507);
    x ^= x >>> 13;
    x = Math.imul(x, 3266489909);
    x ^= x >>> 16;
    return (x >>> 0) / 4294967296;
  };
  const min = Number(opt('min') ?? 0);
  const max = Number(opt('max') ?? 1000);
  switch (f.type.kind) {
    case 'STRING': {
      const length = Number(opt('length') ?? 10);
      return (i) => {
        let s = '';
        for (let k = 0; k < length; k++) s += 'abcdefghijklmnopqrstuvwxyz'[Math.floor(rand(i * 131 + k) * 26)];
        return s;
      };
    }
    case 'BOOLEAN':
      return (i) => rand(i) < 0.5;
    case 'FLOAT':
    case 'DOUBLE':
    case 'DECIMAL':
      return (i) => min + rand(i) * (max - min);
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      return () => Date.now();
    default:
      return (i) => min + Math.floor(rand(i) * (max - min + 1));
  }
}

/** A row as Flink's CSV and print show values: timestamps as `yyyy-MM-dd HH:mm:ss.SSS`. */
function externalValues(fields: PlanField[]): (r: Row) => unknown[] {
  const fmt = fields.map((f) =>
    f.type.kind === 'TIMESTAMP' || f.type.kind === 'TIMESTAMP_LTZ'
      ? (v: unknown) => (v === null ? null : formatTimestamp(v as number))
      : (v: unknown) => v,
  );
  return (r) => fields.map((f, i) => fmt[i](r[f.name] ?? null));
}

function printValue(v: unknown): string {
  if (v === null || v === undefined) return '<NULL>';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * Posts each subtask's rows on a BroadcastChannel (which reaches the submitting thread from any
 * worker thread of the process) in batches at most 20 ms old, and passes them on unchanged.
 * The collected result stays the authority: the client fills in what the channel did not bring.
 */
class LiveRows extends MapFunction<Row, Row> {
  private channel: BroadcastChannel | undefined;
  private batch: Row[] = [];
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly name: string) {
    super();
  }
  override open(): void {
    this.channel = new BroadcastChannel(this.name);
    this.batch = [];
  }
  map(row: Row): Row {
    this.batch.push(row);
    this.timer ??= setTimeout(() => this.flush(), 20);
    return row;
  }
  private flush(): void {
    this.timer = undefined;
    if (this.batch.length === 0 || this.channel === undefined) return;
    this.channel.postMessage(this.batch);
    this.batch = [];
  }
  override close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.flush();
    this.channel?.close();
    this.channel = undefined;
  }
}

/** Writes the rows of `input` to the sink table's connector. */
export function sinkFor(input: DataStream<Row>, node: SinkNode): void {
  const { table, connector, options, fields } = node;
  checkOptions(table, connector, options, 'sink');
  const values = externalValues(fields);
  switch (connector) {
    case 'blackhole':
      input
        .sinkTo(() => {})
        .name(`${table} (blackhole)`)
        .uid(node.uid);
      return;
    case 'collect': {
      const live = options[LIVE_CHANNEL_OPTION];
      const rows = live === undefined ? input : input.map(new LiveRows(live)).name('collect: live rows').uid(`${node.uid}/live`);
      rows.collect(COLLECT_ID).uid(node.uid);
      return;
    }
    case 'print': {
      const prefix = options['print-identifier'];
      input
        .map((r: Row) => `${(r[ROW_KIND] as string | undefined) ?? '+I'}[${values(r).map(printValue).join(', ')}]`)
        .name(`${table}: format`)
        .uid(`${node.uid}/format`)
        .print(prefix)
        .uid(node.uid);
      return;
    }
    case 'kafka': {
      const format = formatOf(table, options);
      const delimiter = options['csv.field-delimiter'] ?? ',';
      const guarantee = options['sink.delivery-guarantee'] ?? 'at-least-once';
      if (!['at-least-once', 'exactly-once', 'none'].includes(guarantee)) {
        throw configError(`table '${table}': 'sink.delivery-guarantee' must be exactly-once, at-least-once or none, got '${guarantee}'`);
      }
      const sink = kafkaSink<Row>({
        brokers: required(table, options, 'properties.bootstrap.servers').split(','),
        topic: required(table, options, 'topic'),
        guarantee: guarantee === 'exactly-once' ? 'exactly-once' : 'at-least-once',
        transactionalIdPrefix: options['sink.transactional-id-prefix'] ?? `weir-sql-${table}`,
        serializer: (r) => {
          const vs = values(r);
          if (format === 'csv') return vs.map((v) => csvField(v, delimiter)).join(delimiter);
          const o: Row = {};
          fields.forEach((f, i) => (o[f.name] = vs[i]));
          return JSON.stringify(o);
        },
        name: `${table} (kafka)`,
      });
      input.sinkTo(sink).name(`${table} (kafka)`).uid(node.uid);
      return;
    }
    case 'upsert-kafka':
      upsertKafkaSink(input, node);
      return;
    case 'filesystem': {
      const path = required(table, options, 'path');
      const format = required(table, options, 'format');
      if (format !== 'csv' && format !== 'json')
        throw configError(`table '${table}': format '${format}' is not supported; use csv or json`);
      const delimiter = options['csv.field-delimiter'] ?? ',';
      const sink = exactlyOnceFileSink<unknown>(path, {
        format: format === 'csv' ? 'csv' : 'jsonl',
        csv: { columns: fields.map((f) => f.name), delimiter },
        prefix: 'part',
        suffix: format === 'csv' ? '.csv' : '.json',
      });
      input
        .map((r: Row) => {
          const vs = values(r);
          if (format === 'csv') return vs;
          const o: Row = {};
          fields.forEach((f, i) => (o[f.name] = vs[i]));
          return o;
        })
        .name(`${table}: format`)
        .uid(`${node.uid}/format`)
        .sinkTo(sink)
        .name(`${table} (filesystem)`)
        .uid(node.uid);
      return;
    }
    default:
      throw configError(`table '${table}': connector '${connector}' cannot be written`);
  }
}
