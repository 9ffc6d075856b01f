//! `weir sql -f script.sql`: runs a script of Flink SQL statements in order, as Flink's `sql-client.sh -f`.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import { MaterializedTable, kindOf, withoutKind } from '../sql/plan-changelog.ts';
import type { Statement } from '../sql/ast.ts';
import { HISTORY_SIZE, defaultHistoryFile, loadHistory, saveHistory } from './shell-history.ts';
import { TableEnvironment, type LiveRowListener, type TableEnvironmentSettings, type TableResult } from '../sql/table-environment.ts';
import type { JobEvent } from '../actors/job-master.ts';
import type { JobClient } from '../scheduler/execute.ts';
import { createLogger, logJobEvent } from '../observe/logging.ts';
import { startProgress, type ProgressArea } from '../observe/progress.ts';
import { MetricsRegistry } from '../observe/registry.ts';
import type { Observer } from '../observe/server.ts';
import { UI_OPTIONS, uiOptions, type UiOptions } from './main.ts';

const USAGE = `usage: weir sql [-f <script.sql>] [options]

Runs the statements of a Flink SQL script in order (CREATE TABLE/VIEW, SET, INSERT INTO … SELECT,
SELECT, SHOW TABLES, DESCRIBE, EXPLAIN); each INSERT runs as a job and the script goes on when it
ends (its inputs must be bounded). Without -f, reads statements from the terminal (line editing
by node:readline, history kept across sessions; a statement ends with ';'; QUIT; or Ctrl-D leaves).

options:
  -f, --file <script.sql>     the script
  -p, --parallelism <n>       default parallelism of the jobs
      --checkpoint-dir <dir>  keep checkpoints there (with SET 'execution.checkpointing.interval')
      --from-savepoint <dir>  start the jobs from a savepoint (a script with one INSERT)
      --local                 run every subtask on this thread instead of worker threads
      --history <file>        the shell's history file (default: $XDG_STATE_HOME/weir/sql-history,
                              else ~/.local/state/weir/sql-history)
      --rest-port <port>      serve the REST API, /metrics and the dashboard of the jobs on this port
      --rest-host <host>      the address to bind (default 127.0.0.1)
      --rest-token <token>    the token changes need (default: a random one beyond loopback)
      --log-level <level>     trace, debug, info (default), warn, error or silent
      --log-format <format>   json or pretty (default: pretty on a terminal, json otherwise)
  -q, --quiet                 no live status area while an INSERT job runs
  -h, --help                  this text`;

/** Where the command writes (the process's streams, or a test's buffers). */
export interface SqlIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: SqlIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** A result as a boxed table, the way Flink's client prints `tableau` results. */
export function formatTable(columns: string[], rows: Record<string, unknown>[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '<NULL>' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const row = (vals: string[]) => `| ${vals.map((v, i) => v.padStart(widths[i])).join(' | ')} |`;
  return [
    line,
    row(columns),
    line,
    ...rows.map((r) => row(columns.map((c) => cell(r[c])))),
    line,
    `${rows.length} row${rows.length === 1 ? '' : 's'} in set`,
  ].join('\n');
}

const cellText = (v: unknown) => (v === null || v === undefined ? '<NULL>' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** The width a column of this SQL type gets in a streamed result (Flink's tableau mode sizes columns by type). */
function typeWidth(type: string): number {
  const t = type.toUpperCase();
  if (t.startsWith('BOOLEAN')) return 5;
  if (t.startsWith('TINYINT')) return 4;
  if (t.startsWith('SMALLINT')) return 6;
  if (t.startsWith('INT')) return 11;
  if (t.startsWith('TIMESTAMP')) return 23;
  const n = /^(?:VARCHAR|CHAR)\((\d+)\)/.exec(t);
  if (n !== null) return Math.min(Number(n[1]), 20);
  return 20;
}

/** Flink's `sql-client.execution.result-mode`: `table` (a table updated in place), `changelog` (every change with its kind), `tableau` (rows printed as they arrive). */
export type ResultMode = 'table' | 'changelog' | 'tableau';

/** The result mode the `SET` options ask for (`table` by default), or an error naming the bad value. */
export function resultMode(config: Readonly<Record<string, string>>): ResultMode {
  const mode = (config['sql-client.execution.result-mode'] ?? 'table').toLowerCase();
  if (mode !== 'table' && mode !== 'changelog' && mode !== 'tableau')
    throw new WeirError(`'sql-client.execution.result-mode' must be table, changelog or tableau, got '${mode}'`, {
      code: ErrorCodes.CONFIG,
      domain: 'user',
    });
  return mode;
}

/** A change as a row with its kind in an `op` column first, as Flink's client shows changelogs. */
function withOp(r: Record<string, unknown>): Record<string, unknown> {
  return { op: kindOf(r), ...withoutKind(r) };
}

/**
 * A SELECT's result while its job runs, as Flink's client shows it. On a terminal the table is
 * redrawn in place, at most every `redrawMs`: the rows so far, or for an updating query in
 * `table` mode the table as its changes leave it (a row updated in place moves to the end), or
 * in `changelog` mode every change with its kind in an `op` column. Elsewhere (or in `tableau`
 * mode) the header prints when the job starts and each row as it arrives (an updating query's
 * with its `op`; columns sized by type, longer values cut with `...`), and the footer when it ends.
 */
export class LiveTable implements LiveRowListener {
  private columns: string[] = [];
  private widths: number[] = [];
  private readonly all: Record<string, unknown>[] = [];
  /** An updating query's table in `table` mode on a terminal. */
  private materialized: MaterializedTable | undefined;
  private changes = 0;
  private drawnLines = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  /** Whether this table printed anything (then `end` prints its footer). */
  started = false;

  constructor(
    private readonly io: SqlIo,
    private readonly tty: boolean,
    private readonly redrawMs: number,
    /** Rows a running frame shows at most (the terminal's height less the frame's own lines). */
    private readonly height = Math.max(1, (process.stdout.rows ?? 24) - 8),
    private readonly mode: ResultMode = 'table',
  ) {
    if (mode === 'tableau') this.tty = false;
  }

  /** Whether rows show with their kind (an updating query, unless its table is updated in place). */
  private ops = false;

  start(fields: { name: string; type: string }[], updating = false): void {
    this.started = true;
    this.ops = updating && (!this.tty || this.mode === 'changelog');
    if (updating && !this.ops) this.materialized = new MaterializedTable(fields.map((f) => f.name));
    const all = this.ops ? [{ name: 'op', type: 'CHAR(2)' }, ...fields] : fields;
    this.columns = all.map((f) => f.name);
    this.widths = all.map((f) => Math.max(f.name.length, typeWidth(f.type)));
    if (!this.tty) this.io.out(`${[this.rule(), this.line(this.columns), this.rule()].join('\n')}\n`);
  }

  rows(changes: Record<string, unknown>[]): void {
    this.changes += changes.length;
    const rows = this.ops ? changes.map(withOp) : changes;
    if (this.materialized !== undefined) {
      // a change that came late on the live channel may retract a row not shown yet; the last frame is drawn from the collected result
      for (const r of rows) {
        try {
          this.materialized.apply(r);
        } catch {
          // shown right by end()
        }
      }
    } else for (const r of rows) this.all.push(r);
    if (!this.tty) {
      this.io.out(rows.map((r) => `${this.line(this.columns.map((c) => cellText(r[c])))}\n`).join(''));
      return;
    }
    const wait = this.lastDraw + this.redrawMs - Date.now();
    if (wait <= 0) this.draw(false);
    else this.timer ??= setTimeout(() => this.draw(false), wait);
  }

  /** The end of the result: the last frame on a terminal, the footer elsewhere; `collected` (the job's rows, in order) makes an updating table's last frame. */
  end(collected?: Record<string, unknown>[]): void {
    if (!this.started) return;
    if (this.materialized !== undefined && collected !== undefined) {
      this.materialized = new MaterializedTable(this.columns);
      for (const r of collected) this.materialized.apply(r);
    }
    if (this.tty) this.draw(true);
    else if (this.ops) this.io.out(`${this.rule()}\nReceived a total of ${this.changes} row${this.changes === 1 ? '' : 's'}\n`);
    else this.io.out(`${this.rule()}\n${this.all.length} row${this.all.length === 1 ? '' : 's'} in set\n`);
  }

  private draw(final: boolean): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastDraw = Date.now();
    // a running frame fits the screen (cursor-up cannot reach above it): the newest rows, and how many are above
    const rows = this.materialized !== undefined ? this.materialized.snapshot() : this.all;
    const shown = final || rows.length <= this.height ? rows : rows.slice(rows.length - this.height);
    const table = formatTable(this.columns, shown);
    const above = shown.length < rows.length ? ` (the last ${shown.length} shown)` : '';
    const frame = final ? table : `${table.slice(0, table.lastIndexOf('\n'))}\n${rows.length} row(s) so far${above}, running…`;
    const erase = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F\x1b[0J` : '';
    this.io.out(`${erase}${frame}\n`);
    this.drawnLines = frame.split('\n').length;
  }

  private rule(): string {
    return `+${this.widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  }

  private line(values: string[]): string {
    return `| ${values.map((v, i) => (v.length > this.widths[i] ? `${v.slice(0, this.widths[i] - 3)}...` : v.padStart(this.widths[i]))).join(' | ')} |`;
  }
}

function report(s: Statement, r: TableResult, io: SqlIo, live?: LiveTable, mode: ResultMode = 'table'): void {
  if (r.kind === 'ok') {
    io.out(s.kind === 'set' || s.kind === 'reset' ? '[INFO] Execute statement succeeded.\n' : `[INFO] Execute statement succeeded.\n`);
    return;
  }
  if (r.kind === 'job' && r.job !== undefined) {
    const j = r.job;
    io.out(
      `[INFO] Job '${j.jobName}' finished in ${j.durationMs.toFixed(0)} ms (${j.mode}${j.mode === 'threads' ? `, ${j.slots} slot(s)` : ''}).\n`,
    );
    io.out(`late rows dropped: ${r.lateRowsDropped ?? 0}\n`);
    return;
  }
  if (s.kind === 'explain') {
    io.out(`${String(r.rows[0]?.plan ?? '')}\n`);
    return;
  }
  if (live?.started) live.end(r.rows);
  else if (r.updating && mode === 'changelog') io.out(`${formatTable(['op', ...r.columns], r.rows.map(withOp))}\n`);
  else io.out(`${formatTable(r.columns, r.materialize())}\n`);
  if (r.job !== undefined) io.out(`late rows dropped: ${r.lateRowsDropped ?? 0}\n`);
}

/**
 * The interactive shell: statements end with `;` (several lines each), each runs when complete and
 * its result prints; an error prints and the shell goes on. `QUIT;`/`EXIT;` or end of input leaves.
 */
async function shell(
  env: TableEnvironment,
  io: SqlIo,
  input: Readable,
  terminal: boolean,
  view: ShellView,
  historyFile: string,
): Promise<number> {
  let history: string[] = [];
  if (terminal) {
    try {
      history = loadHistory(historyFile);
    } catch (error) {
      io.err(`[WARNING] cannot read the history file ${historyFile}: ${(error as Error).message}\n`);
    }
  }
  const rl = createInterface({
    input,
    output: terminal ? process.stdout : undefined,
    terminal,
    history,
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    prompt: 'Flink SQL> ',
  });
  let historyWarned = false;
  rl.on('history', (lines) => {
    try {
      saveHistory(historyFile, lines);
    } catch (error) {
      if (!historyWarned) io.err(`[WARNING] cannot write the history file ${historyFile}: ${(error as Error).message}\n`);
      historyWarned = true;
    }
  });
  let pending = '';
  if (terminal) rl.prompt();
  for await (const line of rl) {
    pending += `${line}\n`;
    if (!line.trimEnd().endsWith(';')) {
      if (terminal) rl.setPrompt('> ');
      if (terminal) rl.prompt();
      continue;
    }
    const text = pending;
    pending = '';
    if (/^\s*(quit|exit)\s*;\s*$/i.test(text)) break;
    try {
      const table = () => new LiveTable(io, view.tty ?? terminal, view.redrawMs ?? 200, view.height, resultMode(env.getConfig()));
      let live = table();
      await env.executeScript(
        text,
        (s, r) => {
          report(s, r, io, live);
          live = table();
        },
        { start: (f, updating) => live.start(f, updating), rows: (rows) => live.rows(rows) },
      );
    } catch (error) {
      const e = error as Error;
      io.err(`[ERROR] ${e instanceof WeirError ? `${e.code}: ` : ''}${e.message}\n`);
    }
    if (terminal) {
      rl.setPrompt('Flink SQL> ');
      rl.prompt();
    }
  }
  rl.close();
  return 0;
}

/**
 * How the shell shows a running SELECT: `tty` redraws a table in place (default: whether stdin is
 * a terminal), at most every `redrawMs` (default 200), a running frame showing at most `height`
 * rows (default: the terminal's height less 8).
 */
export interface ShellView {
  tty?: boolean;
  redrawMs?: number;
  height?: number;
}

/** Runs `weir sql` with these arguments (after `sql`); resolves with the exit code. `input` feeds the shell (default stdin). */
export async function sqlMain(argv: string[], io: SqlIo = processIo, input?: Readable, view: ShellView = {}): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        file: { type: 'string', short: 'f' },
        parallelism: { type: 'string', short: 'p' },
        'checkpoint-dir': { type: 'string' },
        'from-savepoint': { type: 'string' },
        local: { type: 'boolean' },
        history: { type: 'string' },
        ...UI_OPTIONS,
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    io.err(`weir sql: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let ui: UiOptions;
  try {
    ui = uiOptions(values);
  } catch (error) {
    io.err(`weir sql: ${(error as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  const settings: TableEnvironmentSettings = { mode: values.local ? 'local' : 'threads' };
  if (values.parallelism !== undefined) {
    const p = Number(values.parallelism);
    if (!Number.isInteger(p) || p < 1) {
      io.err(`weir sql: -p needs a positive integer, got '${values.parallelism}'\n`);
      return 2;
    }
    settings.parallelism = p;
  }
  if (values['checkpoint-dir'] !== undefined) settings.checkpointDir = resolve(values['checkpoint-dir']);
  if (values['from-savepoint'] !== undefined) settings.fromSavepoint = resolve(values['from-savepoint']);
  const watch = await watchJobs(ui, values.file !== undefined, io);
  settings.onEvent = watch.onEvent;
  settings.observer = watch.observer;
  try {
    return await runSql(values, settings, io, input, view);
  } finally {
    await watch.close();
  }
}

/** The statements of a script, or the shell. */
async function runSql(
  values: { file?: string; history?: string },
  settings: TableEnvironmentSettings,
  io: SqlIo,
  input: Readable | undefined,
  view: ShellView,
): Promise<number> {
  if (values.file === undefined) {
    const terminal = input === undefined && process.stdin.isTTY === true;
    const historyFile = values.history !== undefined ? resolve(values.history) : defaultHistoryFile();
    return shell(TableEnvironment.create(settings), io, input ?? process.stdin, terminal, view, historyFile);
  }
  let script: string;
  try {
    script = readFileSync(values.file, 'utf8');
  } catch (error) {
    io.err(`weir sql: cannot read ${values.file}: ${(error as Error).message}\n`);
    return 1;
  }
  const env = TableEnvironment.create(settings);
  try {
    await env.executeScript(script, (s, r) => report(s, r, io, undefined, resultMode(env.getConfig())));
    return 0;
  } catch (error) {
    const e = error as Error;
    io.err(`[ERROR] ${e instanceof WeirError ? `${e.code}: ` : ''}${e.message}\n`);
    return 1;
  }
}

/** What watches the jobs of `weir sql`: their log lines, the REST server, the status area of an INSERT job on a terminal. */
async function watchJobs(
  ui: UiOptions,
  script: boolean,
  io: SqlIo,
): Promise<{ onEvent(event: JobEvent): void; observer?: { addJob(client: JobClient): void }; close(): Promise<void> }> {
  let progress: ProgressArea | undefined;
  const logger = createLogger({
    level: ui.logLevel,
    format: ui.logFormat,
    write: (text) => (progress ? progress.write(text) : io.err(text)),
  });
  const showProgress = script && !ui.quiet && process.stderr.isTTY === true;
  let server: Observer | undefined;
  if (ui.rest) {
    server = await (await import('../observe/server.ts')).startObserver({ port: ui.rest.port, host: ui.rest.host, token: ui.rest.token });
    logger.info({ event: 'rest', url: server.url }, `dashboard and REST API at ${server.url}`);
    if (server.token)
      logger.warn({ event: 'rest-token' }, `the REST API takes savepoints and stops only with 'Authorization: Bearer ${server.token}'`);
  }
  const registry = server?.registry ?? (showProgress ? new MetricsRegistry({ intervalMs: 1000 }) : undefined);
  const observer =
    registry === undefined
      ? undefined
      : {
          addJob(client: JobClient): void {
            if (server) server.addJob(client);
            else registry.addJob(client);
            // A SELECT draws its own result table; the status area is for INSERT jobs.
            if (showProgress && client.graph.collectIds.length === 0) {
              progress?.stop();
              const area = startProgress(registry, client.id, client.graph);
              progress = area;
              const end = (): void => {
                area?.stop();
                if (progress === area) progress = undefined;
              };
              client.result.then(end, end);
            }
          },
        };
  return {
    onEvent: (event) => logJobEvent(logger, event),
    observer,
    async close() {
      progress?.stop();
      registry?.close();
      await server?.close();
    },
  };
}
