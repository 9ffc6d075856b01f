// State TTL with a controlled clock: values expire exactly at lastAccess + ttl, per update type and visibility, per list element and map entry, with incremental and snapshot cleanup.
import { describe, expect, it } from 'vitest';
import { backendUnderTest } from './backend-under-test.ts';
import { ErrorCodes } from '../../src/core/errors.ts';
import {
  AggregatingStateDescriptor,
  HeapKeyedStateBackend,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateTtlConfig,
  StateVisibility,
  UpdateType,
  ValueStateDescriptor,
  type TtlTimeProvider,
} from '../../src/state/index.ts';

class ManualClock implements TtlTimeProvider {
  constructor(public time = 0) {}
  now(): number {
    return this.time;
  }
}

const setup = () => {
  const clock = new ManualClock(1_000);
  const backend = backendUnderTest(128, { start: 0, end: 127 }, 'op', { ttlTimeProvider: clock });
  return { clock, backend };
};

/** TTL 100 ms without background cleanup, so only reads and snapshots remove expired values. */
const ttl = (configure: (b: ReturnType<typeof StateTtlConfig.newBuilder>) => unknown = () => {}) => {
  const builder = StateTtlConfig.newBuilder(100).disableCleanupInBackground();
  configure(builder);
  return builder.build();
};

describe('TTL config', () => {
  it('defaults to OnCreateAndWrite, NeverReturnExpired and incremental cleanup of 5 entries per access', () => {
    const c = StateTtlConfig.newBuilder(1000).build();
    expect(c.isEnabled()).toBe(true);
    expect(c.updateType).toBe(UpdateType.OnCreateAndWrite);
    expect(c.stateVisibility).toBe(StateVisibility.NeverReturnExpired);
    expect(c.incrementalCleanup).toEqual({ cleanupSize: 5, runCleanupForEveryRecord: false });
    expect(c.cleanupFullSnapshot).toBe(false);
    expect(StateTtlConfig.newBuilder(1000).disableCleanupInBackground().build().incrementalCleanup).toBeUndefined();
    expect(StateTtlConfig.newBuilder(1000).disableCleanupInBackground().cleanupIncrementally(2, true).build().incrementalCleanup).toEqual({
      cleanupSize: 2,
      runCleanupForEveryRecord: true,
    });
    expect(StateTtlConfig.DISABLED.isEnabled()).toBe(false);
  });

  it('rejects a TTL that is not a positive number of milliseconds', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => StateTtlConfig.newBuilder(bad)).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG }));
    }
    expect(() => StateTtlConfig.newBuilder(1).cleanupIncrementally(-1, false)).toThrow(/non-negative/);
  });

  it('refuses to register a state name again with TTL switched', () => {
    const { backend } = setup();
    backend.getValueState(new ValueStateDescriptor('v'));
    expect(() => backend.getValueState(new ValueStateDescriptor('v').enableTimeToLive(ttl()))).toThrow(/already registered without TTL/);
  });
});

describe('value state TTL', () => {
  it('expires exactly ttl after the write', () => {
    const { clock, backend } = setup();
    const s = backend.getValueState(new ValueStateDescriptor<string>('v', 'none').enableTimeToLive(ttl()));
    backend.setCurrentKey('k');
    s.update('x');
    clock.time = 1_099;
    expect(s.value()).toBe('x');
    clock.time = 1_100;
    expect(s.value()).toBe('none');
    expect(backend.keyCount()).toBe(0);
  });

  it('does not extend the TTL on read under OnCreateAndWrite, and does on write', () => {
    const { clock, backend } = setup();
    const s = backend.getValueState(new ValueStateDescriptor<number>('v').enableTimeToLive(ttl()));
    backend.setCurrentKey('k');
    s.update(1);
    clock.time = 1_050;
    expect(s.value()).toBe(1);
    clock.time = 1_100;
    expect(s.value()).toBeUndefined();
    s.update(2);
    clock.time = 1_150;
    s.update(3);
    clock.time = 1_249;
    expect(s.value()).toBe(3);
    clock.time = 1_250;
    expect(s.value()).toBeUndefined();
  });

  it('extends the TTL on every read under OnReadAndWrite', () => {
    const { clock, backend } = setup();
    const s = backend.getValueState(
      new ValueStateDescriptor<number>('v').enableTimeToLive(ttl((b) => b.setUpdateType(UpdateType.OnReadAndWrite))),
    );
    backend.setCurrentKey('k');
    s.update(1);
    clock.time = 1_099;
    expect(s.value()).toBe(1);
    clock.time = 1_198;
    expect(s.value()).toBe(1);
    clock.time = 1_298;
    expect(s.value()).toBeUndefined();
  });

  it('returns an expired value once under ReturnExpiredIfNotCleanedUp, removing it', () => {
    const { clock, backend } = setup();
    const s = backend.getValueState(
      new ValueStateDescriptor<number>('v').enableTimeToLive(ttl((b) => b.setStateVisibility(StateVisibility.ReturnExpiredIfNotCleanedUp))),
    );
    backend.setCurrentKey('k');
    s.update(1);
    clock.time = 5_000;
    expect(backend.keyCount()).toBe(1);
    expect(s.value()).toBe(1);
    expect(s.value()).toBeUndefined();
  });

  it('keeps an expired value stored until it is read, but never returns it under NeverReturnExpired', () => {
    const { clock, backend } = setup();
    const s = backend.getValueState(new ValueStateDescriptor<number>('v').enableTimeToLive(ttl()));
    backend.setCurrentKey('k');
    s.update(1);
    clock.time = 1_100;
    expect(backend.keyCount()).toBe(1);
    expect(s.value()).toBeUndefined();
    expect(backend.keyCount()).toBe(0);
  });

  it('times each key and each namespace separately', () => {
    const { clock, backend } = setup();
    const s = backend.getValueState(new ValueStateDescriptor<number>('v').enableTimeToLive(ttl()));
    backend.setCurrentKey('a');
    s.update(1);
    clock.time = 1_050;
    backend.setCurrentKey('b');
    s.update(2);
    s.setCurrentNamespace('w');
    s.update(3);
    clock.time = 1_100;
    s.setCurrentNamespace(undefined);
    backend.setCurrentKey('a');
    expect(s.value()).toBeUndefined();
    backend.setCurrentKey('b');
    expect(s.value()).toBe(2);
    s.setCurrentNamespace('w');
    expect(s.value()).toBe(3);
    clock.time = 1_150;
    expect(s.value()).toBeUndefined();
  });
});

describe('list state TTL', () => {
  it('expires each element on its own', () => {
    const { clock, backend } = setup();
    const s = backend.getListState(new ListStateDescriptor<string>('l').enableTimeToLive(ttl()));
    backend.setCurrentKey('k');
    s.add('a');
    clock.time = 1_050;
    s.addAll(['b', 'c']);
    clock.time = 1_100;
    expect([...s.get()]).toEqual(['b', 'c']);
    clock.time = 1_149;
    s.add('d');
    expect([...s.get()]).toEqual(['b', 'c', 'd']);
    clock.time = 1_150;
    expect([...s.get()]).toEqual(['d']);
    clock.time = 1_249;
    expect([...s.get()]).toEqual([]);
    expect(backend.keyCount()).toBe(0);
  });

  it('stamps every element on update', () => {
    const { clock, backend } = setup();
    const s = backend.getListState(new ListStateDescriptor<number>('l').enableTimeToLive(ttl()));
    backend.setCurrentKey('k');
    s.add(1);
    clock.time = 1_090;
    s.update([2, 3]);
    clock.time = 1_189;
    expect([...s.get()]).toEqual([2, 3]);
    clock.time = 1_190;
    expect([...s.get()]).toEqual([]);
  });

  it('refreshes the surviving elements on read under OnReadAndWrite', () => {
    const { clock, backend } = setup();
    const s = backend.getListState(new ListStateDescriptor<number>('l').enableTimeToLive(ttl((b) => b.updateTtlOnReadAndWrite())));
    backend.setCurrentKey('k');
    s.add(1);
    clock.time = 1_050;
    s.add(2);
    clock.time = 1_099;
    expect([...s.get()]).toEqual([1, 2]);
    clock.time = 1_198;
    expect([...s.get()]).toEqual([1, 2]);
  });

  it('returns expired elements once under ReturnExpiredIfNotCleanedUp', () => {
    const { clock, backend } = setup();
    const s = backend.getListState(new ListStateDescriptor<number>('l').enableTimeToLive(ttl((b) => b.returnExpiredIfNotCleanedUp())));
    backend.setCurrentKey('k');
    s.add(1);
    clock.time = 1_060;
    s.add(2);
    clock.time = 1_100;
    expect([...s.get()]).toEqual([1, 2]);
    expect([...s.get()]).toEqual([2]);
  });
});

describe('map state TTL', () => {
  it('expires each entry on its own, for get, contains, iteration and isEmpty', () => {
    const { clock, backend } = setup();
    const s = backend.getMapState(new MapStateDescriptor<string, number>('m').enableTimeToLive(ttl()));
    backend.setCurrentKey('k');
    s.put('a', 1);
    clock.time = 1_050;
    s.put('b', 2);
    clock.time = 1_100;
    expect(s.get('a')).toBeUndefined();
    expect(s.contains('b')).toBe(true);
    s.put('a', 3);
    expect([...s.entries()]).toEqual([
      ['b', 2],
      ['a', 3],
    ]);
    clock.time = 1_150;
    expect([...s.keys()]).toEqual(['a']);
    expect(s.isEmpty()).toBe(false);
    clock.time = 1_200;
    expect(s.isEmpty()).toBe(true);
    expect(backend.keyCount()).toBe(0);
  });

  it('refreshes only the entry read under OnReadAndWrite', () => {
    const { clock, backend } = setup();
    const s = backend.getMapState(new MapStateDescriptor<string, number>('m').enableTimeToLive(ttl((b) => b.updateTtlOnReadAndWrite())));
    backend.setCurrentKey('k');
    s.putAll([
      ['a', 1],
      ['b', 2],
    ]);
    clock.time = 1_099;
    expect(s.get('a')).toBe(1);
    clock.time = 1_100;
    expect([...s.values()]).toEqual([1]);
  });

  it('overwrites a value in place and restamps it on put', () => {
    const { clock, backend } = setup();
    const s = backend.getMapState(new MapStateDescriptor<string, number>('m').enableTimeToLive(ttl()));
    backend.setCurrentKey('k');
    s.put('a', 1);
    clock.time = 1_099;
    s.put('a', 2);
    clock.time = 1_198;
    expect(s.get('a')).toBe(2);
    clock.time = 1_199;
    expect(s.contains('a')).toBe(false);
  });
});

describe('reducing and aggregating state TTL', () => {
  it('never reduces a new value into an expired one, whatever the visibility', () => {
    for (const visibility of [StateVisibility.NeverReturnExpired, StateVisibility.ReturnExpiredIfNotCleanedUp]) {
      const { clock, backend } = setup();
      const s = backend.getReducingState(
        new ReducingStateDescriptor<number>('r', (a, v) => a + v).enableTimeToLive(ttl((b) => b.setStateVisibility(visibility))),
      );
      backend.setCurrentKey('k');
      s.add(1);
      s.add(2);
      clock.time = 1_100;
      s.add(10);
      expect(s.get()).toBe(10);
      clock.time = 1_199;
      expect(s.get()).toBe(10);
    }
  });

  it('starts a fresh accumulator after the old one expired', () => {
    const { clock, backend } = setup();
    const s = backend.getAggregatingState(
      new AggregatingStateDescriptor('count', {
        createAccumulator: () => 0,
        add: (_v: string, acc: number) => acc + 1,
        getResult: (acc: number) => acc,
      }).enableTimeToLive(ttl()),
    );
    backend.setCurrentKey('k');
    s.add('a');
    s.add('b');
    expect(s.get()).toBe(2);
    clock.time = 1_100;
    expect(s.get()).toBeUndefined();
    s.add('c');
    expect(s.get()).toBe(1);
  });

  it('leaves expired sources out of a namespace merge', () => {
    const { clock, backend } = setup();
    const s = backend.getListState(new ListStateDescriptor<string>('l').enableTimeToLive(ttl()));
    backend.setCurrentKey('k');
    s.setCurrentNamespace(1);
    s.add('old');
    clock.time = 1_050;
    s.setCurrentNamespace(2);
    s.add('new');
    clock.time = 1_100;
    s.mergeNamespaces(3, [1, 2]);
    s.setCurrentNamespace(3);
    expect([...s.get()]).toEqual(['new']);
  });
});

describe('TTL cleanup', () => {
  it('checks at most 5 entries per state access by default (incremental cleanup) until all expired ones are gone', () => {
    const { clock, backend } = setup();
    const s = backend.getValueState(new ValueStateDescriptor<number>('v').enableTimeToLive(StateTtlConfig.newBuilder(100).build()));
    for (let k = 0; k < 20; k++) {
      backend.setCurrentKey(k);
      s.update(k);
    }
    clock.time = 2_000;
    backend.setCurrentKey('absent');
    const counts = [backend.keyCount()];
    for (let i = 0; i < 6; i++) {
      s.value();
      counts.push(backend.keyCount());
    }
    expect(counts[0]).toBe(20);
    for (let i = 1; i < counts.length; i++) expect(counts[i - 1] - counts[i]).toBeLessThanOrEqual(5);
    expect(counts[counts.length - 1]).toBe(0);
  });

  it('removes exactly the configured number of expired entries per access once the cursor starts over', () => {
    const { clock, backend } = setup();
    const s = backend.getValueState(new ValueStateDescriptor<number>('v').enableTimeToLive(ttl((b) => b.cleanupIncrementally(4, false))));
    const writer = backend.getValueState(new ValueStateDescriptor<number>('w'));
    (s as unknown as { runCleanup(): void }).runCleanup(); // an empty state: the cursor ends at once
    for (let k = 0; k < 10; k++) {
      backend.setCurrentKey(k);
      (s as unknown as { write(v: unknown): void }).write({ v: k, ts: 1_000 }); // stored without an access, so the cursor is untouched
    }
    writer.update(0);
    clock.time = 1_100;
    s.value();
    expect(backend.keyCount()).toBe(1 + 6);
    s.value();
    expect(backend.keyCount()).toBe(1 + 2);
    s.value();
    expect(backend.keyCount()).toBe(1);
  });

  it('cleans on every record when runCleanupForEveryRecord is set', () => {
    const { clock, backend } = setup();
    const s = backend.getListState(new ListStateDescriptor<number>('l').enableTimeToLive(ttl((b) => b.cleanupIncrementally(3, true))));
    for (let k = 0; k < 9; k++) {
      backend.setCurrentKey(k);
      s.add(k);
    }
    clock.time = 1_100;
    backend.setCurrentKey('x');
    expect(backend.keyCount()).toBe(6);
    backend.setCurrentKey('y');
    backend.setCurrentKey('z');
    expect(backend.keyCount()).toBe(0);
  });

  it('keeps unexpired entries while cleaning incrementally', () => {
    const { clock, backend } = setup();
    const s = backend.getMapState(
      new MapStateDescriptor<string, number>('m').enableTimeToLive(ttl((b) => b.cleanupIncrementally(100, false))),
    );
    backend.setCurrentKey('b');
    s.put('x', 3);
    backend.setCurrentKey('a');
    s.put('old', 1);
    clock.time = 1_050;
    s.put('new', 2);
    clock.time = 1_100;
    backend.setCurrentKey('c');
    expect(s.isEmpty()).toBe(true);
    expect(backend.keyCount()).toBe(1);
    backend.setCurrentKey('a');
    expect([...s.entries()]).toEqual([['new', 2]]);
  });

  it('cleans namespaced entries incrementally and drops a namespace with its last entry', () => {
    const { clock, backend } = setup();
    const s = backend.getReducingState(
      new ReducingStateDescriptor<number>('r', (a, v) => a + v).enableTimeToLive(ttl((b) => b.cleanupIncrementally(1_000, false))),
    );
    backend.setCurrentKey('k');
    for (const ns of [1, 2, 3]) {
      s.setCurrentNamespace(ns);
      s.add(ns);
    }
    s.setCurrentNamespace(undefined);
    s.add(0);
    clock.time = 1_100;
    backend.setCurrentKey('other');
    s.get();
    expect(backend.keyCount()).toBe(0);
    const table = (s as unknown as { table: { namespaced: (Map<unknown, unknown> | undefined)[] } }).table;
    expect(table.namespaced.every((byNs) => byNs === undefined || byNs.size === 0)).toBe(true);
  });

  it('leaves expired values out of snapshots with cleanupFullSnapshot, and keeps them without', () => {
    const { clock, backend } = setup();
    const full = backend.getListState(new ListStateDescriptor<number>('full').enableTimeToLive(ttl((b) => b.cleanupFullSnapshot())));
    const plain = backend.getListState(new ListStateDescriptor<number>('plain').enableTimeToLive(ttl()));
    backend.setCurrentKey('k');
    full.add(1);
    plain.add(1);
    clock.time = 1_050;
    full.add(2);
    plain.add(2);
    clock.time = 1_100;
    const snap = backend.snapshotKeyGroup(backend.getCurrentKeyGroup());
    const byName = Object.fromEntries(snap.states.map((s) => [s.name, s]));
    expect(byName.full.values).toEqual([[2]]);
    expect(byName.full.timestamps).toEqual([[1_050]]);
    expect(byName.plain.values).toEqual([[1, 2]]);
    expect(byName.plain.timestamps).toEqual([[1_000, 1_050]]);
    expect(backend.keyCount()).toBe(2); // the snapshot does not change live state
  });
});
