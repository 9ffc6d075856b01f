//! `weir state …`: the state inspector on retained checkpoints and savepoints (ls, get, dump, diff) and the savepoint writer (write).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { WeirError } from '../core/errors.ts';
import type { StateKind } from '../state/descriptors.ts';
import {
  diffSavepoints,
  entriesFromFile,
  formatBytes,
  parseKeyArgument,
  readSavepoint,
  toJsonValue,
  writeSavepoint,
  type KeyedStateEntry,
  type OperatorInfo,
  type OperatorReader,
  type SavepointDiff,
} from '../tools/index.ts';

/** The help text of `weir state`. */
export const STATE_USAGE = `usage: weir state ls <dir> [--key-groups] [--json]
       weir state get <dir> <uid> <state> <key> [--json]
       weir state dump <dir> <uid> [<state>] [--format jsonl|csv] [--timers | --function]
       weir state diff <dir-a> <dir-b> [--examples <n>] [--json]
       weir state write <target-dir> --uid <uid> --state <name> --kind <kind> --from <file>
                        [--format jsonl|csv] [--key-field <f>] [--value-field <f>] [--max-parallelism <n>] [--ttl]

<dir> is a savepoint (savepoint-…), a retained checkpoint (chk-N), a run folder (run-…: its
newest valid checkpoint), a job's folder of runs or a --checkpoint-dir of one job; heap and
RocksDB checkpoints read the same.
<uid> is the operator's .uid('…'), or the generated id 'weir state ls' shows.

ls:    operators by uid with their keyed states (kind, keys, key groups), timers, operator and
       broadcast state; --key-groups adds entries and bytes per key group
get:   the entries of one key (one per namespace, e.g. per window); exit 1 when it has none.
       <key> is read as JSON when it parses (42 is a number, '"42"' the string "42", '[1,"a"]'
       a composite key), otherwise as text (C00042); a key starting with '-' goes after '--'
dump:  every entry of one keyed state, or of all of the operator's keyed states, one per line
       (jsonl: {"state","key","namespace"?,"value"}; csv: state,key,namespace,value);
       --timers dumps the operator's timers instead, --function its function state per subtask
       (a source's position, a sink's pending commits) as JSON lines
diff:  per operator and keyed state, the entries added, removed and changed from <dir-a> to
       <dir-b>, with a few examples of each (--examples, default 3)
write: bootstraps a savepoint for a job to start from (weir run --from-savepoint <path>): the
       entries of one keyed state, [key, value] or {"key","value"} per JSONL line, or a CSV with
       key and value columns; --kind value|list|map|reducing|aggregating, as the operator's
       state descriptor; --ttl when the descriptor has TTL (entries last accessed now);
       --max-parallelism must be the job's (default 128). Prints the path.
live:  weir state get --job <job-id> <uid> <state> <key> [--json] reads a running job's state
       (started with weir run) between two records, over its control socket`;

class StateUsageError extends Error {}

const OPTIONS = {
  json: { type: 'boolean' },
  'key-groups': { type: 'boolean' },
  format: { type: 'string' },
  timers: { type: 'boolean' },
  function: { type: 'boolean' },
  examples: { type: 'string' },
  job: { type: 'string' },
  uid: { type: 'string' },
  state: { type: 'string' },
  kind: { type: 'string' },
  from: { type: 'string' },
  'key-field': { type: 'string' },
  'value-field': { type: 'string' },
  'max-parallelism': { type: 'string' },
  ttl: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies NonNullable<ParseArgsConfig['options']>;

/** Which flags each subcommand takes. */
const FLAGS: Record<string, readonly string[]> = {
  ls: ['json', 'key-groups'],
  get: ['json', 'job'],
  dump: ['format', 'timers', 'function'],
  diff: ['json', 'examples'],
  write: ['uid', 'state', 'kind', 'from', 'format', 'key-field', 'value-field', 'max-parallelism', 'ttl'],
};

/** Runs `weir state <argv…>`; resolves with the exit code (0 ok, 1 not found or unreadable, 2 usage). */
export async function stateMain(argv: string[]): Promise<number> {
  try {
    let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true; args: string[] }>>;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      throw new StateUsageError((error as Error).message.split('. ')[0]);
    }
    const { values, positionals } = parsed;
    const [command, ...args] = positionals;
    if (values.help) {
      process.stdout.write(`${STATE_USAGE}\n`);
      return 0;
    }
    if (command === undefined) throw new StateUsageError(`'state' needs a subcommand: ls, get, dump, diff or write`);
    const allowed = FLAGS[command];
    if (!allowed) throw new StateUsageError(`unknown 'state' subcommand '${command}' (ls, get, dump, diff or write)`);
    for (const flag of Object.keys(values))
      if (flag !== 'help' && !allowed.includes(flag)) throw new StateUsageError(`'state ${command}' takes no --${flag}`);
    switch (command) {
      case 'ls':
        return await ls(args, values);
      case 'get':
        return await get(args, values);
      case 'dump':
        return await dump(args, values);
      case 'diff':
        return await diff(args, values);
      default:
        return await write(args, values);
    }
  } catch (error) {
    if (error instanceof StateUsageError) {
      process.stderr.write(`weir: ${error.message}\n${STATE_USAGE.split('\n\n')[0]}\n(see 'weir state --help')\n`);
      return 2;
    }
    if (error instanceof WeirError) {
      process.stderr.write(`weir: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

type Values = Record<string, string | boolean | undefined>;

const json = (v: unknown) => JSON.stringify(toJsonValue(v));

function arity(command: string, args: string[], min: number, max: number, what: string): void {
  if (args.length < min || args.length > max) throw new StateUsageError(`'state ${command}' takes ${what}, got ${args.length} argument(s)`);
}

async function ls(args: string[], values: Values): Promise<number> {
  arity('ls', args, 1, 1, 'one folder');
  const reader = readSavepoint(args[0]);
  const info = await reader.info();
  const operators = await reader.operators();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...info, operators }, null, 2)}\n`);
    return 0;
  }
  const out: string[] = [];
  out.push(`${info.kind} ${info.id} of job '${info.job}', taken ${new Date(info.timestamp).toISOString()}`);
  out.push(`  ${info.path}`);
  out.push(`  ${info.maxParallelism} key groups, ${operators.length} operators, ${formatBytes(info.bytes)}`);
  for (const op of operators) {
    const functions = op.functionStates > 0 ? await reader.operator(op.uid).functionStates() : [];
    out.push('', ...describeOperator(op, functions, Boolean(values['key-groups'])));
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

function describeOperator(op: OperatorInfo, functions: unknown[], keyGroups: boolean): string[] {
  const lines = [`${op.uid}  '${op.name}'${op.generatedUid ? ' (generated uid)' : ''}  parallelism ${op.parallelism}`];
  const empty = op.keyedStates.length === 0 && op.timers.length === 0 && op.operatorStates.length === 0 && op.broadcastStates.length === 0;
  if (empty && op.functionStates === 0 && !op.inFlightData) return [`${lines[0]}  (no state)`];
  const table: string[][] = [];
  for (const s of op.keyedStates)
    table.push([
      'keyed',
      s.name,
      s.kind + (s.ttl ? ' (ttl)' : ''),
      s.namespaced ? `${s.entries} entries by key and namespace (${s.keys} keys)` : `${s.keys} keys`,
      `in ${s.keyGroups} key groups`,
    ]);
  for (const t of op.timers)
    table.push([
      'timers',
      t.name,
      '',
      `${t.eventTime} event-time, ${t.processingTime} processing-time`,
      t.earliestEventTime === undefined ? '' : `earliest ${new Date(t.earliestEventTime).toISOString()}`,
    ]);
  for (const s of op.operatorStates) table.push(['operator', s.name, `list (${s.mode})`, `${s.elements} elements`, '']);
  for (const s of op.broadcastStates) table.push(['broadcast', s.name, 'map', `${s.entries} entries`, '']);
  const widths = [0, 1, 2, 3].map((c) => Math.max(0, ...table.map((r) => r[c].length)));
  for (const row of table)
    lines.push(
      `  ${row
        .map((cell, c) => (c < 4 ? cell.padEnd(widths[c]) : cell))
        .join('  ')
        .trimEnd()}`,
    );
  if (op.keyGroups.length > 0) {
    const entries = op.keyGroups.map((g) => g.entries);
    const largest = op.keyGroups.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const bytes = op.keyGroups.reduce((sum, g) => sum + g.bytes, 0);
    lines.push(
      `  key groups: ${op.keyGroups.length} of ${op.maxParallelism} hold state, ${Math.min(...entries)}–${Math.max(...entries)} entries and ${formatBytes(bytes)} in all; largest ${largest.keyGroup} (${formatBytes(largest.bytes)})`,
    );
    if (keyGroups) {
      lines.push('    key group  subtask  entries  bytes');
      for (const g of op.keyGroups)
        lines.push(
          `    ${String(g.keyGroup).padStart(9)}  ${String(g.subtask).padStart(7)}  ${String(g.entries).padStart(7)}  ${String(g.bytes).padStart(5)}`,
        );
    }
  }
  // A source's position or a sink's pending commits: shown when short, counted otherwise.
  functions.forEach((f, subtask) => {
    if (f === undefined) return;
    const text = json(f);
    lines.push(
      `  function state of subtask ${subtask}: ${text.length <= 100 ? text : `${formatBytes(text.length)} of JSON ('weir state dump … ${op.uid} --function')`}`,
    );
  });
  if (op.inFlightData) lines.push('  in-flight data of an unaligned checkpoint');
  return lines;
}

async function get(args: string[], values: Values): Promise<number> {
  // With --job the key is read from a running job, over its control socket.
  if (values.job !== undefined) return (await import('./state-live.ts')).stateLiveMain(['get', '--job', values.job as string, ...(values.json ? ['--json'] : []), ...args]);
  arity('get', args, 4, 4, '<dir> <uid> <state> <key>');
  const [dir, uid, state, keyText] = args;
  const key = parseKeyArgument(keyText);
  const entries = await readSavepoint(dir).operator(uid).get(state, key);
  if (entries.length === 0) {
    const hint =
      typeof key === 'string'
        ? ''
        : ` (the key was read as JSON, a ${Array.isArray(key) ? 'composite key' : typeof key}; for the text, quote it: '"${keyText}"')`;
    process.stderr.write(`weir: no entry for key ${json(key)} in state '${state}' of operator '${uid}'${hint}\n`);
    return 1;
  }
  if (values.json) {
    process.stdout.write(`${entries.map((e) => json(e)).join('\n')}\n`);
    return 0;
  }
  if (entries.length === 1 && entries[0].namespace === undefined) process.stdout.write(`${json(entries[0].value)}\n`);
  else process.stdout.write(`${entries.map((e) => json({ namespace: e.namespace ?? null, value: e.value })).join('\n')}\n`);
  return 0;
}

function csvCell(v: unknown): string {
  const text = typeof v === 'string' ? v : v === undefined ? '' : json(v);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function dump(args: string[], values: Values): Promise<number> {
  arity('dump', args, 2, 3, '<dir> <uid> [<state>]');
  const [dir, uid, only] = args;
  const format = (values.format as string | undefined) ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'csv') throw new StateUsageError(`--format must be jsonl or csv, got '${format}'`);
  if (values.timers && values.function) throw new StateUsageError(`'state dump' takes --timers or --function, not both`);
  if ((values.timers || values.function) && only !== undefined)
    throw new StateUsageError(`'state dump --${values.timers ? 'timers' : 'function'}' takes <dir> <uid>`);
  if (values.function && format !== 'jsonl') throw new StateUsageError(`'state dump --function' writes JSON lines only`);
  const op = readSavepoint(dir).operator(uid);
  const out = process.stdout;
  // A reader that stops early (`| head`) closes the pipe: the dump ends quietly, as Unix tools do.
  let closed = false;
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  };
  out.on('error', onError);
  const emit = async (line: string) => {
    if (closed) throw new PipeClosed();
    if (!out.write(`${line}\n`))
      await new Promise((r) => {
        out.once('drain', r);
        out.once('error', r);
      });
  };
  try {
    if (values.function) {
      const states = await op.functionStates();
      for (let subtask = 0; subtask < states.length; subtask++)
        if (states[subtask] !== undefined) await emit(json({ subtask, state: states[subtask] }));
      return 0;
    }
    return await dumpTo(emit, op, only, format, Boolean(values.timers));
  } catch (error) {
    if (error instanceof PipeClosed) return 0;
    throw error;
  } finally {
    out.off('error', onError);
  }
}

class PipeClosed extends Error {}

async function dumpTo(
  emit: (line: string) => Promise<void>,
  op: OperatorReader,
  only: string | undefined,
  format: 'jsonl' | 'csv',
  timersOnly: boolean,
): Promise<number> {
  if (timersOnly) {
    if (format === 'csv') await emit('service,domain,timestamp,key,namespace');
    for await (const t of op.timers()) {
      if (format === 'csv') await emit([t.service, t.domain, t.timestamp, t.key, t.namespace].map(csvCell).join(','));
      else await emit(json(t));
    }
    return 0;
  }
  const names = only !== undefined ? [only] : (await op.info()).keyedStates.map((s) => s.name);
  if (format === 'csv') await emit('state,key,namespace,value');
  for (const name of names) {
    for await (const e of op.keyedState(name) as AsyncIterable<KeyedStateEntry>) {
      if (format === 'csv') await emit([name, e.key, e.namespace, e.value].map(csvCell).join(','));
      else await emit(json({ state: name, key: e.key, ...(e.namespace === undefined ? {} : { namespace: e.namespace }), value: e.value }));
    }
  }
  return 0;
}

async function diff(args: string[], values: Values): Promise<number> {
  arity('diff', args, 2, 2, '<dir-a> <dir-b>');
  const examples = values.examples === undefined ? 3 : Number(values.examples);
  if (!Number.isInteger(examples) || examples < 0)
    throw new StateUsageError(`--examples must be a non-negative integer, got '${values.examples}'`);
  const result = await diffSavepoints(args[0], args[1], { examples });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(toJsonValue(result), null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`${describeDiff(result).join('\n')}\n`);
  return 0;
}

/** A value's JSON cut to one readable line (the whole value is in `--json` and `dump`). */
function short(v: unknown, max = 100): string {
  const text = json(v);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function describeDiff(d: SavepointDiff): string[] {
  const lines = [`a: ${d.a.kind} ${d.a.id}  ${d.a.path}`, `b: ${d.b.kind} ${d.b.id}  ${d.b.path}`];
  let same = 0;
  for (const op of d.operators) {
    if (op.presence === 'both' && op.states.length === 0) {
      same++;
      continue;
    }
    const presence = op.presence === 'added' ? ' (only in b)' : op.presence === 'removed' ? ' (only in a)' : '';
    lines.push('', `${op.uid}  '${op.name}'${presence}`);
    for (const s of op.states) {
      const kind = s.kindBefore === s.kindAfter ? s.kindBefore : `${s.kindBefore ?? '–'} → ${s.kindAfter ?? '–'}`;
      lines.push(`  ${s.name} (${kind}): ${s.added} added, ${s.removed} removed, ${s.changed} changed, ${s.unchanged} unchanged`);
      const at = (e: { key: unknown; namespace?: unknown }) =>
        `${json(e.key)}${e.namespace === undefined ? '' : ` @ ${json(e.namespace)}`}`;
      for (const e of s.examples.added) lines.push(`    + ${at(e)}: ${short(e.value)}`);
      for (const e of s.examples.removed) lines.push(`    - ${at(e)}: ${short(e.value)}`);
      for (const e of s.examples.changed) lines.push(`    ~ ${at(e)}: ${short(e.before)} → ${short(e.after)}`);
    }
  }
  lines.push('', same === d.operators.length ? 'no differences in keyed state' : `${same} operator(s) without differences`);
  return lines;
}

const KINDS: readonly StateKind[] = ['value', 'list', 'map', 'reducing', 'aggregating'];

async function write(args: string[], values: Values): Promise<number> {
  arity('write', args, 1, 1, 'one target folder');
  for (const flag of ['uid', 'state', 'kind', 'from'])
    if (values[flag] === undefined) throw new StateUsageError(`'state write' needs --${flag}`);
  const kind = values.kind as StateKind;
  if (!KINDS.includes(kind)) throw new StateUsageError(`--kind must be one of ${KINDS.join(', ')}, got '${kind}'`);
  const format = values.format as string | undefined;
  if (format !== undefined && format !== 'jsonl' && format !== 'csv')
    throw new StateUsageError(`--format must be jsonl or csv, got '${format}'`);
  const maxText = values['max-parallelism'] as string | undefined;
  const maxParallelism = maxText === undefined ? undefined : Number(maxText);
  if (maxParallelism !== undefined && (!Number.isInteger(maxParallelism) || maxParallelism < 1))
    throw new StateUsageError(`--max-parallelism must be a positive integer, got '${maxText}'`);
  const written = await writeSavepoint({
    dir: args[0],
    maxParallelism,
    operators: [
      {
        uid: values.uid as string,
        keyedState: {
          [values.state as string]: {
            kind,
            ttl: Boolean(values.ttl),
            entries: entriesFromFile(values.from as string, {
              format: format as 'jsonl' | 'csv' | undefined,
              keyField: values['key-field'] as string | undefined,
              valueField: values['value-field'] as string | undefined,
            }),
          },
        },
      },
    ],
  });
  const n = written.entries[values.uid as string][values.state as string];
  process.stderr.write(`weir: wrote ${n} entries of '${values.state}' for operator '${values.uid}' (${formatBytes(written.bytes)})\n`);
  process.stdout.write(`${written.path}\n`);
  return 0;
}
