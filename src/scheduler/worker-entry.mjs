//! Worker bootstrap (plain JS so any Node can load it): registers the TypeScript loader, then loads the worker runtime.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// Job modules may be TypeScript; in a worker thread only a loader registered here applies to
// later dynamic imports (on Node 20, `--import tsx` in execArgv does not reach them).
register();

const source = new URL('./worker.ts', import.meta.url);
const runtime = await import(existsSync(fileURLToPath(source)) ? source.href : new URL('./worker.js', import.meta.url).href);

export default runtime.default;
