//! Visible drops: a source reader's first skipped records logged one line each on stderr, then a count at most every few seconds.

import { ErrorCodes, WeirError } from '../core/errors.ts';

/** How a source logs the records its `skip` policy drops (option `logSkipped` of the file and Kafka sources). */
export interface SkippedRecordsLogOptions {
  /** Records logged one line each, with their origin and the reason, per reader (source subtask); default 10. */
  first?: number;
  /** After those, a line with the count of records skipped since, at most this often per reader (ms); default 5000. */
  everyMs?: number;
}

/** Defaults of {@link SkippedRecordsLogOptions}. */
export const SKIPPED_RECORDS_LOG_DEFAULTS = { first: 10, everyMs: 5000 } as const;

/** Checks `logSkipped` options, naming the source in the error. */
export function resolveSkippedRecordsLog(
  source: string,
  options: SkippedRecordsLogOptions | undefined,
): Required<SkippedRecordsLogOptions> {
  const first = options?.first ?? SKIPPED_RECORDS_LOG_DEFAULTS.first;
  const everyMs = options?.everyMs ?? SKIPPED_RECORDS_LOG_DEFAULTS.everyMs;
  if (!Number.isSafeInteger(first) || first < 0)
    throw new WeirError(`${source}: logSkipped.first must be a non-negative integer, got ${String(first)}`, {
      code: ErrorCodes.CONFIG,
      domain: 'user',
    });
  if (!(Number.isFinite(everyMs) && everyMs >= 0))
    throw new WeirError(`${source}: logSkipped.everyMs must be a non-negative number of ms, got ${String(everyMs)}`, {
      code: ErrorCodes.CONFIG,
      domain: 'user',
    });
  return { first, everyMs };
}

/**
 * The log of one reader's skipped records: the first {@link SkippedRecordsLogOptions.first} get a
 * line each (`weir: <source> skipped <what>: <where>: <reason>`), then one line says the rest are
 * counted, then a count line (`weir: <source> skipped N more record(s) (T in all)`) comes at most
 * every {@link SkippedRecordsLogOptions.everyMs}, when a record is skipped or the reader polls
 * after that time, and once more at close for what is left. After a restore, the records replayed
 * since the checkpoint are skipped, and logged, again.
 *
 * **Threading model.** One per reader, on its subtask's actor; lines go to `process.stderr` (a
 * worker thread's stderr reaches the process's).
 */
export class SkippedRecordsLog {
  private logged = 0;
  private unreported = 0;
  private lastLine = Number.NEGATIVE_INFINITY;

  constructor(
    /** Who skips, e.g. `file source 'File Source' (subtask 0)`. */
    private readonly who: string,
    private readonly options: Required<SkippedRecordsLogOptions>,
    private readonly write: (line: string) => void = writeLogLine,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * A record was skipped: `describe` gives `<what>: <where>: <reason>`, asked only when the record
   * gets its own line; `total` is the reader's count of skipped records, this one included.
   */
  skipped(describe: () => string, total: number): void {
    if (this.logged < this.options.first) {
      this.logged++;
      this.line(`weir: ${this.who} skipped ${describe()}`);
      if (this.logged === this.options.first)
        this.line(
          `weir: ${this.who}: logged the first ${this.logged} skipped record(s); more are counted, one line every ${this.options.everyMs / 1000} s at most`,
        );
      return;
    }
    this.unreported++;
    this.tick(total);
  }

  /** Writes the count line if records wait for one and the interval has passed (readers call it as they poll). */
  tick(total: number): void {
    if (this.unreported > 0 && this.now() - this.lastLine >= this.options.everyMs) this.flush(total);
  }

  /** Writes the count line now if records wait for one (at close). */
  flush(total: number): void {
    if (this.unreported === 0) return;
    this.line(`weir: ${this.who} skipped ${this.unreported} more record(s) (${total} in all)`);
    this.unreported = 0;
  }

  private line(text: string): void {
    this.lastLine = this.now();
    this.write(text);
  }
}

/**
 * A log line from a worker thread on the process's stderr: plain text, or, when the CLI logs JSON
 * (it sets `WEIR_LOG_FORMAT=json` for the process, which worker threads inherit), one JSON object
 * shaped like the CLI's own lines, so the stream stays one object per line.
 */
function writeLogLine(line: string): void {
  if (process.env.WEIR_LOG_FORMAT !== 'json') {
    process.stderr.write(`${line}\n`);
    return;
  }
  const msg = line.replace(/^weir: /, '');
  process.stderr.write(
    `${JSON.stringify({ level: 'warn', time: new Date().toISOString(), pid: process.pid, event: 'records-skipped', msg })}\n`,
  );
}
