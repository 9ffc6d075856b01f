// Apache Flink as the oracle for weir's SQL: the same `.sql` script runs on weir's TableEnvironment and on Flink's
// (bench/flink SqlRunner, one JVM for every script), and the two final tables are compared row by row.
//
//   npx tsx bench/flink/sql-oracle.ts [--parallelism N] [--mode threads|local] [--prelude ddl.sql] file.sql...
//
// `--prelude` runs a script's statements before each file's (the prelude file itself and non-.sql files among the
// files are passed over), so every Nexmark query runs on both engines in one command:
//
//   npm run sql:oracle -- --prelude bench/nexmark/sql/ddl.sql bench/nexmark/sql/*
//
// A file with a comment `-- oracle-skip: <reason>` is reported as skipped, not run (q12: windows of the wall clock).
// A file with `-- oracle-compare: changelog-counts` is equal only when the two changelogs also have as many rows of
// each kind (+I, -U, +U, -D): the retractions an engine sends, not only the table they fold into.
//
// Convention (both engines): every statement runs in order except the last, which must be a query: a SELECT, or an
// `INSERT INTO t <query>` that runs as its query (t is not written). The query's rows are folded into its final table
// (+I/+U add a row, -U/-D remove one equal row). Values are compared in one form: TIMESTAMP and TIMESTAMP_LTZ as epoch
// milliseconds (TIMESTAMP read as UTC; weir's rows already hold epoch ms), DECIMAL(p, s) as its decimal text with s
// digits (weir computes DECIMAL in doubles; Flink's are exact), other numbers as they are, ROW as an object.
// Exit status 1 when a script's tables differ or an engine fails.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseScript, textOf } from '../../src/sql/parser.ts';
import { ROW_KIND } from '../../src/sql/plan.ts';
import { TableEnvironment, type TableEnvironmentSettings } from '../../src/sql/table-environment.ts';

type Row = Record<string, unknown>;

/** A query's final table as one engine gave it. */
export interface FinalTable {
  /** Column names and types as the engine prints them. */
  columns: { name: string; type: string }[];
  /** The rows, each as an object keyed by column name, in no particular order. */
  rows: Row[];
  /** Why the engine could not run the script (the table is empty then). */
  error?: string;
  /** How many rows of each kind (+I, -U, +U, -D) the query's changelog had. */
  kinds?: ChangelogCounts;
}

/** Rows of each kind in a changelog. */
export type ChangelogCounts = Record<'+I' | '-U' | '+U' | '-D', number>;

/** Options of a comparison. */
export interface CompareOptions {
  /** Compare the changelogs' counts of each row kind too (a script's `-- oracle-compare: changelog-counts`). */
  changelogCounts?: boolean;
}

/** How two final tables differ. */
export interface TableDiff {
  equal: boolean;
  /** Column names differ (names in order). */
  columns?: { weir: string[]; flink: string[] };
  /** Rows Flink has and weir lacks, with how many copies are missing. */
  missing: { row: string; count: number }[];
  /** Rows weir has beyond Flink's, with how many copies are extra. */
  extra: { row: string; count: number }[];
  weirRows: number;
  flinkRows: number;
  /** The changelogs' counts of each row kind, when compared and different. */
  kinds?: { weir: ChangelogCounts | undefined; flink: ChangelogCounts | undefined };
}

const HERE = dirname(fileURLToPath(import.meta.url));

/** Splits a script into its setup statements and its final query (the SELECT of a last INSERT), as texts. */
export function finalQueryOf(script: string): { setup: string[]; query: string } {
  const statements = parseScript(script);
  const last = statements[statements.length - 1];
  if (last === undefined) throw new Error('the script has no statement');
  const setup = statements.slice(0, -1).map((s) => textOf(script, s.loc));
  if (last.kind === 'query') return { setup, query: textOf(script, last.loc) };
  if (last.kind === 'insert') return { setup, query: textOf(script, last.query.loc) };
  throw new Error(`the script's last statement must be a SELECT or an INSERT INTO ... SELECT, got a ${last.kind} statement`);
}

/** Folds a changelog (rows with `$kind`, absent = +I) into its final table; a retraction of an absent row is an error. */
export function foldChangelog(rows: Row[], columns: string[]): Row[] {
  const table = new Map<string, { row: Row; count: number }>();
  for (const r of rows) {
    const kind = (r[ROW_KIND] as string | undefined) ?? '+I';
    const row: Row = {};
    for (const c of columns) row[c] = r[c];
    const key = JSON.stringify(columns.map((c) => row[c]));
    const entry = table.get(key);
    if (kind === '+I' || kind === '+U') {
      if (entry === undefined) table.set(key, { row, count: 1 });
      else entry.count++;
    } else {
      if (entry === undefined) throw new Error(`the changelog retracts a row the table does not hold (${kind}): ${key}`);
      if (--entry.count === 0) table.delete(key);
    }
  }
  const out: Row[] = [];
  for (const { row, count } of table.values()) for (let i = 0; i < count; i++) out.push(row);
  return out;
}

/** Counts the rows of each kind in a changelog (rows with `$kind`, absent = +I). */
export function countKinds(rows: Row[]): ChangelogCounts {
  const counts: ChangelogCounts = { '+I': 0, '-U': 0, '+U': 0, '-D': 0 };
  for (const r of rows) {
    const kind = (r[ROW_KIND] as string | undefined) ?? '+I';
    if (!(kind in counts)) throw new Error(`a changelog row of an unknown kind ${JSON.stringify(kind)}`);
    counts[kind as keyof ChangelogCounts]++;
  }
  return counts;
}

/** `-- oracle-compare: changelog-counts`: the script's changelogs must also have as many rows of each kind. */
const COMPARE = /--\s*oracle-compare:\s*([\w-]+)/;

/** The comparison a script asks for in its `-- oracle-compare: <what>` comment; an unknown `<what>` is an error. */
export function compareOptionsOf(script: string): CompareOptions {
  const m = COMPARE.exec(script);
  if (m === null) return {};
  if (m[1] === 'changelog-counts') return { changelogCounts: true };
  throw new Error(`-- oracle-compare: unknown comparison '${m[1]}' (known: changelog-counts)`);
}

/** Runs a script on weir: setup statements in order, then the final query, folded. */
export async function runOnWeir(script: string, settings: TableEnvironmentSettings = { parallelism: 1 }): Promise<FinalTable> {
  try {
    const { setup, query } = finalQueryOf(script);
    const env = TableEnvironment.create(settings);
    for (const s of setup) await env.executeSql(s);
    const table = env.sqlQuery(query);
    const columns = await table.getResolvedSchema();
    const result = await table.execute();
    return {
      columns,
      rows: foldChangelog(
        result.rows,
        columns.map((c) => c.name),
      ),
      kinds: countKinds(result.rows),
    };
  } catch (e) {
    return { columns: [], rows: [], error: e instanceof Error ? e.message : String(e) };
  }
}

function hasCommand(cmd: string): boolean {
  try {
    execFileSync(cmd, ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Builds bench/flink (mvn package) unless its classes and classpath are there; fails clearly without Java or Maven. */
export function ensureFlinkRunner(): { classpath: string } {
  if (!hasCommand('java'))
    throw new Error(
      'the Flink SQL oracle needs Java 17 (`java` is not on PATH); install a JDK 17 and Maven, then `mvn -B -q -f bench/flink/pom.xml package -DskipTests`',
    );
  const classes = join(HERE, 'target', 'classes');
  const cpFile = join(HERE, 'target', 'classpath.txt');
  // every class the oracle's scripts need (a build older than one of them is rebuilt)
  const needed = ['SqlRunner', 'CountChar'].map((c) => join(classes, 'dev', 'weir', 'bench', 'flink', `${c}.class`));
  if (!existsSync(cpFile) || !needed.every((f) => existsSync(f))) {
    if (!hasCommand('mvn'))
      throw new Error(
        'the Flink SQL oracle is not built and `mvn` is not on PATH: install Maven and run `mvn -B -q -f bench/flink/pom.xml package -DskipTests`',
      );
    execFileSync('mvn', ['-B', '-q', '-f', join(HERE, 'pom.xml'), 'package', '-DskipTests'], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return { classpath: `${classes}:${readFileSync(cpFile, 'utf8').trim()}` };
}

/** Runs scripts on Flink in one JVM (SqlRunner); resolves with one final table per file, in order. */
export async function runOnFlink(files: string[], parallelism = 1): Promise<FinalTable[]> {
  const { classpath } = ensureFlinkRunner();
  const args = [
    ...(process.env.FLINK_ORACLE_JVM_OPTS ?? '-Xmx1g').split(' ').filter((a) => a !== ''),
    '-Duser.timezone=UTC',
    '--add-opens=java.base/java.util=ALL-UNNAMED',
    '--add-opens=java.base/java.lang=ALL-UNNAMED',
    '-cp',
    classpath,
    'dev.weir.bench.flink.SqlRunner',
    '--parallelism',
    String(parallelism),
    ...files.map((f) => resolve(f)),
  ];
  const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((res, rej) => {
    child.on('error', rej);
    child.on('close', res);
  });
  const lines = out.split('\n').filter((l) => l !== '');
  const tables: FinalTable[] = [];
  for (let i = 0; i < lines.length;) {
    const header = JSON.parse(lines[i++]) as {
      file: string;
      columns: { name: string; type: string }[];
      rows: number;
      error: string | null;
      kinds?: ChangelogCounts;
    };
    const rows = lines.slice(i, i + header.rows).map((l) => JSON.parse(l) as Row);
    i += header.rows;
    tables.push({
      columns: header.columns,
      rows,
      ...(header.error !== null ? { error: header.error } : {}),
      ...(header.kinds !== undefined ? { kinds: header.kinds } : {}),
    });
  }
  if (tables.length !== files.length)
    throw new Error(
      `Flink's SqlRunner ended (exit ${code}) after ${tables.length} of ${files.length} scripts; its stderr ends:\n${err.slice(-3000)}`,
    );
  return tables;
}

/** The comparable form of a value of a column of Flink type `type` (weir's rows and Flink's JSON alike). */
function normalize(v: unknown, type: string | undefined): unknown {
  if (v === null || v === undefined) return null;
  const decimal = type === undefined ? null : /^DECIMAL\(\d+, (\d+)\)/.exec(type);
  if (decimal !== null && (typeof v === 'number' || typeof v === 'string')) return Number(v).toFixed(Number(decimal[1]));
  if (typeof v === 'bigint') return Number(v);
  // as Java's Double.toString, which the Flink side prints for them (JSON has no such numbers)
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o: Row = {};
    for (const [k, x] of Object.entries(v as Row)) o[k] = normalize(x, undefined);
    return o;
  }
  return v;
}

/** One row's comparable text: its values in column order, named. */
function rowKey(row: Row, columns: string[], types: (string | undefined)[]): string {
  return JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, normalize(row[c], types[i])])));
}

/**
 * Compares two final tables as multisets of rows; columns are matched by position, Flink's types decide the forms.
 * With `changelogCounts`, the changelogs must also have as many rows of each kind (missing counts differ).
 */
export function compareTables(weir: FinalTable, flink: FinalTable, options: CompareOptions = {}): TableDiff {
  const flinkNames = flink.columns.map((c) => c.name);
  const weirNames = weir.columns.map((c) => c.name);
  const types = flink.columns.map((c) => c.type);
  const counts = new Map<string, number>();
  for (const r of flink.rows) {
    const k = rowKey(r, flinkNames, types);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  for (const r of weir.rows) {
    // weir's row under Flink's column names, by position
    const renamed: Row = {};
    weirNames.forEach((n, i) => (renamed[flinkNames[i] ?? n] = r[n]));
    const k = rowKey(renamed, flinkNames.length >= weirNames.length ? flinkNames : weirNames, types);
    counts.set(k, (counts.get(k) ?? 0) - 1);
  }
  const missing: TableDiff['missing'] = [];
  const extra: TableDiff['extra'] = [];
  for (const [row, n] of [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (n > 0) missing.push({ row, count: n });
    else if (n < 0) extra.push({ row, count: -n });
  }
  const sameColumns = weirNames.length === flinkNames.length && weirNames.every((n, i) => n.toLowerCase() === flinkNames[i].toLowerCase());
  const sameKinds =
    options.changelogCounts !== true ||
    (weir.kinds !== undefined && flink.kinds !== undefined && JSON.stringify(weir.kinds) === JSON.stringify(flink.kinds));
  return {
    equal:
      sameColumns && sameKinds && missing.length === 0 && extra.length === 0 && weir.error === undefined && flink.error === undefined,
    ...(sameColumns ? {} : { columns: { weir: weirNames, flink: flinkNames } }),
    ...(sameKinds ? {} : { kinds: { weir: weir.kinds, flink: flink.kinds } }),
    missing,
    extra,
    weirRows: weir.rows.length,
    flinkRows: flink.rows.length,
  };
}

/** A readable account of a comparison (at most `limit` rows of each kind). */
export function describeDiff(name: string, weir: FinalTable, flink: FinalTable, diff: TableDiff, limit = 20): string {
  const lines: string[] = [];
  if (diff.equal) return `${name}: equal (${diff.flinkRows} rows)`;
  lines.push(`${name}: DIFFERENT — weir ${diff.weirRows} rows, Flink ${diff.flinkRows} rows`);
  if (weir.error !== undefined) lines.push(`  weir failed: ${weir.error}`);
  if (flink.error !== undefined) {
    // Flink wraps the cause deep down: its first line and the root cause say what happened
    const causes = flink.error.split('\n').filter((l) => l.startsWith('caused by: ') || l === flink.error?.split('\n')[0]);
    lines.push(`  Flink failed: ${[causes[0], ...causes.slice(1).slice(-2)].join(' / ')}`);
  }
  if (diff.columns !== undefined) lines.push(`  columns: weir [${diff.columns.weir.join(', ')}], Flink [${diff.columns.flink.join(', ')}]`);
  if (diff.kinds !== undefined) {
    const show = (k: ChangelogCounts | undefined) =>
      k === undefined ? 'not counted' : Object.entries(k).map(([kind, n]) => `${kind} ${n}`).join(', ');
    lines.push(`  changelog row kinds: weir ${show(diff.kinds.weir)}; Flink ${show(diff.kinds.flink)}`);
  }
  const total = (xs: { count: number }[]) => xs.reduce((a, x) => a + x.count, 0);
  if (diff.missing.length > 0) {
    lines.push(`  missing on weir (Flink has them): ${total(diff.missing)} rows`);
    for (const m of diff.missing.slice(0, limit)) lines.push(`    ${m.count} × ${m.row}`);
    if (diff.missing.length > limit) lines.push(`    … ${diff.missing.length - limit} more distinct rows`);
  }
  if (diff.extra.length > 0) {
    lines.push(`  extra on weir (Flink lacks them): ${total(diff.extra)} rows`);
    for (const m of diff.extra.slice(0, limit)) lines.push(`    ${m.count} × ${m.row}`);
    if (diff.extra.length > limit) lines.push(`    … ${diff.extra.length - limit} more distinct rows`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      parallelism: { type: 'string', default: '1' },
      mode: { type: 'string', default: 'threads' },
      prelude: { type: 'string' },
    },
  });
  const preludeFile = values.prelude;
  const prelude = preludeFile === undefined ? '' : `${readFileSync(preludeFile, 'utf8')}\n`;
  const files = positionals.filter((f) => preludeFile === undefined || (f.endsWith('.sql') && resolve(f) !== resolve(preludeFile)));
  if (files.length === 0) {
    process.stderr.write('usage: sql-oracle.ts [--parallelism N] [--mode threads|local] [--prelude ddl.sql] file.sql...\n');
    process.exit(2);
  }
  const parallelism = Number(values.parallelism);
  const mode = values.mode === 'local' ? 'local' : 'threads';
  const scripts = files.map((file) => ({ file, text: prelude + readFileSync(file, 'utf8') }));
  const skipped = new Map(scripts.map((s) => [s.file, SKIP.exec(s.text)?.[1].trim()]));
  const run = scripts.filter((s) => skipped.get(s.file) === undefined);
  // Flink reads files: with a prelude, each script is written whole to a temporary file
  const dir = prelude === '' ? undefined : mkdtempSync(join(tmpdir(), 'weir-sql-oracle-'));
  const flinkFiles = run.map((s, i) => {
    if (dir === undefined) return s.file;
    const f = join(dir, `${i}-${basename(s.file)}`);
    writeFileSync(f, s.text);
    return f;
  });
  const flink = run.length === 0 ? [] : await runOnFlink(flinkFiles, parallelism);
  let failed = 0;
  for (const s of scripts) {
    const reason = skipped.get(s.file);
    if (reason !== undefined) {
      process.stdout.write(`${s.file}: skipped (${reason})\n`);
      continue;
    }
    const table = flink[run.indexOf(s)];
    const weir = await runOnWeir(s.text, { parallelism, mode });
    const diff = compareTables(weir, table, compareOptionsOf(s.text));
    if (!diff.equal) failed++;
    process.stdout.write(`${describeDiff(s.file, weir, table, diff)}\n`);
  }
  const skips = scripts.length - run.length;
  process.stdout.write(`${run.length - failed} equal, ${failed} different${skips > 0 ? `, ${skips} skipped` : ''}\n`);
  process.exit(failed === 0 ? 0 : 1);
}

/** `-- oracle-skip: <reason>`: the script is not compared (its result depends on the wall clock, say). */
const SKIP = /--\s*oracle-skip:\s*(.+)/;

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
