//! User-defined scalar functions (Flink's ScalarFunction): a TypeScript or JavaScript module's export, named by `'path/to/module.ts#exportName'`, resolved where the job is planned and imported again on every worker.

import { registerTypeScript } from '../core/typescript-loader.mjs';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import { SQL_FUNCTIONS } from './functions.ts';
import type { SqlType } from './plan.ts';

/**
 * A user-defined scalar function: called once per row with the SQL arguments (NULL as `null`), it
 * returns the result (`null` or `undefined` for NULL). `resultType` is its SQL result type
 * (`'BIGINT'`, `'STRING'`, `'DOUBLE'`, `'DECIMAL(10, 2)'`, …), as Flink reads it off a Java `eval`'s
 * signature. The function must be deterministic: every subtask runs its own copy.
 */
export type ScalarFunction = ((...args: never[]) => unknown) & { resultType?: string };

/**
 * Where a function lives (what a plan carries to the workers): an absolute module path and the
 * export's name, or the source text of a self-contained function.
 */
export type UserFunctionRef = { module: string; export: string } | { source: string };

/** A function registered in a TableEnvironment. */
export interface UserFunction {
  /** The SQL name, upper-cased (function names are case-insensitive, as in Flink). */
  name: string;
  /** `module#export`: the function's key in `$.udf` on the workers. */
  key: string;
  ref: UserFunctionRef;
  resultType: SqlType;
}

function functionError(message: string): WeirError {
  return new WeirError(message, { code: ErrorCodes.SQL_VALIDATION, domain: 'user' });
}

const TYPES: Record<string, SqlType['kind']> = {
  STRING: 'STRING',
  VARCHAR: 'STRING',
  CHAR: 'STRING',
  BOOLEAN: 'BOOLEAN',
  TINYINT: 'TINYINT',
  SMALLINT: 'SMALLINT',
  INT: 'INT',
  INTEGER: 'INT',
  BIGINT: 'BIGINT',
  FLOAT: 'FLOAT',
  DOUBLE: 'DOUBLE',
  DECIMAL: 'DECIMAL',
  TIMESTAMP: 'TIMESTAMP',
  TIMESTAMP_LTZ: 'TIMESTAMP_LTZ',
};

/** A function's declared result type (`'BIGINT'`, `'DECIMAL(10, 2)'`, `'TIMESTAMP(3)'`), nullable. */
function resultTypeOf(name: string, text: string | undefined): SqlType {
  if (typeof text !== 'string')
    throw functionError(`function '${name}': declare its SQL result type on the function, e.g. fn.resultType = 'BIGINT'`);
  const m = /^\s*([A-Za-z_]+)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$/.exec(text);
  const kind = m === null ? undefined : TYPES[m[1].toUpperCase()];
  if (m === null || kind === undefined)
    throw functionError(`function '${name}': unknown result type '${text}'; use one of ${Object.keys(TYPES).join(', ')}`);
  const t: SqlType = { kind, nullable: true };
  if (kind === 'DECIMAL') {
    t.precision = m[2] !== undefined ? Number(m[2]) : 10;
    t.scale = m[3] !== undefined ? Number(m[3]) : 0;
  } else if (kind === 'TIMESTAMP' || kind === 'TIMESTAMP_LTZ') t.precision = m[2] !== undefined ? Number(m[2]) : 3;
  return t;
}

/** The module and export of `'path/to/module.ts#exportName'` (a relative path from the working directory; no `#`: the default export). */
export function parseFunctionIdentifier(name: string, identifier: string): { module: string; export: string } {
  const hash = identifier.lastIndexOf('#');
  const path = hash < 0 ? identifier : identifier.slice(0, hash);
  const exported = hash < 0 ? 'default' : identifier.slice(hash + 1);
  if (!/\.(?:[cm]?[jt]s)$/.test(path))
    throw functionError(
      `function '${name}': '${identifier}' is not a module; weir loads a function from a TypeScript or JavaScript module, as 'path/to/module.ts#exportName' (a Java class name is for Flink)`,
    );
  const module = isAbsolute(path) ? path : resolve(process.cwd(), path);
  if (!existsSync(module)) throw functionError(`function '${name}': no module '${path}' (from ${process.cwd()})`);
  return { module, export: exported };
}

/**
 * A function from its source text. esbuild (tsx) may call its `__name` helper inside a function's
 * body; here it is the identity. Anything else the function reads from outside itself is not there.
 */
function fromSource(name: string, source: string): ScalarFunction {
  let fn: unknown;
  try {
    fn = new Function('__name', `"use strict"; return (${source});`)((f: unknown) => f);
  } catch (e) {
    throw functionError(
      `function '${name}': its source does not read as a function expression (${(e as Error).message}); register a module export instead`,
    );
  }
  if (typeof fn !== 'function') throw functionError(`function '${name}': its source is not a function`);
  return fn as ScalarFunction;
}

async function importExport(name: string, ref: { module: string; export: string }): Promise<ScalarFunction> {
  // A worker that loaded its job as one bundle has no TypeScript hooks yet: a function module in
  // TypeScript needs them (registering is a no-op where they are on already).
  if (/\.[cm]?tsx?$/.test(ref.module)) await registerTypeScript();
  const mod = (await import(pathToFileURL(ref.module).href)) as Record<string, unknown>;
  const fn = mod[ref.export];
  if (typeof fn !== 'function')
    throw functionError(
      `function '${name}': module '${ref.module}' has no function export '${ref.export}'${
        Object.keys(mod).length > 0 ? `; it exports ${Object.keys(mod).join(', ')}` : ''
      }`,
    );
  return fn as ScalarFunction;
}

/**
 * Resolves a function where the job is planned: a module reference is imported and its export
 * checked; a function object is taken by its source text (so it must not read anything from outside
 * itself: no imports, no variables of its module), checked to read back as a function. Either way
 * the result type is read from `resultType`.
 */
export async function resolveUserFunction(name: string, identifier: string | ScalarFunction): Promise<UserFunction> {
  if (typeof identifier === 'function') {
    const source = identifier.toString();
    fromSource(name, source);
    const key = `source:${createHash('sha256').update(source).digest('hex').slice(0, 16)}`;
    return { name: name.toUpperCase(), key, ref: { source }, resultType: resultTypeOf(name, identifier.resultType) };
  }
  const ref = parseFunctionIdentifier(name, identifier);
  const fn = await importExport(name, ref);
  return { name: name.toUpperCase(), key: `${ref.module}#${ref.export}`, ref, resultType: resultTypeOf(name, fn.resultType) };
}

/** Imports a plan's functions (on a worker, or the coordinator) into `$.udf`, by key, before the graph is built. */
export async function loadUserFunctions(functions: Record<string, UserFunctionRef>): Promise<void> {
  for (const [key, ref] of Object.entries(functions)) {
    if (SQL_FUNCTIONS.udf[key] !== undefined) continue;
    const fn = 'source' in ref ? fromSource(key, ref.source) : await importExport(key, ref);
    SQL_FUNCTIONS.udf[key] = fn as (...args: unknown[]) => unknown;
  }
}
