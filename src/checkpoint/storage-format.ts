//! The on-disk format of checkpoints and savepoints: folder and file names, the `_metadata` document, its checks, and the plain-data rule for state.

import { createHash } from 'node:crypto';
import { Packr, Unpackr } from 'msgpackr';

/** The `format` field of every `_metadata` document. */
export const CHECKPOINT_FORMAT = 'weir-checkpoint';

/** Version of the on-disk format written by this weir; readers refuse newer versions. */
export const CHECKPOINT_FORMAT_VERSION = 1;

/** Name of the metadata file inside a checkpoint or savepoint folder. */
export const METADATA_FILE = '_metadata';

/** What a stored snapshot is: a periodic checkpoint (retained, discarded by retention) or a savepoint (kept until deleted). */
export type CheckpointKind = 'checkpoint' | 'savepoint';

/** A JSON value: what `info` may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * One piece of state, as the runtime hands it over: a name unique within the checkpoint (for
 * example `<operator uid>/<subtask>/keyed`) and plain data (see {@link checkPlainData}).
 */
export interface StateEntry {
  /** Unique within one checkpoint; restored under the same name. */
  name: string;
  /** Plain data; encoded with msgpack into a file of its own. */
  data: unknown;
}

/** Metadata of one state file, as listed in `_metadata`. */
export interface StateFileMetadata {
  /** The entry's name. */
  name: string;
  /** File name inside the folder (`state-00000.msgpack`, …). */
  file: string;
  /** Exact size in bytes. */
  bytes: number;
  /** Lower-case hex sha256 of the file's bytes. */
  sha256: string;
}

/** The `_metadata` document (JSON), version {@link CHECKPOINT_FORMAT_VERSION}. */
export interface CheckpointMetadata {
  /** Always {@link CHECKPOINT_FORMAT}. */
  format: typeof CHECKPOINT_FORMAT;
  /** {@link CHECKPOINT_FORMAT_VERSION} at write time. */
  version: number;
  /** Checkpoint id (the id of the checkpoint a savepoint was taken as). */
  id: number;
  /** Checkpoint or savepoint. */
  kind: CheckpointKind;
  /** The job's identifier or fingerprint, as the runtime passed it. */
  job: string;
  /** When the checkpoint was triggered (ms since the epoch, as the runtime passed it). */
  timestamp: number;
  /** When the folder was complete, just before its rename (ms since the epoch). */
  completedAt: number;
  /** Encoding of the state files: always `msgpack`. */
  encoding: 'msgpack';
  /** Free-form information from the runtime (plain JSON: source offsets summary, parallelism, …). */
  info: JsonValue;
  /** One entry per state file, in the order the runtime gave the entries. */
  files: StateFileMetadata[];
  /** `sha256:<hex>` of this document serialised without the `checksum` field (see {@link metadataChecksum}). */
  checksum: string;
}

/** Name of a completed checkpoint folder. */
export const checkpointFolder = (id: number): string => `chk-${id}`;

/** Matches a completed checkpoint folder, capturing the id. */
export const CHECKPOINT_FOLDER = /^chk-(\d+)$/;

/** Matches the temporary folders a checkpoint write or a retention discard leaves when interrupted. */
export const CHECKPOINT_LEFTOVER = /^\.chk-(\d+)\.(inprogress|discard)-[0-9a-f]+$/;

/** Matches a completed savepoint folder, capturing the id. */
export const SAVEPOINT_FOLDER = /^savepoint-(\d+)-[0-9a-f]+$/;

/** Matches the temporary folders a savepoint write or delete leaves when interrupted. */
export const SAVEPOINT_LEFTOVER = /^\.savepoint-(\d+)-[0-9a-f]+\.(inprogress|discard)$/;

/** Name of the `index`-th state file. */
export const stateFileName = (index: number): string => `state-${String(index).padStart(5, '0')}.msgpack`;

/** Matches a state file name. */
export const STATE_FILE = /^state-\d{5,}\.msgpack$/;

/** Serialises metadata exactly as it is written to disk (two-space JSON, trailing newline). */
export function serializeMetadata(metadata: Omit<CheckpointMetadata, 'checksum'> & { checksum?: string }): string {
  return `${JSON.stringify(metadata, null, 2)}\n`;
}

/**
 * The checksum of a metadata document: sha256 over {@link serializeMetadata} of the document
 * without its `checksum` field. JSON written by `JSON.stringify` and parsed back serialises to the
 * same text, so a reader recomputes it from what it parsed.
 */
export function metadataChecksum(metadata: Omit<CheckpointMetadata, 'checksum'> & { checksum?: string }): string {
  const { checksum: _ignored, ...rest } = metadata;
  return `sha256:${createHash('sha256').update(serializeMetadata(rest)).digest('hex')}`;
}

/** Parses and checks a `_metadata` text; returns the metadata or why it cannot be used. */
export function parseMetadata(text: string): { ok: true; metadata: CheckpointMetadata } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `is not valid JSON (${(error as Error).message})` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, reason: 'is not a JSON object' };
  const m = parsed as Partial<CheckpointMetadata>;
  if (m.format !== CHECKPOINT_FORMAT) return { ok: false, reason: `is not weir checkpoint metadata (format ${JSON.stringify(m.format)})` };
  if (typeof m.version !== 'number' || !Number.isInteger(m.version)) return { ok: false, reason: 'has no format version' };
  if (m.version > CHECKPOINT_FORMAT_VERSION)
    return { ok: false, reason: `has format version ${m.version}; this weir reads up to version ${CHECKPOINT_FORMAT_VERSION}` };
  if (typeof m.checksum !== 'string') return { ok: false, reason: 'has no checksum' };
  if (metadataChecksum(m as CheckpointMetadata) !== m.checksum)
    return { ok: false, reason: 'fails its checksum (the file was modified or damaged)' };
  if (!isCheckpointId(m.id)) return { ok: false, reason: `has an invalid checkpoint id ${JSON.stringify(m.id)}` };
  if (m.kind !== 'checkpoint' && m.kind !== 'savepoint') return { ok: false, reason: `has an unknown kind ${JSON.stringify(m.kind)}` };
  if (typeof m.job !== 'string') return { ok: false, reason: 'has no job identifier' };
  if (typeof m.timestamp !== 'number' || typeof m.completedAt !== 'number') return { ok: false, reason: 'has no timestamps' };
  if (m.encoding !== 'msgpack') return { ok: false, reason: `has an unknown encoding ${JSON.stringify(m.encoding)}` };
  if (!Array.isArray(m.files)) return { ok: false, reason: 'has no file list' };
  const names = new Set<string>();
  for (const f of m.files as unknown[]) {
    const file = f as Partial<StateFileMetadata> | null;
    if (
      file === null ||
      typeof file !== 'object' ||
      typeof file.name !== 'string' ||
      typeof file.file !== 'string' ||
      !STATE_FILE.test(file.file) ||
      typeof file.bytes !== 'number' ||
      !Number.isSafeInteger(file.bytes) ||
      file.bytes < 0 ||
      typeof file.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(file.sha256)
    )
      return { ok: false, reason: `has a malformed file entry ${JSON.stringify(f)}` };
    if (names.has(file.file)) return { ok: false, reason: `lists the state file ${file.file} twice` };
    names.add(file.file);
  }
  return { ok: true, metadata: m as CheckpointMetadata };
}

/** Whether `id` can be a checkpoint id: a non-negative safe integer. */
export function isCheckpointId(id: unknown): id is number {
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0;
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;
const MAX_DEPTH = 1000;

/**
 * Checks that `value` is plain data that msgpack stores without loss; returns undefined, or where
 * and what the first offending value is.
 *
 * Plain data: `null`, `undefined`, booleans, numbers, strings, bigints within 64 bits, `Date`,
 * `Uint8Array` (and `Buffer`, read back as `Buffer`), arrays, and objects whose prototype is
 * `Object.prototype` or `null`. Not plain: `Map` (msgpack would turn its keys into strings — store
 * `[key, value]` pairs), `Set`, other typed arrays, class instances, functions, symbols, and
 * cycles.
 */
export function checkPlainData(value: unknown): string | undefined {
  const problem = (path: string, what: string) => `${path || 'the value'} is ${what}`;
  const visit = (v: unknown, path: string, depth: number): string | undefined => {
    switch (typeof v) {
      case 'undefined':
      case 'boolean':
      case 'number':
      case 'string':
        return undefined;
      case 'bigint':
        return v < INT64_MIN || v > UINT64_MAX ? problem(path, 'a bigint beyond 64 bits') : undefined;
      case 'function':
        return problem(path, 'a function');
      case 'symbol':
        return problem(path, 'a symbol');
    }
    if (v === null) return undefined;
    if (depth > MAX_DEPTH) return problem(path, `nested more than ${MAX_DEPTH} levels deep (a cycle?)`);
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== Array.prototype) return problem(path, 'an instance of an Array subclass');
      for (let i = 0; i < v.length; i++) {
        const found = visit(v[i], `${path}[${i}]`, depth + 1);
        if (found) return found;
      }
      return undefined;
    }
    if (v instanceof Date) return undefined;
    if (v instanceof Uint8Array) return undefined;
    if (v instanceof Map) return problem(path, 'a Map (store an array of [key, value] pairs instead)');
    if (v instanceof Set) return problem(path, 'a Set (store an array instead)');
    if (ArrayBuffer.isView(v)) return problem(path, `a ${(v as object).constructor.name} (only Uint8Array is stored as bytes)`);
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null)
      return problem(path, `an instance of ${(v as object).constructor?.name ?? 'a class'} (only plain objects are stored)`);
    for (const key of Object.keys(v as object)) {
      const found = visit((v as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return visit(value, '', 0);
}

/** Thrown by the packer's function hook, so a function in state fails instead of turning into nil. */
class FunctionInState extends Error {}

/**
 * Creates the msgpack encoder of state files: standard MessagePack (no msgpackr records, so any
 * MessagePack reader can read a file), functions rejected.
 */
export function createStatePackr(): Packr {
  return new Packr({
    useRecords: false,
    writeFunction: () => {
      throw new FunctionInState('state contains a function');
    },
  } as ConstructorParameters<typeof Packr>[0]);
}

/** Creates the msgpack decoder of state files (maps become plain objects). */
export function createStateUnpackr(): Unpackr {
  return new Unpackr({ useRecords: false, mapsAsObjects: true });
}
