import { describe, expect, it } from 'vitest';
import { fieldReplacer } from '../../src/api/datastream.ts';

describe('sum field copy', () => {
  it('copies a record with the field replaced, keys in the record order, never changing the record', () => {
    const replace = fieldReplacer('count');
    const first = { key: 'a', count: 1, tag: 'x' };
    const out = replace(first, 5);
    expect(out).toEqual({ key: 'a', count: 5, tag: 'x' });
    expect(Object.keys(out)).toEqual(['key', 'count', 'tag']);
    expect(first).toEqual({ key: 'a', count: 1, tag: 'x' });
    expect(replace(out, 6)).toEqual({ key: 'a', count: 6, tag: 'x' });
  });

  it('copies records of another shape as a spread does', () => {
    const replace = fieldReplacer('count');
    replace({ key: 'a', count: 1 }, 2);
    const cases: object[] = [
      { count: 1, key: 'b' },
      { key: 'c', count: 1, extra: true },
      { key: 'd' },
      { 1: 'one', key: 'e', count: 3 },
      Object.assign(Object.create({ inherited: 1 }), { key: 'f', count: 1 }),
    ];
    for (const record of cases) {
      const out = replace(record, 9);
      const spread = { ...record, count: 9 };
      expect(out).toEqual(spread);
      expect(Object.keys(out)).toEqual(Object.keys(spread));
    }
  });

  it('adds the field last when the first record lacks it', () => {
    const replace = fieldReplacer('total');
    expect(Object.entries(replace({ key: 'a' }, 3))).toEqual([
      ['key', 'a'],
      ['total', 3],
    ]);
    expect(Object.entries(replace({ key: 'b' }, 4))).toEqual([
      ['key', 'b'],
      ['total', 4],
    ]);
  });

  it('quotes field names that are not identifiers', () => {
    const replace = fieldReplacer('the "count"');
    const record = { 'a-b': 1, 'the "count"': 2, "it's": 3 };
    expect(replace(record, 7)).toEqual({ 'a-b': 1, 'the "count"': 7, "it's": 3 });
    expect(replace({ ...record }, 8)).toEqual({ 'a-b': 1, 'the "count"': 8, "it's": 3 });
  });
});
