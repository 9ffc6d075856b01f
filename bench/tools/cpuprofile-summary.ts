//! Summarises `.cpuprofile` files (from `node --cpu-prof`): self time by function and by file, one table per thread.
//
//   node --import tsx --cpu-prof --cpu-prof-dir /tmp/prof bench/foundation.ts --modes threads-2 --runs 1
//   tsx bench/tools/cpuprofile-summary.ts /tmp/prof [--top 25]

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { textTable } from '../lib/report.ts';

/** The parts of V8's `.cpuprofile` format this tool reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time per function and per file of one profile, in ms. */
export function summarise(profile: CpuProfile): { totalMs: number; byFunction: Map<string, number>; byFile: Map<string, number> } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // A sample's time is the delta to the next sample (V8's convention for self time).
  for (let i = 0; i < samples.length; i++) {
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + dt);
  }
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const cwd = process.cwd();
  for (const [id, us] of selfUs) {
    const frame = (nodes.get(id) as CpuProfile['nodes'][number]).callFrame;
    const file = frame.url ? relative(cwd, frame.url.replace(/^file:\/\//, '')) || frame.url : '(native)';
    // tsx-transpiled TypeScript keeps no line mapping in profiles: name the file only.
    const where = file === '(native)' ? '' : /\.[cm]?ts$/.test(file) ? file : `${file}:${frame.lineNumber + 1}`;
    const fn = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us / 1000);
    byFile.set(file, (byFile.get(file) ?? 0) + us / 1000);
  }
  return { totalMs: (profile.endTime - profile.startTime) / 1000, byFunction, byFile };
}

function top(map: Map<string, number>, total: number, n: number): string[][] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => [name.length > 90 ? `…${name.slice(-89)}` : name, ms.toFixed(1), `${((ms / total) * 100).toFixed(1)}%`]);
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '20' } } });
  const n = Number(values.top);
  const files = positionals.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(p, f)) : [p]));
  if (files.length === 0) {
    console.error('usage: tsx bench/tools/cpuprofile-summary.ts <file.cpuprofile | directory>... [--top N]');
    process.exit(1);
  }
  for (const file of files.sort()) {
    const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    const sampled = [...s.byFunction.values()].reduce((a, b) => a + b, 0);
    const idle = s.byFunction.get('(idle)') ?? 0;
    console.log(`\n${basename(file)}: ${s.totalMs.toFixed(0)} ms profiled, ${(sampled - idle).toFixed(0)} ms busy`);
    console.log(textTable(['function (self time)', '>ms', '>share'], top(s.byFunction, sampled, n)));
    console.log(textTable(['file (self time)', '>ms', '>share'], top(s.byFile, sampled, Math.min(n, 10))));
  }
}

main();
