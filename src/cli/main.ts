//! The `weir` command line: run a job module on worker threads or locally, and print what it did.

import { parseArgs } from 'node:util';
import type { JobResult } from '../actors/job-master.ts';
import { WeirError } from '../core/errors.ts';
import type { JobParams, StateBackendConfig } from '../core/protocol.ts';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { startJob, type ExecuteOptions } from '../scheduler/execute.ts';
import { listJobs, requestControl, serveControl } from './control.ts';

const USAGE = `usage: weir run <job-module> [options]
       weir savepoint <job-id> [<target-dir>]
       weir stop --savepoint <target-dir> <job-id>
       weir list

run: runs a job module (its default export is defineJob(env => ...)) and prints a summary; while
it runs, other shells reach it by the job id it prints (savepoint, stop, list).

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
      --checkpoint-dir <dir>  keep checkpoints there; restarts restore from the newest valid one
      --from-savepoint <dir>  start from a savepoint (or retained checkpoint) folder
      --allow-non-restored-state
                              drop savepoint state of operators the job no longer has
  -h, --help                  this text`;

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
  if (kind === 'heap') return { kind };
  if (kind === 'rocksdb') {
    if (cacheKeys !== undefined && cacheKeys < 1) throw new UsageError(`--state-cache-keys must be positive, got ${cacheKeys}`);
    return { kind, dir: dir === undefined ? undefined : resolve(dir), cacheKeys };
  }
  throw new UsageError(`--state-backend must be heap or rocksdb, got '${kind}'`);
}

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`${flag} needs an integer, got '${value}'`);
  return n;
}

class UsageError extends Error {}

function parseParam(text: string): [string, string | number | boolean] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--param needs key=value, got '${text}'`);
  const key = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  if (raw === 'true' || raw === 'false') return [key, raw === 'true'];
  const n = Number(raw);
  return [key, raw.trim() !== '' && Number.isFinite(n) ? n : raw];
}

function summary(result: JobResult): string {
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

/** Runs the CLI with these arguments; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
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
        'checkpoint-dir': { type: 'string' },
        'from-savepoint': { type: 'string' },
        'allow-non-restored-state': { type: 'boolean' },
        savepoint: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`weir: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    (values.help ? process.stdout : process.stderr).write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const [command, job, ...rest] = positionals;
  if (command === 'list') {
    for (const j of listJobs()) process.stdout.write(`${j.id}  ${j.name}  pid ${j.pid}  since ${j.startedAt}\n`);
    return 0;
  }
  if (command === 'savepoint' || command === 'stop') {
    const jobId = job;
    const dir = command === 'savepoint' ? rest[0] : values.savepoint;
    if (!jobId || (command === 'stop' && !dir)) {
      process.stderr.write(`weir: '${command}' needs a job id${command === 'stop' ? ' and --savepoint <dir>' : ''}\n${USAGE}\n`);
      return 2;
    }
    const answer = await requestControl(jobId, { cmd: command, dir: dir ? resolve(dir) : undefined });
    if (!answer.ok) {
      process.stderr.write(`weir: ${answer.error}\n`);
      return 1;
    }
    process.stdout.write(`${answer.path ?? `savepoint ${answer.id} (kept in memory: give a target dir to write it)`}\n`);
    return 0;
  }
  if (command !== 'run') {
    process.stderr.write(`weir: unknown command '${command}'\n${USAGE}\n`);
    return 2;
  }
  if (!job || rest.length > 0) {
    process.stderr.write(`weir: 'run' takes exactly one job module\n${USAGE}\n`);
    return 2;
  }
  let options: ExecuteOptions;
  try {
    const params: JobParams = Object.fromEntries((values.param ?? []).map(parseParam));
    options = {
      mode: values.local ? 'local' : 'threads',
      parallelism: integer(values.parallelism, '--parallelism'),
      maxParallelism: integer(values['max-parallelism'], '--max-parallelism'),
      bufferTimeoutMs: integer(values['buffer-timeout'], '--buffer-timeout'),
      batchSize: integer(values['batch-size'], '--batch-size'),
      credits: integer(values.credits, '--credits'),
      jobName: values.name,
      params,
      stateBackend: stateBackendOption(
        values['state-backend'],
        values['state-dir'],
        integer(values['state-cache-keys'], '--state-cache-keys'),
      ),
    };
  } catch (error) {
    process.stderr.write(`weir: ${(error as Error).message}\n`);
    return 2;
  }
  options.checkpointDir = values['checkpoint-dir'] ? resolve(values['checkpoint-dir']) : undefined;
  options.fromSavepoint = values['from-savepoint'] ? resolve(values['from-savepoint']) : undefined;
  options.allowNonRestoredState = values['allow-non-restored-state'];
  let unregister: (() => void) | undefined;
  try {
    const client = await startJob(job, options);
    const jobId = randomBytes(4).toString('hex');
    unregister = serveControl(jobId, client.graph.config.jobName, client);
    process.stderr.write(`weir: job ${jobId} running ('weir savepoint ${jobId} <dir>' takes a savepoint)\n`);
    const result = await client.result;
    if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else process.stderr.write(`${summary(result)}\n`);
    return 0;
  } catch (error) {
    const code = error instanceof WeirError ? ` [${error.code}]` : '';
    if (error instanceof WeirError && error.code === 'WEIR_JOB_CANCELLED') {
      process.stderr.write(`weir: ${error.message}\n`);
      return 0;
    }
    process.stderr.write(`weir: job failed${code}: ${(error as Error).message}\n`);
    return 1;
  } finally {
    unregister?.();
  }
}
