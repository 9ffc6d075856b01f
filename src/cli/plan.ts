//! `weir plan <job-module> --from-savepoint <dir>`: the state-plan diff before a deploy, as text or JSON, with an exit code CI can gate on.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { JobParams } from '../core/protocol.ts';
import { formatPlan, planJob } from '../tools/plan.ts';
import { parseParam } from './main.ts';

const USAGE = `usage: weir plan <job-module> --from-savepoint <dir> [-p <n>] [--max-parallelism <n>] [--param <key=value>]... [--json]

Builds the job's graph without running it and compares it with the savepoint (or chk-N, or a run's
folder): per operator uid whether its state is restored, new (starts empty) or dropped; keyed states
whose kind or TTL changed; operators without a uid; a changed max parallelism; the key groups each
new subtask takes.
exit code: 0 the deploy would restore cleanly, 3 it needs --allow-non-restored-state, 4 it would
fail (also when the savepoint cannot be read), 1 the job module cannot be loaded, 2 a usage error.`;

/** Runs `weir plan` with these arguments (after `plan`); resolves with the exit code. */
export async function planMain(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'from-savepoint': { type: 'string' },
        parallelism: { type: 'string', short: 'p' },
        'max-parallelism': { type: 'string' },
        param: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) return usage(`'plan' takes exactly one job module, got ${positionals.length}`);
  if (!values['from-savepoint']) return usage(`'plan' needs --from-savepoint <dir>`);
  const job = resolve(positionals[0]);
  if (!existsSync(job)) return usage(`job module '${positionals[0]}' not found`);
  const positive = (value: string | undefined, flag: string): number | undefined | Error => {
    if (value === undefined) return undefined;
    const n = Number(value);
    return Number.isInteger(n) && n >= 1 && n <= 32768 ? n : new Error(`${flag} must be an integer from 1 to 32768, got '${value}'`);
  };
  const parallelism = positive(values.parallelism, '--parallelism');
  const maxParallelism = positive(values['max-parallelism'], '--max-parallelism');
  if (parallelism instanceof Error) return usage(parallelism.message);
  if (maxParallelism instanceof Error) return usage(maxParallelism.message);
  let params: JobParams;
  try {
    params = Object.fromEntries((values.param ?? []).map(parseParam));
  } catch (error) {
    return usage((error as Error).message);
  }
  const from = resolve(values['from-savepoint']);
  let plan;
  try {
    plan = await planJob(job, { fromSavepoint: from, parallelism, maxParallelism, params });
  } catch (error) {
    const code = error instanceof WeirError ? error.code : undefined;
    process.stderr.write(`weir plan: ${code ? `[${code}] ` : ''}${(error as Error).message}\n`);
    // A savepoint that cannot be read is a deploy that would fail; a job that cannot be built is not a verdict.
    return code === ErrorCodes.STATE_RESTORE || code === ErrorCodes.CHECKPOINT_STORAGE ? 4 : 1;
  }
  process.stdout.write(values.json ? `${JSON.stringify(plan, null, 2)}\n` : `${formatPlan(plan)}\n`);
  return plan.exitCode;
}

function usage(message: string): number {
  process.stderr.write(`weir plan: ${message}\n${USAGE.split('\n\n')[0]}\n`);
  return 2;
}
