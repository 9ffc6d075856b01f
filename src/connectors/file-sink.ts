//! The exactly-once file sink: part files per subtask, in progress → pending at the barrier → visible when the checkpoint completes.

import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { access, open, readdir, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { OperatorContext, Sink, SinkWriter } from '../actors/operator.ts';
import { UNRECOVERABLE_ERRNOS, errorCode } from '../checkpoint/storage-files.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import { TwoPhaseCommitSinkWriter } from './two-phase-commit.ts';

/** CSV options of {@link exactlyOnceFileSink}. */
export interface CsvOptions {
  /**
   * Column order for object records, and the header's names. Without it, the keys of the first
   * record a subtask sees (give it when records may differ in key order or subtasks must agree).
   */
  columns?: readonly string[];
  /** Write a header line at the top of every part file (default false). */
  header?: boolean;
  /** Field delimiter, one character (default `,`). */
  delimiter?: string;
}

/** Options of {@link exactlyOnceFileSink}. */
export interface ExactlyOnceFileSinkOptions<T> {
  /**
   * How a record becomes a line: `jsonl` (one JSON document per line; bigints as numbers),
   * `csv` (arrays or objects as rows, quoted per RFC 4180), or a function returning the line
   * without its newline.
   */
  format: 'jsonl' | 'csv' | ((value: T) => string);
  /** CSV settings when `format` is `csv`. */
  csv?: CsvOptions;
  /** Roll to a new part file once the current one has this many bytes (default 128 MiB; a file may exceed it by one record). */
  rollSizeBytes?: number;
  /** Roll to a new part file once the current one has been open this long, checked at each record (default 60 000 ms). */
  rollIntervalMs?: number;
  /** Part file name prefix (default `part`): files are `<prefix>-<subtask>-<n><suffix>`. */
  prefix?: string;
  /** Part file name suffix, e.g. `.jsonl` (default none). */
  suffix?: string;
}

/** A file sink transaction: the part files written since the last barrier, by visible name. */
export interface FileSinkTransaction {
  /** Visible names of its part files, in write order. */
  parts: string[];
}

/** What the file sink keeps beside its transactions in a checkpoint. */
export interface FileSinkContext {
  /** The subtask that wrote the state. */
  subtask: number;
  /** The next part number of that subtask. */
  nextPart: number;
}

/** The part file being written. */
interface OpenPart {
  name: string;
  fd: number;
  bytes: number;
  openedAt: number;
  buffer: string[];
  buffered: number;
}

const FLUSH_CHARS = 1 << 16;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const hiddenName = (name: string, stage: 'inprogress' | 'pending') => `.${name}.${stage}`;
const isMissing = (error: unknown) => (error as { code?: unknown } | null)?.code === 'ENOENT';

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** JSON with bigints written as numbers and `undefined` as `null`. */
function jsonLine(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch (error) {
    if (!(error instanceof TypeError) || !/BigInt/i.test(error.message)) throw error;
    return jsonWithBigInts(value, '') ?? 'null';
  }
}

/** JSON.stringify's rules (toJSON, dropped undefined and functions), plus bigints as bare numbers. */
function jsonWithBigInts(input: unknown, key: string): string | undefined {
  let value = input;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function')
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v, i) => jsonWithBigInts(v, String(i)) ?? 'null').join(',')}]`;
  const fields: string[] = [];
  for (const k of Object.keys(value)) {
    const text = jsonWithBigInts((value as Record<string, unknown>)[k], k);
    if (text !== undefined) fields.push(`${JSON.stringify(k)}:${text}`);
  }
  return `{${fields.join(',')}}`;
}

/** Renders one CSV field, quoted when it holds the delimiter, a quote, or a line break. */
export function csvField(value: unknown, delimiter = ','): string {
  let text: string;
  if (value === null || value === undefined) text = '';
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = String(value);
  else if (value instanceof Date) text = value.toISOString();
  else text = jsonLine(value);
  if (text.includes(delimiter) || text.includes('"') || text.includes('\n') || text.includes('\r')) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

/** Turns records into CSV rows: arrays in order, objects by column, anything else as a one-field row. */
class CsvFormatter {
  private columns: readonly string[] | undefined;
  private readonly delimiter: string;

  constructor(private readonly options: CsvOptions) {
    this.columns = options.columns;
    this.delimiter = options.delimiter ?? ',';
    if (this.delimiter.length !== 1 || /["\r\n]/.test(this.delimiter))
      throw new WeirError(`csv delimiter must be one character other than a quote or a line break, got ${JSON.stringify(this.delimiter)}`, {
        code: ErrorCodes.CONFIG,
        domain: 'user',
      });
  }

  row(value: unknown): string {
    const d = this.delimiter;
    if (Array.isArray(value)) return value.map((v) => csvField(v, d)).join(d);
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      const record = value as Record<string, unknown>;
      this.columns ??= Object.keys(record);
      return this.columns.map((c) => csvField(record[c], d)).join(d);
    }
    return csvField(value, d);
  }

  /** The header line, once the columns are known (from the options or the first record). */
  header(first: unknown): string | undefined {
    if (!this.options.header) return undefined;
    if (this.columns === undefined && first !== null && typeof first === 'object' && !Array.isArray(first) && !(first instanceof Date))
      this.columns = Object.keys(first as object);
    if (this.columns === undefined)
      throw new WeirError('csv header requested, but the records are not objects and no columns were given: set csv.columns', {
        code: ErrorCodes.CONFIG,
        domain: 'user',
      });
    return this.columns.map((c) => csvField(c, this.delimiter)).join(this.delimiter);
  }
}

/**
 * One subtask's writer of {@link exactlyOnceFileSink}. Part files go through three names in the
 * sink's directory: `.<part>.inprogress` while written, `.<part>.pending` once pre-committed at a
 * barrier (closed and fsynced), and `<part>` when the checkpoint completes — the only visible
 * name, reached by an atomic rename. Every barrier closes the open part file; size and time roll
 * it between barriers too.
 *
 * Recovery: the restored pending files are committed (one already renamed by an earlier commit is
 * fine), then hidden files left by the failed attempt of the subtasks whose state this one
 * restored are deleted: data they held is replayed by the sources. Visible parts those subtasks
 * committed after the restored checkpoint (a fallback past a damaged newer checkpoint, or a
 * savepoint older than the folder's content) are deleted too — the sink rewinds, so the replay
 * writes their records once (`Sink.rewindsOnRestore`). Part numbers continue after the
 * highest number found in the directory or the restored state, so names never repeat.
 *
 * **Threading model.** Runs on its subtask's actor. Writing, rolling and pre-committing use
 * synchronous file calls (the barrier's synchronous part must have closed the files); commits,
 * aborts and recovery use `fs/promises`.
 *
 * **Life cycle.** As {@link TwoPhaseCommitSinkWriter}: open (recover) → write / barrier /
 * complete … → endInput → close (commits what is left; without endInput, deletes the open part).
 */
export class ExactlyOnceFileSinkWriter<T> extends TwoPhaseCommitSinkWriter<T, FileSinkTransaction, FileSinkContext> {
  private readonly dir: string;
  private readonly subtask: number;
  private readonly format: (value: T) => string;
  private readonly csv: CsvFormatter | undefined;
  private readonly rollSizeBytes: number;
  private readonly rollIntervalMs: number;
  private readonly now: () => number;
  private readonly partPattern: RegExp;
  private nextPart = 0;
  private part: OpenPart | undefined;

  constructor(
    dir: string,
    private readonly options: ExactlyOnceFileSinkOptions<T>,
    context: Pick<OperatorContext, 'operatorName' | 'subtaskIndex'> & { processingTime?: Pick<OperatorContext['processingTime'], 'now'> },
  ) {
    super({ operator: context.operatorName, subtask: context.subtaskIndex });
    this.dir = resolve(dir);
    this.subtask = context.subtaskIndex;
    const clock = context.processingTime;
    this.now = clock ? () => clock.now() : Date.now;
    this.rollSizeBytes = options.rollSizeBytes ?? 128 << 20;
    this.rollIntervalMs = options.rollIntervalMs ?? 60_000;
    const prefix = options.prefix ?? 'part';
    const suffix = options.suffix ?? '';
    if (!(this.rollSizeBytes > 0) || !(this.rollIntervalMs > 0))
      throw this.configError('rollSizeBytes and rollIntervalMs must be positive');
    if (/[/\\]/.test(prefix + suffix) || prefix.length === 0)
      throw this.configError(`invalid part file prefix or suffix: '${prefix}', '${suffix}'`);
    this.partPattern = new RegExp(`^(\\.)?${escapeRegExp(prefix)}-(\\d+)-(\\d+)${escapeRegExp(suffix)}(?:\\.(inprogress|pending))?$`);
    if (options.format === 'jsonl') this.format = jsonLine;
    else if (options.format === 'csv') {
      const csv = new CsvFormatter(options.csv ?? {});
      this.csv = csv;
      this.format = (v) => csv.row(v);
    } else if (typeof options.format === 'function') this.format = options.format;
    else throw this.configError(`unknown format ${JSON.stringify(options.format)}: use 'jsonl', 'csv' or a function`);
  }

  /** Visible name of part `n` of this subtask. */
  private partName(n: number): string {
    return `${this.options.prefix ?? 'part'}-${this.subtask}-${n}${this.options.suffix ?? ''}`;
  }

  protected beginTransaction(): FileSinkTransaction {
    return { parts: [] };
  }

  protected invoke(txn: FileSinkTransaction, value: T, _timestamp: number | undefined): void {
    let line: string;
    try {
      line = `${this.format(value)}\n`;
    } catch (error) {
      if (error instanceof WeirError) throw error;
      throw new WeirError(
        `file sink '${this.site.operator}' (subtask ${this.subtask}) cannot format a record: ${(error as Error).message}`,
        {
          code: ErrorCodes.USER_FUNCTION,
          domain: 'user',
          operator: this.site.operator,
          subtask: this.subtask,
          cause: error,
        },
      );
    }
    let part = this.part;
    if (part !== undefined && (part.bytes >= this.rollSizeBytes || this.now() - part.openedAt >= this.rollIntervalMs)) {
      this.closePart();
      part = undefined;
    }
    part ??= this.openPart(txn, value);
    part.buffer.push(line);
    part.buffered += line.length;
    part.bytes += Buffer.byteLength(line);
    if (part.buffered >= FLUSH_CHARS) this.flush(part);
  }

  protected preCommit(txn: FileSinkTransaction): void {
    this.closePart();
    if (txn.parts.length === 0) return;
    for (const name of txn.parts) {
      try {
        renameSync(join(this.dir, hiddenName(name, 'inprogress')), join(this.dir, hiddenName(name, 'pending')));
      } catch (error) {
        throw this.ioError(`cannot make ${name} pending`, error);
      }
    }
    this.syncDirSync();
  }

  protected async commit(txn: FileSinkTransaction): Promise<void> {
    if (txn.parts.length === 0) return;
    for (const name of txn.parts) {
      const target = join(this.dir, name);
      try {
        await rename(join(this.dir, hiddenName(name, 'pending')), target);
        continue;
      } catch (error) {
        if (!isMissing(error)) throw this.ioError(`cannot commit ${name}`, error);
      }
      if (await exists(target)) continue; // committed before: a commit is idempotent
      // Pre-committed, but the rename to pending did not survive a crash: the content was fsynced first.
      try {
        await rename(join(this.dir, hiddenName(name, 'inprogress')), target);
      } catch (error) {
        if (isMissing(error))
          throw new WeirError(
            `file sink '${this.site.operator}' (subtask ${this.subtask}) cannot commit ${target}: neither it nor its pending file exists (removed by hand?)`,
            { code: ErrorCodes.SINK_IO, domain: 'external', operator: this.site.operator, subtask: this.subtask },
          );
        throw this.ioError(`cannot commit ${name}`, error);
      }
    }
    await this.syncDir();
  }

  protected async abort(txn: FileSinkTransaction): Promise<void> {
    if (this.part !== undefined && txn.parts.includes(this.part.name)) {
      closeSync(this.part.fd);
      this.part = undefined;
    }
    for (const name of txn.parts) {
      for (const stage of ['inprogress', 'pending'] as const) {
        try {
          await unlink(join(this.dir, hiddenName(name, stage)));
        } catch (error) {
          if (!isMissing(error)) throw this.ioError(`cannot delete ${hiddenName(name, stage)}`, error);
        }
      }
    }
  }

  /**
   * Deletes hidden part files of the subtasks whose state was restored (all their pending files are
   * committed by now, so what is left belongs to the failed attempt), or of this subtask on a fresh
   * start; and continues part numbering after every number in use.
   */
  protected override async initializeContext(restored: readonly FileSinkContext[] | undefined): Promise<void> {
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (error) {
      throw this.ioError(`cannot create ${this.dir}`, error);
    }
    const owned = new Set<number>(restored === undefined ? [this.subtask] : restored.map((c) => c?.subtask));
    // Rewind: part numbers only grow, so a visible part at or above a restored subtask's nextPart
    // was committed after the restored checkpoint (by a newer one, now damaged or not restored);
    // the sources replay its records, so it goes.
    const rewindFrom = new Map<number, number>();
    for (const c of restored ?? []) if (c && Number.isSafeInteger(c.nextPart)) rewindFrom.set(c.subtask, c.nextPart);
    let next = 0;
    for (const c of restored ?? []) if (c?.subtask === this.subtask && Number.isSafeInteger(c.nextPart)) next = Math.max(next, c.nextPart);
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (error) {
      throw this.ioError(`cannot list ${this.dir}`, error);
    }
    for (const name of names) {
      const m = this.partPattern.exec(name);
      if (!m) continue;
      const subtask = Number(m[2]);
      if (subtask === this.subtask) next = Math.max(next, Number(m[3]) + 1);
      const hidden = m[1] === '.' && m[4] !== undefined;
      const rewound = !hidden && m[1] === undefined && m[4] === undefined && Number(m[3]) >= (rewindFrom.get(subtask) ?? Infinity);
      if ((!hidden && !rewound) || !owned.has(subtask)) continue;
      try {
        await unlink(join(this.dir, name));
      } catch (error) {
        if (!isMissing(error)) throw this.ioError(`cannot delete the leftover ${name}`, error);
      }
    }
    this.nextPart = next;
  }

  protected override snapshotContext(): FileSinkContext {
    return { subtask: this.subtask, nextPart: this.nextPart };
  }

  private openPart(txn: FileSinkTransaction, first: T): OpenPart {
    const name = this.partName(this.nextPart++);
    let fd: number;
    try {
      fd = openSync(join(this.dir, hiddenName(name, 'inprogress')), 'wx');
    } catch (error) {
      throw this.ioError(`cannot create ${hiddenName(name, 'inprogress')}`, error);
    }
    txn.parts.push(name);
    const part: OpenPart = { name, fd, bytes: 0, openedAt: this.now(), buffer: [], buffered: 0 };
    this.part = part;
    const header = this.csv?.header(first);
    if (header !== undefined) {
      const line = `${header}\n`;
      part.buffer.push(line);
      part.buffered += line.length;
      part.bytes += Buffer.byteLength(line);
    }
    return part;
  }

  private flush(part: OpenPart): void {
    if (part.buffer.length === 0) return;
    try {
      writeSync(part.fd, part.buffer.join(''));
    } catch (error) {
      throw this.ioError(`cannot write ${hiddenName(part.name, 'inprogress')}`, error);
    }
    part.buffer = [];
    part.buffered = 0;
  }

  /** Flushes, fsyncs and closes the open part file; it stays in its transaction as in progress. */
  private closePart(): void {
    const part = this.part;
    if (part === undefined) return;
    this.part = undefined;
    try {
      this.flush(part);
      fsyncSync(part.fd);
    } finally {
      closeSync(part.fd);
    }
  }

  private syncDirSync(): void {
    if (process.platform === 'win32') return;
    const fd = openSync(this.dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private async syncDir(): Promise<void> {
    if (process.platform === 'win32') return;
    const handle = await open(this.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private ioError(what: string, cause: unknown): WeirError {
    // A read-only, foreign or full output folder stays so across restarts.
    const code = errorCode(cause);
    const retriable = code === undefined || !UNRECOVERABLE_ERRNOS.has(code);
    return new WeirError(
      `file sink '${this.site.operator}' (subtask ${this.subtask}) ${what} in ${this.dir}: ${(cause as Error)?.message ?? cause}`,
      {
        code: ErrorCodes.SINK_IO,
        domain: 'external',
        retriable,
        operator: this.site.operator,
        subtask: this.subtask,
        cause,
      },
    );
  }

  private configError(message: string): WeirError {
    return new WeirError(`exactly-once file sink: ${message}`, { code: ErrorCodes.CONFIG, domain: 'user' });
  }
}

/**
 * An exactly-once file sink (Flink's FileSink with an on-checkpoint rolling policy): each subtask
 * writes part files `<prefix>-<subtask>-<n><suffix>` into `dir`, visible only once the checkpoint
 * after their records completed, so after a failure and restore every record appears exactly once.
 * Without checkpointing, files become visible when the bounded job ends (see
 * {@link TwoPhaseCommitSinkWriter}). Use one sink per directory and prefix.
 */
export function exactlyOnceFileSink<T>(dir: string, options: ExactlyOnceFileSinkOptions<T>): Sink<T> {
  // Checks the options at job definition, not in the workers.
  new ExactlyOnceFileSinkWriter<T>(dir, options, { operatorName: 'file sink', subtaskIndex: 0 });
  const prefix = escapeRegExp(options.prefix ?? 'part');
  const inProgress = new RegExp(`^\\.${prefix}-\\d+-\\d+${escapeRegExp(options.suffix ?? '')}\\.inprogress$`);
  return {
    name: `Exactly-Once File Sink (${dir})`,
    createWriter: (ctx: OperatorContext): SinkWriter<T> => new ExactlyOnceFileSinkWriter<T>(dir, options, ctx),
    commitsOnCheckpoint: true,
    rewindsOnRestore: true,
    // In-progress parts belong to no completed checkpoint; pending ones may still be committed by a resume.
    cleanupAfterFailure: async () => {
      let names: string[];
      try {
        names = await readdir(resolve(dir));
      } catch {
        return;
      }
      for (const name of names) if (inProgress.test(name)) await unlink(join(resolve(dir), name)).catch(() => undefined);
    },
  };
}
