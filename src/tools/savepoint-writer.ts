//! Writes a savepoint from data (Flink's State Processor API writer): keyed state per operator uid, bootstrapped from iterables or JSONL/CSV files, at a chosen max parallelism.

import { createReadStream } from 'node:fs';
import { extname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Packr } from 'msgpackr';
import type { OperatorSubtaskState } from '../checkpoint/snapshots.ts';
import { CheckpointStorage } from '../checkpoint/storage.ts';
import { checkPlainData } from '../checkpoint/storage-format.ts';
import { parseCsvRecord } from '../connectors/file-formats.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { StateKind } from '../state/descriptors.ts';
import { DEFAULT_MAX_PARALLELISM, assignToKeyGroup, keyHashCode, validateMaxParallelism } from '../state/key-groups.ts';
import { OPERATOR_SNAPSHOT_VERSION, type OperatorStateSnapshot } from '../state/operator-state.ts';
import { KEYED_SNAPSHOT_VERSION, type KeyGroupStateSnapshot, type KeyedStateSnapshot } from '../state/snapshot-format.ts';
import { keyIdentity, parseKeyArgument } from './state-values.ts';

/** `[key, value]` pairs from memory or from a file (see {@link entriesFromFile}). */
export type StateEntries = Iterable<readonly [unknown, unknown]> | AsyncIterable<readonly [unknown, unknown]>;

/**
 * One keyed state to bootstrap. The kind and name must be those the operator registers: a
 * `ValueStateDescriptor('count')` is `{ kind: 'value' }` under `count`; `keyBy(…).reduce(…)` and
 * `.sum(…)` keep a `value` state named `_reduce`; an `AggregatingStateDescriptor` takes the
 * accumulator as value. Values by kind: value, reducing — the value; aggregating — the accumulator;
 * list — an array of elements; map — a `Map`, an array of `[key, value]` pairs or a plain object.
 */
export interface KeyedStateBootstrap {
  kind: StateKind;
  /** `[key, value]` per key; a key may come once. */
  entries: StateEntries;
  /**
   * Set when the operator's descriptor has TTL (`enableTimeToLive`): a restore refuses state
   * written without TTL into a TTL descriptor, and the reverse. Each entry's last access is
   * `lastAccess` (ms on the TTL clock, the processing-time clock) or the time of writing.
   */
  ttl?: boolean | { lastAccess: number };
}

/** One operator of the savepoint, found by the job through its uid. */
export interface OperatorBootstrap {
  /** The uid the job's operator has (`.uid('…')`; a generated id such as `3-keyed-process` works too, but changes with the graph). */
  uid: string;
  /** A name for `weir state ls` (default: the uid). */
  name?: string;
  /** Keyed state by state name. */
  keyedState?: Record<string, KeyedStateBootstrap>;
  /** Operator list state (split on restore) by state name. */
  operatorState?: Record<string, unknown[]>;
  /** Broadcast state by state name: a Map or `[key, value]` pairs. */
  broadcastState?: Record<string, Map<unknown, unknown> | [unknown, unknown][]>;
}

/** Options of {@link writeSavepoint}. */
export interface WriteSavepointOptions {
  /** The folder the savepoint goes in (created if missing); the savepoint is a `savepoint-<id>-<hex>` folder inside. */
  dir: string;
  /** Key groups; must equal the max parallelism of the job that starts from it (default 128, the job default). */
  maxParallelism?: number;
  /** The operators. */
  operators: OperatorBootstrap[];
  /** Checkpoint id the savepoint carries (default 1); the job's own checkpoints count on from it. */
  id?: number;
  /** Job name recorded in the metadata (default `bootstrap`). */
  job?: string;
}

/** What {@link writeSavepoint} wrote. */
export interface WrittenSavepoint {
  /** The savepoint folder: pass it to `startJob(job, { fromSavepoint })` or `weir run --from-savepoint`. */
  path: string;
  /** Bytes written. */
  bytes: number;
  /** Entries written per operator uid and state name. */
  entries: Record<string, Record<string, number>>;
}

const userError = (message: string, cause?: unknown) =>
  new WeirError(message, { code: ErrorCodes.CONFIG, domain: 'user', retriable: false, cause });

// The runtime's own encoding of operator states (msgpackr records): its restore decodes maps as records.
const packr = new Packr({ useRecords: true });

/**
 * Writes a savepoint that a job starts from (`startJob(job, { fromSavepoint: path })`): each key
 * goes to the key group the runtime computes for it at `maxParallelism` (`assignToKeyGroup`), in
 * the snapshot format both state backends restore. The savepoint holds one subtask per operator;
 * a restore at any parallelism hands each subtask its key groups.
 *
 * ```ts
 * await writeSavepoint({
 *   dir: 'savepoints',
 *   operators: [{ uid: 'count', keyedState: { count: { kind: 'value', entries: [[0, 100], [1, 250]] } } }],
 * });
 * ```
 */
export async function writeSavepoint(options: WriteSavepointOptions): Promise<WrittenSavepoint> {
  const maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
  const invalid = validateMaxParallelism(maxParallelism, 1);
  if (invalid) throw userError(`cannot write a savepoint: ${invalid}`);
  if (!Array.isArray(options.operators) || options.operators.length === 0)
    throw userError('cannot write a savepoint: give at least one operator');
  const uids = new Set<string>();
  const entries: WrittenSavepoint['entries'] = {};
  const stateEntries: { name: string; data: Uint8Array }[] = [];
  for (const op of options.operators) {
    if (typeof op.uid !== 'string' || op.uid === '' || op.uid.includes('/') || op.uid.includes('\u0001'))
      throw userError(`cannot write a savepoint: operator uid ${JSON.stringify(op.uid)} must be a non-empty string without '/'`);
    if (uids.has(op.uid)) throw userError(`cannot write a savepoint: operator uid '${op.uid}' is given twice`);
    uids.add(op.uid);
    const counts: Record<string, number> = (entries[op.uid] = {});
    const groups = new Map<number, KeyedStateSnapshot[]>();
    for (const [name, state] of Object.entries(op.keyedState ?? {})) {
      counts[name] = await bootstrapState(op.uid, name, state, maxParallelism, groups);
    }
    const subtask: OperatorSubtaskState = {};
    if (groups.size > 0)
      subtask.keyed = [...groups.entries()]
        .sort(([a], [b]) => a - b)
        .map(([keyGroup, states]): KeyGroupStateSnapshot => ({ version: KEYED_SNAPSHOT_VERSION, keyGroup, states }));
    const lists = Object.entries(op.operatorState ?? {});
    const broadcast = Object.entries(op.broadcastState ?? {});
    if (lists.length > 0 || broadcast.length > 0) {
      const operator: OperatorStateSnapshot = {
        version: OPERATOR_SNAPSHOT_VERSION,
        lists: lists.map(([name, elements]) => {
          if (!Array.isArray(elements)) throw userError(`operator state '${name}' of '${op.uid}' must be an array of elements`);
          return { name, mode: 'split', elements: [...elements] };
        }),
        broadcast: broadcast.map(([name, map]) => ({ name, entries: [...map] as [unknown, unknown][] })),
      };
      subtask.operator = operator;
    }
    const problem = checkPlainData(subtask);
    if (problem) throw userError(`cannot write the state of operator '${op.uid}': ${problem.replace(/^the value/, 'a value')}`);
    stateEntries.push({ name: `${op.uid}/0`, data: new Uint8Array(packr.pack(subtask)) });
  }
  const storage = new CheckpointStorage(resolve(options.dir));
  const written = await storage.writeSavepoint(
    {
      id: options.id ?? 1,
      timestamp: Date.now(),
      job: options.job ?? 'bootstrap',
      info: {
        bootstrapped: true,
        maxParallelism,
        operators: options.operators.map((op) => ({ id: op.uid, name: op.name ?? op.uid, parallelism: 1 })),
      },
      entries: stateEntries,
    },
    resolve(options.dir),
  );
  return { path: written.path, bytes: written.bytes, entries };
}

const KINDS: readonly StateKind[] = ['value', 'list', 'map', 'reducing', 'aggregating'];

/** Adds one state's entries to the key groups; returns how many. */
async function bootstrapState(
  uid: string,
  name: string,
  state: KeyedStateBootstrap,
  maxParallelism: number,
  groups: Map<number, KeyedStateSnapshot[]>,
): Promise<number> {
  const where = `keyed state '${name}' of operator '${uid}'`;
  if (!KINDS.includes(state?.kind))
    throw userError(`${where}: kind must be one of ${KINDS.join(', ')}, got ${JSON.stringify(state?.kind)}`);
  if (state.entries === undefined || state.entries === null) throw userError(`${where}: entries are missing`);
  const byGroup = new Map<number, KeyedStateSnapshot>();
  const seen = new Set<string>();
  const ttl = state.ttl === undefined || state.ttl === false ? undefined : state.ttl === true ? Date.now() : state.ttl.lastAccess;
  if (ttl !== undefined && !Number.isFinite(ttl)) throw userError(`${where}: ttl.lastAccess must be a time in ms, got ${String(ttl)}`);
  let n = 0;
  for await (const entry of state.entries as AsyncIterable<readonly [unknown, unknown]>) {
    n++;
    if (!Array.isArray(entry) || entry.length !== 2)
      throw userError(`${where}: entry ${n} is not a [key, value] pair: ${JSON.stringify(entry)}`);
    const [key, raw] = entry;
    try {
      keyHashCode(key);
    } catch (error) {
      throw userError(`${where}: entry ${n} has a key that cannot be a key (${(error as Error).message})`);
    }
    const id = keyIdentity(key);
    if (seen.has(id)) throw userError(`${where}: the key ${JSON.stringify(key)} comes twice (entry ${n})`);
    seen.add(id);
    const value = valueOfKind(state.kind, raw, `${where}, key ${JSON.stringify(key)}`);
    const kg = assignToKeyGroup(key, maxParallelism);
    let s = byGroup.get(kg);
    if (!s) {
      s = { name, kind: state.kind, ttl: ttl !== undefined, keys: [], values: [] };
      if (ttl !== undefined) s.timestamps = [];
      byGroup.set(kg, s);
      const list = groups.get(kg) ?? [];
      list.push(s);
      groups.set(kg, list);
    }
    s.keys.push(key);
    s.values.push(value);
    // Under TTL, list and map state keep a last access per element.
    if (ttl !== undefined)
      s.timestamps?.push(Array.isArray(value) && (state.kind === 'list' || state.kind === 'map') ? value.map(() => ttl) : ttl);
  }
  return n;
}

function valueOfKind(kind: StateKind, value: unknown, where: string): unknown {
  if (kind === 'list') {
    if (!Array.isArray(value)) throw userError(`${where}: a list state's value must be an array of elements`);
    return value;
  }
  if (kind === 'map') {
    if (value instanceof Map) return [...value];
    if (Array.isArray(value)) {
      if (!value.every((p) => Array.isArray(p) && p.length === 2))
        throw userError(`${where}: a map state's value must be [key, value] pairs`);
      return value;
    }
    if (value !== null && typeof value === 'object') return Object.entries(value);
    throw userError(`${where}: a map state's value must be a Map, [key, value] pairs or an object`);
  }
  if (value === undefined) throw userError(`${where}: the value is missing`);
  return value;
}

/** Options of {@link entriesFromFile}. */
export interface EntriesFileOptions {
  /** `jsonl` or `csv`; default from the extension (`.csv` → csv, else jsonl). */
  format?: 'jsonl' | 'csv';
  /** Field (JSONL object) or column (CSV) of the key (default `key`). */
  keyField?: string;
  /** Field or column of the value (default `value`); in JSONL, `*` takes the whole line's object as the value. */
  valueField?: string;
}

/**
 * Reads `[key, value]` pairs from a file, for {@link writeSavepoint}. JSONL: one JSON value per
 * line, either a `[key, value]` array or an object with the key and value fields. CSV: a header
 * line naming the columns; a cell is JSON when it parses as JSON (`42`, `true`, `[1,2]`), else
 * text. Bad lines fail with the file and line number.
 */
export async function* entriesFromFile(path: string, options: EntriesFileOptions = {}): AsyncGenerator<[unknown, unknown]> {
  const format = options.format ?? (extname(path).toLowerCase() === '.csv' ? 'csv' : 'jsonl');
  const keyField = options.keyField ?? 'key';
  const valueField = options.valueField ?? 'value';
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((ok, fail) => {
    stream.once('open', () => ok());
    stream.once('error', fail);
  });
  try {
    await opened;
  } catch (error) {
    throw userError(`cannot read ${path}: ${(error as Error).message}`, error);
  }
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  let header: string[] | undefined;
  let pending = '';
  const bad = (why: string) => userError(`${path}:${lineNo}: ${why}`);
  for await (const line of lines) {
    lineNo++;
    if (format === 'jsonl') {
      if (line.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (error) {
        throw bad(`not JSON (${(error as Error).message})`);
      }
      if (Array.isArray(v)) {
        if (v.length !== 2) throw bad('an array line must be [key, value]');
        yield [v[0], v[1]];
      } else if (v !== null && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (!(keyField in o)) throw bad(`no field '${keyField}'`);
        if (valueField !== '*' && !(valueField in o)) throw bad(`no field '${valueField}'`);
        yield [o[keyField], valueField === '*' ? o : o[valueField]];
      } else throw bad('a line must be a [key, value] array or an object');
      continue;
    }
    const text = pending === '' ? line : `${pending}\n${line}`;
    if (text.trim() === '') continue;
    const parsed = parseCsvRecord(text);
    if (parsed.kind === 'incomplete') {
      pending = text;
      continue;
    }
    pending = '';
    if (parsed.kind === 'malformed') throw bad(parsed.reason);
    if (header === undefined) {
      header = parsed.fields;
      for (const f of [keyField, valueField])
        if (!header.includes(f)) throw bad(`the header has no column '${f}' (columns: ${header.join(', ')})`);
      continue;
    }
    const cell = (name: string) => parseKeyArgument(parsed.fields[(header as string[]).indexOf(name)] ?? '');
    yield [cell(keyField), cell(valueField)];
  }
  if (pending !== '') throw bad('the file ends inside a quoted field');
}
