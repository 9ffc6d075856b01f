//! Loads a job module and builds its job graph; shared by the coordinator and the workers.

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { JobOptions } from '../core/protocol.ts';
import { RUNTIME_COPY, isJobDefinition, type JobDefinition } from '../graph/job-definition.ts';
import { registerTypeScript } from '../core/typescript-loader.mjs';
import { fileURLToPath } from 'node:url';
import type { JobGraph } from '../graph/job-graph.ts';

/** Turns a path (relative to the working directory) or URL into a module URL. */
export function toModuleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (/^[a-z]+:\/\//i.test(module) || module.startsWith('file:')) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

/** Job modules already evaluated in this thread (a worker bundle holds its job), by module URL. */
const preloaded = new Map<string, { default?: unknown }>();

/** Registers a job module evaluated in this thread under its URL, so loading it imports nothing. */
export function preloadJobModule(moduleUrl: string, module: { default?: unknown }): void {
  preloaded.set(moduleUrl, module);
}

/** Imports a job module and returns its default export, checked to be a job definition. */
export async function loadJobDefinition(moduleUrl: string): Promise<JobDefinition> {
  let module: { default?: unknown } | undefined = preloaded.get(moduleUrl);
  if (module === undefined)
    try {
      // A TypeScript job loads as an ES module under plain node too, with no loader flag.
      if (/\.(ts|mts|tsx)$/.test(new URL(moduleUrl).pathname)) await registerTypeScript();
      module = (await import(moduleUrl)) as { default?: unknown };
    } catch (error) {
      throw new WeirError(`cannot load job module ${displayPath(moduleUrl)}: ${(error as Error).message}`, {
        code: ErrorCodes.JOB_MODULE,
        domain: 'user',
        cause: error,
      });
    }
  if (!isJobDefinition(module.default)) {
    throw new WeirError(`job module ${displayPath(moduleUrl)} must default-export a job made by defineJob(env => ...)`, {
      code: ErrorCodes.JOB_MODULE,
      domain: 'user',
    });
  }
  const runtime = module.default.runtime;
  if (runtime !== undefined && runtime !== RUNTIME_COPY) {
    throw new WeirError(
      `job module ${displayPath(moduleUrl)} was made by another copy of weir (${displayPath(runtime)}) than the one running it (${displayPath(RUNTIME_COPY)}); ` +
        'import weir in the job by its package name and run it with the same installation',
      { code: ErrorCodes.JOB_MODULE, domain: 'user' },
    );
  }
  return module.default;
}

/** A file URL as a path, for messages. */
function displayPath(url: string): string {
  return url.startsWith('file:') ? fileURLToPath(url) : url;
}

/** Loads a job module and builds its graph for the given options. */
export async function loadJobGraph(moduleUrl: string, options: JobOptions): Promise<JobGraph> {
  const definition = await loadJobDefinition(moduleUrl);
  return definition.buildJobGraph(options);
}
