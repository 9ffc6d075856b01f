// The file source's formats: RFC 4180 CSV records, column conversions, and the line cursor's byte offsets.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineCursor, convertCsvField, countLines, parseCsvRecord } from '../../src/connectors/file-formats.ts';
import { tempDir } from './file-source-helpers.ts';

describe('parseCsvRecord', () => {
  it('splits plain fields, keeping spaces and empty fields', () => {
    expect(parseCsvRecord('a, b ,,d,')).toEqual({ kind: 'fields', fields: ['a', ' b ', '', 'd', ''] });
    expect(parseCsvRecord('')).toEqual({ kind: 'fields', fields: [''] });
  });

  it('reads quoted fields with delimiters, doubled quotes and line breaks', () => {
    expect(parseCsvRecord('"Smith, J.","say ""hi""","two\nlines","a\r\nb",""')).toEqual({
      kind: 'fields',
      fields: ['Smith, J.', 'say "hi"', 'two\nlines', 'a\r\nb', ''],
    });
    expect(parseCsvRecord('""""')).toEqual({ kind: 'fields', fields: ['"'] });
  });

  it('answers incomplete while a quoted field is open', () => {
    expect(parseCsvRecord('1,"two')).toEqual({ kind: 'incomplete' });
    expect(parseCsvRecord('1,"two""')).toEqual({ kind: 'incomplete' });
  });

  it('rejects a quote inside an unquoted field and text after a closing quote', () => {
    expect(parseCsvRecord('a,b"c')).toEqual({ kind: 'malformed', reason: 'a quote inside the unquoted field 2' });
    expect(parseCsvRecord('"a"b,c')).toEqual({ kind: 'malformed', reason: 'unexpected "b" after the closing quote of field 1' });
  });

  it('uses another delimiter', () => {
    expect(parseCsvRecord('a;"b;c";d', ';')).toEqual({ kind: 'fields', fields: ['a', 'b;c', 'd'] });
  });
});

describe('convertCsvField', () => {
  it('converts numbers, integers and booleans; an empty field is null', () => {
    expect(convertCsvField('12.5', 'number')).toEqual({ value: 12.5 });
    expect(convertCsvField(' -3e2 ', 'number')).toEqual({ value: -300 });
    expect(convertCsvField('42', 'integer')).toEqual({ value: 42 });
    expect(convertCsvField('TRUE', 'boolean')).toEqual({ value: true });
    expect(convertCsvField('', 'number')).toEqual({ value: null });
    expect(convertCsvField('x', 'string')).toEqual({ value: 'x' });
  });

  it('refuses text that is not of the type', () => {
    expect(convertCsvField('12a', 'number')).toEqual({ reason: '"12a" is not a number' });
    expect(convertCsvField('0x10', 'number')).toEqual({ reason: '"0x10" is not a number' });
    expect(convertCsvField('1.5', 'integer')).toEqual({ reason: '"1.5" is not a safe integer' });
    expect(convertCsvField('yes', 'boolean')).toEqual({ reason: '"yes" is not a boolean' });
  });
});

describe('LineCursor', () => {
  it('returns every line with its byte offsets, multi-byte text and a last line without a line break included', () => {
    const path = join(tempDir('cursor'), 'f');
    const content = 'zoë\r\n\n☃ snow\nlast';
    writeFileSync(path, content);
    const cursor = new LineCursor(path, 0);
    const lines = [];
    for (let l = cursor.next(); l !== undefined; l = cursor.next()) lines.push(l);
    cursor.close();
    expect(lines).toEqual([
      { text: 'zoë\r', start: 0, next: 6 },
      { text: '', start: 6, next: 7 },
      { text: '☃ snow', start: 7, next: 16 },
      { text: 'last', start: 16, next: 20 },
    ]);
    expect(Buffer.byteLength(content)).toBe(20);
  });

  it('reads lines longer than its buffer and starts at any offset', () => {
    const path = join(tempDir('cursor'), 'f');
    const long = 'x'.repeat(200_000);
    writeFileSync(path, `a\n${long}\nb\n`);
    const cursor = new LineCursor(path, 2);
    expect(cursor.next()).toEqual({ text: long, start: 2, next: 200_003 });
    expect(cursor.next()).toEqual({ text: 'b', start: 200_003, next: 200_005 });
    expect(cursor.next()).toBeUndefined();
    cursor.close();
    expect(countLines(path, 200_003)).toBe(2);
  });
});
