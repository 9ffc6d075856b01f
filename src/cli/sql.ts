//! `weir sql -f script.sql`: runs a script of Flink SQL statements in order, as Flink's `sql-client.sh -f`.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { WeirError } from '../core/errors.ts';
import type { Statement } from '../sql/ast.ts';
import { TableEnvironment, type TableEnvironmentSettings, type TableResult } from '../sql/table-environment.ts';

const USAGE = `usage: weir sql -f <script.sql> [options]

Runs the statements of a Flink SQL script in order (CREATE TABLE/VIEW, SET, INSERT INTO … SELECT,
SELECT, SHOW TABLES, DESCRIBE, EXPLAIN); each INSERT runs as a job and the script goes on when it
ends (its inputs must be bounded). The interactive shell is not built yet.

options:
  -f, --file <script.sql>     the script
  -p, --parallelism <n>       default parallelism of the jobs
      --checkpoint-dir <dir>  keep checkpoints there (with SET 'execution.checkpointing.interval')
      --from-savepoint <dir>  start the jobs from a savepoint (a script with one INSERT)
      --local                 run every subtask on this thread instead of worker threads
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

function report(s: Statement, r: TableResult, io: SqlIo): void {
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
  io.out(`${formatTable(r.columns, r.rows)}\n`);
  if (r.job !== undefined) io.out(`late rows dropped: ${r.lateRowsDropped ?? 0}\n`);
}

/** Runs `weir sql` with these arguments (after `sql`); resolves with the exit code. */
export async function sqlMain(argv: string[], io: SqlIo = processIo): Promise<number> {
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
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    io.err(`weir sql: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (values.file === undefined) {
    io.err(`weir sql: not supported yet: the interactive SQL shell; run a script with -f <script.sql>\n${USAGE}\n`);
    return 2;
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
  let script: string;
  try {
    script = readFileSync(values.file, 'utf8');
  } catch (error) {
    io.err(`weir sql: cannot read ${values.file}: ${(error as Error).message}\n`);
    return 1;
  }
  const env = TableEnvironment.create(settings);
  try {
    await env.executeScript(script, (s, r) => report(s, r, io));
    return 0;
  } catch (error) {
    const e = error as Error;
    io.err(`[ERROR] ${e instanceof WeirError ? `${e.code}: ` : ''}${e.message}\n`);
    return 1;
  }
}
