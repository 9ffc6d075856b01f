//! Micro-benchmark: BatchCodec encode/decode of 1024-record batches against msgpackr with and without records, JSON and structuredClone.

import { isDeepStrictEqual } from 'node:util';
import { Packr } from 'msgpackr';
import { BatchCodec } from '../../../src/core/codec.ts';
import { TAG_RECORD, type ElementBatch } from '../../../src/core/elements.ts';
import { createBench, runBench, type MicroOptions, type MicroResult, type TaskInfo } from '../../lib/micro.ts';

/** Records per batch: weir's default batch size. */
const RECORDS = 1024;

/** The record shapes benchmarked, each a function from index to record. */
const SHAPES: { name: string; record: (i: number) => unknown }[] = [
  { name: 'small objects', record: (i) => ({ id: i, user: `u${i % 100}`, amount: (i % 1000) * 0.25, ok: i % 3 === 0 }) },
  { name: 'numbers', record: (i) => (i * 7919) % 1_000_003 },
  { name: 'strings', record: (i) => `w${((i * 31) % 1000).toString(36)}` },
];

/** A flat batch of `RECORDS` untimestamped records, as the data plane ships it. */
function buildBatch(record: (i: number) => unknown): ElementBatch {
  const batch: ElementBatch = [];
  for (let i = 0; i < RECORDS; i++) batch.push(TAG_RECORD, record(i));
  return batch;
}

/** Keeps results alive so V8 cannot drop the work. */
let sink: unknown;

/** An encoder/decoder pair under test. */
interface Contender {
  name: string;
  encode: (batch: ElementBatch) => Uint8Array | ArrayBuffer;
  decode: (bytes: Uint8Array | ArrayBuffer) => unknown;
}

function contenders(): Contender[] {
  const weir = new BatchCodec();
  const withRecords = new Packr({ useRecords: true });
  const withoutRecords = new Packr({ useRecords: false });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return [
    // Copies msgpackr's output into an ArrayBuffer of its own, ready to transfer: the data plane's real cost.
    { name: 'weir BatchCodec', encode: (b) => weir.encode(b), decode: (bytes) => weir.decode(bytes as ArrayBuffer) },
    // The same packing without the copy (the bytes stay in msgpackr's shared buffer, so cannot be transferred).
    { name: 'msgpackr useRecords', encode: (b) => withRecords.pack(b), decode: (bytes) => withRecords.unpack(bytes as Uint8Array) },
    { name: 'msgpackr no records', encode: (b) => withoutRecords.pack(b), decode: (bytes) => withoutRecords.unpack(bytes as Uint8Array) },
    { name: 'JSON + TextEncoder', encode: (b) => encoder.encode(JSON.stringify(b)), decode: (bytes) => JSON.parse(decoder.decode(bytes as Uint8Array)) },
  ];
}

/** Runs one bench per record shape; each compares the contenders' encode, decode and round trip, and structuredClone. */
export default async function batchCodecSuite(options: MicroOptions): Promise<MicroResult[]> {
  const results: MicroResult[] = [];
  for (const shape of SHAPES) {
    const batch = buildBatch(shape.record);
    const bench = createBench(`codec: batch of ${RECORDS} ${shape.name}`, options);
    const info = new Map<string, TaskInfo>();
    // Tasks grouped by operation, so that competitors sit next to each other in the table.
    const prepared = contenders().map((c) => {
      // Encoded once up front for the decode task; msgpackr reuses its buffer, so keep a copy.
      const encoded = c.encode(batch);
      const bytes = encoded instanceof Uint8Array ? encoded.slice() : encoded;
      if (!isDeepStrictEqual(c.decode(bytes), batch)) throw new Error(`${c.name} does not round-trip ${shape.name}`);
      return { c, bytes, note: `${bytes.byteLength} B/batch` };
    });
    for (const { c, note } of prepared) {
      bench.add(`${c.name} encode`, () => {
        sink = c.encode(batch);
      });
      info.set(`${c.name} encode`, { items: RECORDS, note });
    }
    for (const { c, bytes, note } of prepared) {
      bench.add(`${c.name} decode`, () => {
        sink = c.decode(bytes);
      });
      info.set(`${c.name} decode`, { items: RECORDS, note });
    }
    for (const { c, note } of prepared) {
      bench.add(`${c.name} round trip`, () => {
        sink = c.decode(c.encode(batch));
      });
      info.set(`${c.name} round trip`, { items: RECORDS, note });
    }
    bench.add('structuredClone round trip', () => {
      sink = structuredClone(batch);
    });
    info.set('structuredClone round trip', { items: RECORDS, note: 'what postMessage does without encoding' });
    results.push(...(await runBench(bench, info)));
  }
  if (sink === Symbol.for('never')) console.log(sink);
  return results;
}
