// Keyed state types on the heap backend: value, list, map, reducing and aggregating state, scoped per key, with Flink's semantics.
import { describe, expect, it } from 'vitest';
import { backendUnderTest } from './backend-under-test.ts';
import { createRuntimeContext, type OperatorContext } from '../../src/actors/operator.ts';
import { ErrorCodes } from '../../src/core/errors.ts';
import {
  AggregatingStateDescriptor,
  HeapKeyedStateBackend,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
  assignToKeyGroup,
  type AggregateFunction,
} from '../../src/state/index.ts';

const backend = () => backendUnderTest(128, { start: 0, end: 127 }, 'op');

const average: AggregateFunction<number, { sum: number; count: number }, number> = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (v, acc) => ({ sum: acc.sum + v, count: acc.count + 1 }),
  getResult: (acc) => acc.sum / acc.count,
  merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
};

describe('value state', () => {
  it('keeps one value per key and returns the default for keys without one', () => {
    const b = backend();
    const s = b.getValueState(new ValueStateDescriptor<number>('v', -1));
    b.setCurrentKey('a');
    expect(s.value()).toBe(-1);
    s.update(1);
    b.setCurrentKey('b');
    expect(s.value()).toBe(-1);
    s.update(2);
    b.setCurrentKey('a');
    expect(s.value()).toBe(1);
    s.clear();
    expect(s.value()).toBe(-1);
    b.setCurrentKey('b');
    expect(s.value()).toBe(2);
  });

  it('clears the value when updated with undefined', () => {
    const b = backend();
    const s = b.getValueState(new ValueStateDescriptor<number>('v'));
    b.setCurrentKey(7);
    s.update(3);
    s.update(undefined as unknown as number);
    expect(s.value()).toBeUndefined();
    expect(b.keyCount()).toBe(0);
  });

  it('compares composite keys by value', () => {
    const b = backend();
    const s = b.getValueState(new ValueStateDescriptor<string>('v'));
    b.setCurrentKey(['x', 1]);
    s.update('first');
    b.setCurrentKey(['x', 1]);
    expect(s.value()).toBe('first');
    b.setCurrentKey(['x', 2]);
    expect(s.value()).toBeUndefined();
  });

  it('stores a key in the Map of its key group', () => {
    const b = backend();
    const s = b.getValueState(new ValueStateDescriptor<number>('v')) as unknown as {
      table: { defaults: (Map<unknown, unknown> | undefined)[] };
    };
    for (const key of ['a', 'b', 42]) {
      b.setCurrentKey(key);
      (s as unknown as { update(v: number): void }).update(1);
      expect(b.getCurrentKeyGroup()).toBe(assignToKeyGroup(key, 128));
      expect(s.table.defaults[assignToKeyGroup(key, 128)]?.has(key)).toBe(true);
    }
  });
});

describe('list state', () => {
  it('adds, adds all, updates and clears per key, keeping insertion order', () => {
    const b = backend();
    const s = b.getListState(new ListStateDescriptor<number>('l'));
    b.setCurrentKey('a');
    expect([...s.get()]).toEqual([]);
    s.add(1);
    s.addAll([2, 3]);
    expect([...s.get()]).toEqual([1, 2, 3]);
    b.setCurrentKey('b');
    s.add(9);
    b.setCurrentKey('a');
    s.update([5, 6]);
    expect([...s.get()]).toEqual([5, 6]);
    s.clear();
    expect([...s.get()]).toEqual([]);
    b.setCurrentKey('b');
    expect([...s.get()]).toEqual([9]);
  });

  it('treats addAll of nothing as a no-op and update with nothing as clear', () => {
    const b = backend();
    const s = b.getListState(new ListStateDescriptor<number>('l'));
    b.setCurrentKey('a');
    s.addAll([]);
    expect(b.keyCount()).toBe(0);
    s.add(1);
    s.update([]);
    expect([...s.get()]).toEqual([]);
    expect(b.keyCount()).toBe(0);
  });

  it('copies the list passed to update and addAll', () => {
    const b = backend();
    const s = b.getListState(new ListStateDescriptor<number>('l'));
    b.setCurrentKey('a');
    const input = [1, 2];
    s.update(input);
    input.push(3);
    s.addAll(input);
    input.push(4);
    expect([...s.get()]).toEqual([1, 2, 1, 2, 3]);
  });

  it('refuses null and undefined elements without changing the list', () => {
    const b = backend();
    const s = b.getListState(new ListStateDescriptor<number | null>('l'));
    b.setCurrentKey('a');
    s.add(1);
    expect(() => s.add(null)).toThrow(expect.objectContaining({ code: ErrorCodes.STATE_ACCESS }));
    expect(() => s.addAll([2, undefined as unknown as number])).toThrow(/cannot hold undefined/);
    expect(() => s.update([null])).toThrow(/cannot hold null/);
    expect([...s.get()]).toEqual([1]);
  });
});

describe('map state', () => {
  it('puts, gets, removes and checks entries per key', () => {
    const b = backend();
    const s = b.getMapState(new MapStateDescriptor<string, number>('m'));
    b.setCurrentKey('a');
    expect(s.isEmpty()).toBe(true);
    s.put('x', 1);
    s.putAll([
      ['y', 2],
      ['z', 3],
    ]);
    s.putAll(new Map([['x', 10]]));
    expect(s.get('x')).toBe(10);
    expect(s.contains('y')).toBe(true);
    expect(s.contains('w')).toBe(false);
    expect(s.get('w')).toBeUndefined();
    b.setCurrentKey('b');
    expect(s.isEmpty()).toBe(true);
    expect(s.get('x')).toBeUndefined();
    b.setCurrentKey('a');
    s.remove('y');
    expect([...s.entries()]).toEqual([
      ['x', 10],
      ['z', 3],
    ]);
    expect([...s.keys()]).toEqual(['x', 'z']);
    expect([...s.values()]).toEqual([10, 3]);
    s.clear();
    expect(s.isEmpty()).toBe(true);
    expect(b.keyCount()).toBe(0);
  });

  it('drops the map of a key when its last entry is removed', () => {
    const b = backend();
    const s = b.getMapState(new MapStateDescriptor<string, number>('m'));
    b.setCurrentKey('a');
    s.put('x', 1);
    expect(b.keyCount()).toBe(1);
    s.remove('x');
    expect(b.keyCount()).toBe(0);
  });

  it('compares composite user keys by value and returns equal copies when iterating', () => {
    const b = backend();
    const s = b.getMapState(new MapStateDescriptor<[string, number], string>('m'));
    b.setCurrentKey('a');
    s.put(['k', 1], 'one');
    expect(s.get(['k', 1])).toBe('one');
    expect(s.contains(['k', 2])).toBe(false);
    expect([...s.keys()]).toEqual([['k', 1]]);
  });

  it('tells a stored undefined value from a missing entry with contains', () => {
    const b = backend();
    const s = b.getMapState(new MapStateDescriptor<string, number | undefined>('m'));
    b.setCurrentKey('a');
    s.put('x', undefined);
    expect(s.contains('x')).toBe(true);
    expect(s.isEmpty()).toBe(false);
  });

  it('allows removing entries while iterating, and iterates the key current when iteration began', () => {
    const b = backend();
    const s = b.getMapState(new MapStateDescriptor<number, number>('m'));
    b.setCurrentKey('a');
    for (let i = 0; i < 5; i++) s.put(i, i * i);
    const seen: number[] = [];
    for (const [k] of s.entries()) {
      seen.push(k);
      if (k % 2 === 0) s.remove(k);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect([...s.keys()]).toEqual([1, 3]);
    const it = s.keys();
    b.setCurrentKey('other');
    expect([...it]).toEqual([1, 3]);
  });
});

describe('reducing state', () => {
  it('stores the first value and reduces the next ones into it, per key', () => {
    const b = backend();
    const s = b.getReducingState(new ReducingStateDescriptor<number>('r', (a, v) => a + v));
    b.setCurrentKey('a');
    expect(s.get()).toBeUndefined();
    s.add(1);
    s.add(2);
    b.setCurrentKey('b');
    s.add(10);
    b.setCurrentKey('a');
    expect(s.get()).toBe(3);
    s.clear();
    expect(s.get()).toBeUndefined();
    b.setCurrentKey('b');
    expect(s.get()).toBe(10);
  });

  it('accepts a reduce function object and calls it with its this', () => {
    const b = backend();
    const max = {
      calls: 0,
      reduce(a: number, v: number) {
        this.calls++;
        return Math.max(a, v);
      },
    };
    const s = b.getReducingState(new ReducingStateDescriptor<number>('r', max));
    b.setCurrentKey('a');
    [3, 7, 5].forEach((v) => s.add(v));
    expect(s.get()).toBe(7);
    expect(max.calls).toBe(2);
  });

  it('leaves the state unchanged when the reduce function throws', () => {
    const b = backend();
    const s = b.getReducingState(
      new ReducingStateDescriptor<number>('r', (a, v) => {
        if (v < 0) throw new Error('negative');
        return a + v;
      }),
    );
    b.setCurrentKey('a');
    s.add(1);
    expect(() => s.add(-1)).toThrow('negative');
    expect(s.get()).toBe(1);
  });
});

describe('aggregating state', () => {
  it('creates an accumulator on the first add and returns the result', () => {
    const b = backend();
    const s = b.getAggregatingState(new AggregatingStateDescriptor('avg', average));
    b.setCurrentKey('a');
    expect(s.get()).toBeUndefined();
    s.add(1);
    s.add(2);
    s.add(6);
    expect(s.get()).toBe(3);
    b.setCurrentKey('b');
    s.add(10);
    expect(s.get()).toBe(10);
    b.setCurrentKey('a');
    s.clear();
    expect(s.get()).toBeUndefined();
  });
});

describe('registration', () => {
  it('returns the same state object for the same name and kind', () => {
    const b = backend();
    expect(b.getListState(new ListStateDescriptor('x'))).toBe(b.getListState(new ListStateDescriptor('x')));
  });

  it('refuses a name already registered as another kind, naming both kinds', () => {
    const b = backend();
    b.getValueState(new ValueStateDescriptor('x'));
    expect(() => b.getListState(new ListStateDescriptor('x'))).toThrow(
      expect.objectContaining({
        code: ErrorCodes.STATE_ACCESS,
        message: expect.stringMatching(/already registered as value state.*as list state/),
      }),
    );
    expect(() => b.getMapState(new MapStateDescriptor('x'))).toThrow(/as map state/);
    expect(() => b.getReducingState(new ReducingStateDescriptor('x', (a: number) => a))).toThrow(/as reducing state/);
    expect(() => b.getAggregatingState(new AggregatingStateDescriptor('x', average))).toThrow(/as aggregating state/);
  });

  it('rejects descriptors without a name or without their functions', () => {
    expect(() => new ListStateDescriptor('')).toThrow(TypeError);
    expect(() => new ReducingStateDescriptor('r', null as never)).toThrow(/needs a function/);
    expect(() => new AggregatingStateDescriptor('a', { add: () => 0 } as never)).toThrow(/createAccumulator/);
  });

  it('keeps states independent of each other for the same key', () => {
    const b = backend();
    const v = b.getValueState(new ValueStateDescriptor<number>('v'));
    const l = b.getListState(new ListStateDescriptor<number>('l'));
    b.setCurrentKey('k');
    v.update(1);
    l.add(2);
    v.clear();
    expect([...l.get()]).toEqual([2]);
    expect(b.keyCount()).toBe(1);
  });
});

describe('runtime context', () => {
  // Only what createRuntimeContext reads; the rest of OperatorContext belongs to the runtime.
  const context = (keyed: boolean, b = backend()): OperatorContext =>
    ({
      operatorName: 'Op',
      operatorId: 'op-1',
      taskName: 'task',
      subtaskIndex: 0,
      parallelism: 1,
      maxParallelism: 128,
      keyed,
      keyedBackend: () => b,
    }) satisfies Partial<OperatorContext> as unknown as OperatorContext;

  it('hands out every keyed state type from the operator backend', () => {
    const b = backend();
    const ctx = createRuntimeContext(context(true, b));
    const list = ctx.getListState(new ListStateDescriptor<number>('l'));
    const map = ctx.getMapState(new MapStateDescriptor<string, number>('m'));
    const red = ctx.getReducingState(new ReducingStateDescriptor<number>('r', (a, v) => a * v));
    const agg = ctx.getAggregatingState(new AggregatingStateDescriptor('a', average));
    b.setCurrentKey('k');
    list.add(1);
    map.put('x', 1);
    red.add(2);
    red.add(3);
    agg.add(4);
    expect(b.getListState(new ListStateDescriptor<number>('l'))).toBe(list);
    expect(red.get()).toBe(6);
    expect(agg.get()).toBe(4);
    expect(b.keyCount()).toBe(4);
  });

  it('refuses keyed state of every type on a stream that is not keyed', () => {
    const ctx = createRuntimeContext(context(false));
    expect(() => ctx.getListState(new ListStateDescriptor('l'))).toThrow(/keyed state 'l' requested in operator 'Op'.*use keyBy\(\) first/);
    expect(() => ctx.getMapState(new MapStateDescriptor('m'))).toThrow(/keyed state 'm'/);
    expect(() => ctx.getReducingState(new ReducingStateDescriptor('r', (a: number) => a))).toThrow(/keyed state 'r'/);
    expect(() => ctx.getAggregatingState(new AggregatingStateDescriptor('a', average))).toThrow(/keyed state 'a'/);
    expect(() => ctx.getState(new ValueStateDescriptor('v'))).toThrow(/keyed state 'v'/);
  });
});
