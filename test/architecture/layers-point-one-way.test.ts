// Architecture: imports in src/ point one way along DESIGN.md's layers, and the worker entry never reaches api, sql or cli.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const LAYERS = [
  'core',
  'mailbox',
  'state',
  'time',
  'windows',
  'checkpoint',
  'actors',
  'connectors',
  'graph',
  'scheduler',
  'api',
  'sql',
  'observe',
  'testing',
  'tools',
  'cli',
];
const SRC = resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.(ts|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The files `file` imports; `loaded`: only what is loaded at run time (`import type` is erased by TypeScript). */
function imports(file: string, loaded = false): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(
    /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|new URL\(\s*['"](\.[^'"]+)['"]/g,
  )) {
    if (loaded && /^(?:import|export)\s+type\s/.test(m[0])) continue;
    const spec = m[1] ?? m[2] ?? m[3];
    // A folder URL (errors.ts finds weir's own code by it) is no import.
    if (spec.startsWith('.') && !spec.endsWith('/')) out.push(resolve(dirname(file), spec));
  }
  return out;
}

const layerOf = (file: string): string | undefined => relative(SRC, file).split('/')[0];

/** What loading `start` loads: the files and packages its static imports reach (type-only imports are erased; a dynamic import() loads when called). */
function staticLoad(start: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const stack = [start];
  while (stack.length) {
    const file = stack.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      if (!m[1].startsWith('.')) {
        packages.add(m[1]);
        continue;
      }
      const target = resolve(dirname(file), m[1]);
      stack.push(statSync(target, { throwIfNoEntry: false }) ? target : target.replace(/\.js$/, '.ts'));
    }
  }
  return { files, packages };
}

describe('layering', () => {
  it('lets each folder import only itself and the folders before it', () => {
    const violations: string[] = [];
    for (const file of files(SRC)) {
      const from = layerOf(file);
      if (!from || from === 'index.ts') continue;
      for (const target of imports(file)) {
        const rel = relative(SRC, target);
        // The package manifest is read for `weir --version`.
        if (rel === '../package.json') continue;
        if (rel.startsWith('..')) {
          violations.push(`${relative(SRC, file)} imports outside src/: ${rel}`);
          continue;
        }
        const to = layerOf(target) as string;
        if (to === 'index.ts') {
          violations.push(`${relative(SRC, file)} imports the public index`);
          continue;
        }
        if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) violations.push(`${relative(SRC, file)} (${from}) imports ${rel} (${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps every folder of src/ in the layer list', () => {
    const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
    expect(folders.filter((f) => !LAYERS.includes(f))).toEqual([]);
  });

  it('never lets the worker entry reach api, sql or cli', () => {
    const seen = new Set<string>();
    const stack = [join(SRC, 'scheduler/worker-entry.mjs')];
    while (stack.length) {
      const file = stack.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const target of imports(file)) {
        // The bootstrap loads worker.ts from source, or worker.js beside it when built.
        const source = target.replace(/\.js$/, '.ts');
        if (target.startsWith(SRC)) stack.push(statSync(target, { throwIfNoEntry: false }) ? target : source);
      }
    }
    const reached = [...seen].map((f) => layerOf(f));
    expect(reached).toContain('scheduler');
    expect(reached.filter((l) => l === 'api' || l === 'sql' || l === 'cli' || l === 'index.ts')).toEqual([]);
  });

  it('keeps the HTTP server, Prometheus and the log libraries out of what the package entry loads (every worker loads it through the job module)', () => {
    const { files: seen, packages } = staticLoad(join(SRC, 'index.ts'));
    expect(seen.has(join(SRC, 'observe/registry.ts'))).toBe(true);
    const heavy = ['fastify', '@fastify/static', 'prom-client', 'pino', 'pino-pretty', 'log-update', 'playwright-core'];
    expect([...packages].filter((p) => heavy.includes(p))).toEqual([]);
  });

  it('never lets the SQL job module (what workers load for a SQL job) reach the parser or planner', () => {
    const seen = new Set<string>();
    const stack = [join(SRC, 'sql/sql-job.ts')];
    const packages = new Set<string>();
    while (stack.length) {
      const file = stack.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'".][^'"]*)['"]/g)) packages.add(m[1]);
      for (const target of imports(file, true)) {
        if (target.startsWith(SRC)) stack.push(statSync(target, { throwIfNoEntry: false }) ? target : target.replace(/\.js$/, '.ts'));
      }
    }
    const sqlFiles = [...seen].filter((f) => layerOf(f) === 'sql').map((f) => relative(SRC, f));
    expect(sqlFiles).toContain('sql/runtime.ts');
    expect(sqlFiles.filter((f) => /parser|planner|reserved|table-environment/.test(f))).toEqual([]);
    expect(packages.has('chevrotain')).toBe(false);
  });

  it('never lets StreamTableEnvironment (built on every worker of a job using it) load the parser or planner, except on the main thread', () => {
    const { files: seen, packages } = staticLoad(join(SRC, 'sql/stream-table-environment.ts'));
    const reached = [...seen].map((f) => relative(SRC, f));
    expect(reached).toContain('sql/runtime.ts');
    expect(
      reached.filter((f) => /parser|planner|reserved|table-environment\.ts$/.test(f) && f !== 'sql/stream-table-environment.ts'),
    ).toEqual([]);
    expect(packages.has('chevrotain')).toBe(false);
    // its one dynamic import (the planner's TableEnvironment) sits behind the main-thread guard
    const text = readFileSync(join(SRC, 'sql/stream-table-environment.ts'), 'utf8');
    const dynamic = [...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
    expect(dynamic).toEqual(['./table-environment.ts']);
    expect(text.indexOf('if (!isMainThread)')).toBeGreaterThan(-1);
    expect(text.indexOf('if (!isMainThread)')).toBeLessThan(text.indexOf("import('./table-environment.ts')"));
  });

  it('keeps the SQL parser (chevrotain) out of what importing weir loads: the Table API imports it on first use', () => {
    const seen = new Set<string>();
    const stack = [join(SRC, 'index.ts')];
    while (stack.length) {
      const file = stack.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^(?:import|export)\s(?!type\b)[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
        const target = resolve(dirname(file), m[1]);
        stack.push(statSync(target, { throwIfNoEntry: false }) ? target : target.replace(/\.js$/, '.ts'));
      }
    }
    const reached = [...seen].map((f) => relative(SRC, f));
    expect(reached).toContain('sql/table-environment.ts');
    expect(reached.filter((f) => f === 'sql/parser.ts')).toEqual([]);
  });
});
