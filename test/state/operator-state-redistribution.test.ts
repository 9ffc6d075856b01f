// Operator list state: split and union lists per subtask, snapshots, and redistribution from N old subtasks to M new ones exactly as Flink's round-robin repartitioner.
import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/core/errors.ts';
import {
  HeapOperatorStateStore,
  ListStateDescriptor,
  MapStateDescriptor,
  OPERATOR_SNAPSHOT_VERSION,
  StateTtlConfig,
  redistributeOperatorState,
  type OperatorListMode,
  type OperatorStateSnapshot,
} from '../../src/state/index.ts';

/** fast-check runs with a seed from FC_SEED or a fresh one, printed when a property fails. */
const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
function property<T>(arb: fc.Arbitrary<T>, predicate: (t: T) => void, numRuns = 300): void {
  try {
    fc.assert(fc.property(arb, predicate), { seed, numRuns });
  } catch (error) {
    console.error(`property failed; rerun with FC_SEED=${seed}`);
    throw error;
  }
}

const snapshot = (
  lists: { name: string; mode: OperatorListMode; elements: unknown[] }[],
  broadcast: OperatorStateSnapshot['broadcast'] = [],
): OperatorStateSnapshot => ({
  version: OPERATOR_SNAPSHOT_VERSION,
  lists,
  broadcast,
});
const elementsOf = (s: OperatorStateSnapshot, name: string) => s.lists.find((l) => l.name === name)?.elements;

/** Old subtasks' split lists of unique, traceable elements (`name:subtask:index`). */
const oldSubtasks = fc
  .tuple(fc.integer({ min: 1, max: 8 }), fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }))
  .chain(([n, names]) =>
    fc.tuple(
      fc.array(fc.tuple(...[...new Set(names)].map(() => fc.integer({ min: 0, max: 12 }))), { minLength: n, maxLength: n }),
      fc.constant([...new Set(names)].sort()),
      fc.integer({ min: 1, max: 10 }),
    ),
  )
  .map(([sizes, names, m]) => ({
    m,
    names,
    previous: sizes.map((perName, subtask) =>
      snapshot(
        names.map((name, j) => ({
          name,
          mode: 'split' as const,
          elements: Array.from({ length: perName[j] }, (_, i) => `${name}:${subtask}:${i}`),
        })),
      ),
    ),
  }));

describe('operator state store', () => {
  it('keeps split and union list state per subtask, and snapshots and restores it', () => {
    const store = new HeapOperatorStateStore('src');
    const offsets = store.getListState(new ListStateDescriptor<number>('offsets'));
    const seen = store.getUnionListState(new ListStateDescriptor<string>('seen'));
    offsets.add(1);
    offsets.addAll([2, 3]);
    seen.update(['x']);
    expect([...offsets.get()]).toEqual([1, 2, 3]);
    expect(store.getListState(new ListStateDescriptor<number>('offsets'))).toBe(offsets);
    expect(store.getRegisteredStateNames().sort()).toEqual(['offsets', 'seen']);

    const snap = unpack(pack(store.snapshot())) as OperatorStateSnapshot;
    expect(snap).toEqual(
      snapshot([
        { name: 'offsets', mode: 'split', elements: [1, 2, 3] },
        { name: 'seen', mode: 'union', elements: ['x'] },
      ]),
    );
    offsets.clear();
    expect(snap.lists[0].elements).toEqual([1, 2, 3]);

    const restored = new HeapOperatorStateStore('src');
    restored.restore(snap);
    expect([...restored.getListState(new ListStateDescriptor<number>('offsets')).get()]).toEqual([1, 2, 3]);
    expect([...restored.getUnionListState(new ListStateDescriptor<string>('seen')).get()]).toEqual(['x']);
  });

  it('refuses a list state name under the other redistribution mode', () => {
    const store = new HeapOperatorStateStore('src');
    store.getListState(new ListStateDescriptor('s'));
    expect(() => store.getUnionListState(new ListStateDescriptor('s'))).toThrow(
      expect.objectContaining({
        code: ErrorCodes.STATE_ACCESS,
        message: expect.stringMatching(/registered as split list state and cannot be used as union/),
      }),
    );
    const restored = new HeapOperatorStateStore('src');
    restored.restore(snapshot([{ name: 'u', mode: 'union', elements: [1] }]));
    expect(() => restored.getListState(new ListStateDescriptor('u'))).toThrow(expect.objectContaining({ code: ErrorCodes.STATE_RESTORE }));
  });

  it('refuses TTL and null elements in operator state', () => {
    const store = new HeapOperatorStateStore('src');
    const ttl = StateTtlConfig.newBuilder(10).build();
    expect(() => store.getListState(new ListStateDescriptor('t').enableTimeToLive(ttl))).toThrow(/TTL is supported for keyed state only/);
    expect(() => store.getBroadcastState(new MapStateDescriptor('b').enableTimeToLive(ttl))).toThrow(
      /TTL is supported for keyed state only/,
    );
    const s = store.getListState(new ListStateDescriptor<number | null>('l'));
    expect(() => s.add(null)).toThrow(/cannot add null/);
    expect(() => s.update([1, null])).toThrow(/cannot hold null/);
  });
});

describe('redistributing operator state', () => {
  it('cuts the concatenated split list into even contiguous parts, longer parts first', () => {
    const previous = [
      snapshot([{ name: 's', mode: 'split', elements: [1, 2, 3] }]),
      snapshot([{ name: 's', mode: 'split', elements: [4, 5, 6, 7] }]),
    ];
    const next = redistributeOperatorState(previous, 3);
    expect(next.map((s) => elementsOf(s, 's'))).toEqual([
      [1, 2, 3],
      [4, 5],
      [6, 7],
    ]);
    expect(redistributeOperatorState(previous, 1).map((s) => elementsOf(s, 's'))).toEqual([[1, 2, 3, 4, 5, 6, 7]]);
  });

  it('spreads the remainders of several states over the subtasks, as Flink does', () => {
    const previous = [
      snapshot([
        { name: 'a', mode: 'split', elements: [1, 2, 3, 4] },
        { name: 'b', mode: 'split', elements: [1, 2, 3, 4] },
        { name: 'c', mode: 'split', elements: [1, 2, 3, 4] },
      ]),
    ];
    const next = redistributeOperatorState(previous, 3);
    // 4 = 3 * 1 + 1: one longer part per state; a's goes to subtask 0, b's to subtask 1, c's to subtask 2.
    expect(next.map((s) => elementsOf(s, 'a'))).toEqual([[1, 2], [3], [4]]);
    expect(next.map((s) => elementsOf(s, 'b'))).toEqual([[4], [1, 2], [3]]);
    expect(next.map((s) => elementsOf(s, 'c'))).toEqual([[3], [4], [1, 2]]);
  });

  it('keeps every subtask its own split list when the parallelism does not change', () => {
    const previous = [
      snapshot([{ name: 's', mode: 'split', elements: [1, 2, 3] }]),
      snapshot([{ name: 's', mode: 'split', elements: [] }]),
    ];
    expect(redistributeOperatorState(previous, 2).map((s) => elementsOf(s, 's'))).toEqual([[1, 2, 3], []]);
  });

  it('gives every new subtask the whole union list, and broadcast state of old subtask i % N', () => {
    const previous = [0, 1].map((i) =>
      snapshot([{ name: 'u', mode: 'union', elements: [`u${i}`] }], [{ name: 'rules', entries: [[`k${i}`, i]] }]),
    );
    for (const m of [1, 2, 5]) {
      const next = redistributeOperatorState(previous, m);
      expect(next.map((s) => elementsOf(s, 'u'))).toEqual(Array.from({ length: m }, () => ['u0', 'u1']));
      expect(next.map((s) => s.broadcast)).toEqual(
        Array.from({ length: m }, (_, i) => [{ name: 'rules', entries: [[`k${i % 2}`, i % 2]] }]),
      );
    }
  });

  it('refuses a state that is split in one subtask and union in another, and a bad parallelism', () => {
    const previous = [snapshot([{ name: 's', mode: 'split', elements: [] }]), snapshot([{ name: 's', mode: 'union', elements: [] }])];
    expect(() => redistributeOperatorState(previous, 2)).toThrow(/split state in one subtask and union in another/);
    expect(() => redistributeOperatorState([], 0)).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG }));
  });

  it('property: split state reaches exactly one new subtask per element, in contiguous even parts', () => {
    property(oldSubtasks, ({ previous, names, m }) => {
      const next = redistributeOperatorState(previous, m);
      expect(next).toHaveLength(m);
      for (const name of names) {
        const all = previous.flatMap((s) => elementsOf(s, name) as string[]);
        const parts = next.map((s) => elementsOf(s, name) as string[]);
        if (previous.length === m) {
          expect(parts).toEqual(previous.map((s) => elementsOf(s, name)));
          continue;
        }
        // every element exactly once
        expect(parts.flat().sort()).toEqual([...all].sort());
        // sizes differ by at most one
        const sizes = parts.map((p) => p.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        // each part is a contiguous run of the concatenation, and the parts follow each other around the ring of subtasks
        const nonEmpty = parts.map((p, i) => ({ p, i })).filter(({ p }) => p.length > 0);
        for (const { p } of nonEmpty) {
          const start = all.indexOf(p[0]);
          expect(all.slice(start, start + p.length)).toEqual(p);
        }
        const firstIndex = nonEmpty.findIndex(({ p }) => all.indexOf(p[0]) === 0);
        const rotated = [...nonEmpty.slice(firstIndex), ...nonEmpty.slice(0, Math.max(firstIndex, 0))];
        expect(rotated.flatMap(({ p }) => p)).toEqual(all);
      }
    });
  });

  it('property: union state and broadcast state reach every new subtask whole', () => {
    const arb = fc.tuple(
      fc.array(fc.array(fc.integer(), { maxLength: 5 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 9 }),
    );
    property(arb, ([lists, m]) => {
      const previous = lists.map((elements, i) =>
        snapshot([{ name: 'u', mode: 'union', elements }], [{ name: 'b', entries: [['from', i]] }]),
      );
      const next = redistributeOperatorState(previous, m);
      next.forEach((s, i) => {
        expect(elementsOf(s, 'u')).toEqual(lists.flat());
        expect(s.broadcast).toEqual([{ name: 'b', entries: [['from', i % lists.length]] }]);
      });
    });
  });

  it('property: redistributing N to M and then M to N keeps every split element exactly once', () => {
    property(oldSubtasks, ({ previous, names, m }) => {
      const back = redistributeOperatorState(redistributeOperatorState(previous, m), previous.length);
      for (const name of names) {
        expect(back.flatMap((s) => elementsOf(s, name) as string[]).sort()).toEqual(
          previous.flatMap((s) => elementsOf(s, name) as string[]).sort(),
        );
      }
    });
  });
});
