//! Runs every `*.bench.ts` under bench/micro (or those matching the given words) and writes bench/results/micro.json.
//
//   npm run bench:micro                 all suites
//   npm run bench:micro -- --quick      short time budgets (smoke run)
//   npm run bench:micro -- codec        suites whose path contains "codec"

import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { MicroResult, MicroSuite } from '../lib/micro.ts';
import { machineInfo, machineLine, sourceRevision } from '../lib/report.ts';

const here = dirname(fileURLToPath(import.meta.url));

function findSuites(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return findSuites(path);
      return entry.name.endsWith('.bench.ts') ? [path] : [];
    })
    .sort();
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { quick: { type: 'boolean', default: false }, out: { type: 'string' } },
  });
  const suites = findSuites(here).filter((path) => positionals.length === 0 || positionals.some((word) => relative(here, path).includes(word)));
  if (suites.length === 0) throw new Error(`no *.bench.ts under ${here} matches ${positionals.join(', ')}`);
  const machine = machineInfo();
  const startedAt = new Date();
  const command = `tsx bench/micro/run.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  const revision = sourceRevision();
  console.log(`weir micro-benchmarks (tinybench) — ${startedAt.toISOString()}${revision ? ` — weir ${revision.commit}${revision.srcDirty ? ' + uncommitted src/ changes' : ''}` : ''}`);
  console.log(machineLine(machine));
  console.log(`command: ${command}; figures are medians over samples; the machine is shared, so expect noise`);

  const results: (MicroResult & { suite: string })[] = [];
  for (const path of suites) {
    const suite = relative(here, path);
    console.log(`\n== ${suite}`);
    const run = (await import(pathToFileURL(path).href)).default as MicroSuite;
    for (const r of await run({ quick: values.quick })) results.push({ suite, ...r });
  }

  const out = values.out ?? join(here, '..', 'results', values.quick ? 'micro-quick.json' : 'micro.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ benchmark: 'micro', date: startedAt.toISOString(), command, revision, machine, results }, null, 2)}\n`);
  console.log(`\nresults written to ${out}`);
}

await main();
