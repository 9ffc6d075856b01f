// CPU profile of one Nexmark query on weir: runs it in a child under `node --cpu-prof` (main thread and every worker thread write a profile) and prints each thread's top self-time functions.
//
//   npx tsx bench/nexmark/profile.ts q0 --events 2000000 --parallelism 2 [--top 15] [--dir /tmp/weir-prof] [--analyze: only read the dir]
//
// Self time of a function = the sampled time the profiler found it on top of the stack. Shares are
// of the thread's profiled time, idle ("(idle)", "(program)", "(garbage collector)") included.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { executeJob } from '../../src/index.ts';
import { QUERIES, type QueryName } from './lib.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (ms) and the total, from a .cpuprofile. */
export function selfTimes(profile: CpuProfile): { total: number; byFunction: Map<string, number> } {
  const names = new Map<number, string>();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const path = f.url.startsWith('file:') ? fileURLToPath(f.url) : f.url.startsWith('/') ? f.url : '';
    const where = path !== '' ? ` ${relative(root, path)}:${f.lineNumber + 1}` : f.url !== '' ? ` ${f.url}` : '';
    names.set(n.id, `${f.functionName || '(anonymous)'}${where}`);
  }
  const byFunction = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const name = names.get(profile.samples[i]) as string;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  }
  return { total, byFunction };
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    events: { type: 'string', default: '2000000' },
    parallelism: { type: 'string', default: '2' },
    top: { type: 'string', default: '15' },
    dir: { type: 'string', default: '/tmp/weir-nexmark-profile' },
    child: { type: 'boolean', default: false },
    analyze: { type: 'boolean', default: false },
  },
});
const query = (positionals[0] ?? 'q0') as QueryName;
if (!(QUERIES as readonly string[]).includes(query)) throw new RangeError(`unknown query ${query}`);

if (values.child) {
  const t0 = performance.now();
  await executeJob(join(here, 'queries', `${query}.ts`), {
    mode: 'threads',
    parallelism: Number(values.parallelism),
    params: { events: Number(values.events), checkpointInterval: 10_000 },
  });
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${query}: ${values.events} events in ${s.toFixed(2)} s = ${(Number(values.events) / s / 1e3).toFixed(0)} k events/s (profiled)`,
  );
} else {
  if (!values.analyze) {
    rmSync(values.dir, { recursive: true, force: true });
    mkdirSync(values.dir, { recursive: true });
    const args = ['--cpu-prof', '--cpu-prof-dir', values.dir, '--import', 'tsx', fileURLToPath(import.meta.url), query, '--child'];
    args.push('--events', values.events, '--parallelism', values.parallelism);
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  for (const file of readdirSync(values.dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()) {
    const { total, byFunction } = selfTimes(JSON.parse(readFileSync(join(values.dir, file), 'utf8')) as CpuProfile);
    const busy = [...byFunction].filter(([n]) => !n.startsWith('(idle)')).reduce((a, [, ms]) => a + ms, 0);
    console.log(`\n${file}: ${(total / 1000).toFixed(2)} s profiled, ${(busy / 1000).toFixed(2)} s not idle`);
    const top = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
    for (const [name, ms] of top)
      console.log(`  ${((ms / total) * 100).toFixed(1).padStart(5)} %  ${ms.toFixed(0).padStart(6)} ms  ${name}`);
  }
}
