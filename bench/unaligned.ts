//! Checkpoints under backpressure: aligned vs unaligned checkpoints, buffer debloating on and off, for a job whose sink is 100× slower than its source.
//
//   npm run bench:unaligned                     four runs of about 12 s (p=1, sink 1 ms/record, source 100k/s)
//   npm run bench:unaligned -- --quick          four runs of about 4 s
//   npm run bench:unaligned -- --seconds 20 --sink-ms 2 --interval 500 --timeout 3000 --parallelism 2
//
// The source emits `--rate` records/s (default 100× the sink's rate); the sink busy-waits
// `--sink-ms` per record, so backpressure fills every channel. Checkpoints are triggered every
// `--interval` ms and expire after `--timeout` ms. For each configuration the table gives the
// checkpoints completed and expired, and the durations (trigger → last acknowledgement) of the
// completed ones. Aligned checkpoints wait for the barrier to get through the queued batches
// (credits × batch size records of slow work); debloating shrinks that queue to about its target
// time of throughput; unaligned barriers overtake it.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startJob } from '../src/index.ts';
import { machineInfo, machineLine, median, sourceRevision, textTable, writeResults } from './lib/report.ts';

const here = dirname(fileURLToPath(import.meta.url));
const JOB = join(here, 'jobs', 'slow-sink.ts');

interface Options {
  seconds: number;
  sinkMs: number;
  rate: number;
  intervalMs: number;
  timeoutMs: number;
  parallelism: number;
  debloatMs: number;
  out: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      seconds: { type: 'string' },
      'sink-ms': { type: 'string' },
      rate: { type: 'string' },
      interval: { type: 'string' },
      timeout: { type: 'string' },
      parallelism: { type: 'string' },
      debloat: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: npm run bench:unaligned -- [options]
  --seconds S      sink work per run, per subtask (default 12; --quick: 4)
  --sink-ms M      busy time per record in the sink (default 1)
  --rate R         source records/s (default 100 × the sink's rate × parallelism)
  --interval MS    checkpoint interval (default 500)
  --timeout MS     checkpoint timeout (default 2000)
  --parallelism P  (default 1)
  --debloat MS     buffer debloat target when on (default 1000)
  --out FILE       results JSON (default bench/results/unaligned.json)`);
    process.exit(0);
  }
  const num = (v: string | undefined, fallback: number, what: string) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${what} must be a positive number, got '${v}'`);
    return n;
  };
  const sinkMs = num(values['sink-ms'], 1, '--sink-ms');
  const parallelism = num(values.parallelism, 1, '--parallelism');
  return {
    seconds: num(values.seconds, values.quick ? 4 : 12, '--seconds'),
    sinkMs,
    rate: num(values.rate, (100 * 1000 * parallelism) / sinkMs, '--rate'),
    intervalMs: num(values.interval, 500, '--interval'),
    timeoutMs: num(values.timeout, 2000, '--timeout'),
    parallelism,
    debloatMs: num(values.debloat, 1000, '--debloat'),
    out: values.out ?? join(here, 'results', values.quick ? 'unaligned-quick.json' : 'unaligned.json'),
  };
}

interface RunResult {
  name: string;
  unaligned: boolean;
  debloat: boolean;
  completed: number;
  failed: number;
  durationsMs: number[];
  wallMs: number;
  records: number;
}

async function run(o: Options, unaligned: boolean, debloat: boolean): Promise<RunResult> {
  const keys = 8 * o.parallelism;
  // Enough records for `seconds` of sink work per subtask.
  const perKey = Math.ceil((o.seconds * 1000 * o.parallelism) / o.sinkMs / keys);
  const durations: number[] = [];
  const started = performance.now();
  const client = await startJob(JOB, {
    parallelism: o.parallelism,
    params: {
      keys,
      perKey,
      rate: o.rate,
      sinkMs: o.sinkMs,
      interval: o.intervalMs,
      timeout: o.timeoutMs,
      unaligned,
      debloat: debloat ? o.debloatMs : 0,
    },
    onCheckpoint: (checkpoint) => durations.push(checkpoint.durationMs),
  });
  const result = await client.result;
  const records = (result.collected.out as unknown[]).length;
  if (records !== keys * perKey) throw new Error(`expected ${keys * perKey} records out, got ${records}`);
  const name = `${unaligned ? 'unaligned' : 'aligned'}, debloating ${debloat ? `on (${o.debloatMs} ms)` : 'off'}`;
  return {
    name,
    unaligned,
    debloat,
    // The final checkpoint (taken when the input has ended) is counted like the others.
    completed: result.faultTolerance.checkpointsCompleted,
    failed: result.faultTolerance.checkpointsFailed,
    durationsMs: durations,
    wallMs: performance.now() - started,
    records,
  };
}

async function main(): Promise<void> {
  const o = options();
  const machine = machineInfo();
  const startedAt = new Date();
  console.log(`checkpoints under backpressure — ${machineLine(machine)}`);
  console.log(
    `sink ${o.sinkMs} ms/record (${Math.round(1000 / o.sinkMs)} records/s per subtask), source ${o.rate} records/s, parallelism ${o.parallelism}, checkpoints every ${o.intervalMs} ms, timeout ${o.timeoutMs} ms, about ${o.seconds} s per run\n`,
  );
  const results: RunResult[] = [];
  for (const [unaligned, debloat] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const) {
    const r = await run(o, unaligned, debloat);
    console.log(`  ${r.name}: ${r.completed} completed, ${r.failed} expired, ${(r.wallMs / 1000).toFixed(1)} s`);
    results.push(r);
  }
  const fmt = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '–' : `${Math.round(ms)} ms`);
  console.log(
    `\n${textTable(
      ['configuration', '>completed', '>expired', '>median duration', '>max duration', '>run'],
      results.map((r) => [
        r.name,
        String(r.completed),
        String(r.failed),
        fmt(r.durationsMs.length ? median(r.durationsMs) : undefined),
        fmt(r.durationsMs.length ? Math.max(...r.durationsMs) : undefined),
        `${(r.wallMs / 1000).toFixed(1)} s`,
      ]),
    )}`,
  );
  mkdirSync(dirname(o.out), { recursive: true });
  writeResults(
    o.out,
    {
      benchmark: 'unaligned',
      startedAt,
      command: `tsx bench/unaligned.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
      revision: sourceRevision(),
      machine,
    },
    { options: o, results },
  );
}

await main();
