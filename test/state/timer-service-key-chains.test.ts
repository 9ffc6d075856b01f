// Timer service: a key's timers kept as a chain and, past a few, by timestamp behave the same: dedup, delete, fire order, snapshots.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeapInternalTimerService, assignToKeyGroup, compareMappedKeys, mapKey } from '../../src/state/index.ts';

const MAX = 128;
const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);

type Timer = [number, number, number | string | undefined];

/** The order the service promises: timestamp, key group, key, namespace. */
const firingOrder = (a: Timer, b: Timer) =>
  a[0] - b[0] ||
  assignToKeyGroup(a[1], MAX) - assignToKeyGroup(b[1], MAX) ||
  compareMappedKeys(mapKey(a[1]), mapKey(b[1])) ||
  compareMappedKeys(a[2] == null ? undefined : mapKey(a[2]), b[2] == null ? undefined : mapKey(b[2]));

describe('timers of one key', () => {
  it('dedups, deletes and fires a key with many timers (numeric and text namespaces) in firing order', () => {
    const s = new HeapInternalTimerService<number, number | string | undefined>(MAX);
    const expected: Timer[] = [];
    // 3 keys × 10 timestamps × 3 namespaces: each key passes from a chain to a map of its timers.
    for (let ts = 10; ts > 0; ts--) {
      for (const key of [7, 3, 11]) {
        for (const ns of [2, 'w', undefined]) {
          expect(s.registerEventTimeTimer(key, ns, ts * 100)).toBe(true);
          expected.push([ts * 100, key, ns]);
        }
      }
    }
    for (const [ts, key, ns] of expected) expect(s.registerEventTimeTimer(key, ns, ts)).toBe(false);
    expect(s.numEventTimeTimers()).toBe(90);
    // Delete every other timestamp of key 3, and one timer that never existed.
    for (let ts = 200; ts <= 1000; ts += 200) expect(s.deleteEventTimeTimer(3, 'w', ts)).toBe(true);
    expect(s.deleteEventTimeTimer(3, 'w', 200)).toBe(false);
    expect(s.deleteEventTimeTimer(3, 'x', 100)).toBe(false);
    const left = expected.filter(([ts, key, ns]) => !(key === 3 && ns === 'w' && ts % 200 === 0)).sort(firingOrder);
    const snapshot = s.snapshotKeyGroup(assignToKeyGroup(3, MAX));
    expect(snapshot.eventTime.timestamps.length).toBe(
      left.filter(([, key]) => assignToKeyGroup(key, MAX) === assignToKeyGroup(3, MAX)).length,
    );
    const fired: Timer[] = [];
    s.advanceWatermark(1000, (t) => fired.push([t.timestamp, t.key, t.namespace]));
    expect(fired).toEqual(left);
    expect(s.numEventTimeTimers()).toBe(0);
  });

  it('fires a large bucket of one timestamp (numeric, text and composite keys) in key-group, key, namespace order', () => {
    const s = new HeapInternalTimerService<unknown, number | string | undefined>(MAX);
    const timers: [number, unknown, number | string | undefined][] = [];
    for (let i = 0; i < 600; i++) {
      const key = i % 3 === 0 ? i : i % 3 === 1 ? `k${i}` : [i, 'x'];
      const ns = i % 4 === 0 ? undefined : i % 4 === 1 ? i % 5 : `w${i % 5}`;
      timers.push([500, key, ns]);
    }
    // Registered in a scrambled order; a few deleted before the bucket is due.
    const order = timers.map((_, i) => (i * 7919) % timers.length);
    for (const i of order) s.registerEventTimeTimer(timers[i][1], timers[i][2], 500);
    const deleted = new Set([3, 100, 377, 599]);
    for (const i of deleted) expect(s.deleteEventTimeTimer(timers[i][1], timers[i][2], 500)).toBe(true);
    const expected = timers.filter((_, i) => !deleted.has(i)).sort((a, b) => firingOrder(a as unknown as Timer, b as unknown as Timer));
    const fired: unknown[] = [];
    s.advanceWatermark(500, (t) => fired.push([t.timestamp, t.key, t.namespace]));
    expect(fired).toEqual(expected);
  });

  it('property: a few keys with many timers fire exactly the registered, undeleted, due ones, once each, in firing order', () => {
    type Op = { op: 'register' | 'delete'; key: number; ns: number | string | undefined; ts: number } | { op: 'advance'; to: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.record({
          op: fc.constantFrom('register' as const, 'register' as const, 'delete' as const),
          key: fc.integer({ min: 0, max: 2 }),
          ns: fc.constantFrom(undefined, 0, 5, 'w'),
          ts: fc.integer({ min: 0, max: 40 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('advance' as const), to: fc.integer({ min: 0, max: 45 }) }) },
    );
    try {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
          const s = new HeapInternalTimerService<number, number | string | undefined>(MAX);
          const model = new Map<string, Timer>();
          const id = (ts: number, key: number, ns: unknown) => JSON.stringify([ts, key, ns ?? null]);
          let watermark = -1;
          for (const o of ops) {
            if (o.op === 'advance') {
              watermark = Math.max(watermark, o.to);
              const due = [...model.values()].filter(([ts]) => ts <= watermark).sort(firingOrder);
              for (const t of due) model.delete(id(...t));
              const fired: Timer[] = [];
              s.advanceWatermark(watermark, (t) => fired.push([t.timestamp, t.key, t.namespace]));
              expect(fired).toEqual(due);
            } else if (o.op === 'register') {
              const isNew = !model.has(id(o.ts, o.key, o.ns));
              model.set(id(o.ts, o.key, o.ns), [o.ts, o.key, o.ns]);
              expect(s.registerEventTimeTimer(o.key, o.ns, o.ts)).toBe(isNew);
            } else expect(s.deleteEventTimeTimer(o.key, o.ns, o.ts)).toBe(model.delete(id(o.ts, o.key, o.ns)));
            expect(s.numEventTimeTimers()).toBe(model.size);
          }
        }),
        { seed, numRuns: 150 },
      );
    } catch (error) {
      console.error(`property failed; rerun with FC_SEED=${seed}`);
      throw error;
    }
  });
});
