//! Checkpoint storage on a local directory: atomic, checksummed checkpoint and savepoint folders, retention, and recovery that skips damaged ones.
//
// On-disk format, version 1 (also in docs/checkpoint-format.md; savepoints are read back by later
// weir versions, so changes here bump CHECKPOINT_FORMAT_VERSION and stay readable):
//
//   <jobDir>/
//     chk-<id>/                              a completed checkpoint (decimal id, no padding)
//       _metadata                            JSON, see below
//       state-00000.msgpack                  one state entry, standard MessagePack
//       state-00001.msgpack                  …
//     .chk-<id>.inprogress-<hex>/            a write in progress, or a crashed one: never read
//     .chk-<id>.discard-<hex>/               an older checkpoint being deleted by retention
//     chk-<id>/_committed                    written (after the folder is whole) when the checkpoint's
//                                            commits are sent to two-phase-commit sinks; not covered
//                                            by the checksum, never needed to restore
//   <savepointDir>/
//     savepoint-<id>-<hex>/                  a savepoint: same contents, kind "savepoint"
//     .savepoint-<id>-<hex>.inprogress/      a savepoint write in progress, or a crashed one
//
// `_metadata` holds: format ("weir-checkpoint"), version (1), id, kind ("checkpoint" |
// "savepoint"), job (the job's identifier or fingerprint), timestamp (trigger time, ms since the
// epoch), completedAt, encoding ("msgpack"), info (free-form JSON from the runtime), files (one
// { name, file, bytes, sha256 } per state entry, in the runtime's order) and checksum
// ("sha256:<hex>" of the document serialised by JSON.stringify(doc, null, 2) + "\n" without the
// checksum field). State files are plain MessagePack without msgpackr extensions beyond the
// standard timestamp (Date) and msgpackr's `undefined`; the data is plain (see checkPlainData).
//
// A folder becomes visible under its final name only when whole: every file is written and
// fsynced in the temporary folder, then the folder is fsynced, renamed, and its parent fsynced.
// So a name `chk-<id>` or `savepoint-<id>-<hex>` means complete, and a crash leaves only hidden
// leftovers. Damage after the fact (bit flips, truncation, removed files) is caught by sizes and
// checksums on read.
//
// Runs: the runtime gives each run of a job its own folder, `<checkpointDir>/<job>/<run>/`, as
// Flink's `<checkpoint-dir>/<job-id>/chk-N` (see {@link newRunFolder}); a run writes, restores and
// applies retention only there, and resuming another run's checkpoints is explicit
// ({@link findResumeCheckpoint}).

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Packr, Unpackr } from 'msgpackr';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import {
  CHECKPOINT_FOLDER,
  CHECKPOINT_FORMAT,
  CHECKPOINT_FORMAT_VERSION,
  CHECKPOINT_LEFTOVER,
  METADATA_FILE,
  SAVEPOINT_FOLDER,
  STATE_FILE,
  checkPlainData,
  checkpointFolder,
  createStatePackr,
  createStateUnpackr,
  isCheckpointId,
  metadataChecksum,
  parseMetadata,
  serializeMetadata,
  stateFileName,
  type CheckpointKind,
  type CheckpointMetadata,
  type JsonValue,
  type StateEntry,
  type StateFileMetadata,
} from './storage-format.ts';
import {
  UNRECOVERABLE_ERRNOS,
  discardFolder,
  errorCode,
  makeDirectories,
  readIfExists,
  sha256Hex,
  syncDirectory,
  writeDurably,
} from './storage-files.ts';

/** Options of {@link CheckpointStorage}. */
export interface CheckpointStorageOptions {
  /**
   * How many completed checkpoints to keep (default 2: the newest, and one to fall back to when the
   * newest turns out damaged). Savepoints are never counted nor deleted by retention.
   */
  retain?: number;
  /**
   * Check that every entry is plain data before writing it (default true): msgpack would otherwise
   * turn a `Map`'s keys into strings or a `Set` into an array without a word. Costs one walk over
   * the state.
   */
  checkPlainData?: boolean;
}

/** What the runtime hands over to be stored. */
export interface CheckpointSnapshot {
  /** Checkpoint id: a non-negative integer, unique per job. */
  id: number;
  /** When the checkpoint was triggered (ms since the epoch). */
  timestamp: number;
  /** The job's identifier or fingerprint, stored as is (the runtime compares it on restore). */
  job: string;
  /** Free-form plain JSON (default `null`). */
  info?: JsonValue;
  /** The state, one file per entry; names must be unique. */
  entries: readonly StateEntry[];
}

/** A checkpoint or savepoint read back and verified. */
export interface StoredCheckpoint {
  /** Checkpoint id. */
  id: number;
  /** Checkpoint or savepoint. */
  kind: CheckpointKind;
  /** The job identifier it was written with. */
  job: string;
  /** Trigger time (ms since the epoch). */
  timestamp: number;
  /** When its folder was complete (ms since the epoch). */
  completedAt: number;
  /** The `info` it was written with. */
  info: JsonValue;
  /** The state entries, decoded, in the order they were written. */
  entries: StateEntry[];
  /** Its folder. */
  path: string;
  /** Bytes of its files, metadata included. */
  bytes: number;
}

/** The outcome of a write: where it went, how big, how long it took. */
export interface CheckpointWriteResult {
  /** Checkpoint id. */
  id: number;
  /** Checkpoint or savepoint. */
  kind: CheckpointKind;
  /** The completed folder. */
  path: string;
  /** Bytes written, metadata included. */
  bytes: number;
  /** Time from the call to the completed rename (ms). */
  durationMs: number;
  /** Folders of older checkpoints deleted by retention after this one completed. */
  discarded: string[];
  /** Retention problems that did not fail the write (an old folder that could not be deleted). */
  warnings: string[];
}

/** A folder {@link CheckpointStorage.latest} passed over, and why. */
export interface SkippedCheckpoint {
  /** The folder. */
  path: string;
  /** Its checkpoint id. */
  id: number;
  /** Why it cannot be restored, naming the file at fault. */
  reason: string;
  /** Whether its commits were sent to the sinks (`_committed` is there): restoring an older checkpoint replays committed output. */
  committed: boolean;
}

/** The newest restorable checkpoint, and what was passed over to find it. */
export interface LatestCheckpoint {
  /** The checkpoint, verified and decoded. */
  checkpoint: StoredCheckpoint;
  /** Its folder. */
  path: string;
  /** Newer folders that were damaged or incomplete, newest first. */
  skipped: SkippedCheckpoint[];
}

/** A completed checkpoint folder as listed (not verified). */
export interface CheckpointListing {
  /** Checkpoint id. */
  id: number;
  /** Its folder. */
  path: string;
}

type ReadOutcome = { ok: true; checkpoint: StoredCheckpoint } | { ok: false; reason: string };

const randomHex = () => randomBytes(4).toString('hex');

/** Marks a checkpoint whose commits were sent to the sinks. */
const COMMITTED_MARKER = '_committed';
/** Marks a run folder whose job ended successfully: there is nothing to resume. */
const FINISHED_MARKER = '_finished';

/**
 * A storage failure. A read-only, foreign or full folder (EROFS, EACCES, EPERM, ENOSPC, …) cannot
 * be cured by restarting: it is non-retriable and names its errno; anything else may be transient.
 */
const storageError = (message: string, cause?: unknown) => {
  const code = errorCode(cause);
  if (code !== undefined && UNRECOVERABLE_ERRNOS.has(code)) {
    const what = code === 'ENOSPC' || code === 'EDQUOT' ? 'is full' : 'is not writable';
    return new WeirError(`${message} (${code}: the checkpoint folder ${what}; restarting cannot help)`, {
      code: ErrorCodes.CHECKPOINT_STORAGE,
      domain: 'external',
      retriable: false,
      cause,
    });
  }
  return new WeirError(message, { code: ErrorCodes.CHECKPOINT_STORAGE, domain: 'external', retriable: true, cause });
};

const restoreFailure = (message: string) =>
  new WeirError(message, { code: ErrorCodes.STATE_RESTORE, domain: 'external', retriable: false });

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Stores a job's checkpoints in a local directory (Flink's filesystem checkpoint storage): one
 * folder per checkpoint, written under a hidden name and renamed when whole, with a `_metadata`
 * file listing every state file's size and sha256. See the format at the top of this file.
 *
 * **Threading model.** Meant for one thread (the coordinator's). Every method is asynchronous and
 * uses `fs/promises`, so the caller keeps working while a checkpoint is written; the synchronous
 * parts are one msgpack encoding per entry and checksum steps of at most 4 MiB. A large state
 * should therefore come as several entries (per key group range, per subtask). Writes of different
 * ids may run concurrently; retention passes run one at a time. {@link latest} and {@link load}
 * are meant for restore time: a retention pass running meanwhile may delete what they read (they
 * then report the folder as damaged).
 *
 * **Life cycle.** Construct; on start call {@link discardInProgress} (before any write) to clear
 * what a crash left, then {@link latest} to find the checkpoint to restore; then {@link write}
 * each completed checkpoint. Nothing to close.
 */
export class CheckpointStorage {
  /** The job's checkpoint directory. */
  readonly jobDir: string;
  /** Completed checkpoints kept. */
  readonly retain: number;
  private readonly checkData: boolean;
  private readonly packr: Packr = createStatePackr();
  /** Temporary folders of writes in flight, so {@link discardInProgress} spares them. */
  private readonly active = new Set<string>();
  private retention: Promise<void> = Promise.resolve();

  constructor(jobDir: string, options: CheckpointStorageOptions = {}) {
    const retain = options.retain ?? 2;
    if (!Number.isInteger(retain) || retain < 1)
      throw new WeirError(`checkpoint retention must be a positive integer, got ${retain}`, { code: ErrorCodes.CONFIG, domain: 'user' });
    this.jobDir = resolve(jobDir);
    this.retain = retain;
    this.checkData = options.checkPlainData ?? true;
  }

  /**
   * Writes a completed checkpoint as `chk-<id>`, then deletes checkpoints beyond the retained
   * count (never before the new one is complete, never the one just written). Fails if `chk-<id>`
   * exists.
   */
  async write(snapshot: CheckpointSnapshot): Promise<CheckpointWriteResult> {
    const start = performance.now();
    const tempName = `.chk-${snapshot.id}.inprogress-${randomHex()}`;
    const written = await this.writeFolder(this.jobDir, tempName, checkpointFolder(snapshot.id), 'checkpoint', snapshot);
    const { discarded, warnings } = await this.applyRetention(snapshot.id);
    return { id: snapshot.id, kind: 'checkpoint', ...written, durationMs: performance.now() - start, discarded, warnings };
  }

  /** Writes a savepoint as `savepoint-<id>-<hex>` under `targetDir` (created if missing); it stays until {@link deleteSavepoint}. */
  async writeSavepoint(snapshot: CheckpointSnapshot, targetDir: string): Promise<CheckpointWriteResult> {
    const start = performance.now();
    const dir = resolve(targetDir);
    const name = `savepoint-${snapshot.id}-${randomHex()}`;
    const written = await this.writeFolder(dir, `.${name}.inprogress`, name, 'savepoint', snapshot);
    return { id: snapshot.id, kind: 'savepoint', ...written, durationMs: performance.now() - start, discarded: [], warnings: [] };
  }

  /**
   * The newest checkpoint that is complete and verifies, with the newer folders passed over and why
   * (a damaged file, a missing `_metadata`, an interrupted write's leftover). Undefined when the
   * job has no completed checkpoint folder. Throws a `WEIR_STATE_RESTORE` error listing every
   * reason when completed folders exist but none verifies: starting from scratch then would
   * silently reprocess everything.
   */
  async latest(): Promise<LatestCheckpoint | undefined> {
    const completed = await this.list();
    // Newest first; at equal ids an interrupted write's leftover comes before the completed folder.
    const candidates: { id: number; path: string; leftover?: 'inprogress' | 'discard' }[] = [...completed];
    for (const name of await this.readJobDir()) {
      const m = CHECKPOINT_LEFTOVER.exec(name);
      if (m && !this.active.has(name))
        candidates.push({ id: Number(m[1]), path: join(this.jobDir, name), leftover: m[2] as 'inprogress' | 'discard' });
    }
    candidates.sort((a, b) => b.id - a.id || (a.leftover ? 0 : 1) - (b.leftover ? 0 : 1));
    const skipped: SkippedCheckpoint[] = [];
    for (const { id, path, leftover } of candidates) {
      if (leftover) {
        const what = leftover === 'inprogress' ? 'an interrupted write' : 'an interrupted delete';
        const reason = `${path} is the incomplete folder of ${what} of checkpoint ${id}; it is never restored`;
        skipped.push({ path, id, reason, committed: false });
        continue;
      }
      const outcome = await readFolder(path, 'checkpoint', id, createStateUnpackr());
      if (outcome.ok) return { checkpoint: outcome.checkpoint, path, skipped };
      skipped.push({ path, id, reason: outcome.reason, committed: await isCommitted(path) });
    }
    if (completed.length === 0) return undefined;
    throw restoreFailure(
      `no restorable checkpoint in ${this.jobDir}: every completed checkpoint is damaged:\n${skipped.map((s) => `  - ${s.reason}`).join('\n')}`,
    );
  }

  /**
   * Creates the job directory now, so an unwritable or full folder fails the job at its start
   * (non-retriable, naming the errno) rather than at its first checkpoint.
   */
  async prepare(): Promise<void> {
    try {
      await makeDirectories(this.jobDir);
    } catch (error) {
      throw storageError(`cannot create the checkpoint folder ${this.jobDir}: ${describe(error)}`, error);
    }
  }

  /**
   * Records that the run's job ended successfully (`_finished` in the job directory): resuming
   * from its last checkpoint would have nothing left to do, so {@link findResumeCheckpoint} stops
   * there. Flink likewise discards a finished job's checkpoints; these stay for inspection.
   */
  async markFinished(): Promise<void> {
    await makeDirectories(this.jobDir);
    await writeDurably(join(this.jobDir, FINISHED_MARKER), new Uint8Array(0)).catch((error: unknown) => {
      if (errorCode(error) !== 'EEXIST') throw error;
    });
  }

  /**
   * Records that checkpoint `id`'s commits are being sent to the sinks (`chk-<id>/_committed`,
   * fsynced), before they are: a restore that would fall back past it then knows it replays
   * committed output.
   */
  async markCommitted(id: number): Promise<void> {
    const path = join(this.jobDir, checkpointFolder(id), COMMITTED_MARKER);
    try {
      await writeDurably(path, new Uint8Array(0));
    } catch (error) {
      // Already marked, or not a stored checkpoint (retention removed it, a savepoint kept elsewhere).
      if (errorCode(error) === 'EEXIST' || errorCode(error) === 'ENOENT') return;
      throw storageError(`cannot mark checkpoint ${id} as committed at ${path}: ${describe(error)}`, error);
    }
  }

  /**
   * Reads and verifies one checkpoint or savepoint folder (or its `_metadata` file). Throws a
   * `WEIR_STATE_RESTORE` error naming the damaged or missing file.
   */
  async load(path: string): Promise<StoredCheckpoint> {
    return loadCheckpoint(path);
  }

  /** The completed checkpoint folders of the job, oldest first; not verified (see {@link load}). */
  async list(): Promise<CheckpointListing[]> {
    let entries;
    try {
      entries = await readdir(this.jobDir, { withFileTypes: true });
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw storageError(`cannot list checkpoints in ${this.jobDir}: ${describe(error)}`, error);
    }
    const out: CheckpointListing[] = [];
    for (const entry of entries) {
      const m = CHECKPOINT_FOLDER.exec(entry.name);
      if (m && entry.isDirectory()) out.push({ id: Number(m[1]), path: join(this.jobDir, entry.name) });
    }
    return out.sort((a, b) => a.id - b.id);
  }

  /**
   * Deletes the hidden folders interrupted writes and retention passes left in the job directory
   * (sparing writes of this instance still in flight); returns their paths. Call on start.
   */
  async discardInProgress(): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await this.readJobDir()) {
      if (!CHECKPOINT_LEFTOVER.test(name) || this.active.has(name)) continue;
      const path = join(this.jobDir, name);
      try {
        await rm(path, { recursive: true, force: true });
      } catch (error) {
        throw storageError(`cannot delete the leftover checkpoint folder ${path}: ${describe(error)}`, error);
      }
      removed.push(path);
    }
    return removed;
  }

  /**
   * Deletes a savepoint folder. Refuses anything that is not named like one or holds files weir did
   * not write, so a wrong path never removes user data.
   */
  async deleteSavepoint(path: string): Promise<void> {
    const dir = resolve(basename(path) === METADATA_FILE ? dirname(path) : path);
    const name = basename(dir);
    const refuse = (why: string) => new WeirError(`will not delete ${dir}: ${why}`, { code: ErrorCodes.CONFIG, domain: 'user' });
    if (!SAVEPOINT_FOLDER.test(name)) throw refuse('it is not a savepoint folder (savepoint-<id>-<hex>)');
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw refuse('it does not exist');
      throw storageError(`cannot read the savepoint folder ${dir}: ${describe(error)}`, error);
    }
    const foreign = names.filter((n) => n !== METADATA_FILE && !STATE_FILE.test(n));
    if (foreign.length > 0) throw refuse(`it holds files weir did not write: ${foreign.join(', ')}`);
    try {
      await discardFolder(dirname(dir), name, `.${name}.discard`);
    } catch (error) {
      throw storageError(`cannot delete the savepoint ${dir}: ${describe(error)}`, error);
    }
  }

  private async readJobDir(): Promise<string[]> {
    try {
      return await readdir(this.jobDir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw storageError(`cannot read the checkpoint directory ${this.jobDir}: ${describe(error)}`, error);
    }
  }

  /** Writes a whole folder under `tempName` in `parent` and renames it to `finalName`. */
  private async writeFolder(
    parent: string,
    tempName: string,
    finalName: string,
    kind: CheckpointKind,
    snapshot: CheckpointSnapshot,
  ): Promise<{ path: string; bytes: number }> {
    this.validate(snapshot, kind);
    const temp = join(parent, tempName);
    const target = join(parent, finalName);
    const what = `${kind} ${snapshot.id}`;
    this.active.add(tempName);
    try {
      await makeDirectories(parent);
      await mkdir(temp);
      const files: StateFileMetadata[] = [];
      let bytes = 0;
      for (let i = 0; i < snapshot.entries.length; i++) {
        const entry = snapshot.entries[i];
        const encoded = this.encode(entry, what);
        const file = stateFileName(i);
        const sha256 = await writeDurably(join(temp, file), encoded);
        files.push({ name: entry.name, file, bytes: encoded.length, sha256 });
        bytes += encoded.length;
      }
      const base: Omit<CheckpointMetadata, 'checksum'> = {
        format: CHECKPOINT_FORMAT,
        version: CHECKPOINT_FORMAT_VERSION,
        id: snapshot.id,
        kind,
        job: snapshot.job,
        timestamp: snapshot.timestamp,
        completedAt: Date.now(),
        encoding: 'msgpack',
        info: snapshot.info ?? null,
        files,
      };
      const metadata = Buffer.from(serializeMetadata({ ...base, checksum: metadataChecksum(base) }));
      await writeDurably(join(temp, METADATA_FILE), metadata);
      bytes += metadata.length;
      await syncDirectory(temp);
      if ((await readIfExistsDir(target)) !== undefined)
        throw new WeirError(`${what} already exists at ${target}`, { code: ErrorCodes.INTERNAL, domain: 'internal' });
      try {
        await rename(temp, target);
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOTEMPTY' || code === 'EEXIST')
          throw new WeirError(`${what} already exists at ${target}`, { code: ErrorCodes.INTERNAL, domain: 'internal' });
        throw error;
      }
      await syncDirectory(parent);
      return { path: target, bytes };
    } catch (error) {
      await rm(temp, { recursive: true, force: true }).catch(() => undefined);
      if (error instanceof WeirError) throw error;
      throw storageError(`cannot write ${what} to ${target}: ${describe(error)}`, error);
    } finally {
      this.active.delete(tempName);
    }
  }

  private validate(snapshot: CheckpointSnapshot, kind: CheckpointKind): void {
    const bad = (why: string) =>
      new WeirError(`cannot write ${kind} ${snapshot.id}: ${why}`, { code: ErrorCodes.INTERNAL, domain: 'internal' });
    if (!isCheckpointId(snapshot.id)) throw bad(`the id must be a non-negative integer, got ${String(snapshot.id)}`);
    if (typeof snapshot.timestamp !== 'number' || !Number.isFinite(snapshot.timestamp)) throw bad('the timestamp must be a finite number');
    if (typeof snapshot.job !== 'string') throw bad('the job identifier must be a string');
    if (!Array.isArray(snapshot.entries)) throw bad('entries must be an array');
    const names = new Set<string>();
    for (const entry of snapshot.entries) {
      if (typeof entry?.name !== 'string') throw bad('every entry needs a string name');
      if (names.has(entry.name)) throw bad(`two entries are named '${entry.name}'`);
      names.add(entry.name);
    }
    try {
      JSON.stringify(snapshot.info ?? null);
    } catch (error) {
      throw bad(`info is not JSON: ${describe(error)}`);
    }
  }

  private encode(entry: StateEntry, what: string): Uint8Array {
    const fail = (why: string, cause?: unknown) =>
      new WeirError(`cannot write ${what}: state entry '${entry.name}' is not plain data: ${why}`, {
        code: ErrorCodes.STATE_ACCESS,
        domain: 'user',
        cause,
      });
    if (this.checkData) {
      const problem = checkPlainData(entry.data);
      if (problem) throw fail(problem);
    }
    try {
      return this.packr.pack(entry.data);
    } catch (error) {
      throw fail(describe(error), error);
    }
  }

  /** Deletes completed checkpoints beyond the newest {@link retain}, sparing `justWritten`; one pass at a time. */
  private applyRetention(justWritten: number): Promise<{ discarded: string[]; warnings: string[] }> {
    const pass = this.retention.then(async () => {
      const discarded: string[] = [];
      const warnings: string[] = [];
      const completed = await this.list();
      const keep = new Set(completed.slice(-this.retain).map((c) => c.id));
      keep.add(justWritten);
      for (const { id, path } of completed) {
        if (keep.has(id)) continue;
        try {
          await discardFolder(this.jobDir, basename(path), `.chk-${id}.discard-${randomHex()}`);
          discarded.push(path);
        } catch (error) {
          warnings.push(`could not delete the old checkpoint ${path}: ${describe(error)}`);
        }
      }
      return { discarded, warnings };
    });
    this.retention = pass.then(
      () => undefined,
      () => undefined,
    );
    return pass.catch((error: unknown) => ({ discarded: [], warnings: [`retention failed: ${describe(error)}`] }));
  }
}

async function readIfExistsDir(path: string): Promise<string[] | undefined> {
  try {
    return await readdir(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Reads and verifies a checkpoint or savepoint folder (or its `_metadata` file) without a
 * {@link CheckpointStorage}: for restoring from a savepoint. Throws a `WEIR_STATE_RESTORE` error
 * naming the damaged or missing file.
 */
export async function loadCheckpoint(path: string): Promise<StoredCheckpoint> {
  const dir = resolve(basename(path) === METADATA_FILE ? dirname(path) : path);
  const name = basename(dir);
  const cp = CHECKPOINT_FOLDER.exec(name);
  const sp = SAVEPOINT_FOLDER.exec(name);
  const expected = cp
    ? { kind: 'checkpoint' as const, id: Number(cp[1]) }
    : sp
      ? { kind: 'savepoint' as const, id: Number(sp[1]) }
      : undefined;
  const outcome = await readFolder(dir, expected?.kind, expected?.id, createStateUnpackr());
  if (!outcome.ok) throw restoreFailure(`cannot restore from ${dir}: ${outcome.reason}`);
  return outcome.checkpoint;
}

/**
 * Reads `_metadata` of a folder and verifies and decodes every state file it lists. An expected
 * kind and id (from the folder name) must match the metadata, so a folder copied under another
 * name is not taken for a different checkpoint.
 */
async function readFolder(dir: string, kind: CheckpointKind | undefined, id: number | undefined, unpackr: Unpackr): Promise<ReadOutcome> {
  const metadataPath = join(dir, METADATA_FILE);
  let text: Buffer | undefined;
  try {
    text = await readIfExists(metadataPath);
  } catch (error) {
    return { ok: false, reason: `metadata file ${metadataPath} cannot be read: ${describe(error)}` };
  }
  if (text === undefined) return { ok: false, reason: `metadata file ${metadataPath} is missing (the folder is incomplete or damaged)` };
  const parsed = parseMetadata(text.toString('utf8'));
  if (!parsed.ok) return { ok: false, reason: `metadata file ${metadataPath} ${parsed.reason}` };
  const metadata = parsed.metadata;
  if (kind !== undefined && metadata.kind !== kind)
    return { ok: false, reason: `metadata file ${metadataPath} describes a ${metadata.kind}, but the folder is named as a ${kind}` };
  if (id !== undefined && metadata.id !== id)
    return { ok: false, reason: `metadata file ${metadataPath} describes checkpoint ${metadata.id}, but the folder is named for ${id}` };
  const entries: StateEntry[] = [];
  let bytes = text.length;
  for (const file of metadata.files) {
    const filePath = join(dir, file.file);
    let data: Buffer | undefined;
    try {
      data = await readIfExists(filePath);
    } catch (error) {
      return { ok: false, reason: `state file ${filePath} cannot be read: ${describe(error)}` };
    }
    if (data === undefined) return { ok: false, reason: `state file ${filePath} is missing` };
    if (data.length !== file.bytes)
      return {
        ok: false,
        reason: `state file ${filePath} has ${data.length} bytes, the metadata says ${file.bytes} (truncated or overwritten)`,
      };
    const sha256 = await sha256Hex(data);
    if (sha256 !== file.sha256)
      return {
        ok: false,
        reason: `state file ${filePath} fails its sha256 checksum (expected ${file.sha256.slice(0, 12)}…, found ${sha256.slice(0, 12)}…)`,
      };
    try {
      entries.push({ name: file.name, data: unpackr.unpack(data) });
    } catch (error) {
      return { ok: false, reason: `state file ${filePath} cannot be decoded: ${describe(error)}` };
    }
    bytes += data.length;
  }
  return {
    ok: true,
    checkpoint: {
      id: metadata.id,
      kind: metadata.kind,
      job: metadata.job,
      timestamp: metadata.timestamp,
      completedAt: metadata.completedAt,
      info: metadata.info,
      entries,
      path: dir,
      bytes,
    },
  };
}

/** Whether a checkpoint folder's commits were sent to the sinks. */
async function isCommitted(dir: string): Promise<boolean> {
  try {
    await stat(join(dir, COMMITTED_MARKER));
    return true;
  } catch {
    return false;
  }
}

/** A run folder's name: `run-<UTC date>-<time>-<ms>-<hex>`, so names sort by start time. */
export const RUN_FOLDER = /^run-\d{8}-\d{6}-\d{3}-[0-9a-f]{8}$/;

/** The folder name of a run starting now (see {@link RUN_FOLDER}). */
export function newRunFolder(now = new Date()): string {
  const iso = now.toISOString(); // 2026-12-02T08:46:07.123Z
  return `run-${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${iso.slice(20, 23)}-${randomHex()}`;
}

/**
 * The run folders of a job directory, newest first. The job directory itself comes last when it
 * holds checkpoints of its own (the layout before run folders).
 */
export async function listRuns(jobDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(jobDir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw storageError(`cannot read the checkpoint directory ${jobDir}: ${describe(error)}`, error);
  }
  const runs = names
    .filter((n) => RUN_FOLDER.test(n))
    .sort()
    .reverse()
    .map((n) => join(jobDir, n));
  if (names.some((n) => CHECKPOINT_FOLDER.test(n))) runs.push(jobDir);
  return runs;
}

/** What {@link findResumeCheckpoint} found: the checkpoint, its run, and what it passed over. */
export interface ResumeCheckpoint extends LatestCheckpoint {
  /** The run folder it belongs to. */
  run: string;
}

/**
 * The outcome of {@link findResumeCheckpoint}: a checkpoint; or `finished` when the newest run
 * with checkpoints ended successfully (nothing to resume); or `none` when no run has one.
 */
export type ResumeOutcome = ({ kind: 'found' } & ResumeCheckpoint) | { kind: 'finished'; run: string } | { kind: 'none' };

/**
 * The newest checkpoint that verifies among a job's runs (`jobDir` holds run folders): the newest
 * run's newest valid one, else the run before's, and so on, stopping at a run that finished
 * successfully. Damaged checkpoints passed over (of every run looked at) are in `skipped`, newest
 * first. Throws `WEIR_STATE_RESTORE` when completed checkpoints exist but none verifies.
 */
export async function findResumeCheckpoint(jobDir: string): Promise<ResumeOutcome> {
  const skipped: SkippedCheckpoint[] = [];
  let sawCompleted = false;
  for (const run of await listRuns(jobDir)) {
    if (run !== jobDir && (await readIfExists(join(run, FINISHED_MARKER))) !== undefined) {
      if (!sawCompleted) return { kind: 'finished', run };
      break;
    }
    const storage = new CheckpointStorage(run);
    const completed = await storage.list();
    if (completed.length === 0) continue;
    sawCompleted = true;
    try {
      const latest = await storage.latest();
      if (latest) return { kind: 'found', ...latest, run, skipped: [...skipped, ...latest.skipped] };
    } catch (error) {
      if (!(error instanceof WeirError && error.code === ErrorCodes.STATE_RESTORE)) throw error;
      for (const { id, path } of completed.reverse()) {
        const outcome = await readFolder(path, 'checkpoint', id, createStateUnpackr());
        if (!outcome.ok) skipped.push({ path, id, reason: outcome.reason, committed: await isCommitted(path) });
      }
    }
  }
  if (!sawCompleted) return { kind: 'none' };
  throw restoreFailure(
    `no restorable checkpoint in ${jobDir}: every completed checkpoint is damaged:\n${skipped.map((s) => `  - ${s.reason}`).join('\n')}`,
  );
}
