//! The `weir` command line: run a job module on worker threads or locally, reach a running job (savepoint, stop, list), and print what it did.
//
// Conventions (those of most Unix tools): exit 0 on success, 1 when the job fails, 2 for a usage
// error (an unknown flag, a bad value, a missing job file); messages say what is wrong in the
// user's terms, never a stack or an internal path. Options are parsed by node:util's parseArgs:
// a handful of subcommands with flat flags does not need a CLI framework.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { JobResult } from '../actors/job-master.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { JobParams, StateBackendConfig } from '../core/protocol.ts';
import { startJob, type ExecuteOptions } from '../scheduler/execute.ts';
import { explainWatermarks } from '../observe/explain.ts';
import { createLogger, LOG_LEVELS, logJobEvent, resolveLogFormat, type LogFormat, type LogLevel } from '../observe/logging.ts';
import { startProgress, type ProgressArea } from '../observe/progress.ts';
import { MetricsRegistry } from '../observe/registry.ts';
import type { Observer } from '../observe/server.ts';
import { listJobs, requestControl, serveControl } from './control.ts';

const USAGE = `usage: weir run <job-module> [options]
       weir sql [-f <script.sql>] [-p <n>] [--checkpoint-dir <dir>] [--from-savepoint <dir>] [--local]
       weir savepoint <job-id> [<target-dir>]
       weir stop --savepoint <target-dir> <job-id>
       weir list
       weir explain <job-id>
       weir plan <job-module> --from-savepoint <dir> [-p <n>] [--param <key=value>]... [--json]
       weir state ls|get|dump|diff|write …   (see 'weir state --help'; get --job <job-id> reads a running job)
       weir simulate <job-module> --seed <n> [-p <n>] [--param <key=value>] [--faults <json>] [--trace]
       weir --version

run: runs a job module (its default export is defineJob(env => ...); .ts, .mts, .js or .mjs)
and prints a summary; while it runs, other shells reach it by the job id it prints (savepoint,
stop, explain, list; a unique prefix of the id is enough).
explain: why a running job's windows have not fired: pending windows and timers per operator and
the source split that holds the watermark back.

run options:
  -p, --parallelism <n>       default parallelism of the job's operators
      --max-parallelism <n>   number of key groups (default 128)
      --buffer-timeout <ms>   flush partial batches after this long (0 = every record)
      --batch-size <n>        elements per batch (default 1024)
      --credits <n>           batches each input channel may hold (default 4)
      --local                 run every subtask on this thread instead of worker threads
      --state-backend <kind>  where keyed state lives: heap (default) or rocksdb
      --state-dir <dir>       RocksDB working directory (default: the OS temp directory)
      --state-cache-keys <n>  keys RocksDB keeps cached on the heap (default 100000)
      --param <key=value>     a parameter for the job (repeatable)
      --name <job-name>       the job's name
      --json                  print the result as JSON
      --checkpoint-interval <ms>
                              checkpoint this often (overrides the job's own interval)
      --checkpoint-mode <mode>
                              exactly-once (default) or at-least-once
      --checkpoint-dir <dir>  keep checkpoints there, in a folder of this run (<dir>/<job>/run-…);
                              restarts restore from its newest valid one
      --resume <dir>          start from the newest valid checkpoint of the newest run in <dir>
      --from-savepoint <dir>  start from a savepoint, a retained chk-N, or a run's folder
      --allow-replay-of-committed
                              restore past a damaged checkpoint whose output was committed
                              (sinks that cannot rewind write it again)
      --allow-non-restored-state
                              drop savepoint state of operators the job no longer has
      --rest-port <port>      serve the REST API, Prometheus /metrics and the dashboard on this
                              port (0: any free port) while the job runs
      --rest-host <host>      the address to bind (default 127.0.0.1); beyond loopback, changes
                              (savepoint, stop) need the token the job prints
      --rest-token <token>    the token changes need (default: a random one beyond loopback)
      --log-level <level>     trace, debug, info (default), warn, error or silent
      --log-format <format>   json (one object per line) or pretty (\`weir: …\` lines); default
                              pretty on a terminal, json otherwise
  -q, --quiet                 no live status area on the terminal
  -h, --help                  this text
  -v, --version               the installed version`;

type Options = NonNullable<ParseArgsConfig['options']>;

/** How a running job is shown (`weir run` and `weir sql`): the REST server, logs, the status area. */
export const UI_OPTIONS = {
  'rest-port': { type: 'string' },
  'rest-host': { type: 'string' },
  'rest-token': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} satisfies Options;

/** Flags of `weir run`. */
const RUN_OPTIONS = {
  parallelism: { type: 'string', short: 'p' },
  'max-parallelism': { type: 'string' },
  'buffer-timeout': { type: 'string' },
  'batch-size': { type: 'string' },
  credits: { type: 'string' },
  local: { type: 'boolean' },
  'state-backend': { type: 'string' },
  'state-dir': { type: 'string' },
  'state-cache-keys': { type: 'string' },
  param: { type: 'string', multiple: true },
  name: { type: 'string' },
  json: { type: 'boolean' },
  'checkpoint-interval': { type: 'string' },
  'checkpoint-mode': { type: 'string' },
  'checkpoint-dir': { type: 'string' },
  'from-savepoint': { type: 'string' },
  resume: { type: 'string' },
  'allow-replay-of-committed': { type: 'boolean' },
  'allow-non-restored-state': { type: 'boolean' },
  ...UI_OPTIONS,
} satisfies Options;

/** Flags every command takes. */
const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} satisfies Options;

/** Flags per command. */
const COMMANDS: Record<string, Options> = {
  run: { ...RUN_OPTIONS, ...COMMON_OPTIONS },
  savepoint: COMMON_OPTIONS,
  stop: { savepoint: { type: 'string' }, ...COMMON_OPTIONS },
  list: COMMON_OPTIONS,
  explain: COMMON_OPTIONS,
};

/** A mistake in how the command was called: exit code 2 with the usage text. */
class UsageError extends Error {}

/** The installed package's version. */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return `${manifest.name} ${manifest.version}`;
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The known flag closest to an unknown one, if it is close enough to be a typo. */
function closest(flag: string, options: Options): string | undefined {
  const name = flag.replace(/^-+/, '').split('=')[0];
  let best: { option: string; d: number } | undefined;
  for (const option of Object.keys(options)) {
    const d = option.startsWith(name) && name.length >= 3 ? 0 : distance(name, option);
    if (!best || d < best.d) best = { option, d };
  }
  return best && best.d <= Math.max(2, Math.floor(name.length / 3)) ? `--${best.option}` : undefined;
}

/** parseArgs with messages in the user's terms. */
function parse(command: string, argv: string[]): ReturnType<typeof parseArgs> {
  const options = COMMANDS[command];
  try {
    return parseArgs({ args: argv, allowPositionals: true, options, strict: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'([^']+)'/.exec(message)?.[1] ?? '';
      const hint = closest(flag, options);
      throw new UsageError(`unknown option '${flag}' for '${command}'${hint ? ` (did you mean ${hint}?)` : ''}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(message.replace(/^Option /, 'option ').split('. ')[0]);
    throw new UsageError(message);
  }
}

function integer(value: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER ? (min === 1 ? 'a positive integer' : `an integer ≥ ${min}`) : `an integer from ${min} to ${max}`;
    throw new UsageError(`${flag} must be ${range}, got '${value}'`);
  }
  return n;
}

function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be ${allowed.join(' or ')}, got '${value}'`);
  return value as T;
}

function stateBackendOption(
  kind: string | undefined,
  dir: string | undefined,
  cacheKeys: number | undefined,
): StateBackendConfig | undefined {
  if (kind === undefined) {
    if (dir !== undefined || cacheKeys !== undefined)
      throw new UsageError('--state-dir and --state-cache-keys need --state-backend rocksdb');
    return undefined;
  }
  if (oneOf(kind, '--state-backend', ['heap', 'rocksdb']) === 'heap') return { kind: 'heap' };
  return { kind: 'rocksdb', dir: dir === undefined ? undefined : resolve(dir), cacheKeys };
}

/** `--param key=value` as a job parameter (numbers and booleans typed). */
export function parseParam(text: string): [string, string | number | boolean] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--param needs key=value, got '${text}'`);
  const key = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  if (raw === 'true' || raw === 'false') return [key, raw === 'true'];
  const n = Number(raw);
  return [key, raw.trim() !== '' && Number.isFinite(n) ? n : raw];
}

/** The job module named on the command line, which must be a file. */
function jobFile(job: string): string {
  const path = resolve(job);
  if (!existsSync(path)) throw new UsageError(`job module '${job}' not found`);
  if (!statSync(path).isFile()) throw new UsageError(`job module '${job}' is not a file`);
  return path;
}

/** `weir run`'s options as startJob's. */
function runOptions(values: Record<string, unknown>): ExecuteOptions {
  const v = values as Record<string, string | undefined> & {
    local?: boolean;
    param?: string[];
    'allow-non-restored-state'?: boolean;
    'allow-replay-of-committed'?: boolean;
  };
  const params: JobParams = Object.fromEntries((v.param ?? []).map(parseParam));
  const interval = integer(v['checkpoint-interval'], '--checkpoint-interval', 1);
  const checkpointMode = oneOf(v['checkpoint-mode'], '--checkpoint-mode', ['exactly-once', 'at-least-once'] as const);
  if (checkpointMode !== undefined && interval === undefined) throw new UsageError('--checkpoint-mode needs --checkpoint-interval');
  return {
    mode: v.local ? 'local' : 'threads',
    parallelism: integer(v.parallelism, '--parallelism', 1),
    maxParallelism: integer(v['max-parallelism'], '--max-parallelism', 1, 32768),
    bufferTimeoutMs: integer(v['buffer-timeout'], '--buffer-timeout', -1),
    batchSize: integer(v['batch-size'], '--batch-size', 1),
    credits: integer(v.credits, '--credits', 1),
    jobName: v.name,
    params,
    checkpointIntervalMs: interval,
    checkpointMode,
    stateBackend: stateBackendOption(v['state-backend'], v['state-dir'], integer(v['state-cache-keys'], '--state-cache-keys', 1)),
    checkpointDir: v['checkpoint-dir'] ? resolve(v['checkpoint-dir']) : undefined,
    fromSavepoint: v['from-savepoint'] ? resolve(v['from-savepoint']) : undefined,
    allowNonRestoredState: v['allow-non-restored-state'],
    resume: v.resume ? resolve(v.resume) : undefined,
    allowReplayOfCommitted: v['allow-replay-of-committed'],
  };
}

/** How `weir run` shows the job while it runs: logs, the status area, the REST server. */
export interface UiOptions {
  logLevel: LogLevel;
  logFormat: LogFormat;
  quiet: boolean;
  rest?: { port: number; host?: string; token?: string };
}

/** An environment variable, unless empty. */
function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** `--log-*` (defaults from `WEIR_LOG_LEVEL`, `WEIR_LOG_FORMAT`), `--quiet` and `--rest-*` as {@link UiOptions}. */
export function uiOptions(values: Record<string, unknown>): UiOptions {
  const v = values as Record<string, string | undefined> & { quiet?: boolean };
  const port = integer(v['rest-port'], '--rest-port', 0, 65535);
  if (port === undefined && (v['rest-host'] !== undefined || v['rest-token'] !== undefined))
    throw new UsageError('--rest-host and --rest-token need --rest-port');
  if (v['rest-token'] !== undefined && v['rest-token'].length < 16) throw new UsageError('--rest-token must be at least 16 characters');
  return {
    logLevel: oneOf(v['log-level'] ?? env('WEIR_LOG_LEVEL'), v['log-level'] ? '--log-level' : 'WEIR_LOG_LEVEL', LOG_LEVELS) ?? 'info',
    logFormat:
      oneOf(v['log-format'] ?? env('WEIR_LOG_FORMAT'), v['log-format'] ? '--log-format' : 'WEIR_LOG_FORMAT', ['json', 'pretty'] as const) ??
      'auto',
    quiet: Boolean(v.quiet),
    rest: port === undefined ? undefined : { port, host: v['rest-host'], token: v['rest-token'] },
  };
}

function summary(result: JobResult): string {
  if (result.savepoint) {
    const where = result.savepoint.path ?? '(kept in memory: give a target dir to write it)';
    return `job '${result.jobName}' stopped with a savepoint after ${result.durationMs.toFixed(0)} ms: savepoint ${result.savepoint.id} at ${where}`;
  }
  const lines = [
    `job '${result.jobName}' finished in ${result.durationMs.toFixed(0)} ms (${result.mode}${result.mode === 'threads' ? `, ${result.slots} slot(s)` : ''})`,
  ];
  const width = Math.max(8, ...Object.keys(result.operators).map((n) => n.length));
  lines.push(`  ${'operator'.padEnd(width)}  ${'in'.padStart(12)}  ${'out'.padStart(12)}  subtasks`);
  for (const [name, t] of Object.entries(result.operators)) {
    lines.push(`  ${name.padEnd(width)}  ${String(t.recordsIn).padStart(12)}  ${String(t.recordsOut).padStart(12)}  ${t.subtasks}`);
  }
  for (const [id, records] of Object.entries(result.collected)) lines.push(`  collected '${id}': ${records.length} record(s)`);
  // Records a source skipped or sent to a dead letter are never silent: their totals over subtasks.
  const rejected = new Map<string, { operator: string; counter: string; total: number }>();
  for (const s of result.subtasks)
    for (const op of s.operators)
      for (const [counter, n] of Object.entries(op.counters ?? {})) {
        if (!/\.records_(skipped|dead_lettered)$/.test(counter)) continue;
        const entry = rejected.get(`${op.name}\u0000${counter}`) ?? { operator: op.name, counter, total: 0 };
        entry.total += n;
        rejected.set(`${op.name}\u0000${counter}`, entry);
      }
  for (const { operator, counter, total } of rejected.values())
    if (total > 0)
      lines.push(`  ${operator}: ${total} record(s) ${counter.endsWith('skipped') ? 'skipped' : 'dead-lettered'} (${counter})`);
  return lines.join('\n');
}

/** A failure as one line: the code and the message (the cause's stack stays out). */
function failure(error: unknown): string {
  if (error instanceof WeirError) return `job failed [${error.code}]: ${error.message}`;
  return `job failed: ${(error as Error)?.message ?? String(error)}`;
}

async function run(job: string, options: ExecuteOptions, json: boolean, ui: UiOptions): Promise<number> {
  let unregister: (() => void) | undefined;
  let interrupted: NodeJS.Signals | undefined;
  let client: Awaited<ReturnType<typeof startJob>> | undefined;
  let progress: ProgressArea | undefined;
  const jobId = randomBytes(16).toString('hex');
  const logger = createLogger({
    level: ui.logLevel,
    format: ui.logFormat,
    base: { jobId },
    write: (text) => (progress ? progress.write(text) : process.stderr.write(text)),
  });
  const pretty = resolveLogFormat(ui.logFormat) === 'pretty';
  // Worker threads inherit the environment: their own log lines (skipped records) follow the same format.
  process.env.WEIR_LOG_FORMAT = pretty ? 'pretty' : 'json';
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(signal === 'SIGINT' ? 130 : 143);
    interrupted = signal;
    logger.warn({ event: 'signal', signal }, `${signal}: cancelling the job (again to exit at once)`);
    void client?.cancel();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const showProgress = !ui.quiet && !json && process.stderr.isTTY === true;
  let observer: Observer | undefined;
  let registry: MetricsRegistry | undefined;
  try {
    // The HTTP server loads only when asked for: most runs do not serve one.
    if (ui.rest)
      observer = await (
        await import('../observe/server.ts')
      ).startObserver({
        port: ui.rest.port,
        host: ui.rest.host,
        token: ui.rest.token,
        savepointDir: options.savepointDir ?? options.checkpointDir ?? options.resume,
      });
    registry = observer?.registry ?? (showProgress ? new MetricsRegistry({ intervalMs: 1000 }) : undefined);
    // The observer (or, without a server, the status area's registry) is told of the job by startJob.
    client = await startJob(job, { ...options, jobId, onEvent: (event) => logJobEvent(logger, event), observer: observer ?? registry });
    if (interrupted) void client.cancel();
    const started = client;
    unregister = serveControl(jobId, started.graph.config.jobName, started, {
      explain: async () => explainWatermarks(started.graph, await started.sample()).lines,
      dashboard: observer?.url,
    });
    const short = jobId.slice(0, 8);
    logger.info(
      { event: 'running', ...(observer ? { dashboard: observer.url } : {}) },
      `job ${jobId} running ('weir savepoint ${short} <dir>' takes a savepoint, 'weir explain ${short}' says why windows wait)`,
    );
    if (observer) {
      logger.info({ event: 'rest', url: observer.url }, `dashboard and REST API at ${observer.url}`);
      if (observer.token)
        logger.warn({ event: 'rest-token' }, `the REST API takes savepoints and stops only with 'Authorization: Bearer ${observer.token}'`);
    }
    if (showProgress && registry) progress = startProgress(registry, jobId, started.graph);
    const result = await started.result;
    progress?.stop();
    progress = undefined;
    if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else if (pretty) process.stderr.write(`${summary(result)}\n`);
    else
      logger.info(
        { event: 'finished', durationMs: result.durationMs, operators: result.operators, savepoint: result.savepoint },
        summary(result).split('\n')[0],
      );
    return 0;
  } catch (error) {
    progress?.stop();
    progress = undefined;
    if (error instanceof WeirError && error.code === ErrorCodes.JOB_CANCELLED) {
      logger.warn({ event: 'cancelled' }, error.message);
      return interrupted ? (interrupted === 'SIGINT' ? 130 : 143) : 1;
    }
    logger.error({ event: 'failed', ...(error instanceof WeirError ? { code: error.code } : {}) }, failure(error));
    return 1;
  } finally {
    progress?.stop();
    unregister?.();
    registry?.close();
    await observer?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `weir explain <job-id>`: the running job's watermark explanation. */
async function explain(positionals: string[]): Promise<number> {
  const [jobId, ...extra] = positionals;
  if (!jobId) throw new UsageError(`'explain' needs a job id (see 'weir list')`);
  if (extra.length > 0) throw new UsageError(`'explain' takes one job id`);
  const answer = await requestControl(jobId, { cmd: 'explain' }, 30_000);
  if (!answer.ok) {
    process.stderr.write(`weir: ${answer.error}\n`);
    return 1;
  }
  process.stdout.write(`${(answer.lines ?? []).join('\n')}\n`);
  return 0;
}

async function control(command: 'savepoint' | 'stop', positionals: string[], values: Record<string, unknown>): Promise<number> {
  const [jobId, target, ...extra] = positionals;
  const dir = command === 'savepoint' ? target : (values.savepoint as string | undefined);
  if (!jobId) throw new UsageError(`'${command}' needs a job id (see 'weir list')`);
  if (command === 'stop' && !dir) throw new UsageError(`'stop' needs --savepoint <target-dir>`);
  if (extra.length > 0 || (command === 'stop' && target !== undefined)) throw new UsageError(`'${command}' takes one job id`);
  const answer = await requestControl(jobId, { cmd: command, dir: dir ? resolve(dir) : undefined });
  if (!answer.ok) {
    process.stderr.write(`weir: ${answer.error}\n`);
    return 1;
  }
  process.stdout.write(`${answer.path ?? `savepoint ${answer.id} (kept in memory: give a target dir to write it)`}\n`);
  return 0;
}

/** Runs the CLI with these arguments; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  // The SQL client has options of its own, and loads the parser only when it is asked for.
  if (argv[0] === 'sql') return (await import('./sql.ts')).sqlMain(argv.slice(1));
  // The state plan and live state queries (issue 17) have options of their own.
  if (argv[0] === 'plan') return (await import('./plan.ts')).planMain(argv.slice(1));
  // The state inspector (weir state ls|get|dump|diff|write; get --job reads a running job) has subcommands and options of its own.
  if (argv[0] === 'state') return (await import('./state.ts')).stateMain(argv.slice(1));
  // A seed of weir/testing's simulation, replayed (the command exploreJob prints).
  if (argv[0] === 'simulate') return (await import('./simulate.ts')).simulateMain(argv.slice(1));
  const at = argv.findIndex((a) => !a.startsWith('-'));
  const first = at < 0 ? undefined : argv[at];
  const command = first !== undefined && first in COMMANDS ? first : undefined;
  try {
    if (first !== undefined && command === undefined) {
      const hint = Object.keys(COMMANDS).find((c) => distance(c, first) <= 2);
      throw new UsageError(`unknown command '${first}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
    const { values, positionals } = parse(command ?? 'list', command === undefined ? argv : [...argv.slice(0, at), ...argv.slice(at + 1)]);
    if (values.version) {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    if (values.help || command === undefined) {
      (values.help ? process.stdout : process.stderr).write(`${USAGE}\n`);
      return values.help ? 0 : 2;
    }
    switch (command) {
      case 'list': {
        if (positionals.length > 0) throw new UsageError(`'list' takes no arguments`);
        for (const j of listJobs())
          process.stdout.write(`${j.id}  ${j.name}  pid ${j.pid}  since ${j.startedAt}${j.dashboard ? `  ${j.dashboard}` : ''}\n`);
        return 0;
      }
      case 'explain':
        return await explain(positionals);
      case 'savepoint':
      case 'stop':
        return await control(command, positionals, values);
      default: {
        if (positionals.length !== 1) throw new UsageError(`'run' takes exactly one job module, got ${positionals.length}`);
        const options = runOptions(values);
        return await run(jobFile(positionals[0]), options, Boolean(values.json), uiOptions(values));
      }
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`weir: ${error.message}\n${USAGE.split('\n\n')[0]}\n(see 'weir --help' for the options)\n`);
    return 2;
  }
}
