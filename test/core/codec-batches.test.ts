// The batch codec: any mix of stream elements survives encode/decode; non-encodable records are named errors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchCodec } from '../../src/core/codec.ts';
import { batchToElements, elementsToBatch, type StreamElement } from '../../src/core/elements.ts';
import { ErrorCodes, WeirError, decodeError, encodeError } from '../../src/core/errors.ts';

const value = fc.oneof(
  fc.integer(),
  // -0 is left out: msgpack has no negative zero for integers, it decodes as 0 (see below).
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.record({ word: fc.string(), count: fc.integer() }),
  fc.array(fc.integer(), { maxLength: 5 }),
);
const element: fc.Arbitrary<StreamElement> = fc.oneof(
  value.map((v) => ({ kind: 'record' as const, value: v })),
  fc.tuple(value, fc.integer({ min: -1e12, max: 1e12 })).map(([v, t]) => ({ kind: 'record' as const, value: v, timestamp: t })),
  fc.integer({ min: -1e12, max: 1e12 }).map((t) => ({ kind: 'watermark' as const, timestamp: t })),
  fc
    .record({ id: fc.nat(), timestamp: fc.nat(), checkpointKind: fc.constantFrom('checkpoint' as const, 'savepoint' as const) })
    .map((b) => ({ kind: 'barrier' as const, ...b })),
  fc.constant({ kind: 'end' as const }),
  fc.record({ markedTime: fc.nat(), operatorId: fc.string(), subtask: fc.nat(8) }).map((m) => ({ kind: 'latency' as const, ...m })),
  fc.boolean().map((idle) => ({ kind: 'watermark-status' as const, idle })),
);

describe('batch codec', () => {
  it('round-trips any sequence of stream elements through its own transferable buffer', () => {
    const codec = new BatchCodec();
    fc.assert(
      fc.property(fc.array(element, { maxLength: 200 }), (elements) => {
        const bytes = codec.encode(elementsToBatch(elements));
        expect(bytes).toBeInstanceOf(ArrayBuffer);
        expect(batchToElements(new BatchCodec().decode(bytes))).toEqual(elements);
      }),
    );
  });

  it('turns -0 into 0, as msgpack does (the one value it does not keep)', () => {
    const codec = new BatchCodec();
    const [, value] = codec.decode(codec.encode([0, -0]));
    expect(Object.is(value, 0)).toBe(true);
  });

  it('gives each batch a buffer of its own, so transferring one never detaches another', () => {
    const codec = new BatchCodec();
    const a = codec.encode([0, 'first']);
    const b = codec.encode([0, 'second']);
    structuredClone(a, { transfer: [a] });
    expect(a.byteLength).toBe(0);
    expect(codec.decode(b)).toEqual([0, 'second']);
    expect(codec.bytesEncoded).toBeGreaterThan(0);
    expect(codec.batchesEncoded).toBe(2);
  });

  it.each([
    ['a function', { f: () => 1 }, 'contains a function'],
    ['a symbol', { s: Symbol('x') }, 'contains a symbol'],
  ])('refuses a record holding %s, naming operator and edge', (_what, record, reason) => {
    const codec = new BatchCodec({ operator: 'Parse', subtask: 1, edge: 'Parse -> Sink' });
    let error: unknown;
    try {
      codec.encode([0, 'fine', 0, record]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WeirError);
    expect((error as WeirError).code).toBe(ErrorCodes.RECORD_NOT_ENCODABLE);
    expect((error as WeirError).message).toContain("from operator 'Parse' (subtask 1) on edge Parse -> Sink");
    expect((error as WeirError).message).toContain(reason);
  });

  it('refuses a cyclic record', () => {
    const cyclic: Record<string, unknown> = { id: 7 };
    cyclic.me = cyclic;
    expect(() => new BatchCodec({ operator: 'A', subtask: 0, edge: 'A -> B' }).encode([0, cyclic])).toThrow(
      /contains a cycle.*"me":"\[Circular\]"/,
    );
  });
});

describe('errors across threads', () => {
  it('keep code, domain, location and cause through encode/decode', () => {
    const original = new WeirError('boom', {
      code: ErrorCodes.USER_FUNCTION,
      domain: 'user',
      retriable: true,
      operator: 'Map',
      subtask: 3,
      cause: new TypeError('inner'),
    });
    const copy = decodeError(structuredClone(encodeError(original)));
    expect(copy).toBeInstanceOf(WeirError);
    expect(copy).toMatchObject({
      message: 'boom',
      code: ErrorCodes.USER_FUNCTION,
      domain: 'user',
      retriable: true,
      operator: 'Map',
      subtask: 3,
    });
    expect((copy.cause as Error).name).toBe('TypeError');
    expect((copy.cause as Error).message).toBe('inner');
  });
});
