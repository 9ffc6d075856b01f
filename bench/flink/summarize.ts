//! Prints a markdown table of Flink Nexmark runs (JSON lines from run-suite.sh): median and best events/s per query, parallelism, object reuse and backend.
//   npx tsx bench/flink/summarize.ts bench/flink/results/<file>.jsonl
import { readFileSync } from 'node:fs';

interface Run {
  query: string;
  parallelism: number;
  objectReuse: boolean;
  stateBackend?: string;
  eventsPerSecond?: number;
  seconds?: number;
  outputRecords?: number;
  checksum?: number | string;
  peakRssMb?: number;
  error?: string;
}

const file = process.argv[2];
if (!file) throw new Error('usage: summarize.ts <runs.jsonl>');
const runs = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l.replace(/"checksum":(-?\d+)/, '"checksum":"$1"')) as Run);
const groups = new Map<string, Run[]>();
for (const r of runs) {
  const key = `${r.query}|${r.parallelism}|${r.objectReuse}|${r.stateBackend ?? 'hashmap'}`;
  groups.set(key, [...(groups.get(key) ?? []), r]);
}
const order = (q: string) => Number(q.slice(1));
const keys = [...groups.keys()].sort((a, b) => {
  const [qa, pa, ra] = a.split('|');
  const [qb, pb, rb] = b.split('|');
  return order(qa) - order(qb) || Number(pa) - Number(pb) || ra.localeCompare(rb);
});
const k = (v: number) => `${Math.round(v / 1000).toLocaleString('en')} k`;
console.log('| query | p | object reuse | backend | runs | events/s median | best | output records | checksum | peak RSS MB |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const key of keys) {
  const rs = groups.get(key) ?? [];
  const ok = rs.filter((r) => r.eventsPerSecond !== undefined);
  const rates = ok.map((r) => r.eventsPerSecond as number).sort((a, b) => a - b);
  const median = rates.length ? rates[Math.floor((rates.length - 1) / 2)] : undefined;
  const outputs = [...new Set(ok.map((r) => r.outputRecords))].join(' / ');
  const sums = [...new Set(ok.map((r) => String(r.checksum)))].join(' / ');
  const rss = ok.length ? Math.max(...ok.map((r) => r.peakRssMb ?? 0)) : '';
  const [q, p, reuse, backend] = key.split('|');
  const failed = rs.length - ok.length;
  console.log(
    `| ${q} | ${p} | ${reuse} | ${backend} | ${ok.length}${failed ? ` (+${failed} failed)` : ''} | ${median === undefined ? '—' : k(median)} | ${rates.length ? k(rates[rates.length - 1]) : '—'} | ${outputs} | ${sums} | ${rss} |`,
  );
}
