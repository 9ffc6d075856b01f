#!/usr/bin/env node
// The `weir` command: registers the TypeScript loader (job files are often .ts), then runs the CLI.
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
const built = new URL('../dist/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
const cli = await import(existsSync(source) ? source.href : built.href);
process.exitCode = await cli.main(process.argv.slice(2));
