#!/usr/bin/env node
// The `weir` command: registers the TypeScript module hooks (job files are often .ts), then runs the CLI.
//
// An installed package ships only dist/, so the CLI, the job's `import 'weir-stream'` and the
// worker threads all load the same copy. A checkout of the repository (src/ beside dist/)
// runs its sources, unless WEIR_USE_DIST=1 asks for the built copy.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
const useSource = existsSync(fileURLToPath(source)) && process.env.WEIR_USE_DIST !== '1';
const root = useSource ? '../src/' : '../dist/';
const { registerTypeScript } = await import(new URL(`${root}core/typescript-loader.mjs`, import.meta.url).href);
await registerTypeScript();
const cli = await import(new URL(useSource ? `${root}cli/main.ts` : `${root}cli/main.js`, import.meta.url).href);
process.exitCode = await cli.main(process.argv.slice(2));
