//! Worker bootstrap (plain JS so any Node can load it): registers the TypeScript module hooks, then loads the worker runtime beside it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { registerTypeScript } from '../core/typescript-loader.mjs';

// Job modules may be TypeScript; in a worker thread only hooks registered here apply to later
// dynamic imports (on Node 20, `--import` in execArgv does not reach them).
await registerTypeScript();

// In dist/ this file sits beside worker.js; in a checkout, beside worker.ts (the same copy the
// coordinator runs, since both are found relative to this file).
const source = new URL('./worker.ts', import.meta.url);
const runtime = await import(existsSync(fileURLToPath(source)) ? source.href : new URL('./worker.js', import.meta.url).href);

export default runtime.default;
