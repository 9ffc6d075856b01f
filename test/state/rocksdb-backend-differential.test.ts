// The RocksDB backend against the heap backend: the same random operations on every state type (with namespaces and TTL) give the same reads, through a cache of a few keys; snapshots cross backends both ways, at other key-group ranges.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../fixtures/random.ts';
import { ErrorCodes } from '../../src/core/errors.ts';
import {
  AggregatingStateDescriptor,
  HeapKeyedStateBackend,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  RocksDbKeyedStateBackend,
  StateTtlConfig,
  ValueStateDescriptor,
  assignToKeyGroup,
  sweepRocksDbDirs,
  type KeyGroupStateSnapshot,
  type KeyedSnapshotResult,
} from '../../src/state/index.ts';

const DIR = join(tmpdir(), `weir-rocksdb-test-${process.pid}`);
afterAll(() => sweepRocksDbDirs(DIR, ''));

const packr = new Packr({ useRecords: true });
const clock = { t: 1_000, now: () => clock.t };

/** Every state type, two of them with TTL; the same descriptors for both backends. */
function states(b: HeapKeyedStateBackend) {
  const ttl = StateTtlConfig.newBuilder(50).build();
  const ttlList = new ListStateDescriptor<number>('ttl-list');
  ttlList.enableTimeToLive(ttl);
  const ttlValue = new ValueStateDescriptor<number>('ttl-value');
  ttlValue.enableTimeToLive(ttl);
  return {
    value: b.getValueState(new ValueStateDescriptor<string>('value')),
    list: b.getListState(new ListStateDescriptor<number>('list')),
    map: b.getMapState(new MapStateDescriptor<string, number>('map')),
    reducing: b.getReducingState(new ReducingStateDescriptor<number>('reducing', (a, c) => a + c)),
    aggregating: b.getAggregatingState(
      new AggregatingStateDescriptor<number, { n: number; sum: number }, number>('aggregating', {
        createAccumulator: () => ({ n: 0, sum: 0 }),
        add: (v, acc) => ({ n: acc.n + 1, sum: acc.sum + v }),
        getResult: (acc) => acc.sum / acc.n,
        merge: (a, c) => ({ n: a.n + c.n, sum: a.sum + c.sum }),
      }),
    ),
    ttlList: b.getListState(ttlList),
    ttlValue: b.getValueState(ttlValue),
  };
}

type States = ReturnType<typeof states>;

const KEYS: unknown[] = [...Array.from({ length: 40 }, (_, i) => `user-${i}`), 1, 2.5, -0, true, ['composite', 1], 12345678901n];
const NAMESPACES = [undefined, 'w1', 'w2'];

/** One random operation on the current key; returns what it read. */
function step(s: States, rnd: () => number): unknown {
  const ns = NAMESPACES[Math.floor(rnd() * NAMESPACES.length)];
  const v = Math.floor(rnd() * 100);
  for (const st of Object.values(s)) st.setCurrentNamespace(ns);
  switch (Math.floor(rnd() * 14)) {
    case 0:
      s.value.update(`v${v}`);
      return s.value.value();
    case 1:
      return s.value.value();
    case 2:
      s.list.add(v);
      return [...(s.list.get() ?? [])];
    case 3:
      return v % 3 === 0 ? (s.list.clear(), null) : [...(s.list.get() ?? [])];
    case 4:
      s.map.put(`k${v % 7}`, v);
      return [...s.map.entries()].sort();
    case 5:
      if (v % 2 === 0) s.map.remove(`k${v % 7}`);
      return [s.map.contains('k3'), s.map.get('k1'), [...s.map.keys()].sort(), s.map.isEmpty()];
    case 6:
      s.reducing.add(v);
      return s.reducing.get();
    case 7:
      s.aggregating.add(v);
      return s.aggregating.get();
    case 8:
      s.ttlList.add(v);
      return [...(s.ttlList.get() ?? [])];
    case 9:
      s.ttlValue.update(v);
      return s.ttlValue.value();
    case 10:
      return [s.ttlValue.value(), [...(s.ttlList.get() ?? [])]];
    case 11:
      if (ns !== undefined)
        s.list.mergeNamespaces(
          ns,
          ['w1', 'w2'].filter((n) => n !== ns),
        );
      return [...(s.list.get() ?? [])];
    case 12:
      s.value.clear();
      s.reducing.clear();
      return s.value.value();
    default:
      return [s.value.value(), s.reducing.get(), s.aggregating.get()];
  }
}

function rocks(name: string, range = { start: 0, end: 127 }, cacheKeys = 3): RocksDbKeyedStateBackend {
  return new RocksDbKeyedStateBackend(128, range, 'diff-op', { dir: DIR, dirName: name, cacheKeys, ttlTimeProvider: clock });
}

/** Every key group's snapshot, decoded, entries sorted: comparable across backends. */
function normalise(groups: KeyGroupStateSnapshot[]): unknown {
  const out: Record<number, Record<string, string[]>> = {};
  for (const g of groups) {
    for (const s of g.states) {
      const rows: string[] = [];
      s.keys.forEach((k, i) => {
        let value = s.values[i];
        let ts = s.timestamps?.[i] ?? null;
        // Expired TTL entries are garbage either backend may still hold (the heap backend cleans
        // some up incrementally); no read returns them.
        if (Array.isArray(ts)) {
          const keep = ts.map((t) => t + 50 > clock.t);
          value = (value as unknown[]).filter((_, j) => keep[j]);
          ts = ts.filter((_, j) => keep[j]);
          if (ts.length === 0) return;
        } else if (typeof ts === 'number' && ts + 50 <= clock.t) return;
        rows.push(JSON.stringify([k, s.namespaces?.[i] ?? null, value, ts], (_, x) => (typeof x === 'bigint' ? `${x}n` : x)));
      });
      if (rows.length === 0) continue;
      (out[g.keyGroup] ??= {})[s.name] = rows.sort();
    }
  }
  return out;
}

/** A backend's snapshot as written (RocksDB's may carry rows as they are on disk). */
async function rawSnapshotOf(b: HeapKeyedStateBackend): Promise<KeyGroupStateSnapshot[]> {
  const r: KeyedSnapshotResult = await b.beginSnapshot((s) => new Uint8Array(packr.pack(s))).result();
  return r.blobs.map((blob) => packr.unpack(blob) as KeyGroupStateSnapshot);
}

/** A backend's snapshot read back by a heap backend: entries only, comparable across backends. */
async function snapshotOf(b: HeapKeyedStateBackend): Promise<KeyGroupStateSnapshot[]> {
  const reader = new HeapKeyedStateBackend(128, { start: 0, end: 127 }, 'diff-op', { ttlTimeProvider: clock });
  for (const g of await rawSnapshotOf(b)) reader.restoreKeyGroup(g.keyGroup, g);
  return reader.snapshotAllKeyGroups();
}

describe('RocksDB backend, differential against the heap backend', () => {
  for (const seed of [1, 2, 3]) {
    it(`gives the heap backend's reads for 3,000 random operations through a 3-key cache (seed ${seed})`, async () => {
      clock.t = 1_000;
      const heap = new HeapKeyedStateBackend(128, { start: 0, end: 127 }, 'diff-op', { ttlTimeProvider: clock });
      const disk = rocks(`diff-${seed}`);
      const hs = states(heap);
      const ds = states(disk);
      const rnd = mulberry32(seed);
      for (let i = 0; i < 3_000; i++) {
        const key = KEYS[Math.floor(rnd() * KEYS.length)];
        const pending = disk.prefetch([key]);
        if (pending) await pending;
        heap.setCurrentKey(key);
        disk.setCurrentKey(key);
        if (rnd() < 0.08) clock.t += 7; // TTL: entries expire as time passes
        const opSeed = rnd();
        const a = step(hs, mulberry32(opSeed * 1e9));
        const b = step(ds, mulberry32(opSeed * 1e9));
        expect(b, `seed ${seed}, operation ${i}, key ${String(key)}`).toEqual(a);
      }
      expect(disk.counters.writes).toBeGreaterThan(100);
      expect(disk.counters.reads).toBeGreaterThan(100);
      expect(disk.cachedKeyCount()).toBeLessThanOrEqual(3);
      // The snapshot of state mostly on disk equals the heap backend's.
      expect(normalise(await snapshotOf(disk))).toEqual(normalise(await snapshotOf(heap)));
      await disk.close();
    });
  }

  it('restores a heap snapshot into RocksDB at another parallelism and back, unchanged', async () => {
    clock.t = 1_000;
    const heap = new HeapKeyedStateBackend(128, { start: 0, end: 127 }, 'diff-op', { ttlTimeProvider: clock });
    const hs = states(heap);
    const rnd = mulberry32(9);
    for (let i = 0; i < 2_000; i++) {
      heap.setCurrentKey(KEYS[Math.floor(rnd() * KEYS.length)]);
      step(hs, mulberry32(rnd() * 1e9));
    }
    const original = await snapshotOf(heap);
    // Two RocksDB subtasks (key groups 0..63 and 64..127), each with a 2-key cache.
    const halves = [rocks('half-0', { start: 0, end: 63 }, 2), rocks('half-1', { start: 64, end: 127 }, 2)];
    for (const g of original) halves[g.keyGroup < 64 ? 0 : 1].restoreKeyGroup(g.keyGroup, g);
    for (const h of halves) {
      states(h);
      await h.ready();
    }
    // Reads through the cache equal the heap's for every key and namespace.
    for (const key of KEYS) {
      const h = halves[assignToKeyGroup(key, 128) < 64 ? 0 : 1];
      const pending = h.prefetch([key]);
      if (pending) await pending;
      h.setCurrentKey(key);
      heap.setCurrentKey(key);
      const a = states(heap);
      const b = states(h);
      for (const ns of NAMESPACES) {
        for (const s of [...Object.values(a), ...Object.values(b)]) s.setCurrentNamespace(ns);
        expect([b.value.value(), b.list.get(), [...b.map.entries()], b.reducing.get(), b.aggregating.get()]).toEqual([
          a.value.value(),
          a.list.get(),
          [...a.map.entries()],
          a.reducing.get(),
          a.aggregating.get(),
        ]);
      }
    }
    // And back: the halves' snapshots, restored into one heap backend, give the original.
    const back = new HeapKeyedStateBackend(128, { start: 0, end: 127 }, 'diff-op', { ttlTimeProvider: clock });
    for (const h of halves) for (const g of await rawSnapshotOf(h)) back.restoreKeyGroup(g.keyGroup, g);
    states(back);
    expect(normalise(await snapshotOf(back))).toEqual(normalise(original));
    for (const h of halves) await h.close();
  });

  it('keeps what the barrier saw while keys are written back and changed after it', async () => {
    const disk = rocks('cow', { start: 0, end: 127 }, 2);
    const count = disk.getValueState(new ValueStateDescriptor<number>('count'));
    const touch = async (key: string, value: number) => {
      const p = disk.prefetch([key]);
      if (p) await p;
      disk.setCurrentKey(key);
      count.update(value);
    };
    for (let i = 0; i < 20; i++) await touch(`k${i}`, i);
    const progress = disk.beginSnapshot((s) => new Uint8Array(packr.pack(s)));
    // After the barrier: every key changes, most of them are written back to disk and read again.
    for (let i = 0; i < 20; i++) await touch(`k${i}`, 1000 + i);
    const reader = new HeapKeyedStateBackend(128, { start: 0, end: 127 }, 'diff-op');
    for (const blob of ((await progress.result()) as KeyedSnapshotResult).blobs) {
      const g = packr.unpack(blob) as KeyGroupStateSnapshot;
      reader.restoreKeyGroup(g.keyGroup, g);
    }
    const seen = new Map<unknown, unknown>();
    for (const g of reader.snapshotAllKeyGroups()) for (const s of g.states) s.keys.forEach((k, i) => seen.set(k, s.values[i]));
    expect(seen).toEqual(new Map(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])));
    await disk.close();
  });

  it('lists every key after loadAll (applyToKeyedState), and refuses to list while keys are on disk only', async () => {
    const disk = rocks('list-keys', { start: 0, end: 127 }, 2);
    const v = disk.getValueState(new ValueStateDescriptor<number>('v'));
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    for (const key of keys) {
      const p = disk.prefetch([key]);
      if (p) await p;
      disk.setCurrentKey(key);
      v.update(key.length);
    }
    expect(disk.needsLoadAll).toBe(true);
    expect(() => disk.getKeys('v')).toThrow(/needs every key cached/);
    await disk.loadAll();
    expect(disk.getKeys('v').sort()).toEqual([...keys].sort());
    const seen: [unknown, number][] = [];
    disk.applyToAllKeys(undefined, new ValueStateDescriptor<number>('v'), (key, state: typeof v) => {
      seen.push([key, state.value() as number]);
      state.update((state.value() as number) * 10);
    });
    expect(seen.sort()).toEqual(keys.map((k) => [k, k.length]).sort());
    const p = disk.prefetch(['k7']);
    if (p) await p;
    disk.setCurrentKey('k7');
    expect(v.value()).toBe(20);
    await disk.close();
  });

  it('leaves expired entries of keys on disk out of a snapshot under TTL cleanupFullSnapshot', async () => {
    clock.t = 1_000;
    const disk = rocks('ttl-full', { start: 0, end: 127 }, 2);
    const d = new ValueStateDescriptor<number>('v');
    d.enableTimeToLive(StateTtlConfig.newBuilder(100).cleanupFullSnapshot().build());
    const v = disk.getValueState(d);
    for (let i = 0; i < 20; i++) {
      if (i === 10) clock.t = 1_050; // keys k10..k19 are written later
      const p = disk.prefetch([`k${i}`]);
      if (p) await p;
      disk.setCurrentKey(`k${i}`);
      v.update(i);
    }
    clock.t = 1_120; // k0..k9 expired (written at 1,000), k10..k19 not (1,050)
    const kept = new Map<unknown, unknown>();
    for (const g of await rawSnapshotOf(disk)) {
      for (const s of g.states) s.keys.forEach((k, i) => kept.set(k, s.values[i]));
    }
    expect(kept).toEqual(new Map(Array.from({ length: 10 }, (_, i) => [`k${i + 10}`, i + 10])));
    await disk.close();
  });

  it('refuses to read a key that may be on disk and was not loaded, naming key and operator', async () => {
    const disk = rocks('unloaded', { start: 0, end: 127 }, 1);
    const v = disk.getValueState(new ValueStateDescriptor<number>('v'));
    for (const key of ['a', 'b', 'c']) {
      const p = disk.prefetch([key]);
      if (p) await p;
      disk.setCurrentKey(key);
      v.update(1);
    }
    const p = disk.prefetch(['c']);
    if (p) await p;
    let error: unknown;
    try {
      disk.setCurrentKey('a'); // written back to disk, not prefetched
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).toBe(ErrorCodes.STATE_ACCESS);
    expect(String((error as Error).message)).toMatch(/key "a" of operator 'diff-op' may be on disk and was not loaded/);
    await disk.close();
  });

  it('removes its directory on close, and a dead process’s directory when the next backend starts', async () => {
    const disk = rocks('cleanup');
    await disk.ready();
    const mine = readdirSync(DIR).filter((n) => n.startsWith('cleanup'));
    expect(mine).toHaveLength(1);
    await disk.close();
    expect(existsSync(join(DIR, mine[0]))).toBe(false);
    // A directory left by a process that no longer exists (pid beyond the kernel's limit).
    const stale = join(DIR, 'stale-crashed');
    mkdirSync(join(stale, 'db'), { recursive: true });
    writeFileSync(join(stale, 'db', 'LOCK'), '');
    writeFileSync(join(stale, 'weir-owner.json'), JSON.stringify({ pid: 2 ** 22 + 1 }));
    const next = rocks('after-crash');
    await next.ready();
    expect(existsSync(stale)).toBe(false);
    await next.close();
  });
});
