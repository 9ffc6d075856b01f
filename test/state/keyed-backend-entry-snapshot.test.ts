// Per-entry copy-on-write snapshots of the heap backend: whatever state does after a snapshot began (in-place changes of lists, maps and user objects, namespaces, merges, TTL cleanup), the snapshot holds the state as of its start.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  AggregatingStateDescriptor,
  HeapKeyedStateBackend,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateTtlConfig,
  ValueStateDescriptor,
  type KeyGroupStateSnapshot,
  type KeyedSnapshotResult,
} from '../../src/state/index.ts';

const packr = new Packr({ useRecords: true });
const encode = (s: KeyGroupStateSnapshot) => new Uint8Array(packr.pack(s));

/** A snapshot as a sorted list of `state|namespace|key → value|timestamps` lines, for comparing. */
function lines(snapshots: KeyGroupStateSnapshot[]): string[] {
  const out: string[] = [];
  for (const g of snapshots)
    for (const s of g.states)
      s.keys.forEach((k, i) => {
        let value = s.values[i];
        if (s.kind === 'map') value = [...(value as [unknown, unknown][])].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
        out.push(
          `${g.keyGroup}|${s.name}|${JSON.stringify(s.namespaces?.[i] ?? null)}|${JSON.stringify(k)} → ${JSON.stringify(value)} ${JSON.stringify(s.timestamps?.[i] ?? null)}`,
        );
      });
  return out.sort();
}

function decoded(result: KeyedSnapshotResult): KeyGroupStateSnapshot[] {
  return result.blobs.map((b) => packr.unpack(b) as KeyGroupStateSnapshot);
}

/** A small seeded generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function setup(now: { t: number }) {
  const backend = new HeapKeyedStateBackend(16, { start: 0, end: 15 }, 'op', { ttlTimeProvider: { now: () => now.t } });
  const ttl = StateTtlConfig.newBuilder(100).cleanupIncrementally(3, false).build();
  const value = backend.getValueState(new ValueStateDescriptor<{ n: number; tags: string[] }>('value'));
  const list = backend.getListState(new ListStateDescriptor<number>('list'));
  const map = backend.getMapState(new MapStateDescriptor<string, { n: number }>('map'));
  const reducing = backend.getReducingState(new ReducingStateDescriptor<number>('reducing', (a, b) => a + b));
  const aggregating = backend.getAggregatingState(
    new AggregatingStateDescriptor<number, { sum: number }, number>('aggregating', {
      createAccumulator: () => ({ sum: 0 }),
      add: (v, acc) => {
        acc.sum += v; // in place, as user aggregate functions often do
        return acc;
      },
      getResult: (acc) => acc.sum,
      merge: (a, b) => ({ sum: a.sum + b.sum }),
    }),
  );
  const ttlList = backend.getListState(new ListStateDescriptor<number>('ttl-list').enableTimeToLive(ttl));
  const ttlValue = backend.getValueState(new ValueStateDescriptor<number>('ttl-value').enableTimeToLive(ttl));
  return { backend, value, list, map, reducing, aggregating, ttlList, ttlValue };
}

type Setup = ReturnType<typeof setup>;

/** One random operation on a random key and namespace. */
function operate(s: Setup, rnd: () => number, now: { t: number }): void {
  const key = `k${Math.floor(rnd() * 40)}`;
  const ns = rnd() < 0.3 ? Math.floor(rnd() * 4) : undefined;
  s.backend.setCurrentKey(key);
  const n = Math.floor(rnd() * 100);
  switch (Math.floor(rnd() * 12)) {
    case 0: {
      s.value.setCurrentNamespace(ns);
      const v = s.value.value();
      if (v === undefined) s.value.update({ n, tags: [] });
      else {
        v.n += n; // in place, then written back
        v.tags.push(`t${n}`);
        s.value.update(v);
      }
      break;
    }
    case 1:
      s.value.setCurrentNamespace(ns);
      s.value.clear();
      break;
    case 2:
      s.list.setCurrentNamespace(ns);
      s.list.add(n);
      break;
    case 3:
      s.list.setCurrentNamespace(ns);
      if (rnd() < 0.5) s.list.update([n, n + 1]);
      else s.list.clear();
      break;
    case 4: {
      s.map.setCurrentNamespace(ns);
      const old = s.map.get(`m${n % 5}`);
      if (old !== undefined)
        old.n += 1; // in place, no put
      else s.map.put(`m${n % 5}`, { n });
      break;
    }
    case 5:
      s.map.setCurrentNamespace(ns);
      s.map.remove(`m${n % 5}`);
      break;
    case 6:
      s.reducing.setCurrentNamespace(ns);
      s.reducing.add(n);
      break;
    case 7:
      s.aggregating.setCurrentNamespace(ns);
      s.aggregating.add(n);
      break;
    case 8: {
      // Merging namespaces, as session windows do.
      const target = Math.floor(rnd() * 4);
      for (const st of [s.list, s.reducing, s.aggregating])
        st.mergeNamespaces(
          target,
          [0, 1, 2, 3].filter((x) => x !== target),
        );
      break;
    }
    case 9:
      s.ttlList.add(n);
      break;
    case 10:
      s.ttlValue.update(n);
      break;
    case 11:
      now.t += Math.floor(rnd() * 30); // older TTL entries expire; incremental cleanup drops them on the next access
      s.ttlValue.value();
      break;
  }
}

describe('per-entry copy-on-write snapshots', () => {
  it('hold the state of the start whatever is done after it, on every kind of state', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = random(seed);
      const now = { t: 1000 };
      const s = setup(now);
      for (let i = 0; i < 400; i++) operate(s, rnd, now);
      const expected = lines(s.backend.snapshotAllKeyGroups().map((g) => packr.unpack(encode(g)) as KeyGroupStateSnapshot));
      const progress = s.backend.beginSnapshot(encode);
      for (let i = 0; i < 400; i++) {
        operate(s, rnd, now);
        if (rnd() < 0.05) progress.step(performance.now() - 1);
      }
      const got = lines(decoded(progress.result() as KeyedSnapshotResult));
      expect(got, `seed ${seed}`).toEqual(expected);
      // Nothing is kept once the snapshot is done.
      for (let i = 0; i < 50; i++) operate(s, rnd, now);
      const table = (s.value as unknown as { table: { capture: unknown } }).table;
      expect(table.capture).toBeUndefined();
    }
  });

  it('leaves out keys created after the start and keeps keys removed after it', () => {
    const backend = new HeapKeyedStateBackend(8, { start: 0, end: 7 }, 'op');
    const v = backend.getValueState(new ValueStateDescriptor<number>('v'));
    for (const k of ['a', 'b']) {
      backend.setCurrentKey(k);
      v.update(1);
    }
    const progress = backend.beginSnapshot(encode);
    backend.setCurrentKey('a');
    v.clear();
    backend.setCurrentKey('c');
    v.update(3);
    const snap = decoded(progress.result() as KeyedSnapshotResult);
    expect(lines(snap).map((l) => l.split('|').slice(1).join('|'))).toEqual(['v|null|"a" → 1 null', 'v|null|"b" → 1 null']);
  });

  it('leaves out a state registered after the start', () => {
    const backend = new HeapKeyedStateBackend(8, { start: 0, end: 7 }, 'op');
    const v = backend.getValueState(new ValueStateDescriptor<number>('v'));
    backend.setCurrentKey('a');
    v.update(1);
    const progress = backend.beginSnapshot(encode);
    const late = backend.getValueState(new ValueStateDescriptor<number>('late'));
    late.update(2);
    const names = decoded(progress.result() as KeyedSnapshotResult).flatMap((g) => g.states.map((s) => s.name));
    expect(names).toEqual(['v']);
  });

  it('keeps nothing for key groups already encoded', () => {
    const backend = new HeapKeyedStateBackend(4, { start: 0, end: 3 }, 'op');
    const v = backend.getValueState(new ValueStateDescriptor<number>('v'));
    for (let k = 0; k < 100; k++) {
      backend.setCurrentKey(k);
      v.update(k);
    }
    const progress = backend.beginSnapshot(encode);
    progress.step(performance.now() - 1); // key group 0
    const capture = (v as unknown as { table: { capture: { defaults: (Map<unknown, unknown> | undefined)[] } } }).table.capture;
    for (let k = 0; k < 100; k++) {
      backend.setCurrentKey(k);
      v.update(-k);
    }
    expect(capture.defaults[0]).toBeUndefined();
    expect(capture.defaults[1]?.size).toBeGreaterThan(0);
    const snap = decoded(progress.result() as KeyedSnapshotResult);
    expect(snap.flatMap((g) => g.states.flatMap((s) => s.values)).sort((a, b) => (a as number) - (b as number))).toEqual(
      Array.from({ length: 100 }, (_, k) => k),
    );
  });
});
