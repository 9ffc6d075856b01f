//! Compiles a job module and the worker runtime into one plain ES module, once per job content, so worker threads load one file and transpile nothing.
//
// Why: a worker that loads TypeScript through module hooks starts a hooks thread of its own, then
// reads, hashes and resolves each of a hundred-odd files one by one (about 600 ms a thread at
// load 8); the same code as one file loads in about 120 ms, and an installed package's plain
// JavaScript needs no hooks at all. esbuild bundles on the main thread (its own process, so it
// overlaps the job's loading there); the result is cached on disk by the content of every input.
//
// What stays outside the bundle: Node's built-ins and every package from node_modules other than
// weir itself, imported by absolute URL as Node resolved them, so native modules and package
// singletons behave as before. Each bundled file keeps its own `import.meta.url`, which weir uses
// to find its files and to tell its frames from the user's.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { userCacheDir } from '../core/typescript-loader.mjs';

/** Bump when the bundle's options or entry change, so old cache entries are not reused. */
const BUNDLE_VERSION = 'weir-worker-bundle-2';

/** The bundle's entry (generated, not a file). */
const ENTRY_NAME = 'weir-worker-bundle.js';

/** The folder of weir's own package (its files are bundled even when installed under node_modules). */
const WEIR_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The worker runtime beside this file: `.ts` in a checkout, `.js` in dist/ (as worker-entry.mjs decides). */
function runtimeFile(name: string): string {
  const ts = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  return existsSync(ts) ? ts : fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

/** What the cache remembers of a bundle: its inputs with their hashes, and the packages it imports. */
interface Manifest {
  version: string;
  bundle: string;
  inputs: { path: string; hash: string }[];
  externals: string[];
}

/** The folder of compiled worker bundles: `<user cache>/worker-bundles`. */
export function bundleCacheDir(): string {
  return join(userCacheDir(), 'worker-bundles');
}

function sha(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 40);
}

async function writeAtomically(path: string, content: string | Uint8Array): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, content);
  await rename(temp, path);
}

/** The cached bundle of a manifest, when every input still has the content it was built from. */
async function cached(manifestPath: string): Promise<string | undefined> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
  if (manifest.version !== BUNDLE_VERSION || !existsSync(manifest.bundle)) return undefined;
  if (!manifest.externals.every((p) => existsSync(p))) return undefined;
  const hashes = await Promise.all(manifest.inputs.map((i) => readFile(i.path).then(sha, () => '')));
  if (!hashes.every((h, k) => h === manifest.inputs[k].hash)) return undefined;
  await touch(manifest.bundle, manifestPath);
  return manifest.bundle;
}

/** Marks files as used now: pruning goes by the time of last use. */
async function touch(...paths: string[]): Promise<void> {
  const now = new Date();
  await Promise.all(paths.map((p) => utimes(p, now, now).catch(() => undefined)));
}

/** Bundles and manifests unused this long are removed when a new bundle is written. */
const PRUNE_AFTER_MS = 14 * 24 * 3600_000;

/** Removes bundles and manifests not used for {@link PRUNE_AFTER_MS} (a thread replaced later in a job whose bundle is gone loads the job module by module). */
async function prune(dir: string): Promise<void> {
  const cutoff = Date.now() - PRUNE_AFTER_MS;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!/\.(mjs|json)$/.test(name)) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info && info.mtimeMs < cutoff) await rm(path, { force: true }).catch(() => undefined);
  }
}

/**
 * The URL of one ES module holding the worker runtime and the job module (registered with the
 * job loader under `jobModuleUrl`), built or taken from the cache; undefined when the job cannot
 * be bundled (not a file, or something esbuild refuses): workers then load it module by module.
 */
export async function bundleJobForWorkers(jobModuleUrl: string): Promise<string | undefined> {
  if (!jobModuleUrl.startsWith('file:')) return undefined;
  const jobPath = fileURLToPath(jobModuleUrl);
  const worker = runtimeFile('worker');
  const loader = runtimeFile('job-loader');
  const dir = bundleCacheDir();
  const manifestPath = join(dir, `${sha(`${BUNDLE_VERSION}\0${worker}\0${jobPath}`)}.json`);
  const hit = await cached(manifestPath);
  if (hit) return pathToFileURL(hit).href;
  try {
    return pathToFileURL(await build(jobModuleUrl, jobPath, worker, loader, manifestPath)).href;
  } catch (error) {
    // Workers load the job module by module: slower to start, same behaviour. Said once, not hidden.
    process.emitWarning(
      `could not bundle job ${jobPath} for worker threads (${(error as Error)?.message?.split('\n')[0] ?? String(error)}); workers load it module by module, which starts slower`,
      { code: 'WEIR_WORKER_BUNDLE' },
    );
    return undefined;
  }
}

async function build(jobModuleUrl: string, jobPath: string, worker: string, loader: string, manifestPath: string): Promise<string> {
  const esbuild = await import('esbuild');
  const entry = [
    `import runSlot from ${JSON.stringify(worker)};`,
    `import { preloadJobModule } from ${JSON.stringify(loader)};`,
    `import * as job from ${JSON.stringify(jobPath)};`,
    `preloadJobModule(${JSON.stringify(jobModuleUrl)}, job);`,
    'export default runSlot;',
  ].join('\n');
  const externals = new Set<string>();
  const result = await esbuild.build({
    stdin: { contents: entry, resolveDir: dirname(jobPath), loader: 'js', sourcefile: ENTRY_NAME },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    outfile: join(dirname(manifestPath), 'bundle.mjs'),
    // Stack traces name the user's files and lines (workers enable source maps before loading).
    sourcemap: 'inline',
    sourcesContent: false,
    // Class and function names stay as written: messages and operator names use them.
    keepNames: true,
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        name: 'weir-worker-bundle',
        setup(b) {
          // Packages (bare specifiers) other than weir stay outside, imported by absolute URL.
          b.onResolve({ filter: /^[^./]/ }, async (args) => {
            if (args.pluginData === 'weir-resolving' || args.path.startsWith('node:')) return undefined;
            const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'weir-resolving' });
            // What cannot be resolved fails where Node fails it: when (and if) it is imported.
            if (found.errors.length > 0) return { path: args.path, external: true };
            if (found.external || !isAbsolute(found.path)) return undefined;
            if (found.path.startsWith(WEIR_ROOT) && !found.path.slice(WEIR_ROOT.length).includes(`node_modules${sep}`)) return undefined;
            if (!found.path.includes(`${sep}node_modules${sep}`)) return undefined;
            externals.add(found.path);
            return { path: pathToFileURL(found.path).href, external: true };
          });
          // Every file keeps the import.meta.url (dirname, filename) it has when Node loads it.
          b.onLoad({ filter: /\.(m?[jt]sx?|cjs|cts)$/ }, async (args) => {
            const text = await readFile(args.path, 'utf8');
            const loader = /\.[cm]?tsx$/.test(args.path)
              ? 'tsx'
              : /\.[cm]?ts$/.test(args.path)
                ? 'ts'
                : /x$/.test(args.path)
                  ? 'jsx'
                  : 'js';
            const meta: Record<string, string> = { url: pathToFileURL(args.path).href, dirname: dirname(args.path), filename: args.path };
            const contents = text.replace(/\bimport\.meta\.(url|dirname|filename)\b/g, (_, key: string) => JSON.stringify(meta[key]));
            return { contents, loader };
          });
        },
      },
    ],
  });
  const code = result.outputFiles[0].contents;
  const cwd = process.cwd();
  const entryFile = join(dirname(jobPath), ENTRY_NAME);
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.startsWith('<') && !p.includes(':'))
    .map((p) => resolve(cwd, p))
    .filter((p) => p !== entryFile);
  const hashes = await Promise.all(inputs.map(async (path) => ({ path, hash: sha(await readFile(path)) })));
  const dir = dirname(manifestPath);
  await mkdir(dir, { recursive: true });
  const bundle = join(dir, `${sha(code)}.mjs`);
  if (!existsSync(bundle)) await writeAtomically(bundle, code);
  else await touch(bundle);
  const manifest: Manifest = { version: BUNDLE_VERSION, bundle, inputs: hashes, externals: [...externals] };
  await writeAtomically(manifestPath, JSON.stringify(manifest));
  await prune(dir);
  return bundle;
}
