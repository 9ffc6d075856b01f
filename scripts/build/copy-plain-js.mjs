// Build step: copies what tsc does not emit into dist/, beside the compiled code: the plain-JavaScript files of src/ (module hooks, worker bootstrap) with their .d.mts types, and the dashboard's static page (src/observe/dashboard/**: HTML, CSS, ES modules).
import { cpSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !/\.(mjs|d\.mts)$/.test(entry.name)) continue;
  const from = join(entry.parentPath, entry.name);
  cpSync(from, join(dist, relative(src, from)));
}
// Served as they are by src/observe/dashboard.ts, which finds them beside itself.
cpSync(join(src, 'observe', 'dashboard'), join(dist, 'observe', 'dashboard'), { recursive: true });
