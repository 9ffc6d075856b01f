// Broadcast state: a map per operator, writable on the broadcast side, read-only on the other, snapshotted and copied to new subtasks on rescale.
import { describe, expect, it } from 'vitest';
import { HeapOperatorStateStore, MapStateDescriptor, redistributeOperatorState } from '../../src/state/index.ts';

const rules = new MapStateDescriptor<string, { limit: number }>('rules');

describe('broadcast state', () => {
  it('shares one map between the writable state and its read-only view', () => {
    const store = new HeapOperatorStateStore('join');
    const state = store.getBroadcastState(rules);
    const view = store.getReadOnlyBroadcastState(rules);
    expect(view.isEmpty()).toBe(true);
    state.put('a', { limit: 1 });
    state.putAll([
      ['b', { limit: 2 }],
      ['c', { limit: 3 }],
    ]);
    state.remove('c');
    expect(view.get('a')).toEqual({ limit: 1 });
    expect(view.contains('b')).toBe(true);
    expect(view.contains('c')).toBe(false);
    expect([...view.immutableEntries()]).toEqual([
      ['a', { limit: 1 }],
      ['b', { limit: 2 }],
    ]);
    expect([...view.keys()]).toEqual(['a', 'b']);
    expect(view.size()).toBe(2);
    expect(store.getBroadcastState(rules)).toBe(state);
    expect(store.getRegisteredBroadcastStateNames()).toEqual(['rules']);
  });

  it('exposes no writers on the read-only view', () => {
    const store = new HeapOperatorStateStore('join');
    const view = store.getReadOnlyBroadcastState(rules) as unknown as Record<string, unknown>;
    for (const writer of ['put', 'putAll', 'remove', 'clear', 'entries']) expect(view[writer]).toBeUndefined();
  });

  it('compares composite keys by value', () => {
    const store = new HeapOperatorStateStore('join');
    const state = store.getBroadcastState(new MapStateDescriptor<[string, number], number>('composite'));
    state.put(['x', 1], 10);
    expect(state.get(['x', 1])).toBe(10);
    expect([...state.entries()]).toEqual([[['x', 1], 10]]);
  });

  it('restores from a snapshot and gives every new subtask the same map on rescale', () => {
    const stores = [0, 1].map(() => new HeapOperatorStateStore('join'));
    for (const store of stores) {
      const state = store.getBroadcastState(rules);
      state.put('a', { limit: 1 });
      state.put('b', { limit: 2 });
    }
    const next = redistributeOperatorState(
      stores.map((s) => s.snapshot()),
      5,
    );
    for (const snap of next) {
      const store = new HeapOperatorStateStore('join');
      store.restore(snap);
      expect([...store.getReadOnlyBroadcastState(rules).immutableEntries()]).toEqual([
        ['a', { limit: 1 }],
        ['b', { limit: 2 }],
      ]);
    }
  });

  it('clears every entry', () => {
    const store = new HeapOperatorStateStore('join');
    const state = store.getBroadcastState(rules);
    state.put('a', { limit: 1 });
    state.clear();
    expect(state.isEmpty()).toBe(true);
    expect(store.snapshot().broadcast).toEqual([{ name: 'rules', entries: [] }]);
  });
});
