//! `weir state get --job <job-id> <uid> <state> <key>`: one key of a running job's keyed state, read live over the job's control socket.

import { parseArgs } from 'node:util';
import { parseKeyArgument } from '../tools/state-values.ts';
import { requestControl } from './control.ts';

const USAGE = `usage: weir state get --job <job-id> <uid> <state> <key> [--json]

Reads the current value of a keyed state for one key in a job started by 'weir run' (found by its
id or a unique prefix, see 'weir list'): the subtask owning the key answers between two records.
The key is read as JSON when it parses as JSON (42, true, "42" for the string), else as a string.`;

/** Runs `weir state … --job …` with these arguments (after `state`); resolves with the exit code (0, 1 when the job refuses, 2 for usage). */
export async function stateLiveMain(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { job: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [verb, uid, stateName, keyText, ...extra] = positionals;
  if (verb !== 'get') return usage(`only 'weir state get' reads a running job (--job); got '${verb ?? ''}'`);
  if (!values.job) return usage(`'state get --job' needs a job id`);
  if (keyText === undefined || extra.length > 0) return usage(`'state get --job <job-id>' takes <uid> <state> <key>`);
  const key = parseKeyArgument(keyText);
  const answer = await requestControl(values.job, { cmd: 'state', uid, state: stateName, key }, 30_000);
  if (!answer.ok) {
    process.stderr.write(`weir: ${answer.error}\n`);
    return 1;
  }
  const state = answer.state;
  if (!state) {
    process.stderr.write(`weir: the job sent no state (is it an older weir?)\n`);
    return 1;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(state)}\n`);
    return 0;
  }
  const where = `(${state.kind} state, subtask ${state.subtask}, key group ${state.keyGroup})`;
  const namespaced = (state.namespaces ?? []).length;
  // A window's state lives in the window's namespace: without a value outside windows, say where the values are.
  const head = state.found ? JSON.stringify(state.value) : namespaced > 0 ? `in ${namespaced} namespace(s):` : '(no value)';
  process.stdout.write(`${head}  ${where}\n`);
  for (const ns of state.namespaces ?? [])
    process.stdout.write(`  namespace ${JSON.stringify(ns.namespace)}: ${JSON.stringify(ns.value)}\n`);
  return 0;
}

function usage(message: string): number {
  process.stderr.write(`weir state: ${message}\n${USAGE.split('\n\n')[0]}\n`);
  return 2;
}
