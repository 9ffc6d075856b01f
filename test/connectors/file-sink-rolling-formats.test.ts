// Exactly-once file sink part files: rolling by size and by time, CSV quoting and headers, JSON lines with bigints, custom formats, names with prefix and suffix.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csvField } from '../../src/connectors/file-sink.ts';
import { FakeClock, committedLines, hiddenFiles, openWriter, visibleParts } from './file-sink-helpers.ts';

let dir: string;
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'weir-file-sink-')), 'out');
});
afterEach(() => {
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

/** A minimal RFC 4180 reader, to check that what the sink writes parses back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  return rows;
}

describe('rolling', () => {
  it('rolls to a new part once the current one reaches rollSizeBytes; rolled parts become pending at the barrier', async () => {
    const w = await openWriter<string>(dir, { format: (v) => v, rollSizeBytes: 10 });
    for (const r of ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee']) w.write(r, undefined);
    // 5 bytes a line: two lines reach 10 bytes, the third goes to a new part.
    expect(hiddenFiles(dir)).toEqual(['.part-0-0.inprogress', '.part-0-1.inprogress', '.part-0-2.inprogress']);
    w.snapshotState!(1);
    expect(hiddenFiles(dir)).toEqual(['.part-0-0.pending', '.part-0-1.pending', '.part-0-2.pending']);
    await w.notifyCheckpointComplete!(1);
    expect(visibleParts(dir)).toEqual(['part-0-0', 'part-0-1', 'part-0-2']);
    expect(readFileSync(join(dir, 'part-0-0'), 'utf8')).toBe('aaaa\nbbbb\n');
    expect(readFileSync(join(dir, 'part-0-2'), 'utf8')).toBe('eeee\n');
  });

  it('counts bytes, not characters', async () => {
    const w = await openWriter<string>(dir, { format: (v) => v, rollSizeBytes: 6 });
    w.write('ééé', undefined); // 7 bytes with the newline
    w.write('x', undefined);
    w.endInput?.();
    await w.close?.();
    expect(visibleParts(dir)).toEqual(['part-0-0', 'part-0-1']);
  });

  it('rolls to a new part once the current one has been open rollIntervalMs', async () => {
    const clock = new FakeClock();
    const w = await openWriter<number>(dir, { format: 'jsonl', rollIntervalMs: 1000 }, undefined, 0, clock);
    w.write(1, undefined);
    clock.time = 999;
    w.write(2, undefined);
    clock.time = 1000;
    w.write(3, undefined);
    clock.time = 1500;
    w.write(4, undefined);
    w.snapshotState!(1);
    await w.notifyCheckpointComplete!(1);
    expect(visibleParts(dir)).toEqual(['part-0-0', 'part-0-1']);
    expect(readFileSync(join(dir, 'part-0-0'), 'utf8')).toBe('1\n2\n');
    expect(readFileSync(join(dir, 'part-0-1'), 'utf8')).toBe('3\n4\n');
  });

  it('starts a new part after every barrier', async () => {
    const w = await openWriter<number>(dir, { format: 'jsonl' });
    for (let cp = 1; cp <= 3; cp++) {
      w.write(cp, undefined);
      w.snapshotState!(cp);
    }
    await w.notifyCheckpointComplete!(3);
    expect(visibleParts(dir)).toEqual(['part-0-0', 'part-0-1', 'part-0-2']);
  });
});

describe('formats', () => {
  it('quotes CSV fields holding commas, quotes and line breaks, and they parse back', async () => {
    const rows = [
      ['plain', 'with,comma', 'with "quotes"', 'multi\nline', 'cr\r\nlf', '', null, 42, true, 10n],
      ['  spaces  ', '"', ',', '\n', 'é漢字', undefined, { a: [1] }, new Date(0), -1.5, false],
    ];
    const w = await openWriter<unknown[]>(dir, { format: 'csv' });
    for (const r of rows) w.write(r, undefined);
    w.endInput?.();
    await w.close?.();
    const text = readFileSync(join(dir, 'part-0-0'), 'utf8');
    expect(text.split('\n')[0]).toBe('plain,"with,comma","with ""quotes""","multi');
    expect(parseCsv(text)).toEqual([
      ['plain', 'with,comma', 'with "quotes"', 'multi\nline', 'cr\r\nlf', '', '', '42', 'true', '10'],
      ['  spaces  ', '"', ',', '\n', 'é漢字', '', '{"a":[1]}', '1970-01-01T00:00:00.000Z', '-1.5', 'false'],
    ]);
  });

  it('writes a CSV header at the top of every part file, columns from the options or the first record', async () => {
    const w = await openWriter<Record<string, unknown>>(dir, { format: 'csv', csv: { header: true }, rollSizeBytes: 20 });
    w.write({ id: 1, 'name, full': 'Ann "A"' }, undefined);
    w.write({ 'name, full': 'Bob', id: 2 }, undefined);
    w.endInput?.();
    await w.close?.();
    expect(visibleParts(dir)).toEqual(['part-0-0', 'part-0-1']);
    expect(parseCsv(readFileSync(join(dir, 'part-0-0'), 'utf8'))).toEqual([
      ['id', 'name, full'],
      ['1', 'Ann "A"'],
    ]);
    expect(parseCsv(readFileSync(join(dir, 'part-0-1'), 'utf8'))).toEqual([
      ['id', 'name, full'],
      ['2', 'Bob'],
    ]);

    const out2 = join(dir, '..', 'out2');
    const v = await openWriter<Record<string, unknown>>(out2, {
      format: 'csv',
      csv: { header: true, columns: ['b', 'a'], delimiter: ';' },
    });
    v.write({ a: 'x;y', b: 2, c: 'ignored' }, undefined);
    v.endInput?.();
    await v.close?.();
    expect(readFileSync(join(out2, 'part-0-0'), 'utf8')).toBe('b;a\n2;"x;y"\n');
  });

  it('refuses a CSV header without column names', async () => {
    const w = await openWriter<unknown[]>(dir, { format: 'csv', csv: { header: true } });
    expect(() => w.write([1, 2], undefined)).toThrow(/set csv.columns/);
  });

  it('renders fields as RFC 4180 asks', () => {
    expect(csvField('a"b')).toBe('"a""b"');
    expect(csvField('a\tb')).toBe('a\tb');
    expect(csvField('a\tb', '\t')).toBe('"a\tb"');
    expect(csvField(null)).toBe('');
  });

  it('writes JSON lines, bigints as numbers, with a custom prefix and suffix', async () => {
    const w = await openWriter<unknown>(dir, { format: 'jsonl', prefix: 'events', suffix: '.jsonl' });
    w.write({ id: 12345678901234567890n, nested: [1n, { s: 'x\ny' }], d: new Date(0), u: undefined }, undefined);
    w.write('text', undefined);
    w.write(undefined, undefined);
    w.endInput?.();
    await w.close?.();
    expect(visibleParts(dir)).toEqual(['events-0-0.jsonl']);
    expect(committedLines(dir)).toEqual([
      '{"id":12345678901234567890,"nested":[1,{"s":"x\\ny"}],"d":"1970-01-01T00:00:00.000Z"}',
      '"text"',
      'null',
    ]);
  });

  it('names the operator when a custom format throws', async () => {
    const w = await openWriter<number>(dir, {
      format: () => {
        throw new Error('boom');
      },
    });
    expect(() => w.write(1, undefined)).toThrow(/file sink 'files' \(subtask 0\) cannot format a record: boom/);
  });
});
