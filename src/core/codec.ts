//! The batch codec: msgpack (msgpackr records) from a flat element batch to a transferable ArrayBuffer and back.

import { Packr } from 'msgpackr';
import { ErrorCodes, WeirError } from './errors.ts';
import { elementWidth, type ElementBatch } from './elements.ts';

class FunctionInRecord extends Error {}

/** Where a codec sits, for naming it in errors. */
export interface CodecSite {
  /** The producing operator (last operator of the producer chain). */
  operator: string;
  /** Producer subtask index. */
  subtask: number;
  /** `producer -> consumer` edge name. */
  edge: string;
}

/**
 * Encodes and decodes element batches. One instance per channel end: msgpackr keeps per-instance
 * scratch buffers. Record shapes are written once per batch (msgpackr records), so a batch of
 * same-shaped objects stores its keys once.
 */
export class BatchCodec {
  private readonly packr: Packr;
  /** Encoded bytes produced so far (a metric: chained operators must never add to it). */
  bytesEncoded = 0;
  /** Batches encoded so far. */
  batchesEncoded = 0;

  constructor(private readonly site?: CodecSite) {
    this.packr = new Packr({
      useRecords: true,
      // msgpackr would otherwise write functions as nil and lose data silently.
      writeFunction: () => {
        throw new FunctionInRecord('a function');
      },
    } as ConstructorParameters<typeof Packr>[0]);
  }

  /** Encodes a batch into an ArrayBuffer of its own, ready to transfer (one copy out of msgpackr's buffer). */
  encode(batch: ElementBatch): ArrayBuffer {
    let bytes: Uint8Array;
    try {
      bytes = this.packr.pack(batch);
    } catch (error) {
      throw this.explain(batch, error);
    }
    this.bytesEncoded += bytes.byteLength;
    this.batchesEncoded++;
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  /** Decodes a batch produced by {@link encode}. */
  decode(buffer: ArrayBuffer): ElementBatch {
    return this.packr.unpack(new Uint8Array(buffer)) as ElementBatch;
  }

  /** Finds the first element that cannot be encoded and names it, the operator and the edge. */
  private explain(batch: ElementBatch, error: unknown): WeirError {
    let culprit: unknown = undefined;
    let reason = describe(error);
    for (let i = 0; i < batch.length;) {
      const width = elementWidth(batch[i] as number);
      const value = batch[i + 1];
      try {
        this.packr.pack(value);
      } catch (inner) {
        culprit = value;
        reason = describe(inner);
        break;
      }
      i += width;
    }
    const site = this.site;
    const where = site ? ` from operator '${site.operator}' (subtask ${site.subtask}) on edge ${site.edge}` : '';
    return new WeirError(`record cannot be encoded${where}: ${reason}; record: ${preview(culprit)}`, {
      code: ErrorCodes.RECORD_NOT_ENCODABLE,
      domain: 'user',
      operator: site?.operator,
      subtask: site?.subtask,
      edge: site?.edge,
      cause: error,
    });
  }
}

function describe(error: unknown): string {
  if (error instanceof FunctionInRecord) return 'it contains a function';
  if (error instanceof RangeError) return 'it contains a cycle (or is nested too deeply)';
  const message = error instanceof Error ? error.message : String(error);
  if (/symbol/i.test(message)) return 'it contains a symbol';
  return message;
}

/** A short, safe rendering of a value for error messages (survives cycles, functions and symbols). */
export function preview(value: unknown, limit = 200): string {
  const seen = new WeakSet<object>();
  let text: string;
  try {
    text =
      JSON.stringify(value, (_key, v: unknown) => {
        if (typeof v === 'function') return `[Function ${(v as { name?: string }).name || 'anonymous'}]`;
        if (typeof v === 'symbol') return v.toString();
        if (typeof v === 'bigint') return `${v}n`;
        if (v && typeof v === 'object') {
          if (seen.has(v)) return '[Circular]';
          seen.add(v);
        }
        return v;
      }) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}
