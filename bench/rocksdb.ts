//! RocksDB benchmark: a keyed count over 1 M, 10 M and 50 M distinct keys on the heap and RocksDB backends (records/s, peak RSS, checkpoint duration and size), and a hot set that fits the cache (the ≥ 1/3 of heap target).
//
//   npm run bench:rocksdb                      1 M, 10 M, 50 M keys and the hot-set runs (about 20 minutes)
//   npm run bench:rocksdb -- --quick           200 k and 1 M keys
//   npm run bench:rocksdb -- --keys 1000000,5000000 --runs 3
//
// Every run is a process of its own (bench/jobs/rocksdb-run.ts) running examples/large-state.ts at
// parallelism 1 on a worker thread; its peak RSS is that process's. Distinct-key runs count every
// key once (all state is new: RocksDB writes back what leaves its cache); RocksDB runs cap the
// worker's JS heap at --rocksdb-heap-mb (256) while the state is many times that. Runs up to
// --checkpoint-max-keys take a checkpoint every 5 s. Hot-set runs send 9 of 10 events to a hot
// set of --hot keys (it fits the cache) and the rest over all keys, each key counted --rounds times.

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatCount, formatRate, machineInfo, machineLine, median, sourceRevision, textTable, writeResults } from './lib/report.ts';

const here = dirname(fileURLToPath(import.meta.url));
const RUNNER = join(here, 'jobs', 'rocksdb-run.ts');
const TARGET_RATIO = 1 / 3;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    keys: { type: 'string' },
    runs: { type: 'string' },
    'cache-keys': { type: 'string' },
    'rocksdb-heap-mb': { type: 'string' },
    'checkpoint-max-keys': { type: 'string' },
    hot: { type: 'string' },
    'hot-keys': { type: 'string' },
    rounds: { type: 'string' },
    out: { type: 'string' },
  },
});
const quick = values.quick === true;
const keySizes = (values.keys ?? (quick ? '200000,1000000' : '1000000,10000000,50000000')).split(',').map(Number);
const runs = Number(values.runs ?? 1);
const cacheKeys = Number(values['cache-keys'] ?? 100_000);
const rocksHeapMb = Number(values['rocksdb-heap-mb'] ?? 256);
const checkpointMaxKeys = Number(values['checkpoint-max-keys'] ?? 10_000_000);
const hot = Number(values.hot ?? 50_000);
const hotKeys = Number(values['hot-keys'] ?? (quick ? 200_000 : 1_000_000));
const hotRounds = Number(values.rounds ?? 10);
const out = values.out ?? join(here, 'results', 'rocksdb.json');

interface RunOutcome {
  ok: boolean;
  code?: string;
  message?: string;
  totals?: { keys: number; events: number }[];
  ms: number;
  peakRssMb: number;
  checkpoints: { durationMs: number; bytes: number }[];
}

function run(
  backend: 'heap' | 'rocksdb',
  keys: number,
  rounds: number,
  hotSet: number,
  checkpointMs: number,
  capHeap = backend === 'rocksdb',
): RunOutcome {
  const heapMb = capHeap ? rocksHeapMb : 0;
  const child = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      RUNNER,
      backend,
      String(keys),
      String(rounds),
      String(hotSet),
      String(cacheKeys),
      String(heapMb),
      String(checkpointMs),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 60 * 60 * 1000 },
  );
  const line = child.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as RunOutcome;
  } catch {
    return { ok: false, message: `runner failed: ${child.stderr.slice(-500)}`, ms: 0, peakRssMb: 0, checkpoints: [] };
  }
}

function checkTotals(o: RunOutcome, keys: number, events: number): string | undefined {
  if (!o.ok) return o.code === 'WEIR_OUT_OF_MEMORY' ? 'out of memory' : `failed: ${o.message}`;
  const got = (o.totals ?? []).reduce((a, t) => ({ keys: a.keys + t.keys, events: a.events + t.events }), { keys: 0, events: 0 });
  if (got.keys !== keys || got.events !== events) return `WRONG totals ${JSON.stringify(got)}`;
  return undefined;
}

const machine = machineInfo();
const startedAt = new Date();
console.log(`RocksDB benchmark: ${machineLine(machine)}`);
console.log(
  `cache ${formatCount(cacheKeys)} keys; RocksDB worker heap capped at ${rocksHeapMb} MB; heap backend uncapped (V8 default); ${runs} run(s) each, medians\n`,
);

type Row = { keys: number; backend: string; rate?: number; peakRssMb: number; checkpointMs?: number; checkpointMb?: number; note?: string };
const rows: Row[] = [];
const largest = Math.max(...keySizes);
for (const keys of keySizes) {
  // At the largest size, the heap backend also runs under the RocksDB runs' heap cap.
  const variants = keys === largest ? (['heap', 'rocksdb', 'heap-capped'] as const) : (['heap', 'rocksdb'] as const);
  for (const variant of variants) {
    const backend = variant === 'heap-capped' ? 'heap' : variant;
    const outcomes: RunOutcome[] = [];
    const checkpointMs = keys <= checkpointMaxKeys ? 5000 : 0;
    for (let r = 0; r < runs; r++) outcomes.push(run(backend, keys, 1, 0, checkpointMs, variant !== 'heap'));
    const problems = outcomes.map((o) => checkTotals(o, keys, keys)).filter((p) => p !== undefined);
    const good = outcomes.filter((o) => checkTotals(o, keys, keys) === undefined);
    const cps = good.flatMap((o) => o.checkpoints);
    const row: Row = {
      keys,
      backend:
        variant === 'heap-capped' ? `heap, ${rocksHeapMb} MB heap` : variant === 'rocksdb' ? `rocksdb, ${rocksHeapMb} MB heap` : 'heap',
      rate: good.length > 0 ? median(good.map((o) => keys / (o.ms / 1000))) : undefined,
      peakRssMb: median(outcomes.map((o) => o.peakRssMb)),
      checkpointMs: cps.length > 0 ? Math.max(...cps.map((c) => c.durationMs)) : undefined,
      checkpointMb: cps.length > 0 ? Math.max(...cps.map((c) => c.bytes)) / 2 ** 20 : undefined,
      note: problems[0] ?? (good[0] ? `${(median(good.map((o) => o.ms)) / 1000).toFixed(1)} s` : undefined),
    };
    rows.push(row);
    console.log(
      `${formatCount(keys)} keys, ${row.backend}: ${row.rate ? formatRate(row.rate) : '—'} records/s, peak RSS ${row.peakRssMb} MB ${row.note ?? ''}`,
    );
  }
}

const hotRows: { backend: string; rate?: number; peakRssMb: number; note?: string }[] = [];
const hotEvents = hotKeys * hotRounds;
for (const backend of ['heap', 'rocksdb'] as const) {
  const outcomes: RunOutcome[] = [];
  for (let r = 0; r < runs; r++) outcomes.push(run(backend, hotKeys, hotRounds, hot, 0));
  const good = outcomes.filter((o) => o.ok);
  hotRows.push({
    backend,
    rate: good.length > 0 ? median(good.map((o) => hotEvents / (o.ms / 1000))) : undefined,
    peakRssMb: median(outcomes.map((o) => o.peakRssMb)),
    note: good.length === outcomes.length ? undefined : outcomes.find((o) => !o.ok)?.message,
  });
}

console.log('\nDistinct keys, each counted once (records/s over the whole job, start-up included):');
console.log(
  textTable(
    ['keys', 'backend', 'records/s', 'vs heap', 'peak RSS', 'max checkpoint', 'checkpoint size', 'note'],
    rows.map((r) => {
      const heap = rows.find((h) => h.keys === r.keys && h.backend === 'heap');
      return [
        formatCount(r.keys),
        r.backend,
        r.rate ? formatRate(r.rate) : '—',
        r.backend.startsWith('rocksdb') && r.rate && heap?.rate ? `${((100 * r.rate) / heap.rate).toFixed(0)} %` : '',
        `${r.peakRssMb} MB`,
        r.checkpointMs !== undefined ? `${(r.checkpointMs / 1000).toFixed(2)} s` : 'off',
        r.checkpointMb !== undefined ? `${r.checkpointMb.toFixed(0)} MB` : '',
        r.note ?? '',
      ];
    }),
  ),
);
const [heapHot, rocksHot] = hotRows;
const ratio = heapHot.rate && rocksHot.rate ? rocksHot.rate / heapHot.rate : undefined;
console.log(
  `\nHot set: ${formatCount(hot)} hot keys of ${formatCount(hotKeys)} (9 of 10 events), ${formatCount(hotEvents)} events, cache ${formatCount(cacheKeys)} keys:`,
);
console.log(
  textTable(
    ['backend', 'records/s', 'peak RSS', 'note'],
    hotRows.map((r) => [r.backend, r.rate ? formatRate(r.rate) : '—', `${r.peakRssMb} MB`, r.note ?? '']),
  ),
);
console.log(
  ratio === undefined
    ? 'RocksDB / heap: not measured'
    : `RocksDB / heap: ${(100 * ratio).toFixed(0)} % (target ≥ ${(100 * TARGET_RATIO).toFixed(0)} %: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'})`,
);

writeResults(
  out,
  {
    benchmark: 'rocksdb',
    startedAt,
    command: `npm run bench:rocksdb -- ${process.argv.slice(2).join(' ')}`.trim(),
    revision: sourceRevision(),
    machine,
  },
  { cacheKeys, rocksHeapMb, runs, distinct: rows, hot: { hot, keys: hotKeys, rounds: hotRounds, rows: hotRows, ratio } },
);
