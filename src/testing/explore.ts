//! exploreJob: a job simulated under many seeds, the first whose output fails the user's check reported with the code and command that replay it.

import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { JobDefinition } from '../graph/job-definition.ts';
import { simulateJob, type SimulateOptions, type SimulationResult } from './simulate.ts';

/** How to explore a job. */
export interface ExploreOptions extends Omit<SimulateOptions, 'seed'> {
  /**
   * Seeds to run: `N` runs 0..N-1, `[from, to]` runs from..to (both included). The environment
   * variable `WEIR_SIMULATE_SEED=<n>` narrows any exploration to that one seed: a failing test
   * reruns with the seed it reported.
   */
  seeds: number | [number, number];
  /** Whether a run's result is right: returning false or throwing fails the seed. A run whose job failed fails the seed too. */
  check(result: SimulationResult): boolean | void | Promise<boolean | void>;
}

/** What an exploration found. */
export type ExploreReport =
  | { ok: true; seedsRun: number }
  | {
      ok: false;
      /** The first seed whose run failed the check. */
      seed: number;
      seedsRun: number;
      /** Why: the check's error or `returned false`, or the job's failure. */
      reason: string;
      result: SimulationResult;
      /** Code that replays the run. */
      replay: string;
      /** The same from the shell (a job module only). */
      command?: string;
      /** All of it in a few lines, to print (a test's failure message). */
      message: string;
    };

/** Simulates `job` under each seed in turn and stops at the first whose result fails `check`. */
export async function exploreJob(job: string | URL | JobDefinition, options: ExploreOptions): Promise<ExploreReport> {
  const { seeds, check, ...simulate } = options;
  if (typeof check !== 'function')
    throw new WeirError('exploreJob: check must be a function of the simulation result', { code: ErrorCodes.CONFIG, domain: 'user' });
  let [from, to] = typeof seeds === 'number' ? [0, seeds - 1] : seeds;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from)
    throw new WeirError(`exploreJob: seeds must be a count N or a range [from, to], got ${JSON.stringify(seeds)}`, {
      code: ErrorCodes.CONFIG,
      domain: 'user',
    });
  const only = process.env.WEIR_SIMULATE_SEED;
  if (only !== undefined && only !== '') {
    const seed = Number(only);
    if (!Number.isInteger(seed) || seed < 0)
      throw new WeirError(`WEIR_SIMULATE_SEED must be a non-negative integer, got '${only}'`, { code: ErrorCodes.CONFIG, domain: 'user' });
    [from, to] = [seed, seed];
  }
  for (let seed = from; seed <= to; seed++) {
    const result = await simulateJob(job, { ...simulate, seed });
    let reason: string | undefined;
    if (result.error !== undefined) reason = `the job failed: ${result.error.split('\n')[0]}`;
    else {
      try {
        if ((await check(result)) === false) reason = 'check returned false';
      } catch (error) {
        reason = `check threw: ${(error as Error)?.message ?? String(error)}`;
      }
    }
    if (reason !== undefined) {
      const { replay, command } = replayOf(job, { ...simulate, seed });
      const message = [
        `seed ${seed} failed (${seed - from + 1} seed(s) run): ${reason}`,
        `replay: ${replay}`,
        ...(command ? [`    or: ${command}`] : []),
        `    or: WEIR_SIMULATE_SEED=${seed} and the test that explored`,
      ].join('\n');
      return { ok: false, seed, seedsRun: seed - from + 1, reason, result, replay, ...(command ? { command } : {}), message };
    }
  }
  return { ok: true, seedsRun: to - from + 1 };
}

/** The code (and, for a job module, the command) that replays a simulation. */
export function replayOf(job: string | URL | JobDefinition, options: SimulateOptions): { replay: string; command?: string } {
  const module = typeof job === 'string' ? job : job instanceof URL ? job.href : undefined;
  const replay = `simulateJob(${module === undefined ? '<job definition>' : JSON.stringify(module)}, ${JSON.stringify(options)})`;
  if (module === undefined) return { replay };
  const args = [`weir simulate ${module}`, `--seed ${options.seed}`];
  if (options.parallelism !== undefined) args.push(`--parallelism ${options.parallelism}`);
  for (const [k, v] of Object.entries(options.params ?? {})) args.push(`--param ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  for (const key of ['batchSize', 'credits', 'bufferTimeoutMs', 'maxRecordsPerStep', 'msPerRecord', 'maxSteps'] as const)
    if (options[key] !== undefined) args.push(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${options[key]}`);
  if (options.scheduling !== undefined) args.push(`--scheduling ${options.scheduling}`);
  if (options.faults?.length) args.push(`--faults '${JSON.stringify(options.faults)}'`);
  return { replay, command: args.join(' ') };
}
