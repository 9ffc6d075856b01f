//! Loads TypeScript modules as ES modules in any thread (module hooks over esbuild, cached by content hash), and names the user's cache and runtime folders.
//
// Plain JavaScript on purpose: it runs before anything TypeScript can load (the `weir` command,
// every worker thread). It replaces a general-purpose loader (tsx) for one reason a user meets
// at once: tsx follows the nearest package.json's "type", so a job.ts in a folder without
// `"type": "module"` becomes CommonJS and cannot import weir (an ES module). Job files are
// ES modules whatever folder they sit in; the transpiled text is cached by content hash, so a
// job is compiled once and every later thread and run reads it from disk.

import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** The folder where weir caches what it fetched or compiled: $WEIR_CACHE_DIR, $XDG_CACHE_HOME/weir or ~/.cache/weir. */
export function userCacheDir() {
  if (process.env.WEIR_CACHE_DIR) return process.env.WEIR_CACHE_DIR;
  if (process.env.XDG_CACHE_HOME) return join(process.env.XDG_CACHE_HOME, 'weir');
  const home = homedir();
  return home ? join(home, '.cache', 'weir') : join(tmpdir(), `weir-cache-${uid()}`);
}

/** A per-user folder for live processes' files (sockets, registries): $XDG_RUNTIME_DIR/weir or <tmp>/weir-<uid>. */
export function userRuntimeDir() {
  if (process.env.XDG_RUNTIME_DIR) return join(process.env.XDG_RUNTIME_DIR, 'weir');
  return join(tmpdir(), `weir-${uid()}`);
}

function uid() {
  try {
    return String(userInfo().uid);
  } catch {
    return 'user';
  }
}

const REGISTERED = Symbol.for('weir.typescript-loader');

/**
 * Registers the TypeScript module hooks for this thread (once) and turns on source maps, so
 * stack traces name the user's `.ts` file and line. Safe to call more than once.
 */
export async function registerTypeScript() {
  if (globalThis[REGISTERED]) return;
  globalThis[REGISTERED] = true;
  process.setSourceMapsEnabled(true);
  const { register } = await import('node:module');
  register('./typescript-hooks.mjs', import.meta.url, { data: { cacheDir: join(userCacheDir(), 'ts') } });
}
