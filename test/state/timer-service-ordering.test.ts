// Timer service: event-time and processing-time timers fire in timestamp order (ties in a fixed order), at most once per (key, namespace, timestamp), deletable, snapshotted per key group.
import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/core/errors.ts';
import {
  HeapInternalTimerService,
  assignToKeyGroup,
  compareMappedKeys,
  keyGroupRangeForSubtask,
  mapKey,
  type InternalTimer,
  type TimerKeyGroupSnapshot,
} from '../../src/state/index.ts';

const MAX = 128;
const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
function property<T>(arb: fc.Arbitrary<T>, predicate: (t: T) => void, numRuns = 200): void {
  try {
    fc.assert(fc.property(arb, predicate), { seed, numRuns });
  } catch (error) {
    console.error(`property failed; rerun with FC_SEED=${seed}`);
    throw error;
  }
}

const fire = <K, N>(service: HeapInternalTimerService<K, N>, watermark: number) => {
  const fired: [number, K, N][] = [];
  service.advanceWatermark(watermark, (t) => fired.push([t.timestamp, t.key, t.namespace]));
  return fired;
};

/** The order the service promises: timestamp, key group, key, namespace. */
const firingOrder = (a: [number, unknown, unknown], b: [number, unknown, unknown]) =>
  a[0] - b[0] ||
  assignToKeyGroup(a[1], MAX) - assignToKeyGroup(b[1], MAX) ||
  compareMappedKeys(mapKey(a[1]), mapKey(b[1])) ||
  compareMappedKeys(a[2] == null ? undefined : mapKey(a[2]), b[2] == null ? undefined : mapKey(b[2]));

describe('event-time timers', () => {
  it('fire in timestamp order when the watermark reaches them, and not before', () => {
    const s = new HeapInternalTimerService<string, undefined>(MAX);
    s.registerEventTimeTimer('a', undefined, 30);
    s.registerEventTimeTimer('b', undefined, 10);
    s.registerEventTimeTimer('c', undefined, 20);
    expect(s.nextEventTime()).toBe(10);
    expect(fire(s, 9)).toEqual([]);
    expect(fire(s, 20)).toEqual([
      [10, 'b', undefined],
      [20, 'c', undefined],
    ]);
    expect(s.currentWatermark()).toBe(20);
    expect(s.numEventTimeTimers()).toBe(1);
    expect(s.advanceWatermark(100, () => {})).toBe(1);
    expect(s.numEventTimeTimers()).toBe(0);
  });

  it('keeps at most one timer per key, namespace and timestamp', () => {
    const s = new HeapInternalTimerService<string, number | undefined>(MAX);
    expect(s.registerEventTimeTimer('a', 1, 10)).toBe(true);
    expect(s.registerEventTimeTimer('a', 1, 10)).toBe(false);
    expect(s.registerEventTimeTimer('a', 2, 10)).toBe(true);
    expect(s.registerEventTimeTimer('a', undefined, 10)).toBe(true);
    expect(s.registerEventTimeTimer('a', null as never, 10)).toBe(false);
    expect(s.registerEventTimeTimer('b', 1, 10)).toBe(true);
    expect(s.registerEventTimeTimer('a', 1, 11)).toBe(true);
    expect(s.numEventTimeTimers()).toBe(5);
    expect(fire(s, 100)).toHaveLength(5);
  });

  it('compares composite keys and window namespaces by value', () => {
    const s = new HeapInternalTimerService<[string, number], { start: number; end: number }>(MAX);
    expect(s.registerEventTimeTimer(['k', 1], { start: 0, end: 10 }, 9)).toBe(true);
    expect(s.registerEventTimeTimer(['k', 1], { start: 0, end: 10 }, 9)).toBe(false);
    expect(s.deleteEventTimeTimer(['k', 1], { start: 0, end: 10 }, 9)).toBe(true);
    expect(s.numEventTimeTimers()).toBe(0);
  });

  it('deletes a timer so that it never fires, and reports a missing one', () => {
    const s = new HeapInternalTimerService<number, undefined>(MAX);
    for (let k = 0; k < 10; k++) s.registerEventTimeTimer(k, undefined, 100 - k);
    expect(s.deleteEventTimeTimer(4, undefined, 96)).toBe(true);
    expect(s.deleteEventTimeTimer(4, undefined, 96)).toBe(false);
    expect(s.deleteEventTimeTimer(5, undefined, 1)).toBe(false);
    expect(s.deleteProcessingTimeTimer(3, undefined, 97)).toBe(false);
    expect(fire(s, 1000).map(([, k]) => k)).toEqual([9, 8, 7, 6, 5, 3, 2, 1, 0]);
  });

  it('fires timers with equal timestamps by key group, key and namespace, whatever the registration order', () => {
    const timers: [number, unknown, unknown][] = [];
    for (const key of ['a', 'b', 'c', 1, 2, 3, ['x', 1]]) for (const ns of [undefined, 1, 'w']) timers.push([5, key, ns]);
    const expected = [...timers].sort(firingOrder);
    for (const order of [timers, [...timers].reverse()]) {
      const s = new HeapInternalTimerService<unknown, unknown>(MAX);
      for (const [ts, key, ns] of order) s.registerEventTimeTimer(key, ns, ts);
      expect(fire(s, 5)).toEqual(expected);
    }
  });

  it('fires a due timer registered by a firing callback in the same advance, and a past timer at the next advance', () => {
    const s = new HeapInternalTimerService<string, undefined>(MAX);
    s.registerEventTimeTimer('a', undefined, 10);
    const fired: [number, string][] = [];
    s.advanceWatermark(20, (t) => {
      fired.push([t.timestamp, t.key]);
      if (t.key === 'a') {
        s.registerEventTimeTimer('b', undefined, 15);
        s.registerEventTimeTimer('c', undefined, 25);
      }
    });
    expect(fired).toEqual([
      [10, 'a'],
      [15, 'b'],
    ]);
    s.registerEventTimeTimer('late', undefined, 5);
    expect(fire(s, 21)).toEqual([[5, 'late', undefined]]);
  });

  it('hands timers out one at a time with pollEventTimer', () => {
    const s = new HeapInternalTimerService<string, undefined>(MAX);
    s.registerEventTimeTimer('a', undefined, 1);
    s.registerEventTimeTimer('b', undefined, 2);
    expect(s.pollEventTimer(1)).toMatchObject({ timestamp: 1, key: 'a' });
    expect(s.pollEventTimer(1)).toBeUndefined();
    expect(s.pollEventTimer(2)).toMatchObject({ timestamp: 2, key: 'b' });
  });

  it('refuses keys of key groups the subtask does not own, and timestamps that are not numbers', () => {
    const range = keyGroupRangeForSubtask(MAX, 2, 0);
    const s = new HeapInternalTimerService<number, undefined>(MAX, { keyGroupRange: range, name: 'user-timers' });
    const foreign = Array.from({ length: 100 }, (_, i) => i).find((k) => assignToKeyGroup(k, MAX) > range.end) as number;
    expect(() => s.registerEventTimeTimer(foreign, undefined, 1)).toThrow(expect.objectContaining({ code: ErrorCodes.STATE_ACCESS }));
    expect(() => s.registerEventTimeTimer(0, undefined, Number.NaN)).toThrow(/must be a number/);
  });
});

describe('processing-time timers', () => {
  it('report the earliest time to arm a clock for and fire what is due', () => {
    const s = new HeapInternalTimerService<string, undefined>(MAX);
    expect(s.nextProcessingTime()).toBeUndefined();
    s.registerProcessingTimeTimer('a', undefined, 1_500);
    s.registerProcessingTimeTimer('b', undefined, 1_200);
    s.registerEventTimeTimer('e', undefined, 1_000);
    expect(s.nextProcessingTime()).toBe(1_200);
    const fired: string[] = [];
    expect(s.onProcessingTime(1_499, (t) => fired.push(t.key))).toBe(1);
    expect(fired).toEqual(['b']);
    expect(s.nextProcessingTime()).toBe(1_500);
    expect(s.pollProcessingTimer(1_500)).toMatchObject({ key: 'a' });
    expect(s.nextProcessingTime()).toBeUndefined();
    expect(s.numEventTimeTimers()).toBe(1);
  });
});

describe('timer snapshots', () => {
  it('write each key group on its own and restore at another parallelism with the same firing order', () => {
    const source = new HeapInternalTimerService<unknown, unknown>(MAX);
    const registered: [number, unknown, unknown][] = [];
    for (let i = 0; i < 300; i++) {
      const t: [number, unknown, unknown] = [i % 17, i % 3 === 0 ? `k${i}` : i, i % 5 === 0 ? { start: 0, end: i } : undefined];
      source.registerEventTimeTimer(t[1], t[2], t[0]);
      source.registerProcessingTimeTimer(t[1], t[2], t[0] + 1_000);
      registered.push(t);
    }
    const snapshots: TimerKeyGroupSnapshot[] = [];
    for (let kg = 0; kg < MAX; kg++) {
      const snap = unpack(pack(source.snapshotKeyGroup(kg))) as TimerKeyGroupSnapshot;
      for (const key of [...snap.eventTime.keys, ...snap.processingTime.keys]) expect(assignToKeyGroup(key, MAX)).toBe(kg);
      snapshots.push(snap);
    }
    const targets = [0, 1, 2].map(
      (s) => new HeapInternalTimerService<unknown, unknown>(MAX, { keyGroupRange: keyGroupRangeForSubtask(MAX, 3, s) }),
    );
    for (const snap of snapshots) {
      const owner = targets.find((t) => snap.keyGroup >= t.keyGroupRange.start && snap.keyGroup <= t.keyGroupRange.end);
      owner?.restoreKeyGroup(snap.keyGroup, snap);
    }
    const restoredFired = targets.flatMap((t) => fire(t, 100)).sort(firingOrder);
    expect(restoredFired).toEqual(fire(source, 100));
    expect(restoredFired).toEqual([...registered].sort(firingOrder));
    expect(targets.reduce((n, t) => n + t.numProcessingTimeTimers(), 0)).toBe(300);
  });

  it('lists a key group in firing order, namespaces only when some timer has one', () => {
    const s = new HeapInternalTimerService<string, number | undefined>(MAX);
    const kg = assignToKeyGroup('k', MAX);
    s.registerEventTimeTimer('k', undefined, 20);
    s.registerEventTimeTimer('k', undefined, 10);
    expect(s.snapshotKeyGroup(kg).eventTime).toEqual({ timestamps: [10, 20], keys: ['k', 'k'] });
    s.registerProcessingTimeTimer('k', 3, 5);
    expect(s.snapshotKeyGroup(kg).processingTime).toEqual({ timestamps: [5], keys: ['k'], namespaces: [3] });
  });

  it('refuses a snapshot of another key group or with foreign keys', () => {
    const s = new HeapInternalTimerService<string, undefined>(MAX);
    const kg = assignToKeyGroup('k', MAX);
    const other = (kg + 1) % MAX;
    const snap: TimerKeyGroupSnapshot = {
      version: 1,
      keyGroup: kg,
      eventTime: { timestamps: [1], keys: ['k'] },
      processingTime: { timestamps: [], keys: [] },
    };
    expect(() => s.restoreKeyGroup(other, snap)).toThrow(expect.objectContaining({ code: ErrorCodes.STATE_RESTORE }));
    expect(() => s.restoreKeyGroup(other, { ...snap, keyGroup: other })).toThrow(/does not belong to key group/);
    expect(() => s.restoreKeyGroup(kg, { ...snap, eventTime: { timestamps: [1, 2], keys: ['k'] } })).toThrow(/malformed event-time timers/);
  });
});

describe('timer service against a model', () => {
  type Op =
    | { op: 'register' | 'delete'; processing: boolean; key: number | string; ns: number | undefined; ts: number }
    | { op: 'advance'; processing: boolean; to: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        op: fc.constantFrom('register' as const, 'delete' as const),
        processing: fc.boolean(),
        key: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom('a', 'b')),
        ns: fc.constantFrom(undefined, 1, 2),
        ts: fc.integer({ min: 0, max: 30 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('advance' as const), processing: fc.boolean(), to: fc.integer({ min: 0, max: 35 }) }),
    },
  );

  it('property: fires exactly the registered, undeleted, due timers, once each, in firing order', () => {
    property(fc.array(op, { maxLength: 120 }), (ops) => {
      const s = new HeapInternalTimerService<unknown, unknown>(MAX);
      const model = { event: new Map<string, [number, unknown, unknown]>(), processing: new Map<string, [number, unknown, unknown]>() };
      const id = (ts: number, key: unknown, ns: unknown) => JSON.stringify([ts, typeof key, key, ns ?? null]);
      for (const o of ops) {
        const m = o.processing ? model.processing : model.event;
        if (o.op === 'advance') {
          const due = [...m.values()].filter(([ts]) => ts <= o.to).sort(firingOrder);
          for (const t of due) m.delete(id(...t));
          const fired: [number, unknown, unknown][] = [];
          const collect = (t: InternalTimer) => fired.push([t.timestamp, t.key, t.namespace]);
          if (o.processing) s.onProcessingTime(o.to, collect);
          else s.advanceWatermark(o.to, collect);
          expect(fired).toEqual(due);
        } else if (o.op === 'register') {
          const isNew = !m.has(id(o.ts, o.key, o.ns));
          m.set(id(o.ts, o.key, o.ns), [o.ts, o.key, o.ns]);
          expect(o.processing ? s.registerProcessingTimeTimer(o.key, o.ns, o.ts) : s.registerEventTimeTimer(o.key, o.ns, o.ts)).toBe(isNew);
        } else {
          const existed = m.delete(id(o.ts, o.key, o.ns));
          expect(o.processing ? s.deleteProcessingTimeTimer(o.key, o.ns, o.ts) : s.deleteEventTimeTimer(o.key, o.ns, o.ts)).toBe(existed);
        }
        expect(s.numEventTimeTimers()).toBe(model.event.size);
        expect(s.numProcessingTimeTimers()).toBe(model.processing.size);
        const nextProcessing = [...model.processing.values()].reduce<number | undefined>(
          (min, [ts]) => (min === undefined || ts < min ? ts : min),
          undefined,
        );
        expect(s.nextProcessingTime()).toBe(nextProcessing);
      }
    });
  });
});

describe('timer queue against a reference model', () => {
  type Op =
    | { op: 'add'; ts: number; key: number; ns: string | undefined }
    | { op: 'delete'; ts: number; key: number; ns: string | undefined }
    | { op: 'advance'; by: number; reAdd: number; del: number };
  const ns = fc.constantFrom(undefined, 'w1', 'w2');
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant('add' as const), ts: fc.integer({ min: 0, max: 12 }), key: fc.integer({ min: 0, max: 12 }), ns }),
    fc.record({ op: fc.constant('delete' as const), ts: fc.integer({ min: 0, max: 12 }), key: fc.integer({ min: 0, max: 12 }), ns }),
    fc.record({
      op: fc.constant('advance' as const),
      by: fc.integer({ min: 0, max: 4 }),
      reAdd: fc.integer({ min: -3, max: 3 }),
      del: fc.integer({ min: 0, max: 12 }),
    }),
  );

  it('fires, dedups and deletes exactly like a sorted list, also when callbacks add and delete timers of the firing timestamp', () => {
    property(
      fc.array(opArb, { maxLength: 120 }),
      (ops) => {
        const service = new HeapInternalTimerService<number, string | undefined>(MAX);
        const model: [number, number, string | undefined][] = [];
        const same = (t: [number, number, string | undefined], ts: number, key: number, n: string | undefined) =>
          t[0] === ts && t[1] === key && t[2] === n;
        const modelAdd = (ts: number, key: number, n: string | undefined) => {
          if (model.some((t) => same(t, ts, key, n))) return false;
          model.push([ts, key, n]);
          return true;
        };
        const modelDelete = (ts: number, key: number, n: string | undefined) => {
          const i = model.findIndex((t) => same(t, ts, key, n));
          if (i < 0) return false;
          model.splice(i, 1);
          return true;
        };
        let watermark = -1;
        for (const o of ops) {
          if (o.op === 'add') expect(service.registerEventTimeTimer(o.key, o.ns, o.ts)).toBe(modelAdd(o.ts, o.key, o.ns));
          else if (o.op === 'delete') expect(service.deleteEventTimeTimer(o.key, o.ns, o.ts)).toBe(modelDelete(o.ts, o.key, o.ns));
          else {
            watermark += o.by;
            const fired: [number, number, string | undefined][] = [];
            const expected: [number, number, string | undefined][] = [];
            // Callbacks register a timer near the firing one (possibly already due) and delete another.
            // (A budget, so callbacks that re-add due timers end.)
            let budget = 10;
            service.advanceWatermark(watermark, (t) => {
              fired.push([t.timestamp, t.key, t.namespace]);
              if (budget-- <= 0) return;
              const again = Math.max(0, t.timestamp + o.reAdd);
              service.registerEventTimeTimer((t.key + 1) % 13, t.namespace, again);
              service.deleteEventTimeTimer((t.key + 2) % 13, t.namespace, o.del);
            });
            // The model: repeatedly take the smallest due timer, apply the same callback.
            let modelBudget = 10;
            for (;;) {
              const due = model.filter((t) => t[0] <= watermark).sort(firingOrder);
              if (due.length === 0) break;
              const t = due[0];
              modelDelete(t[0], t[1], t[2]);
              expected.push(t);
              if (modelBudget-- <= 0) continue;
              modelAdd(Math.max(0, t[0] + o.reAdd), (t[1] + 1) % 13, t[2]);
              modelDelete(o.del, (t[1] + 2) % 13, t[2]);
            }
            expect(fired).toEqual(expected);
          }
          expect(service.numEventTimeTimers()).toBe(model.length);
          expect(service.nextEventTime()).toBe(model.length === 0 ? undefined : Math.min(...model.map((t) => t[0])));
        }
      },
      150,
    );
  });
});
