// Keyed state snapshots per key group: plain msgpack-friendly data that restores every state type, namespace and TTL timestamp, at the same or another parallelism.
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/core/errors.ts';
import {
  AggregatingStateDescriptor,
  HeapKeyedStateBackend,
  KEYED_SNAPSHOT_VERSION,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateTtlConfig,
  ValueStateDescriptor,
  assignToKeyGroup,
  keyGroupRangeForSubtask,
  type KeyGroupStateSnapshot,
  type TtlTimeProvider,
} from '../../src/state/index.ts';

const MAX = 128;
const ALL = { start: 0, end: MAX - 1 };
const sum = {
  createAccumulator: () => 0,
  add: (v: number, acc: number) => acc + v,
  getResult: (acc: number) => acc,
  merge: (a: number, b: number) => a + b,
};

const descriptors = () => ({
  value: new ValueStateDescriptor<string>('value'),
  list: new ListStateDescriptor<number>('list'),
  map: new MapStateDescriptor<unknown, string>('map'),
  reducing: new ReducingStateDescriptor<number>('reducing', (a, b) => a + b),
  aggregating: new AggregatingStateDescriptor('aggregating', sum),
});

function fill(backend: HeapKeyedStateBackend, keys: unknown[]): void {
  const d = descriptors();
  const value = backend.getValueState(d.value);
  const list = backend.getListState(d.list);
  const map = backend.getMapState(d.map);
  const reducing = backend.getReducingState(d.reducing);
  const aggregating = backend.getAggregatingState(d.aggregating);
  keys.forEach((key, i) => {
    backend.setCurrentKey(key);
    value.update(`v${i}`);
    list.addAll([i, i + 1]);
    map.put(['composite', i], `m${i}`);
    map.put(i, 'plain');
    reducing.add(i);
    reducing.add(10);
    aggregating.add(i);
    list.setCurrentNamespace({ start: i, end: i + 10 });
    list.add(-i - 1);
    list.setCurrentNamespace(undefined);
  });
}

function check(backend: HeapKeyedStateBackend, keys: unknown[], indexOf: (key: unknown) => number): void {
  const d = descriptors();
  const value = backend.getValueState(d.value);
  const list = backend.getListState(d.list);
  const map = backend.getMapState(d.map);
  const reducing = backend.getReducingState(d.reducing);
  const aggregating = backend.getAggregatingState(d.aggregating);
  for (const key of keys) {
    const i = indexOf(key);
    backend.setCurrentKey(key);
    expect(value.value()).toBe(`v${i}`);
    expect([...list.get()]).toEqual([i, i + 1]);
    expect([...map.entries()]).toEqual([
      [['composite', i], `m${i}`],
      [i, 'plain'],
    ]);
    expect(map.get(['composite', i])).toBe(`m${i}`);
    expect(reducing.get()).toBe(i + 10);
    expect(aggregating.get()).toBe(i);
    list.setCurrentNamespace({ start: i, end: i + 10 });
    expect([...list.get()]).toEqual([-i - 1]);
    list.setCurrentNamespace(undefined);
  }
}

const keys = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? `key-${i}` : i));
const indexOf = (key: unknown) => (typeof key === 'number' ? key : Number(String(key).slice(4)));

describe('keyed state snapshots', () => {
  it('restores every state type, namespace and composite key through msgpack', () => {
    const source = new HeapKeyedStateBackend(MAX, ALL, 'op');
    fill(source, keys);
    const encoded = source.snapshotAllKeyGroups().map((s) => pack(s));
    const target = new HeapKeyedStateBackend(MAX, ALL, 'op');
    for (const bytes of encoded) {
      const snap = unpack(bytes) as KeyGroupStateSnapshot;
      target.restoreKeyGroup(snap.keyGroup, snap);
    }
    check(target, keys, indexOf);
    expect(target.keyCount()).toBe(source.keyCount());
  });

  it('writes plain data: arrays, numbers, strings and user values, with the key group and version', () => {
    const b = new HeapKeyedStateBackend(MAX, ALL, 'op');
    fill(b, ['only']);
    const kg = assignToKeyGroup('only', MAX);
    const snap = b.snapshotKeyGroup(kg);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(snap.version).toBe(KEYED_SNAPSHOT_VERSION);
    expect(snap.keyGroup).toBe(kg);
    const list = snap.states.find((s) => s.name === 'list');
    expect(list).toEqual({
      name: 'list',
      kind: 'list',
      ttl: false,
      keys: ['only', 'only'],
      namespaces: [null, { start: 0, end: 10 }],
      values: [[0, 1], [-1]],
    });
    expect(snap.states.find((s) => s.name === 'map')?.values).toEqual([
      [
        [['composite', 0], 'm0'],
        [0, 'plain'],
      ],
    ]);
    expect(b.snapshotKeyGroup((kg + 1) % MAX).states).toEqual([]);
  });

  it('copies lists and maps so later writes do not change a taken snapshot', () => {
    const b = new HeapKeyedStateBackend(MAX, ALL, 'op');
    const list = b.getListState(new ListStateDescriptor<number>('l'));
    const map = b.getMapState(new MapStateDescriptor<string, number>('m'));
    b.setCurrentKey('k');
    list.add(1);
    map.put('a', 1);
    const snap = b.snapshotKeyGroup(b.getCurrentKeyGroup());
    list.add(2);
    map.put('b', 2);
    expect(snap.states.map((s) => s.values)).toEqual([[[1]], [[['a', 1]]]]);
  });

  it('moves key groups to the subtasks that own them at another parallelism', () => {
    const source = new HeapKeyedStateBackend(MAX, keyGroupRangeForSubtask(MAX, 1, 0), 'op');
    fill(source, keys);
    const snapshots = source.snapshotAllKeyGroups();
    for (const parallelism of [2, 3, 7]) {
      const targets = Array.from(
        { length: parallelism },
        (_, s) => new HeapKeyedStateBackend(MAX, keyGroupRangeForSubtask(MAX, parallelism, s), 'op'),
      );
      for (const snap of snapshots) {
        const owner = targets.find((t) => snap.keyGroup >= t.keyGroupRange.start && snap.keyGroup <= t.keyGroupRange.end);
        owner?.restoreKeyGroup(snap.keyGroup, snap);
      }
      for (const t of targets) {
        const owned = keys.filter((k) => {
          const kg = assignToKeyGroup(k, MAX);
          return kg >= t.keyGroupRange.start && kg <= t.keyGroupRange.end;
        });
        check(t, owned, indexOf);
      }
      expect(targets.reduce((n, t) => n + t.keyCount(), 0)).toBe(source.keyCount());
    }
  });

  it('keeps restored state until its state is registered, then checks the kind', () => {
    const source = new HeapKeyedStateBackend(MAX, ALL, 'op');
    fill(source, ['k']);
    const kg = assignToKeyGroup('k', MAX);
    const target = new HeapKeyedStateBackend(MAX, ALL, 'op');
    target.restoreKeyGroup(kg, source.snapshotKeyGroup(kg));
    expect(target.snapshotKeyGroup(kg)).toEqual(source.snapshotKeyGroup(kg));
    expect(() => target.getMapState(new MapStateDescriptor('value'))).toThrow(
      expect.objectContaining({
        code: ErrorCodes.STATE_RESTORE,
        message: expect.stringMatching(/restored as value state and cannot be used as map state/),
      }),
    );
    expect(() => target.getValueState(new ValueStateDescriptor('value').enableTimeToLive(StateTtlConfig.newBuilder(10).build()))).toThrow(
      /snapshotted without TTL and is now registered with/,
    );
    const value = target.getValueState(new ValueStateDescriptor<string>('value'));
    target.setCurrentKey('k');
    expect(value.value()).toBe('v0');
  });

  it('restores TTL timestamps, so restored values expire when they would have', () => {
    const clock: TtlTimeProvider & { time: number } = { time: 1_000, now: () => clock.time };
    const ttl = StateTtlConfig.newBuilder(100).disableCleanupInBackground().build();
    const source = new HeapKeyedStateBackend(MAX, ALL, 'op', { ttlTimeProvider: clock });
    const list = source.getListState(new ListStateDescriptor<number>('l').enableTimeToLive(ttl));
    source.setCurrentKey('k');
    list.add(1);
    clock.time = 1_050;
    list.add(2);
    const snap = unpack(pack(source.snapshotKeyGroup(source.getCurrentKeyGroup()))) as KeyGroupStateSnapshot;
    expect(snap.states[0].timestamps).toEqual([[1_000, 1_050]]);

    const target = new HeapKeyedStateBackend(MAX, ALL, 'op', { ttlTimeProvider: clock });
    target.restoreKeyGroup(snap.keyGroup, snap);
    const restored = target.getListState(new ListStateDescriptor<number>('l').enableTimeToLive(ttl));
    target.setCurrentKey('k');
    clock.time = 1_100;
    expect([...restored.get()]).toEqual([2]);
  });

  it('refuses snapshots of another key group, with foreign keys, or outside the range', () => {
    const b = new HeapKeyedStateBackend(MAX, { start: 0, end: 63 }, 'op');
    const kg = assignToKeyGroup('k', MAX);
    const other = kg === 0 ? 1 : 0;
    const snap: KeyGroupStateSnapshot = {
      version: KEYED_SNAPSHOT_VERSION,
      keyGroup: kg,
      states: [{ name: 'v', kind: 'value', ttl: false, keys: ['k'], values: [1] }],
    };
    expect(() => b.restoreKeyGroup(other, snap)).toThrow(expect.objectContaining({ code: ErrorCodes.STATE_RESTORE }));
    expect(() => b.restoreKeyGroup(other, { ...snap, keyGroup: other })).toThrow(/does not belong to key group/);
    expect(() => b.restoreKeyGroup(100, { ...snap, keyGroup: 100 })).toThrow(/not in this backend's range 0..63/);
    expect(() => b.snapshotKeyGroup(64)).toThrow(/not in this backend's range/);
    expect(() => b.restoreKeyGroup(other, { ...snap, version: 99 })).toThrow(/version 99/);
    expect(() => b.restoreKeyGroup(other, { ...snap, keyGroup: other, states: [{ ...snap.states[0], kind: 'bag' as never }] })).toThrow(
      /unknown kind 'bag'/,
    );
  });
});
