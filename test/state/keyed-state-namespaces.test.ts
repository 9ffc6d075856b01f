// Namespaces: window operators scope keyed state to (key, namespace) on the state object, and merge namespaces as session windows do.
import { describe, expect, it } from 'vitest';
import { backendUnderTest } from './backend-under-test.ts';
import {
  AggregatingStateDescriptor,
  HeapKeyedStateBackend,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
} from '../../src/state/index.ts';

const backend = () => backendUnderTest(128, { start: 0, end: 127 }, 'op');
const w = (start: number, end: number) => ({ start, end });

describe('namespaces', () => {
  it('keeps a value per (key, namespace), apart from the default namespace', () => {
    const b = backend();
    const s = b.getValueState(new ValueStateDescriptor<number>('v', 0));
    b.setCurrentKey('a');
    s.update(1);
    s.setCurrentNamespace(w(0, 10));
    expect(s.value()).toBe(0);
    s.update(2);
    s.setCurrentNamespace(w(10, 20));
    s.update(3);
    s.setCurrentNamespace(w(0, 10)); // another object equal by value
    expect(s.value()).toBe(2);
    s.setCurrentNamespace(undefined);
    expect(s.value()).toBe(1);
    s.setCurrentNamespace(null);
    expect(s.value()).toBe(1);
    b.setCurrentKey('b');
    s.setCurrentNamespace(w(0, 10));
    expect(s.value()).toBe(0);
    expect(b.keyCount()).toBe(3);
  });

  it('scopes the namespace to one state object, leaving other states in theirs', () => {
    const b = backend();
    const windowed = b.getListState(new ListStateDescriptor<number>('contents'));
    const global = b.getValueState(new ValueStateDescriptor<number>('count'));
    b.setCurrentKey('k');
    windowed.setCurrentNamespace(100);
    windowed.add(1);
    global.update(5);
    expect(global.getCurrentNamespace()).toBeUndefined();
    expect(windowed.getCurrentNamespace()).toBe(100);
    windowed.setCurrentNamespace(undefined);
    expect([...windowed.get()]).toEqual([]);
  });

  it('drops a namespace with its last key', () => {
    const b = backend();
    const s = b.getMapState(new MapStateDescriptor<string, number>('m'));
    b.setCurrentKey('k');
    s.setCurrentNamespace('ns');
    s.put('x', 1);
    const table = (s as unknown as { table: { namespaced: (Map<unknown, unknown> | undefined)[] } }).table;
    const kg = b.getCurrentKeyGroup();
    expect(table.namespaced[kg]?.has('ns')).toBe(true);
    s.remove('x');
    expect(table.namespaced[kg]?.has('ns')).toBe(false);
  });

  it('lists the keys with state in a namespace, and applies a function to each', () => {
    const b = backend();
    const desc = new ValueStateDescriptor<number>('v');
    const s = b.getValueState(desc);
    for (const k of ['a', 'b', 'c']) {
      b.setCurrentKey(k);
      s.update(1);
    }
    s.setCurrentNamespace(7);
    b.setCurrentKey('b');
    s.update(2);
    expect(b.getKeys('v').sort()).toEqual(['a', 'b', 'c']);
    expect(b.getKeys('v', 7)).toEqual(['b']);
    b.setCurrentKey('z');
    const seen: [unknown, number | undefined][] = [];
    b.applyToAllKeys(undefined, desc, (key, state: typeof s) => {
      seen.push([key, state.value()]);
      state.update(10);
    });
    expect(seen.sort()).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ]);
    expect(b.getCurrentKey()).toBe('z');
    expect(s.getCurrentNamespace()).toBe(7);
    s.setCurrentNamespace(undefined);
    b.setCurrentKey('c');
    expect(s.value()).toBe(10);
  });
});

describe('merging namespaces', () => {
  it('concatenates list state, target first, then sources in order, and clears the sources', () => {
    const b = backend();
    const s = b.getListState(new ListStateDescriptor<string>('l'));
    b.setCurrentKey('k');
    for (const [ns, items] of [
      [w(0, 5), ['a']],
      [w(3, 8), ['b', 'c']],
      [w(7, 9), ['d']],
    ] as const) {
      s.setCurrentNamespace(ns);
      s.addAll(items);
    }
    s.mergeNamespaces(w(0, 9), [w(3, 8), w(0, 5), w(7, 9)]);
    s.setCurrentNamespace(w(0, 9));
    expect([...s.get()]).toEqual(['b', 'c', 'a', 'd']);
    for (const ns of [w(0, 5), w(3, 8), w(7, 9)]) {
      s.setCurrentNamespace(ns);
      expect([...s.get()]).toEqual([]);
    }
    expect(b.keyCount()).toBe(1);
  });

  it('keeps the target first when it is also among the sources', () => {
    const b = backend();
    const s = b.getListState(new ListStateDescriptor<number>('l'));
    b.setCurrentKey('k');
    s.setCurrentNamespace(1);
    s.add(1);
    s.setCurrentNamespace(2);
    s.add(2);
    s.mergeNamespaces(1, [1, 2]);
    s.setCurrentNamespace(1);
    expect([...s.get()]).toEqual([1, 2]);
  });

  it('reduces reducing state and merges aggregating accumulators', () => {
    const b = backend();
    const r = b.getReducingState(new ReducingStateDescriptor<number>('r', (a, v) => a + v));
    const a = b.getAggregatingState(
      new AggregatingStateDescriptor('a', {
        createAccumulator: () => [0, 0] as [number, number],
        add: (v: number, acc: [number, number]): [number, number] => [acc[0] + v, acc[1] + 1],
        getResult: (acc: [number, number]) => acc[0] / acc[1],
        merge: (x: [number, number], y: [number, number]): [number, number] => [x[0] + y[0], x[1] + y[1]],
      }),
    );
    b.setCurrentKey('k');
    for (const [ns, v] of [
      [1, 2],
      [2, 4],
      [3, 9],
    ]) {
      r.setCurrentNamespace(ns);
      r.add(v);
      a.setCurrentNamespace(ns);
      a.add(v);
    }
    r.mergeNamespaces(4, [1, 2, 3]);
    a.mergeNamespaces(1, [2, 3]);
    r.setCurrentNamespace(4);
    expect(r.get()).toBe(15);
    a.setCurrentNamespace(1);
    expect(a.get()).toBe(5);
    a.setCurrentNamespace(2);
    expect(a.get()).toBeUndefined();
  });

  it('refuses to merge aggregating state without merge() and leaves the state as it was', () => {
    const b = backend();
    const a = b.getAggregatingState(
      new AggregatingStateDescriptor('a', {
        createAccumulator: () => 0,
        add: (v: number, acc: number) => acc + v,
        getResult: (acc: number) => acc,
      }),
    );
    b.setCurrentKey('k');
    a.setCurrentNamespace(1);
    a.add(1);
    expect(() => a.mergeNamespaces(2, [1])).toThrow(/no merge\(\)/);
    expect(a.get()).toBe(1);
  });

  it('merges only the state of the current key', () => {
    const b = backend();
    const s = b.getListState(new ListStateDescriptor<string>('l'));
    for (const key of ['x', 'y']) {
      b.setCurrentKey(key);
      s.setCurrentNamespace(1);
      s.add(`${key}1`);
      s.setCurrentNamespace(2);
      s.add(`${key}2`);
    }
    b.setCurrentKey('x');
    s.mergeNamespaces(3, [1, 2]);
    b.setCurrentKey('y');
    s.setCurrentNamespace(1);
    expect([...s.get()]).toEqual(['y1']);
  });
});
