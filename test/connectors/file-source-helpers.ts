// Helpers of the file source tests: input files with known contents, a reader harness without threads, and waiting for a condition.
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import type { ReaderOutput, Source, SourceReader, SourceStatus } from '../../src/actors/operator.ts';

/** A fresh temporary directory. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `weir-${prefix}-`));
}

/** Writes a file (creating its directories), whole: written under a hidden name, then renamed. */
export function writeWhole(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const hidden = join(dirname(path), `.${Math.random().toString(36).slice(2)}.tmp`);
  writeFileSync(hidden, content);
  renameSync(hidden, path);
}

/** A JSON-lines record of the tests: its file and position in the id, and some multi-byte text. */
export interface JsonRecord {
  id: string;
  n: number;
  text: string;
}

const TEXTS = ['plain', 'zoë', 'snow ☃ man', 'clef 𝄞', 'tab\tand "quotes"', 'back\\slash', ''];

/** The records of file `name`: `count` of them. */
export function jsonRecords(name: string, count: number): JsonRecord[] {
  return Array.from({ length: count }, (_, n) => ({ id: `${name}-${n}`, n, text: TEXTS[n % TEXTS.length] }));
}

/**
 * JSON-lines text of the records with the awkward parts of real files: `\r\n` line ends, blank
 * and whitespace-only lines, a byte order mark, and no line break after the last line.
 */
export function jsonlText(
  records: readonly unknown[],
  style: { crlf?: boolean; bom?: boolean; finalNewline?: boolean; blanks?: boolean } = {},
): string {
  const eol = style.crlf ? '\r\n' : '\n';
  const lines: string[] = [];
  records.forEach((r, i) => {
    if (style.blanks && i % 5 === 2) lines.push(i % 2 === 0 ? '' : '   ');
    lines.push(JSON.stringify(r));
  });
  if (style.blanks) lines.push('');
  let text = lines.join(eol);
  if (style.finalNewline !== false) text += eol;
  else text = text.replace(/(\r?\n)+$/, '');
  return (style.bom ? '\ufeff' : '') + text;
}

/** A CSV field as RFC 4180 writes it (written here, independently of the parser under test). */
function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/** CSV text of a header and rows, with `\r\n` or `\n` line ends, empty lines, and optionally no final line break. */
export function csvText(
  header: readonly string[] | undefined,
  rows: readonly (readonly string[])[],
  style: { crlf?: boolean; finalNewline?: boolean; blanks?: boolean } = {},
): string {
  const eol = style.crlf ? '\r\n' : '\n';
  const lines: string[] = header ? [header.map(quote).join(',')] : [];
  rows.forEach((row, i) => {
    if (style.blanks && i % 4 === 1) lines.push('');
    lines.push(row.map(quote).join(','));
  });
  return lines.join(eol) + (style.finalNewline === false ? '' : eol);
}

/** Rows of an orders CSV for file `name`: quoted commas, doubled quotes, line breaks inside quotes, empty fields, multi-byte text. */
export function orderRows(name: string, count: number): string[][] {
  const notes = ['plain', 'Smith, J.', 'say "hi"', 'two\nlines', 'crlf\r\ninside', '', 'ünïcødé ☃', ' spaced ', '"', ',,'];
  return Array.from({ length: count }, (_, n) => [`${name}-${n}`, `c${n % 7}`, notes[n % notes.length], `${(n * 1.25).toFixed(2)}`]);
}

/** One emitted record of the reader harness. */
export interface Emitted {
  split: string;
  value: unknown;
}

/** A reader output that records what reaches it, by split. */
export class RecordingOutput implements ReaderOutput {
  readonly emitted: Emitted[] = [];
  readonly released: string[] = [];
  collect(value: unknown): void {
    this.emitted.push({ split: '', value });
  }
  createOutputForSplit(split: string) {
    return { collect: (value: unknown) => void this.emitted.push({ split, value }) };
  }
  releaseOutputForSplit(split: string): void {
    this.released.push(split);
  }
}

/** The readers of all subtasks of a source, opened, restored from `states` when given. */
export async function openReaders(source: Source, parallelism: number, states?: unknown[]): Promise<SourceReader[]> {
  const readers: SourceReader[] = [];
  for (let i = 0; i < parallelism; i++) {
    const reader = source.createReader({ operatorName: 'files', subtaskIndex: i, parallelism, restoredStates: states });
    await reader.open?.();
    readers.push(reader);
  }
  return readers;
}

/** Polls a reader until it ends, `budget` records at a time. */
export function drain(reader: SourceReader, output: RecordingOutput, budget = 1000): void {
  let status: SourceStatus;
  do status = reader.pollNext(output, budget);
  while (status === 'more');
  if (status !== 'end') throw new Error(`reader answered ${status}`);
}

/** A reader state as it comes back from checkpoint storage: through msgpack. */
export function throughStorage<T>(state: T): T {
  return unpack(pack(state)) as T;
}

/** Waits until `condition()` holds, checking every 50 ms; fails after `timeoutMs` naming `what`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
