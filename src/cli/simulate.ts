//! `weir simulate <job-module> --seed N`: replays one seed of weir/testing's deterministic simulation from the shell (the command exploreJob prints).

import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { JobParams } from '../core/protocol.ts';
import { simulateJob, type SimulateOptions, type SimulatedFault } from '../testing/index.ts';

const USAGE = `usage: weir simulate <job-module> --seed <n> [options]
runs the job on one thread under weir/testing's seeded scheduler and virtual clock: the same seed
gives the same run (the replay of a seed exploreJob reported).
options:
      --seed <n>                  the seed (required)
  -p, --parallelism <n>           default parallelism of the job's operators
      --param <key=value>         a parameter for the job (repeatable)
      --batch-size <n>            records per batch (default: drawn from the seed)
      --credits <n>               credits per channel (default: drawn from the seed)
      --buffer-timeout-ms <ms>    buffer timeout in virtual ms (default: drawn from the seed)
      --max-records-per-step <n>  most records one step processes (default: drawn from the seed)
      --ms-per-record <ms>        virtual time a record costs (default: drawn from the seed)
      --scheduling <kind>         uniform or priority (default: drawn from the seed)
      --max-steps <n>             give up after this many steps (default 200000)
      --faults <json>             faults to inject, a JSON array (see SimulatedFault)
      --trace                     print the trace, one line per step
      --json                      print the whole result as JSON
  -h, --help                      this text`;

/** A mistake in how the command was called: exit code 2. */
class UsageError extends Error {}

function positive(value: string | undefined, flag: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min)
    throw new UsageError(`${flag} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer, got '${value}'`);
  return n;
}

function nonNegative(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a non-negative number, got '${value}'`);
  return n;
}

function param(text: string): [string, string | number | boolean] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--param needs key=value, got '${text}'`);
  const raw = text.slice(eq + 1);
  if (raw === 'true' || raw === 'false') return [text.slice(0, eq), raw === 'true'];
  const n = Number(raw);
  return [text.slice(0, eq), raw.trim() !== '' && Number.isFinite(n) ? n : raw];
}

/** `weir simulate …`; resolves with the exit code (0 the job finished, 1 it failed, 2 a usage error). */
export async function simulateMain(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        seed: { type: 'string' },
        parallelism: { type: 'string', short: 'p' },
        param: { type: 'string', multiple: true },
        'batch-size': { type: 'string' },
        credits: { type: 'string' },
        'buffer-timeout-ms': { type: 'string' },
        'max-records-per-step': { type: 'string' },
        'ms-per-record': { type: 'string' },
        scheduling: { type: 'string' },
        'max-steps': { type: 'string' },
        faults: { type: 'string' },
        trace: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).valueOf() as { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] };
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`'simulate' takes exactly one job module, got ${positionals.length}`);
    const path = resolve(positionals[0]);
    if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`job module '${positionals[0]}' not found`);
    const seed = positive(values.seed as string | undefined, '--seed', 0);
    if (seed === undefined) throw new UsageError("'simulate' needs --seed <n>");
    let faults: SimulatedFault[] | undefined;
    if (values.faults !== undefined) {
      try {
        faults = JSON.parse(values.faults as string) as SimulatedFault[];
      } catch (error) {
        throw new UsageError(`--faults must be a JSON array: ${(error as Error).message}`);
      }
      if (!Array.isArray(faults)) throw new UsageError('--faults must be a JSON array of faults');
    }
    const params: JobParams = Object.fromEntries(((values.param as string[] | undefined) ?? []).map(param));
    const options: SimulateOptions = {
      seed,
      parallelism: positive(values.parallelism as string | undefined, '--parallelism'),
      params,
      batchSize: positive(values['batch-size'] as string | undefined, '--batch-size'),
      credits: positive(values.credits as string | undefined, '--credits'),
      bufferTimeoutMs: positive(values['buffer-timeout-ms'] as string | undefined, '--buffer-timeout-ms', 0),
      maxRecordsPerStep: positive(values['max-records-per-step'] as string | undefined, '--max-records-per-step'),
      maxSteps: positive(values['max-steps'] as string | undefined, '--max-steps'),
      msPerRecord: nonNegative(values['ms-per-record'] as string | undefined, '--ms-per-record'),
      scheduling: values.scheduling as SimulateOptions['scheduling'],
      faults,
    };
    const result = await simulateJob(path, options);
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      const c = result.choices;
      const out = process.stdout;
      out.write(
        `seed ${seed}: batch size ${c.batchSize}, credits ${c.credits}, buffer timeout ${c.bufferTimeoutMs} ms, up to ${c.maxRecordsPerStep} record(s) a step, ${c.msPerRecord} ms a record, ${c.scheduling} scheduling\n`,
      );
      if (values.trace) for (const line of result.trace) out.write(`  ${line}\n`);
      const checkpoints = result.checkpoints.map((k) => `${k.kind === 'savepoint' ? 'savepoint ' : ''}${k.id}`).join(', ') || 'none';
      out.write(
        `${result.error === undefined ? 'finished' : 'failed'} after ${result.steps} steps and ${result.virtualMs} virtual ms; checkpoints: ${checkpoints}; restarts: ${result.restarts.length}\n`,
      );
      for (const r of result.restarts) out.write(`  attempt ${r.attempt} failed: ${r.error}; ${r.next}\n`);
      for (const [sink, records] of Object.entries(result.outputs))
        out.write(`${sink} (${records.length} records, in order): ${records.map((r) => JSON.stringify(r)).join(' ')}\n`);
    }
    if (result.error !== undefined) {
      process.stderr.write(`weir: the job failed: ${result.error.split('\n')[0]}\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const usage =
      error instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS') || (error instanceof WeirError && error.code === ErrorCodes.CONFIG);
    if (!usage && error instanceof WeirError) {
      // The job module cannot be loaded or built: said in one line, as `weir run` does.
      process.stderr.write(`weir: ${error.message.split('\n')[0]}\n`);
      return 1;
    }
    if (!usage) throw error;
    process.stderr.write(`weir: ${(error as Error).message}\n${USAGE.split('\n')[0]}\n(see 'weir simulate --help' for the options)\n`);
    return 2;
  }
}
