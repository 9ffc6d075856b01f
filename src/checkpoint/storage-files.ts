//! File helpers of checkpoint storage: durable writes in chunks, directory fsync, checksummed reads that leave the event loop breathing.

import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Bytes written or hashed per step; between steps other callbacks of the event loop run. */
const CHUNK = 4 << 20;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The code of a Node.js system error (`ENOENT`, …), if it is one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Errnos a restart cannot cure: the folder is read-only, not ours, or the disk is full. Checkpoint
 * storage fails the job at once on these instead of retrying.
 */
export const UNRECOVERABLE_ERRNOS: ReadonlySet<string> = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT', 'ENOTDIR']);

let injectedFault: string | undefined;

/**
 * Test hook: while set, every file or folder checkpoint storage creates fails with this errno
 * (`ENOSPC`, `EROFS`, …), as the file system would. Tests run as root, where a chmod'ed folder
 * stays writable and no read-only or full mount can be made; this is how they reach those paths.
 * `undefined` turns it off.
 */
export function injectStorageFault(code: string | undefined): void {
  injectedFault = code;
}

function checkInjectedFault(syscall: string, path: string): void {
  if (injectedFault === undefined) return;
  const error = new Error(`${injectedFault}: injected fault, ${syscall} '${path}'`) as Error & {
    code: string;
    syscall: string;
    path: string;
  };
  error.code = injectedFault;
  error.syscall = syscall;
  error.path = path;
  throw error;
}

/**
 * Creates `dir` and its missing parents one level at a time, so a failure carries the errno of the
 * level that failed (`fs.mkdir`'s recursive mode reports a read-only parent as `ENOENT`, and loops
 * forever under `/proc`).
 */
export async function makeDirectories(dir: string): Promise<void> {
  checkInjectedFault('mkdir', dir);
  try {
    await mkdir(dir);
    return;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || dirname(dir) === dir) throw error;
  }
  await makeDirectories(dirname(dir));
  try {
    await mkdir(dir);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
  }
}

/**
 * Creates `path` (it must not exist), writes `data` in chunks, fsyncs and closes it; returns the
 * sha256 of what was written (hashed chunk by chunk, between the writes).
 */
export async function writeDurably(path: string, data: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  checkInjectedFault('open', path);
  const handle = await open(path, 'wx');
  try {
    for (let offset = 0; offset < data.length;) {
      const end = Math.min(offset + CHUNK, data.length);
      const chunk = data.subarray(offset, end);
      hash.update(chunk);
      for (let done = 0; done < chunk.length;) {
        const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, offset + done);
        done += bytesWritten;
      }
      offset = end;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/**
 * Fsyncs a directory, so the names created or renamed in it survive a power loss. Windows cannot
 * open a directory for syncing; there the rename's own durability has to do.
 */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch (error) {
    if (process.platform === 'win32') return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    const code = errorCode(error);
    if (process.platform !== 'win32' && code !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}

/** The sha256 of `data` as lower-case hex, hashed in chunks with a turn of the event loop between them. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  for (let offset = 0; offset < data.length; offset += CHUNK) {
    if (offset > 0) await nextTurn();
    hash.update(data.subarray(offset, Math.min(offset + CHUNK, data.length)));
  }
  return hash.digest('hex');
}

/** Reads a whole file; undefined when it does not exist. */
export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Removes a folder so that an interruption never leaves something that looks whole: first an
 * atomic rename to `discardName` (a hidden leftover name), then the recursive delete.
 */
export async function discardFolder(parent: string, name: string, discardName: string): Promise<void> {
  const hidden = join(parent, discardName);
  try {
    await rename(join(parent, name), hidden);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  await rm(hidden, { recursive: true, force: true });
}
