//! A thin promise layer over the `rocksdb` native binding: open, batched reads and writes, snapshot scans, and working directories that never outlive their process.

import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { ErrorCodes, WeirError } from '../core/errors.ts';

type Callback<T = void> = (error: Error | null | undefined, result?: T) => void;

/** The functions of the binding this file uses (rocksdb 5.x, `binding.js`). */
interface RocksBinding {
  db_init(): unknown;
  db_open(db: unknown, location: string, options: object, cb: Callback): void;
  db_close(db: unknown, cb: Callback): void;
  db_get_many(db: unknown, keys: Buffer[], options: object, cb: Callback<(Buffer | undefined)[]>): void;
  batch_init(db: unknown): unknown;
  batch_put(batch: unknown, key: Buffer, value: Buffer): void;
  batch_del(batch: unknown, key: Buffer): void;
  batch_write(batch: unknown, options: object, cb: Callback): void;
  iterator_init(db: unknown, options: object): unknown;
  iterator_next(it: unknown, cb: (error: Error | null, entries: Buffer[], finished: boolean) => void): void;
  iterator_end(it: unknown, cb: Callback): void;
}

let binding: RocksBinding | undefined;

/**
 * Loads the native binding on this thread. The main thread must load it before workers do: the
 * prebuilt addon registers itself once per process, so after the first thread that loaded it
 * exits, other threads fail with "Module did not self-register" — unless the main thread holds it.
 */
export function loadRocksDbBinding(): void {
  loadBinding();
}

function loadBinding(): RocksBinding {
  // The package's own JS layer adds checks and a callback per iterated entry; the binding it wraps is used directly.
  binding ??= createRequire(import.meta.url)('rocksdb/binding.js') as RocksBinding;
  return binding;
}

/** The default parent of RocksDB working directories. */
export function defaultRocksDbDir(): string {
  return join(tmpdir(), 'weir-rocksdb');
}

const OWNER_FILE = 'weir-owner.json';
let instanceCounter = 0;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes working directories under `parent` whose owning process is gone (a crash or a kill
 * left them), and, when `ownedPrefix` is given, this process's own directories with that prefix
 * (a job that ended: attempts whose worker died never removed theirs).
 */
export function sweepRocksDbDirs(parent: string, ownedPrefix?: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of entries) {
    const dir = join(parent, name);
    if (ownedPrefix !== undefined && name.startsWith(ownedPrefix)) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // still written to (a database closing in a thread being stopped): the next sweep removes it
      }
      continue;
    }
    let pid: number | undefined;
    try {
      pid = (JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as { pid?: number }).pid;
    } catch {
      continue; // not ours
    }
    if (typeof pid === 'number' && !processAlive(pid)) rmSync(dir, { recursive: true, force: true });
  }
  // The default parent is weir's own: it goes when the last working directory in it has gone.
  if (parent === defaultRocksDbDir()) {
    try {
      rmdirSync(parent);
    } catch {
      // not empty: another job still works there
    }
  }
}

/** The name prefix of the working directories a job of this process creates. */
export function rocksDbDirPrefix(jobName: string): string {
  return `${jobName.replace(/[^A-Za-z0-9._-]/g, '_')}--${process.pid}--`;
}

/**
 * One RocksDB database in a working directory of its own.
 *
 * Threading model: the calling thread issues every call; the binding runs them on libuv's thread
 * pool and calls back on this thread. Reads and writes may be in flight together; callers order
 * what must be ordered by awaiting. An iterator reads the database as it was when it was created
 * (a RocksDB snapshot taken synchronously in `iterator_init`).
 *
 * Life cycle: constructed (directory made, owner file written, stale directories of dead
 * processes removed) → {@link opened} → used → {@link close} (database closed, directory removed).
 */
export class RocksDbStore {
  /** The database directory. */
  readonly location: string;
  private readonly db: unknown;
  private readonly binding = loadBinding();
  /** Resolves when the database is open. */
  readonly opened: Promise<void>;
  private closing: Promise<void> | undefined;

  constructor(parent: string, name: string, options: { writeBufferSize?: number; blockCacheSize?: number } = {}) {
    mkdirSync(parent, { recursive: true });
    sweepRocksDbDirs(parent);
    this.location = join(parent, `${name}-t${threadId}-${++instanceCounter}-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(this.location, { recursive: true });
    writeFileSync(join(this.location, OWNER_FILE), JSON.stringify({ pid: process.pid, threadId }));
    this.db = this.binding.db_init();
    this.opened = new Promise((resolve, reject) =>
      this.binding.db_open(
        this.db,
        join(this.location, 'db'),
        {
          createIfMissing: true,
          errorIfExists: true,
          compression: true,
          writeBufferSize: options.writeBufferSize ?? 32 << 20,
          cacheSize: options.blockCacheSize ?? 32 << 20,
          infoLogLevel: 'error',
        },
        (error) => (error ? reject(this.error('open', error)) : resolve()),
      ),
    );
    // Whoever uses the database awaits `opened` and sees the failure; a store closed before anyone
    // did (its job failed while deploying) must not leave the rejection unhandled.
    this.opened.catch(() => undefined);
  }

  private error(what: string, cause: Error): WeirError {
    return new WeirError(`RocksDB ${what} failed in ${this.location}: ${cause.message}`, {
      code: ErrorCodes.STATE_ACCESS,
      domain: 'external',
      cause,
    });
  }

  /** Values of `keys`, undefined where absent: one native call for all of them. */
  getMany(keys: Buffer[]): Promise<(Buffer | undefined)[]> {
    return new Promise((resolve, reject) =>
      this.binding.db_get_many(this.db, keys, { asBuffer: true, fillCache: true }, (error, values) =>
        error ? reject(this.error('read', error)) : resolve(values as (Buffer | undefined)[]),
      ),
    );
  }

  /** Writes puts (`value` a Buffer) and deletes (`value` undefined) atomically, in one native call. */
  write(keys: Buffer[], values: (Buffer | undefined)[]): Promise<void> {
    const batch = this.binding.batch_init(this.db);
    for (let i = 0; i < keys.length; i++) {
      const v = values[i];
      if (v === undefined) this.binding.batch_del(batch, keys[i]);
      else this.binding.batch_put(batch, keys[i], v);
    }
    return new Promise((resolve, reject) =>
      this.binding.batch_write(batch, { sync: false }, (error) => (error ? reject(this.error('write', error)) : resolve())),
    );
  }

  /**
   * Reads the whole database, in key order, as it is now: the view is fixed synchronously by this
   * call; `onEntries` gets chunks (`entries[i]` a key, `entries[i - 1]` its value, from the end of
   * the array down) and may return a promise to pause the scan.
   */
  scan(onEntries: (entries: Buffer[]) => void | Promise<void>): Promise<void> {
    const it = this.binding.iterator_init(this.db, {
      keys: true,
      values: true,
      keyAsBuffer: true,
      valueAsBuffer: true,
      highWaterMark: 1 << 20,
    });
    const binding = this.binding;
    return new Promise<void>((resolve, reject) => {
      const end = (error?: Error): void => binding.iterator_end(it, () => (error ? reject(error) : resolve()));
      const next = (): void =>
        binding.iterator_next(it, (error, entries, finished) => {
          if (error) return end(this.error('scan', error));
          let paused: void | Promise<void> = undefined;
          try {
            if (entries.length > 0) paused = onEntries(entries);
          } catch (e) {
            return end(e as Error);
          }
          if (finished) return end();
          if (paused) paused.then(next, (e: Error) => end(e));
          else next();
        });
      next();
    });
  }

  /** Closes the database (after its open settled) and removes its directory; every call resolves when that is done. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.opened;
        await new Promise<void>((resolve) => this.binding.db_close(this.db, () => resolve()));
      } catch {
        // an open that failed leaves nothing to close
      }
      if (existsSync(this.location)) rmSync(this.location, { recursive: true, force: true });
    })();
    return this.closing;
  }
}
