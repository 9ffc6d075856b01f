//! Worker bootstrap (plain JS so any Node can load it): loads the job's worker bundle, or else the worker runtime module by module through the TypeScript hooks.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Stack traces name the user's .ts files and lines, through the bundle's source map too; this
// must be on before the bundle loads.
process.setSourceMapsEnabled(true);

/** The worker runtime of this thread (the `runSlot` function), loaded by the first task. */
let runtime;

/**
 * The bundle (job-bundle.ts: runtime and job in one plain ES module) loads without module hooks;
 * without one, job modules may be TypeScript and in a worker thread only hooks registered here
 * apply to later dynamic imports (on Node 20, `--import` in execArgv does not reach them).
 */
async function loadRuntime(bundle) {
  if (bundle) {
    try {
      return (await import(bundle)).default;
    } catch {
      // e.g. the job module throws while loading: the path below reports it as a deploy error
    }
  }
  const { registerTypeScript } = await import('../core/typescript-loader.mjs');
  await registerTypeScript();
  // In dist/ this file sits beside worker.js; in a checkout, beside worker.ts (the same copy the
  // coordinator runs, since both are found relative to this file).
  const source = new URL('./worker.ts', import.meta.url);
  return (await import(existsSync(fileURLToPath(source)) ? source.href : new URL('./worker.js', import.meta.url).href)).default;
}

/** The piscina task of a slot: `{ controlPort, bundle? }`, served until the coordinator shuts the slot down. */
export default async function runSlotTask(task) {
  runtime ??= loadRuntime(task.bundle);
  return (await runtime)(task);
}
