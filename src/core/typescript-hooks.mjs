//! Module hooks (node:module register) that load .ts/.mts/.tsx files as ES modules, transpiled by esbuild and cached on disk by content hash.
//
// Threading model: Node runs these hooks on its loader thread for the thread that registered
// them; the disk cache is shared by every thread and process (written by rename, so a reader
// never sees half a file).

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPESCRIPT = /\.(ts|mts|tsx)$/;
const DECLARATION = /\.d\.(ts|mts)$/;
/** Bump when the transform's options change, so old cache entries are not reused. */
const TRANSFORM_VERSION = 'weir-ts-1';

let cacheDir;
let esbuild;

/** Receives the cache folder from `registerTypeScript`. */
export function initialize(data) {
  cacheDir = data?.cacheDir;
}

function isTypeScriptUrl(url) {
  return typeof url === 'string' && url.startsWith('file:') && TYPESCRIPT.test(new URL(url).pathname) && !DECLARATION.test(url);
}

function isPathLike(specifier) {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/') || specifier.startsWith('file:');
}

/** What a TypeScript import may mean when the file it names is not there: `./a.js` → `./a.ts`, `./a` → `./a.ts`, `./dir` → `./dir/index.ts`. */
function candidates(specifier) {
  if (/\.js$/.test(specifier)) return [specifier.replace(/\.js$/, '.ts'), specifier.replace(/\.js$/, '.tsx')];
  if (/\.mjs$/.test(specifier)) return [specifier.replace(/\.mjs$/, '.mts')];
  if (/\.[a-z]+$/i.test(specifier)) return [];
  return [`${specifier}.ts`, `${specifier}.tsx`, `${specifier}/index.ts`];
}

/** Resolves as Node does; from a TypeScript file, a missing `.js` or extensionless relative import is tried as `.ts`. */
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const missing = error?.code === 'ERR_MODULE_NOT_FOUND' || error?.code === 'ERR_UNSUPPORTED_DIR_IMPORT';
    if (!missing || !isTypeScriptUrl(context.parentURL) || !isPathLike(specifier)) throw error;
    for (const candidate of candidates(specifier)) {
      try {
        return await nextResolve(candidate, context);
      } catch {
        // try the next spelling
      }
    }
    throw error;
  }
}

/** Loads a TypeScript file as an ES module (whatever the nearest package.json says). */
export async function load(url, context, nextLoad) {
  if (!isTypeScriptUrl(url)) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const source = await readFile(path, 'utf8');
  const key = createHash('sha256').update(`${TRANSFORM_VERSION}\0${path}\0${source}`).digest('hex').slice(0, 40);
  const cached = cacheDir ? join(cacheDir, `${key}.mjs`) : undefined;
  if (cached) {
    try {
      return { format: 'module', source: await readFile(cached, 'utf8'), shortCircuit: true };
    } catch {
      // not compiled yet
    }
  }
  esbuild ??= await import('esbuild');
  const { code } = await esbuild.transform(source, {
    loader: path.endsWith('.tsx') ? 'tsx' : 'ts',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    sourcefile: path,
  });
  if (cached) {
    try {
      await mkdir(cacheDir, { recursive: true });
      const temp = `${cached}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, code);
      await rename(temp, cached);
    } catch {
      // an unwritable cache only costs a compile next time
    }
  }
  return { format: 'module', source: code, shortCircuit: true };
}
