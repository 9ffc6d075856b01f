//! Reading text files for the file source: a line cursor over byte offsets, an RFC 4180 CSV record parser, and column conversions.

import { closeSync, openSync, readSync } from 'node:fs';

/** How a CSV column's text becomes a value: kept as a string, or converted (an empty field becomes `null`). */
export type CsvColumnType = 'string' | 'number' | 'integer' | 'boolean';

/** The outcome of parsing one CSV record: its fields, more text needed (a quoted field is still open), or what is wrong. */
export type CsvParseResult = { kind: 'fields'; fields: string[] } | { kind: 'incomplete' } | { kind: 'malformed'; reason: string };

/**
 * Parses one CSV record (its text without the final line break) as RFC 4180 says: fields
 * separated by `delimiter`; a field that starts with a quote runs to the closing quote, may hold
 * delimiters, line breaks and doubled quotes (`""` → `"`), and must be followed by a delimiter
 * or the end. A quote inside an unquoted field is malformed. `incomplete` means a quoted field is
 * still open: the record goes on after the next line break.
 */
export function parseCsvRecord(text: string, delimiter = ','): CsvParseResult {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === 34 /* " */) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) return { kind: 'incomplete' };
        value += text.slice(from, q);
        if (text.charCodeAt(q + 1) === 34) {
          value += '"';
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === text.length) return { kind: 'fields', fields };
      if (text[i] !== delimiter)
        return { kind: 'malformed', reason: `unexpected ${JSON.stringify(text[i])} after the closing quote of field ${fields.length}` };
      i++;
      continue;
    }
    const d = text.indexOf(delimiter, i);
    const end = d < 0 ? text.length : d;
    const value = text.slice(i, end);
    if (value.includes('"')) return { kind: 'malformed', reason: `a quote inside the unquoted field ${fields.length + 1}` };
    fields.push(value);
    if (d < 0) return { kind: 'fields', fields };
    i = d + 1;
  }
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Converts a CSV field to its column type; returns an error reason for text that is not of that type. */
export function convertCsvField(text: string, type: CsvColumnType): { value: unknown } | { reason: string } {
  if (type === 'string') return { value: text };
  const t = text.trim();
  if (t === '') return { value: null };
  if (type === 'boolean') {
    const lower = t.toLowerCase();
    if (lower === 'true') return { value: true };
    if (lower === 'false') return { value: false };
    return { reason: `${JSON.stringify(text)} is not a boolean` };
  }
  if (!NUMBER.test(t)) return { reason: `${JSON.stringify(text)} is not a number` };
  const n = Number(t);
  if (type === 'integer' && !Number.isSafeInteger(n)) return { reason: `${JSON.stringify(text)} is not a safe integer` };
  return { value: n };
}

/** The first characters of a line, for error messages. */
export function excerpt(text: string, max = 60): string {
  const clean = text.endsWith('\r') ? text.slice(0, -1) : text;
  // As a JSON string: line breaks and quotes inside it stay visible and unambiguous.
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean);
}

/** One line read by a {@link LineCursor}: its text (without `\n`, with a `\r` if the file has one) and byte offsets. */
export interface Line {
  /** The line's text, decoded as UTF-8, without its `\n`. */
  text: string;
  /** Byte offset of its first byte. */
  start: number;
  /** Byte offset just after its `\n` (or the end of the file for a last line without one). */
  next: number;
}

const CHUNK = 1 << 16;

/**
 * Reads a file line by line from a byte offset, with synchronous reads of 64 KiB chunks, knowing
 * every line's byte offsets (the file source's checkpoint position). Lines end at `\n` (a `\r`
 * before it stays in the text); a last line without a line break is still a line.
 *
 * **Life cycle.** Created at an offset → {@link next} … → {@link close}.
 */
export class LineCursor {
  private fd: number;
  private buffer = Buffer.allocUnsafe(CHUNK);
  /** File offset of `buffer[0]`. */
  private bufferStart: number;
  private bufferLength = 0;
  private eof = false;
  /** Offset of the next line to return. */
  position: number;

  constructor(path: string, offset: number) {
    this.fd = openSync(path, 'r');
    this.position = offset;
    this.bufferStart = offset;
  }

  /** The line starting at {@link position}, or undefined at the end of the file. */
  next(): Line | undefined {
    let scanFrom = this.position - this.bufferStart;
    for (;;) {
      const nl = this.buffer.indexOf(10, scanFrom);
      if (nl >= 0 && nl < this.bufferLength) {
        const from = this.position - this.bufferStart;
        const line = { text: this.buffer.toString('utf8', from, nl), start: this.position, next: this.bufferStart + nl + 1 };
        this.position = line.next;
        return line;
      }
      if (this.eof) {
        const from = this.position - this.bufferStart;
        if (from >= this.bufferLength) return undefined;
        const line = {
          text: this.buffer.toString('utf8', from, this.bufferLength),
          start: this.position,
          next: this.bufferStart + this.bufferLength,
        };
        this.position = line.next;
        return line;
      }
      scanFrom = this.fill();
    }
  }

  /** Reads more of the file after what is buffered, keeping the unread part; returns where to go on scanning. */
  private fill(): number {
    const keep = this.position - this.bufferStart;
    const kept = this.bufferLength - keep;
    if (keep > 0) {
      this.buffer.copy(this.buffer, 0, keep, this.bufferLength);
      this.bufferStart = this.position;
      this.bufferLength = kept;
    }
    if (this.bufferLength === this.buffer.length) {
      const larger = Buffer.allocUnsafe(this.buffer.length * 2);
      this.buffer.copy(larger, 0, 0, this.bufferLength);
      this.buffer = larger;
    }
    const read = readSync(
      this.fd,
      this.buffer,
      this.bufferLength,
      this.buffer.length - this.bufferLength,
      this.bufferStart + this.bufferLength,
    );
    if (read === 0) this.eof = true;
    this.bufferLength += read;
    return kept;
  }

  /** Closes the file. */
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** Counts the line breaks in the first `bytes` bytes of a file: the 1-based line number at offset `bytes` is this plus one. */
export function countLines(path: string, bytes: number): number {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK);
    let count = 0;
    for (let at = 0; at < bytes;) {
      const read = readSync(fd, chunk, 0, Math.min(CHUNK, bytes - at), at);
      if (read === 0) break;
      for (let i = chunk.indexOf(10, 0); i >= 0 && i < read; i = chunk.indexOf(10, i + 1)) count++;
      at += read;
    }
    return count;
  } finally {
    closeSync(fd);
  }
}
