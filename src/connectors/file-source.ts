//! The file source: JSON lines or CSV files of a file or directory as splits by file and byte range, positions in checkpoints, optional directory monitoring.

import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { ReaderOutput, Source, SourceOutput, SourceReader, SourceReaderContext, SourceStatus } from '../actors/operator.ts';
import type { OutputTag } from '../actors/output-tag.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import { LineCursor, convertCsvField, countLines, excerpt, parseCsvRecord, type CsvColumnType, type Line } from './file-formats.ts';
import { SkippedRecordsLog, resolveSkippedRecordsLog, type SkippedRecordsLogOptions } from './skipped-records-log.ts';

/** CSV settings of {@link fileSource}. */
export interface CsvSourceOptions {
  /**
   * Column names. Without them, the first record of every file is the header and names the
   * columns; with them, records become objects with these keys (and a header line is skipped
   * only when `header` is true).
   */
  columns?: readonly string[];
  /**
   * Whether every file starts with a header record (default: true without `columns`, false with
   * them). `header: false` without `columns` makes every record an array of strings.
   */
  header?: boolean;
  /** Field delimiter, one character (default `,`). */
  delimiter?: string;
  /** Conversions by column name (default: every field stays a string); an empty field of a converted column is `null`. */
  types?: Readonly<Record<string, CsvColumnType>>;
}

/** Options of {@link fileSource}. */
export interface FileSourceOptions {
  /** A file, or a directory read with its sub-directories (names starting with `.` or `_` are skipped, as Flink does). */
  path: string;
  /** `jsonl`: one JSON document per line (blank lines skipped); `csv`: RFC 4180 records (empty lines skipped). */
  format: 'jsonl' | 'csv';
  /** CSV settings when `format` is `csv`. */
  csv?: CsvSourceOptions;
  /**
   * Without monitoring, JSON-lines files larger than this are cut into byte ranges of this size,
   * each its own split aligned to line starts (default 64 MiB). CSV files are always one split
   * each: a quoted field may hold line breaks, so a byte offset cannot tell where a record starts.
   */
  splitSizeBytes?: number;
  /**
   * Look for new files in the directory this often (ms): each new file becomes a split (a whole
   * file: readers list the directory on their own, and only a file-level record of what was taken
   * stays right when they list at different moments); the files taken are in the checkpoint, so
   * a restore does not read them again. Without it the source reads the files present when the
   * job starts, and ends.
   */
  monitorIntervalMs?: number;
  /** Keep only the files whose path (relative to `path`, with `/`) passes this test. */
  filter?: (relativePath: string) => boolean;
  /**
   * A malformed line or record: fail the job (default; the error names file and line), skip it
   * (counted as `file.records_skipped` and logged, see {@link logSkipped}), or send it as a
   * {@link FileDeadLetter} to the side output {@link deadLetterTag} (counted as
   * `file.records_dead_lettered`).
   */
  onError?: 'fail' | 'skip' | 'dead-letter';
  /**
   * With `onError: 'dead-letter'`: the side output malformed records go to, read with
   * `env.fromSource(fileSource(...)).getSideOutput(tag)`. Dead letters flow with the records, so
   * they are exactly once when the side output goes to an exactly-once sink.
   */
  deadLetterTag?: OutputTag<FileDeadLetter>;
  /** With `onError: 'skip'`: how many skipped records each reader logs on stderr, and how often it then logs their count. */
  logSkipped?: SkippedRecordsLogOptions;
  /** Operator name (default `File Source`). */
  name?: string;
}

/** A malformed line or record as the file source's `dead-letter` policy emits it: where it is, why it was rejected, its text. */
export interface FileDeadLetter {
  /** The file's absolute path. */
  file: string;
  /** The 1-based line the line or record starts on. */
  line: number;
  /** The byte offset it starts at. */
  offset: number;
  /** Why it was rejected (as the `fail` policy's error says it). */
  error: string;
  /** Its text as in the file (a CSV record's line breaks included, a final `\r` left out). */
  text: string;
}

/** One split of the file source as it is kept in checkpoints: a byte range of a file and the position reached in it. */
export interface FileSplitState {
  /** Split id (its split output's name): the relative path, with `@<start>` for a range after the first. */
  id: string;
  /** The file, relative to the source's root directory, with `/`. */
  file: string;
  /** Index of the range in its file (0 for the first or only one). */
  index: number;
  /** Start of the range `[start, end)`: the split reads the lines that start in it. */
  start: number;
  /** End of the range (exclusive). */
  end: number;
  /** Next byte to read: a line start once `aligned`. */
  offset: number;
  /** Whether `offset` is a line start (a range after the first starts after the line holding byte `start - 1`). */
  aligned: boolean;
  /** The 1-based line number at `offset`, or null while unknown (a range after the first; counted when an error needs it). */
  line: number | null;
  /** CSV: the fields of the file's header record, once read. */
  header: string[] | null;
}

/** The reader state of the file source (plain data, so it goes through checkpoint storage as is). */
export interface FileSourceState {
  /** Format version of this state. */
  version: 1;
  /** Remaining splits, in reading order, the one being read first at its position. */
  splits: FileSplitState[];
  /** With directory monitoring: the files this reader has taken (finished ones included). */
  seen: string[];
  /** Malformed records skipped so far (the job's total is the sum over readers). */
  skipped: number;
  /** Malformed records sent to the dead-letter side output so far (absent in states of older versions). */
  deadLettered?: number;
}

const DEFAULT_SPLIT_SIZE = 64 << 20;

/** FNV-1a over a string: a split's owner must not depend on the process or on the order files were listed in. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The subtask that reads a split at `parallelism`: the file's name hashed, plus the range index,
 * so the ranges of one large file go to consecutive subtasks. Every reader computes it alone, so
 * no coordinator hands out splits.
 */
export function fileSplitOwner(split: Pick<FileSplitState, 'file' | 'index'>, parallelism: number): number {
  return (fnv1a(split.file) + split.index) % parallelism;
}

const byFileThenIndex = (a: FileSplitState, b: FileSplitState) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.index - b.index);

/** The files under directory `root` (relative paths with `/`, sorted) with their sizes, skipping hidden names. */
function listFiles(root: string, filter?: (relative: string) => boolean): { file: string; size: number }[] {
  const files: { file: string; size: number }[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.') || name.startsWith('_')) continue;
      const relative = prefix === '' ? name : `${prefix}/${name}`;
      let stat;
      try {
        stat = statSync(join(dir, name));
      } catch {
        continue; // removed while listing
      }
      if (stat.isDirectory()) walk(join(dir, name), relative);
      else if (stat.isFile() && (filter === undefined || filter(relative))) files.push({ file: relative, size: stat.size });
    }
  };
  walk(root, '');
  return files.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** The splits of one file: a single one, or byte ranges of `splitSize`. */
function splitsOf(file: string, size: number, splitSize: number | undefined): FileSplitState[] {
  const count = splitSize === undefined ? 1 : Math.max(1, Math.ceil(size / splitSize));
  const splits: FileSplitState[] = [];
  for (let index = 0; index < count; index++) {
    const start = index * (splitSize ?? 0);
    splits.push({
      id: index === 0 ? file : `${file}@${start}`,
      file,
      index,
      start,
      end: index === count - 1 ? size : start + (splitSize as number),
      offset: start,
      aligned: index === 0,
      line: index === 0 ? 1 : null,
      header: null,
    });
  }
  return splits;
}

/** Where a line or record starts: for error messages. */
interface RecordSite {
  /** 1-based line number, if known. */
  line: number | null;
  /** Byte offset. */
  start: number;
}

/** The options of {@link fileSource}, checked and with defaults. */
interface ResolvedOptions {
  path: string;
  format: 'jsonl' | 'csv';
  splitSize: number | undefined;
  monitorIntervalMs: number;
  filter: ((relative: string) => boolean) | undefined;
  onError: 'fail' | 'skip' | 'dead-letter';
  deadLetterTag: string | undefined;
  logSkipped: Required<SkippedRecordsLogOptions>;
  delimiter: string;
  columns: readonly string[] | undefined;
  header: boolean;
  types: Readonly<Record<string, CsvColumnType>> | undefined;
}

/**
 * One subtask's reader of {@link fileSource}: reads its splits one after the other, a line (or
 * CSV record) at a time, keeping the byte offset after the last record it emitted, so the
 * position in a checkpoint is exact.
 *
 * **Threading model.** Runs on its subtask's actor; files are read with synchronous 64 KiB
 * reads and listed with synchronous `readdir`/`stat`, as the file sink writes.
 *
 * **Life cycle.** created (splits of the restored states) → open (a fresh start, or any start
 * with monitoring, lists the files) → pollNext … (bounded: until every split is read; monitoring:
 * listing again every interval, never ending) → close.
 */
class FileSourceReader<T> implements SourceReader<T> {
  /** The directory relative paths start from (the path itself, or the directory of a single file); set at open. */
  private root = '';
  private readonly splits: FileSplitState[] = [];
  /** How many of {@link splits} (from the front) have their split output created. */
  private announced = 0;
  private readonly seen = new Set<string>();
  private cursor: LineCursor | undefined;
  private skipped = 0;
  private deadLettered = 0;
  private readonly skipLog: SkippedRecordsLog | undefined;
  /** The output of the poll running now (dead letters go to its side output). */
  private output: ReaderOutput<T> | undefined;
  private nextScan = 0;
  private timer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private idleMarked = false;
  private closed = false;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly context: SourceReaderContext,
  ) {
    if (options.onError === 'skip')
      this.skipLog = new SkippedRecordsLog(
        `file source '${context.operatorName}' (subtask ${context.subtaskIndex})`,
        options.logSkipped,
      );
    const restored = context.restoredStates;
    if (restored === undefined) return;
    const { subtaskIndex: index, parallelism } = context;
    for (const raw of restored) {
      const state = raw as FileSourceState | undefined | null;
      if (state === undefined || state === null) continue;
      if (state.version !== 1)
        throw new WeirError(
          `file source '${context.operatorName}' cannot restore a reader state of version ${String(state.version)} (this version reads 1)`,
          { code: ErrorCodes.STATE_RESTORE, domain: 'user', operator: context.operatorName, subtask: index },
        );
      // The count of skipped records goes on in subtask 0, so the sum over subtasks stays the job's.
      if (index === 0) {
        this.skipped += state.skipped ?? 0;
        this.deadLettered += state.deadLettered ?? 0;
      }
      for (const s of state.splits ?? []) if (fileSplitOwner(s, parallelism) === index) this.splits.push({ ...s });
      for (const file of state.seen ?? []) if (fileSplitOwner({ file, index: 0 }, parallelism) === index) this.seen.add(file);
    }
    this.splits.sort(byFileThenIndex);
  }

  open(): void {
    const path = resolve(this.options.path);
    let stat;
    try {
      stat = statSync(path);
    } catch (error) {
      throw this.ioError(`cannot read ${path}`, error);
    }
    this.root = stat.isDirectory() ? path : dirname(path);
    // A bounded restore never lists again: the files present at the first start were all taken then.
    if (this.context.restoredStates === undefined || this.options.monitorIntervalMs > 0) this.scan();
  }

  /** Lists the files and takes the new splits this subtask owns. */
  private scan(): void {
    const path = resolve(this.options.path);
    let files;
    try {
      files = this.root === path ? listFiles(path, this.options.filter) : [{ file: basename(path), size: statSync(path).size }];
    } catch (error) {
      throw this.ioError(`cannot list ${path}`, error);
    }
    const { subtaskIndex: index, parallelism } = this.context;
    const monitoring = this.options.monitorIntervalMs > 0;
    const taken: FileSplitState[] = [];
    for (const { file, size } of files) {
      // An empty file is not taken (nor marked seen): files are expected to appear whole.
      if (size === 0 || this.seen.has(file)) continue;
      if (monitoring) {
        if (fileSplitOwner({ file, index: 0 }, parallelism) !== index) continue;
        this.seen.add(file);
      }
      for (const split of splitsOf(file, size, monitoring ? undefined : this.options.splitSize))
        if (fileSplitOwner(split, parallelism) === index) taken.push(split);
    }
    this.splits.push(...taken);
    if (monitoring) this.nextScan = performance.now() + this.options.monitorIntervalMs;
  }

  pollNext(output: ReaderOutput<T>, maxRecords: number): SourceStatus {
    const monitoring = this.options.monitorIntervalMs > 0;
    if (monitoring && performance.now() >= this.nextScan) this.scan();
    if (this.options.onError === 'dead-letter' && output.collectSide === undefined)
      throw new WeirError(`file source '${this.context.operatorName}': this reader output has no side outputs for dead letters`, {
        code: ErrorCodes.INTERNAL,
        domain: 'internal',
        operator: this.context.operatorName,
        subtask: this.context.subtaskIndex,
      });
    this.output = output;
    this.skipLog?.tick(this.skipped);
    // Every split this reader holds has its output from the start, as Flink's reader registers a
    // split when it is assigned: one not read yet holds the reader's watermark back. Created only
    // when first read, a reader between two splits had no active output, went idle, and the
    // downstream watermark could pass the next split's records before they were read.
    if (this.announced < this.splits.length) {
      for (const split of this.splits) output.createOutputForSplit(split.id);
      this.announced = this.splits.length;
    }
    let budget = maxRecords;
    while (budget > 0 && this.splits.length > 0) {
      const split = this.splits[0];
      budget -= this.readSplit(split, output.createOutputForSplit(split.id), budget);
      if (split.aligned && split.offset >= split.end) {
        this.cursor?.close();
        this.cursor = undefined;
        this.splits.shift();
        this.announced--;
        output.releaseOutputForSplit(split.id);
      }
    }
    if (this.splits.length > 0) return 'more';
    if (!monitoring) return 'end';
    if (!this.idleMarked) {
      // A reader without splits holds no watermark back, as Flink's reader without splits: a
      // split output created and released once makes the source idle whenever every split it
      // had is released too, until the next file.
      this.idleMarked = true;
      output.createOutputForSplit('');
      output.releaseOutputForSplit('');
    }
    return 'wait';
  }

  available(): Promise<void> {
    if (this.splits.length > 0 || this.closed) return Promise.resolve();
    return new Promise((wake) => {
      this.wakeUp = wake;
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.wakeUp = undefined;
          wake();
        },
        Math.max(1, this.nextScan - performance.now()),
      );
    });
  }

  /** Reads up to `budget` lines of a split; returns how many it consumed (at least 1, so polling always moves on). */
  private readSplit(split: FileSplitState, out: SourceOutput<T>, budget: number): number {
    const path = join(this.root, split.file);
    if (this.cursor === undefined) {
      try {
        this.cursor = new LineCursor(path, split.aligned ? split.offset : split.start - 1);
      } catch (error) {
        throw this.ioError(`cannot open ${path}`, error);
      }
    }
    const cursor = this.cursor;
    if (!split.aligned) {
      // The line holding byte `start - 1` belongs to the range before; this one starts after it.
      const partial = this.readLine(cursor, path);
      split.offset = partial === undefined ? split.end : partial.next;
      split.aligned = true;
    }
    let used = 0;
    while (used < budget && split.offset < split.end) {
      const line = this.readLine(cursor, path);
      if (line === undefined) {
        split.offset = split.end;
        break;
      }
      used++;
      if (this.options.format === 'jsonl') this.jsonLine(split, line, out, path);
      else this.csvRecord(split, line, cursor, out, path);
    }
    return Math.max(used, 1);
  }

  private readLine(cursor: LineCursor, path: string): Line | undefined {
    try {
      return cursor.next();
    } catch (error) {
      throw this.ioError(`cannot read ${path}`, error);
    }
  }

  /** Moves the split's position past a line; returns where that line started. */
  private advance(split: FileSplitState, line: Line): RecordSite {
    const site = { line: split.line, start: line.start };
    split.offset = line.next;
    if (split.line !== null) split.line++;
    return site;
  }

  private jsonLine(split: FileSplitState, line: Line, out: SourceOutput<T>, path: string): void {
    const site = this.advance(split, line);
    const text = withoutBom(line);
    if (text.trim() === '') return;
    let value: T;
    try {
      value = JSON.parse(text) as T;
    } catch (error) {
      this.malformed(path, site, `invalid JSON (${(error as Error).message})`, text, error);
      return;
    }
    out.collect(value);
  }

  private csvRecord(split: FileSplitState, first: Line, cursor: LineCursor, out: SourceOutput<T>, path: string): void {
    const site = this.advance(split, first);
    let raw = withoutBom(first);
    if (raw === '' || raw === '\r') return;
    const delimiter = this.options.delimiter;
    let parsed = parseCsvRecord(stripCr(raw), delimiter);
    while (parsed.kind === 'incomplete') {
      // A quoted field holds a line break: the record goes on, with the line break as it is in the file.
      const more = this.readLine(cursor, path);
      if (more === undefined) {
        this.malformed(path, site, 'a quoted field is not closed before the end of the file', raw);
        return;
      }
      this.advance(split, more);
      raw += `\n${more.text}`;
      parsed = parseCsvRecord(stripCr(raw), delimiter);
    }
    if (parsed.kind === 'malformed') {
      this.malformed(path, site, parsed.reason, raw);
      return;
    }
    const fields = parsed.fields;
    if (this.options.header && split.header === null) {
      split.header = fields;
      return;
    }
    const names = this.options.columns ?? split.header;
    if (names === null) {
      out.collect(fields as T);
      return;
    }
    if (fields.length !== names.length) {
      this.malformed(path, site, `expected ${names.length} fields, found ${fields.length}`, raw);
      return;
    }
    const types = this.options.types;
    const record: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) {
      const type = types?.[names[i]];
      if (type === undefined || type === 'string') {
        record[names[i]] = fields[i];
        continue;
      }
      const converted = convertCsvField(fields[i], type);
      if ('reason' in converted) {
        this.malformed(path, site, `column '${names[i]}': ${converted.reason}`, raw);
        return;
      }
      record[names[i]] = converted.value;
    }
    out.collect(record as T);
  }

  /** A malformed line or record: fails the job naming file and line, is counted and skipped (and logged), or goes to the dead-letter side output. */
  private malformed(path: string, site: RecordSite, reason: string, text: string, cause?: unknown): void {
    // A range after the first learns its line numbers only when an error or a log line needs one.
    const lineOf = () => site.line ?? countLines(path, site.start) + 1;
    const what = this.options.format === 'csv' ? 'CSV record' : 'JSON line';
    if (this.options.onError === 'skip') {
      this.skipped++;
      this.skipLog?.skipped(() => `a malformed ${what}: ${path} line ${lineOf()}: ${reason}: ${excerpt(text)}`, this.skipped);
      return;
    }
    if (this.options.onError === 'dead-letter') {
      const letter: FileDeadLetter = { file: path, line: lineOf(), offset: site.start, error: reason, text: stripCr(text) };
      this.deadLettered++;
      (this.output as ReaderOutput<T>).collectSide?.(this.options.deadLetterTag as string, letter);
      return;
    }
    const line = lineOf();
    throw new WeirError(
      `file source '${this.context.operatorName}' (subtask ${this.context.subtaskIndex}): malformed ${what} in ${path} at line ${line}: ${reason}: ${excerpt(text)}`,
      {
        code: ErrorCodes.SOURCE_FORMAT,
        domain: 'user',
        // The same line fails again after a restart.
        retriable: false,
        operator: this.context.operatorName,
        subtask: this.context.subtaskIndex,
        cause,
      },
    );
  }

  snapshotState(): FileSourceState {
    return {
      version: 1,
      splits: this.splits.map((s) => ({ ...s, header: s.header === null ? null : [...s.header] })),
      seen: [...this.seen],
      skipped: this.skipped,
      deadLettered: this.deadLettered,
    };
  }

  /** `file.records_skipped` and `file.records_dead_lettered`: malformed records `skip` dropped and `dead-letter` sent aside, counted across restores. */
  counters(): Record<string, number> {
    return { 'file.records_skipped': this.skipped, 'file.records_dead_lettered': this.deadLettered };
  }

  close(): void {
    this.skipLog?.flush(this.skipped);
    this.closed = true;
    this.cursor?.close();
    this.cursor = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.wakeUp?.();
    this.wakeUp = undefined;
  }

  private ioError(what: string, cause: unknown): WeirError {
    return new WeirError(
      `file source '${this.context.operatorName}' (subtask ${this.context.subtaskIndex}) ${what}: ${(cause as Error)?.message ?? cause}`,
      {
        code: ErrorCodes.SOURCE_IO,
        domain: 'external',
        retriable: true,
        operator: this.context.operatorName,
        subtask: this.context.subtaskIndex,
        cause,
      },
    );
  }
}

const stripCr = (text: string) => (text.endsWith('\r') ? text.slice(0, -1) : text);

/** A line's text without the UTF-8 byte order mark a file may start with. */
const withoutBom = (line: Line) => (line.start === 0 && line.text.charCodeAt(0) === 0xfeff ? line.text.slice(1) : line.text);

const configError = (message: string) => new WeirError(`fileSource: ${message}`, { code: ErrorCodes.CONFIG, domain: 'user' });

/**
 * Reads JSON lines or CSV from a file or a directory (Flink's FileSource with a text or CSV
 * format). Every file is a split; without monitoring, a JSON-lines file larger than
 * `splitSizeBytes` is cut into byte ranges aligned to line starts. Each subtask reads the splits
 * {@link fileSplitOwner} gives it, in path order, each through its own split output (its own
 * watermarks); its checkpoint state is its remaining splits with the byte offset and line number
 * reached, so a restore, at any parallelism, resumes right after the last record emitted before
 * the barrier.
 *
 * Records: a JSON line's value; a CSV record as an object keyed by the header's (or `columns`')
 * names, or as an array of strings without names. Blank lines are skipped (they still count as
 * lines); a last line without a line break is a record; `\r\n` line ends are fine.
 *
 * **Malformed lines or records** fail the job naming file and line (`onError: 'fail'`); or are
 * skipped, counted and logged (`'skip'`: the first of each reader on stderr with file, line and
 * reason, then their count, see {@link SkippedRecordsLog}); or go to the side output
 * `deadLetterTag` as {@link FileDeadLetter}s (`'dead-letter'`). Dead letters are emitted in stream
 * order with the records, before the barrier that follows them, so a restore replays neither more
 * nor fewer of them than of the records: they are exactly once when their side output goes to an
 * exactly-once sink.
 *
 * Bounded unless `monitorIntervalMs` is set: then new files are taken as they appear (whole files
 * as splits), the files taken are kept in checkpoints, and the source runs until the job is
 * stopped. Files should appear whole (written elsewhere, or under a name starting with `.` or
 * `_`, then renamed) and never change afterwards.
 */
export function fileSource<T = unknown>(options: FileSourceOptions): Source<T> {
  if (typeof options.path !== 'string' || options.path === '') throw configError('path must be a non-empty string');
  if (options.format !== 'jsonl' && options.format !== 'csv')
    throw configError(`unknown format ${JSON.stringify(options.format)}: use 'jsonl' or 'csv'`);
  const splitSize = options.splitSizeBytes ?? DEFAULT_SPLIT_SIZE;
  if (!Number.isSafeInteger(splitSize) || splitSize < 1) throw configError(`splitSizeBytes must be a positive integer, got ${splitSize}`);
  const monitorIntervalMs = options.monitorIntervalMs ?? 0;
  if (!(Number.isFinite(monitorIntervalMs) && monitorIntervalMs >= 0))
    throw configError(`monitorIntervalMs must be a non-negative number of ms, got ${monitorIntervalMs}`);
  const onError = options.onError ?? 'fail';
  if (onError !== 'fail' && onError !== 'skip' && onError !== 'dead-letter')
    throw configError(`onError must be 'fail', 'skip' or 'dead-letter', got ${JSON.stringify(onError)}`);
  const deadLetterTag = options.deadLetterTag?.id;
  if (onError === 'dead-letter' && (typeof deadLetterTag !== 'string' || deadLetterTag === ''))
    throw configError("onError 'dead-letter' needs a deadLetterTag (an OutputTag whose side output receives the malformed records)");
  const csv = options.csv ?? {};
  const delimiter = csv.delimiter ?? ',';
  if (delimiter.length !== 1 || /["\r\n]/.test(delimiter))
    throw configError(`csv delimiter must be one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`);
  for (const [column, type] of Object.entries(csv.types ?? {}))
    if (!['string', 'number', 'integer', 'boolean'].includes(type))
      throw configError(`csv type of column '${column}' must be 'string', 'number', 'integer' or 'boolean', got ${JSON.stringify(type)}`);
  const resolved: ResolvedOptions = {
    path: options.path,
    format: options.format,
    splitSize: options.format === 'jsonl' ? splitSize : undefined,
    monitorIntervalMs,
    filter: options.filter,
    onError,
    deadLetterTag,
    logSkipped: resolveSkippedRecordsLog('fileSource', options.logSkipped),
    delimiter,
    columns: csv.columns === undefined ? undefined : [...csv.columns],
    header: csv.header ?? csv.columns === undefined,
    types: csv.types,
  };
  return {
    name: options.name ?? 'File Source',
    createReader: (context: SourceReaderContext) => new FileSourceReader<T>(resolved, context),
  };
}
