//! Reads a retained checkpoint or a savepoint folder offline (Flink's State Processor API reader): operators by uid, their keyed, operator and broadcast state, and timers.
//
// Both state backends write keyed state in one backend-neutral form (`KeyGroupStateSnapshot`, see
// src/state/snapshot-format.ts): the RocksDB backend turns its rows into the same columns at the
// snapshot, so a checkpoint holds no native RocksDB files and one reader serves both.

import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Packr } from 'msgpackr';
import type { OperatorSubtaskState } from '../checkpoint/snapshots.ts';
import {
  CheckpointStorage,
  RUN_FOLDER,
  findResumeCheckpoint,
  listRuns,
  loadCheckpoint,
  type StoredCheckpoint,
} from '../checkpoint/storage.ts';
import { METADATA_FILE, type CheckpointKind } from '../checkpoint/storage-format.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import { operatorsOf } from '../scheduler/restore.ts';
import type { StateKind } from '../state/descriptors.ts';
import { DEFAULT_MAX_PARALLELISM, assignToKeyGroup } from '../state/key-groups.ts';
import type { OperatorListMode } from '../state/operator-state.ts';
import type { KeyGroupStateSnapshot, KeyedStateSnapshot } from '../state/snapshot-format.ts';
import { keyIdentity } from './state-values.ts';

/** What a checkpoint or savepoint folder is, from its `_metadata`. */
export interface SavepointInfo {
  /** The folder read (for a run folder: its newest valid checkpoint). */
  path: string;
  /** Checkpoint or savepoint. */
  kind: CheckpointKind;
  /** Checkpoint id. */
  id: number;
  /** The job's name as it was written. */
  job: string;
  /** Trigger time (ms since the epoch). */
  timestamp: number;
  /** Key groups of the job (its max parallelism). */
  maxParallelism: number;
  /** Bytes of the folder's files. */
  bytes: number;
  /** The job graph's fingerprint, when the runtime wrote it. */
  fingerprint?: string;
}

/** One keyed state of an operator, summed over its key groups. */
export interface KeyedStateInfo {
  /** State name (the descriptor's name; `window-contents` for windows, `_reduce` for reduce and sum). */
  name: string;
  /** State kind. */
  kind: StateKind;
  /** Whether the state has TTL. */
  ttl: boolean;
  /** Entries: one per key, or per key and namespace (window) when namespaced. */
  entries: number;
  /** Distinct keys. */
  keys: number;
  /** Whether entries have namespaces (windows). */
  namespaced: boolean;
  /** Key groups holding any of it. */
  keyGroups: number;
}

/** One key group of an operator's keyed state. */
export interface KeyGroupInfo {
  /** The key group. */
  keyGroup: number;
  /** The subtask of the checkpointed run that held it. */
  subtask: number;
  /** Entries over all states. */
  entries: number;
  /** Its size as MessagePack (the form it has in the checkpoint). */
  bytes: number;
}

/** One timer service of an operator. */
export interface TimerServiceInfo {
  /** Service name (`window-timers`, `user-timers`, …). */
  name: string;
  /** Event-time timers. */
  eventTime: number;
  /** Processing-time timers. */
  processingTime: number;
  /** Earliest event-time timer, when there is one. */
  earliestEventTime?: number;
}

/** One operator (non-keyed) list state, over all subtasks. */
export interface OperatorStateInfo {
  name: string;
  /** `split` (even split on rescale) or `union`. */
  mode: OperatorListMode;
  /** Elements over all subtasks. */
  elements: number;
}

/** One broadcast state (the same on every subtask). */
export interface BroadcastStateInfo {
  name: string;
  /** Entries of one subtask's copy. */
  entries: number;
}

/** One operator of a checkpoint: identity and a summary of its state. */
export interface OperatorInfo {
  /** The operator id state is mapped by: the user's `.uid()`, or one generated from its position. */
  uid: string;
  /** Whether {@link uid} was generated (`<position>-<type>`): it changes when the graph changes, so a savepoint may not map. */
  generatedUid: boolean;
  /** The operator's name. */
  name: string;
  /** Parallelism of the run that wrote the checkpoint. */
  parallelism: number;
  /** Key groups of the job. */
  maxParallelism: number;
  /** Keyed states. */
  keyedStates: KeyedStateInfo[];
  /** Key groups holding keyed state, ascending. */
  keyGroups: KeyGroupInfo[];
  /** Timer services. */
  timers: TimerServiceInfo[];
  /** Operator list states. */
  operatorStates: OperatorStateInfo[];
  /** Broadcast states. */
  broadcastStates: BroadcastStateInfo[];
  /** Subtasks with function state (a source reader's position, a sink's pending commits). */
  functionStates: number;
  /** Whether an unaligned checkpoint kept in-flight data with this operator. */
  inFlightData: boolean;
}

/** One entry of a keyed state. */
export interface KeyedStateEntry {
  /** The key. */
  key: unknown;
  /** The namespace (a window's start, …); absent in the default namespace. */
  namespace?: unknown;
  /** The value, by kind: value/reducing — the value; aggregating — the accumulator; list — the elements; map — its `[key, value]` entries. */
  value: unknown;
  /** The key group it is stored in. */
  keyGroup: number;
  /** Under TTL: the last access (ms on the TTL clock); per element for list and map state. */
  lastAccess?: number | number[];
}

/** One timer. */
export interface TimerEntry {
  /** Timer service name. */
  service: string;
  /** Event time or processing time. */
  domain: 'event-time' | 'processing-time';
  /** When it fires. */
  timestamp: number;
  key: unknown;
  /** Absent when the timer has none. */
  namespace?: unknown;
}

/**
 * Reads one operator's state in a checkpoint. Every method reads the folder on first use (once
 * per {@link SavepointReader}), and rejects with a `WEIR_CONFIG` error naming the known uids when
 * the checkpoint has no operator of this uid.
 */
export interface OperatorReader {
  /** The operator's summary. */
  info(): Promise<OperatorInfo>;
  /** Every entry of keyed state `name`, key group by key group; rejects naming the known states when it has none of that name. */
  keyedState(name: string): AsyncIterable<KeyedStateEntry>;
  /** The entries of `key` in keyed state `stateName` (one per namespace; none when the key has no entry), looked up in the key's own key group. */
  get(stateName: string, key: unknown): Promise<KeyedStateEntry[]>;
  /** The elements of operator list state `name`, subtask after subtask. */
  operatorState(name: string): Promise<unknown[]>;
  /** The entries of broadcast state `name` (subtask 0's copy; every subtask holds the same). */
  broadcastState(name: string): Promise<[unknown, unknown][]>;
  /** Every timer, by key group. */
  timers(): AsyncIterable<TimerEntry>;
  /** Function state per subtask of the checkpointed run (undefined where a subtask had none): a source reader's position, for instance. */
  functionStates(): Promise<unknown[]>;
}

/** A checkpoint or savepoint folder, read offline. */
export interface SavepointReader {
  /** What the folder is. */
  info(): Promise<SavepointInfo>;
  /** Every operator of the job that wrote it, in graph order, with a summary of its state. */
  operators(): Promise<OperatorInfo[]>;
  /** One operator, by its uid (the user's `.uid()` or the generated id {@link operators} shows). */
  operator(uid: string): OperatorReader;
}

const userError = (message: string) => new WeirError(message, { code: ErrorCodes.CONFIG, domain: 'user', retriable: false });

/**
 * Opens a checkpoint or savepoint for reading: a `savepoint-…` or `chk-N` folder (or its
 * `_metadata`), or a run folder (`run-…`, its newest valid checkpoint), or a job's folder of runs
 * (the newest run's), or a checkpoint directory holding one job's runs. Works the same on
 * checkpoints of the heap and the RocksDB backend. Nothing is read until a method is called; the
 * folder is then verified (sizes and checksums) and decoded once.
 *
 * ```ts
 * const sp = readSavepoint('/ckpt/savepoints/savepoint-7-1a2b3c4d');
 * for await (const { key, value } of sp.operator('count').keyedState('count')) console.log(key, value);
 * ```
 */
export function readSavepoint(path: string): SavepointReader {
  let loaded: Promise<Loaded> | undefined;
  const load = () => (loaded ??= loadFolder(path));
  return {
    info: async () => (await load()).info,
    operators: async () => {
      const l = await load();
      return l.order.map((uid) => summarize(l.operators.get(uid) as LoadedOperator, l.info.maxParallelism));
    },
    operator: (uid: string) => operatorReader(load, uid),
  };
}

interface LoadedOperator {
  uid: string;
  name: string;
  index: number;
  parallelism: number;
  subtasks: (OperatorSubtaskState | undefined)[];
  /** Key group snapshots with the subtask that held each, ascending by key group. */
  keyGroups: { subtask: number; snapshot: KeyGroupStateSnapshot }[];
}

interface Loaded {
  info: SavepointInfo;
  operators: Map<string, LoadedOperator>;
  /** Operator uids in graph order (operators with state but not in the info last). */
  order: string[];
}

interface InfoOperator {
  id: string;
  name: string;
  parallelism: number;
}

async function loadFolder(path: string): Promise<Loaded> {
  const stored = await locate(path);
  const info = (stored.info ?? {}) as { fingerprint?: string; maxParallelism?: number; operators?: InfoOperator[] };
  const maxParallelism = typeof info.maxParallelism === 'number' ? info.maxParallelism : DEFAULT_MAX_PARALLELISM;
  const states = new Map<string, Uint8Array>();
  for (const entry of stored.entries) states.set(entry.name, entry.data as Uint8Array);
  let byOperator: Map<string, (OperatorSubtaskState | undefined)[]>;
  try {
    byOperator = operatorsOf(states);
  } catch (error) {
    throw new WeirError(`cannot decode the state in ${stored.path}: ${(error as Error).message}`, {
      code: ErrorCodes.STATE_RESTORE,
      domain: 'external',
      retriable: false,
      cause: error,
    });
  }
  const operators = new Map<string, LoadedOperator>();
  const order: string[] = [];
  const add = (uid: string, name: string, parallelism: number, index: number) => {
    const subtasks = byOperator.get(uid) ?? [];
    const keyGroups: LoadedOperator['keyGroups'] = [];
    subtasks.forEach((s, subtask) => {
      for (const snapshot of s?.keyed ?? []) keyGroups.push({ subtask, snapshot });
    });
    keyGroups.sort((a, b) => a.snapshot.keyGroup - b.snapshot.keyGroup);
    operators.set(uid, { uid, name, index, parallelism: Math.max(parallelism, subtasks.length), subtasks, keyGroups });
    order.push(uid);
  };
  (info.operators ?? []).forEach((op, index) => add(op.id, op.name, op.parallelism, index));
  for (const uid of byOperator.keys()) if (!operators.has(uid)) add(uid, uid, byOperator.get(uid)?.length ?? 1, -1);
  return {
    info: {
      path: stored.path,
      kind: stored.kind,
      id: stored.id,
      job: stored.job,
      timestamp: stored.timestamp,
      maxParallelism,
      bytes: stored.bytes,
      ...(typeof info.fingerprint === 'string' ? { fingerprint: info.fingerprint } : {}),
    },
    operators,
    order,
  };
}

/** Finds the checkpoint a path names; a clear error when it names none. */
async function locate(path: string): Promise<StoredCheckpoint> {
  const dir = resolve(path);
  try {
    await stat(dir);
  } catch {
    throw userError(`${dir} does not exist`);
  }
  const readable = async (p: string) => loadCheckpoint(p).catch((error: unknown) => rethrowUnreadable(p, error));
  if (basename(dir) === METADATA_FILE || (await exists(join(dir, METADATA_FILE)))) return readable(dir);
  if (RUN_FOLDER.test(basename(dir))) {
    const found = await new CheckpointStorage(dir).latest();
    if (!found) throw userError(`${dir} is a run folder without a completed checkpoint`);
    return found.checkpoint;
  }
  const runs = (await listRuns(dir).catch(() => [])).filter((r) => r !== dir);
  if (runs.length > 0) {
    const found = await findResumeCheckpoint(dir);
    if (found.kind === 'found') return found.checkpoint;
    if (found.kind === 'finished') {
      // A finished run keeps its checkpoints for inspection.
      const latest = await new CheckpointStorage(found.run).latest();
      if (latest) return latest.checkpoint;
    }
    throw userError(`${dir} holds runs but none has a completed checkpoint`);
  }
  // A checkpoint directory (--checkpoint-dir) holds one folder of runs per job.
  const jobs: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const sub = join(dir, name);
    if ((await listRuns(sub).catch(() => [])).some((r) => r !== sub)) jobs.push(sub);
  }
  if (jobs.length === 1) return locate(jobs[0]);
  if (jobs.length > 1) throw userError(`${dir} holds the checkpoints of several jobs; give one of ${jobs.join(', ')}`);
  throw userError(`${dir} is not a checkpoint or savepoint folder (it has no ${METADATA_FILE}); give a savepoint-…, chk-N or run-… folder`);
}

function rethrowUnreadable(path: string, error: unknown): never {
  if (error instanceof WeirError) {
    throw new WeirError(error.message.replace(/^cannot restore from /, 'cannot read '), {
      code: error.code,
      domain: error.domain,
      retriable: false,
      cause: error,
    });
  }
  throw new WeirError(`cannot read ${path}: ${(error as Error).message}`, {
    code: ErrorCodes.STATE_RESTORE,
    domain: 'external',
    cause: error,
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Generated ids are `<node position>-<type>` (see graph/job-graph.ts). */
function isGeneratedUid(uid: string, index: number): boolean {
  const m = /^(\d+)-[a-z][a-z0-9-]*$/.exec(uid);
  return m !== null && (index < 0 || Number(m[1]) === index);
}

// Sizes as the runtime encodes key groups (msgpackr records).
const sizePackr = new Packr({ useRecords: true });

function summarize(op: LoadedOperator, maxParallelism: number): OperatorInfo {
  const states = new Map<string, KeyedStateInfo & { keySet: Set<string> }>();
  const keyGroups: KeyGroupInfo[] = [];
  for (const { subtask, snapshot } of op.keyGroups) {
    let entries = 0;
    for (const s of snapshot.states) {
      let st = states.get(s.name);
      if (!st) {
        st = { name: s.name, kind: s.kind, ttl: s.ttl, entries: 0, keys: 0, namespaced: false, keyGroups: 0, keySet: new Set() };
        states.set(s.name, st);
      }
      st.entries += s.keys.length;
      st.keyGroups++;
      if (s.namespaces?.some((n) => n !== null)) st.namespaced = true;
      for (const k of s.keys) st.keySet.add(keyIdentity(k));
      entries += s.keys.length;
    }
    keyGroups.push({ keyGroup: snapshot.keyGroup, subtask, entries, bytes: sizePackr.pack(snapshot).length });
  }
  const timers = new Map<string, TimerServiceInfo>();
  const lists = new Map<string, OperatorStateInfo>();
  const broadcast = new Map<string, BroadcastStateInfo>();
  let functionStates = 0;
  let inFlightData = false;
  for (const s of op.subtasks) {
    if (!s) continue;
    for (const [name, groups] of Object.entries(s.timers ?? {})) {
      const t = timers.get(name) ?? { name, eventTime: 0, processingTime: 0 };
      for (const g of groups) {
        t.eventTime += g.eventTime.timestamps.length;
        t.processingTime += g.processingTime.timestamps.length;
        for (const ts of g.eventTime.timestamps)
          if (t.earliestEventTime === undefined || ts < t.earliestEventTime) t.earliestEventTime = ts;
      }
      timers.set(name, t);
    }
    for (const l of s.operator?.lists ?? []) {
      const o = lists.get(l.name) ?? { name: l.name, mode: l.mode, elements: 0 };
      o.elements += l.elements.length;
      lists.set(l.name, o);
    }
    for (const b of s.operator?.broadcast ?? [])
      if (!broadcast.has(b.name)) broadcast.set(b.name, { name: b.name, entries: b.entries.length });
    if (s.function !== undefined) functionStates++;
    if (s.channels !== undefined) inFlightData = true;
  }
  return {
    uid: op.uid,
    generatedUid: isGeneratedUid(op.uid, op.index),
    name: op.name,
    parallelism: op.parallelism,
    maxParallelism,
    keyedStates: [...states.values()].map(({ keySet, ...rest }) => ({ ...rest, keys: keySet.size })),
    keyGroups,
    timers: [...timers.values()],
    operatorStates: [...lists.values()],
    broadcastStates: [...broadcast.values()],
    functionStates,
    inFlightData,
  };
}

function operatorReader(load: () => Promise<Loaded>, uid: string): OperatorReader {
  const find = async (): Promise<{ op: LoadedOperator; loaded: Loaded }> => {
    const loaded = await load();
    const op = loaded.operators.get(uid);
    if (op) return { op, loaded };
    const known = loaded.order.map((u) => `'${u}' (${loaded.operators.get(u)?.name})`).join(', ');
    throw userError(`${loaded.info.path} has no operator with uid '${uid}'; its operators: ${known || 'none'}`);
  };
  /** The snapshots of state `name` per key group; rejects naming the operator's states when none is called so. */
  const stateOf = async (name: string) => {
    const { op } = await find();
    const names = new Set<string>();
    for (const { snapshot } of op.keyGroups) for (const s of snapshot.states) names.add(s.name);
    if (!names.has(name)) {
      const list = [...names].map((n) => `'${n}'`).join(', ');
      throw userError(
        `operator '${uid}' (${op.name}) has no keyed state '${name}'; ${list ? `its keyed states: ${list}` : 'it has no keyed state'}`,
      );
    }
    return op;
  };
  return {
    info: async () => {
      const { op, loaded } = await find();
      return summarize(op, loaded.info.maxParallelism);
    },
    keyedState: (name: string) => ({
      async *[Symbol.asyncIterator]() {
        const op = await stateOf(name);
        for (const { snapshot } of op.keyGroups) {
          for (const s of snapshot.states) if (s.name === name) yield* entriesOf(s, snapshot.keyGroup);
        }
      },
    }),
    get: async (stateName: string, key: unknown) => {
      const op = await stateOf(stateName);
      const { loaded } = await find();
      const kg = assignToKeyGroup(key, loaded.info.maxParallelism);
      const want = keyIdentity(key);
      const out: KeyedStateEntry[] = [];
      for (const { snapshot } of op.keyGroups) {
        if (snapshot.keyGroup !== kg) continue;
        for (const s of snapshot.states) {
          if (s.name !== stateName) continue;
          for (const e of entriesOf(s, kg)) if (keyIdentity(e.key) === want) out.push(e);
        }
      }
      return out;
    },
    operatorState: async (name: string) => {
      const { op } = await find();
      const out: unknown[] = [];
      let seen = false;
      for (const s of op.subtasks)
        for (const l of s?.operator?.lists ?? [])
          if (l.name === name) {
            seen = true;
            out.push(...l.elements);
          }
      if (!seen) {
        const names = new Set(op.subtasks.flatMap((s) => (s?.operator?.lists ?? []).map((l) => `'${l.name}'`)));
        throw userError(
          `operator '${uid}' (${op.name}) has no operator state '${name}'; ${names.size ? `its operator states: ${[...names].join(', ')}` : 'it has none'}`,
        );
      }
      return out;
    },
    broadcastState: async (name: string) => {
      const { op } = await find();
      for (const s of op.subtasks) for (const b of s?.operator?.broadcast ?? []) if (b.name === name) return b.entries;
      const names = new Set(op.subtasks.flatMap((s) => (s?.operator?.broadcast ?? []).map((b) => `'${b.name}'`)));
      throw userError(
        `operator '${uid}' (${op.name}) has no broadcast state '${name}'; ${names.size ? `its broadcast states: ${[...names].join(', ')}` : 'it has none'}`,
      );
    },
    timers: () => ({
      async *[Symbol.asyncIterator]() {
        const { op } = await find();
        const all: TimerEntry[] = [];
        for (const s of op.subtasks) {
          for (const [service, groups] of Object.entries(s?.timers ?? {})) {
            for (const g of groups) {
              for (const [domain, cols] of [
                ['event-time', g.eventTime],
                ['processing-time', g.processingTime],
              ] as const) {
                for (let i = 0; i < cols.timestamps.length; i++) {
                  const ns = cols.namespaces?.[i];
                  all.push({
                    service,
                    domain,
                    timestamp: cols.timestamps[i],
                    key: cols.keys[i],
                    ...(ns === undefined || ns === null ? {} : { namespace: ns }),
                  });
                }
              }
            }
          }
        }
        yield* all;
      },
    }),
    functionStates: async () => {
      const { op } = await find();
      return Array.from({ length: op.subtasks.length }, (_, i) => op.subtasks[i]?.function);
    },
  };
}

function* entriesOf(s: KeyedStateSnapshot, keyGroup: number): Generator<KeyedStateEntry> {
  for (let i = 0; i < s.keys.length; i++) {
    const ns = s.namespaces?.[i];
    const entry: KeyedStateEntry =
      ns === undefined || ns === null
        ? { key: s.keys[i], value: s.values[i], keyGroup }
        : { key: s.keys[i], namespace: ns, value: s.values[i], keyGroup };
    if (s.timestamps !== undefined) entry.lastAccess = s.timestamps[i];
    yield entry;
  }
}
