// Nexmark SQL on weir against Nexmark SQL on Apache Flink 2.3: every q*.sql of this folder (with ddl.sql), the same
// text on both engines, in one run on one machine, at p=1 and p=2; the two final tables compared row by row, as the
// SQL oracle does (bench/flink/sql-oracle.ts).
//
//   npm run bench:nexmark-sql-flink                                   every query, 200,000 events, 3 runs per row
//   npm run bench:nexmark-sql-flink -- --events 500000 --runs 1 --queries q0,q5
//
// Rate = events / time from the first record in (a nexmark source reader's first poll) to the last out (the last sink
// subtask's end of input): start-up is outside it on both sides. Total = the whole job: for weir `executeJob` (worker
// threads started, job module loaded), for Flink submission to end (the MiniCluster, started once, is not in it). On
// both engines the query's changelog ends in a sink that folds it into the final table inside the job (not collected
// through a client): weir's in bench/nexmark/sql/fold-job.ts, Flink's SqlRunner.FoldSink (`SqlRunner --bench`). The
// INSERT's sink table is not written: its query runs, as in the oracle. Flink runs in one JVM for the whole run (one
// MiniCluster, requests on stdin), interleaved with weir row by row; its JIT stays warm from row to row, weir's worker
// threads are new for every job.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { executeJob } from '../../../src/index.ts';
import { DATASTREAM_CONNECTOR } from '../../../src/sql/runtime.ts';
import { TableEnvironment } from '../../../src/sql/table-environment.ts';
import { compareTables, ensureFlinkRunner, finalQueryOf, type FinalTable } from '../../flink/sql-oracle.ts';
import { formatCount, formatRate, machineInfo, machineLine, median, sourceRevision, textTable, writeResults } from '../../lib/report.ts';
import { nexmarkSvg } from '../svg.ts';
import { FOLD_ID, type FoldReport } from './fold-job.ts';

type Row = Record<string, unknown>;

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..', '..');

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '3' },
    queries: { type: 'string' },
    parallelism: { type: 'string', default: '1,2' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'nexmark-sql-flink.json') },
    update: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`usage: npm run bench:nexmark-sql-flink -- [options]
  --events N        events per run (default 200,000)
  --runs K          runs per row, the median reported (default 3)
  --queries LIST    e.g. q0,q5 (default: every q*.sql in bench/nexmark/sql)
  --parallelism L   default 1,2
  --out FILE        JSON results (default bench/results/nexmark-sql-flink.json; .md and .svg written next to it)
  --update          keep the rows of --out this run does not measure (same events): rerun some queries into a results file`);
  process.exit(0);
}
const events = Number(values.events.replace(/_/g, ''));
const runs = Number(values.runs);
if (!Number.isSafeInteger(events) || events < 1) throw new RangeError(`--events must be a positive integer, got ${values.events}`);
if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError(`--runs must be a positive integer, got ${values.runs}`);
const parallelisms = values.parallelism.split(',').map(Number);
const queryNumber = (f: string) => Number(/^q(\d+)/.exec(f)?.[1] ?? NaN);
const available = readdirSync(HERE)
  .filter((f) => /^q\d+\.sql$/.test(f))
  .map((f) => f.slice(0, -4))
  .sort((a, b) => queryNumber(a) - queryNumber(b));
const queries = values.queries === undefined ? available : values.queries.split(',');
for (const q of queries) if (!available.includes(q)) throw new RangeError(`no ${q}.sql in ${HERE}; there are ${available.join(', ')}`);

/** ddl.sql with the event count and the rate of bench/nexmark (10,000 events/s of event time), then the query's file. */
function scriptOf(q: string): string {
  const ddl = readFileSync(join(HERE, 'ddl.sql'), 'utf8')
    .replace(/'events\.num' = '\d+'/, `'events.num' = '${events}'`)
    .replace(/'(first|next)-event\.rate' = '\d+'/g, `'$1-event.rate' = '10000'`);
  return `${ddl}\n${readFileSync(join(HERE, `${q}.sql`), 'utf8')}`;
}

/** One engine's run of one query. */
interface Measured {
  /** events / (last out − first in), per second. */
  rate: number;
  /** Last out − first in, ms. */
  runMs: number;
  /** The whole job, ms (see the header). */
  totalMs: number;
  table: FinalTable;
}

async function runWeir(script: string, parallelism: number): Promise<Measured> {
  const { setup, query } = finalQueryOf(script);
  const env = TableEnvironment.create({ parallelism });
  for (const s of setup) await env.executeSql(s);
  const columns = await env.sqlQuery(query).getResolvedSchema();
  const plan = await env.planQuery(query);
  const sink = plan.nodes[plan.nodes.length - 1];
  if (sink.kind !== 'sink') throw new Error(`the plan of ${query.slice(0, 40)}… does not end in a sink`);
  const planned = { ...plan, nodes: [...plan.nodes.slice(0, -1), { ...sink, connector: DATASTREAM_CONNECTOR }] };
  const names = columns.map((c) => c.name);
  const start = performance.now();
  const result = await executeJob(join(HERE, 'fold-job.ts'), {
    mode: 'threads',
    parallelism,
    params: { plan: JSON.stringify(planned), columns: JSON.stringify(names) },
  });
  const totalMs = performance.now() - start;
  const reports = (result.collected[FOLD_ID] ?? []) as FoldReport[];
  const counts = new Map<string, number>();
  for (const r of reports) for (const [k, n] of r.rows) counts.set(k, (counts.get(k) ?? 0) + n);
  const rows: Row[] = [];
  for (const [k, n] of counts) {
    if (n < 0) throw new Error(`weir: the changelog retracts a row the table does not hold: ${k}`);
    const vs = JSON.parse(k) as unknown[];
    const row: Row = Object.fromEntries(names.map((c, i) => [c, vs[i]]));
    for (let i = 0; i < n; i++) rows.push(row);
  }
  const first = Math.min(...reports.map((r) => r.firstPoll ?? Number.POSITIVE_INFINITY));
  const last = Math.max(...reports.map((r) => r.end));
  const runMs = last - first;
  return { rate: events / (runMs / 1000), runMs, totalMs, table: { columns, rows } };
}

/** One JVM running SqlRunner --bench on requests from stdin, answering one script at a time. */
class FlinkRunner {
  private readonly child;
  private readonly lines: AsyncIterableIterator<string>;
  private stderr = '';

  constructor() {
    const { classpath } = ensureFlinkRunner();
    this.child = spawn(
      'java',
      [
        ...(process.env.FLINK_BENCH_JVM_OPTS ?? '-Xms2g -Xmx2g').split(' ').filter((a) => a !== ''),
        '-Duser.timezone=UTC',
        '--add-opens=java.base/java.util=ALL-UNNAMED',
        '--add-opens=java.base/java.lang=ALL-UNNAMED',
        '-cp',
        classpath,
        'dev.weir.bench.flink.SqlRunner',
        '--bench',
        '--parallelism',
        String(Math.max(...parallelisms)),
        '-',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-20_000)));
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  private async line(): Promise<string> {
    const next = await this.lines.next();
    if (next.done) throw new Error(`Flink's SqlRunner ended; its stderr ends:\n${this.stderr.slice(-3000)}`);
    return next.value;
  }

  async run(file: string, parallelism: number): Promise<Measured> {
    this.child.stdin.write(`${parallelism} ${resolve(file)}\n`);
    const header = JSON.parse(await this.line()) as {
      columns: { name: string; type: string }[];
      rows: number;
      error: string | null;
      runNanos?: number;
      jobNanos?: number;
    };
    const rows: Row[] = [];
    for (let i = 0; i < header.rows; i++) rows.push(JSON.parse(await this.line()) as Row);
    if (header.error !== null) throw new Error(`Flink failed on ${file}: ${header.error.split('\n').slice(-2).join(' / ')}`);
    const runMs = (header.runNanos ?? Number.NaN) / 1e6;
    return {
      rate: events / (runMs / 1000),
      runMs,
      totalMs: (header.jobNanos ?? Number.NaN) / 1e6,
      table: { columns: header.columns, rows },
    };
  }

  close(): void {
    this.child.stdin.end('\n');
  }
}

interface RowResult {
  query: string;
  parallelism: number;
  runs: number;
  weir: { eventsPerSecond: number; runMs: number; totalMs: number; rates: number[] };
  flink: { eventsPerSecond: number; runMs: number; totalMs: number; rates: number[] };
  /** weir rate / Flink rate (medians). */
  ratio: number;
  /** Final tables equal in every run; null for a query on processing time (its tables depend on the wall clock). */
  equal: boolean | null;
  /** Rows of Flink's final table (of the last run). */
  tableRows: number;
  /** 1-minute load average before and after the row's runs. */
  load: [number, number];
  /** When the row's runs ended. */
  date: string;
  mismatch?: string;
}

const startedAt = new Date();
const machine = machineInfo();
const revision = sourceRevision();
const command = `npm run bench:nexmark-sql-flink${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
console.log(
  `weir SQL vs Flink SQL, Nexmark — ${startedAt.toISOString()}${revision ? ` — weir ${revision.commit}${revision.srcDirty ? ' + uncommitted src/ changes' : ''}` : ''}`,
);
console.log(machineLine(machine));
console.log(`${formatCount(events)} events (10,000 events/s of event time), ${runs} run(s) per row, queries ${queries.join(', ')}`);

const dir = mkdtempSync(join(os.tmpdir(), 'weir-sql-bench-'));
const flink = new FlinkRunner();
const results: RowResult[] = [];
try {
  for (const q of queries) {
    const script = scriptOf(q);
    // processing-time windows (q12) cut the input by the wall clock: their tables differ run to run on either engine
    const proctime = /\bPROCTIME\s*\(/i.test(script);
    const file = join(dir, `${q}.sql`);
    writeFileSync(file, script);
    for (const p of parallelisms) {
      const load0 = os.loadavg()[0];
      const w: Measured[] = [];
      const f: Measured[] = [];
      let equal = true;
      let tableRows = 0;
      let mismatch: string | undefined;
      for (let i = 0; i < runs; i++) {
        // alternate which engine goes first, so neither always meets the other's leftovers (GC, page cache)
        if (i % 2 === 0) {
          w.push(await runWeir(script, p));
          f.push(await flink.run(file, p));
        } else {
          f.push(await flink.run(file, p));
          w.push(await runWeir(script, p));
        }
        const diff = compareTables(w[i].table, f[i].table);
        tableRows = diff.flinkRows;
        if (!diff.equal && !proctime) {
          equal = false;
          mismatch ??= `weir ${diff.weirRows} rows, Flink ${diff.flinkRows}; missing ${diff.missing.length}, extra ${diff.extra.length} distinct rows${diff.missing[0] ? `, e.g. missing ${diff.missing[0].row}` : ''}${diff.extra[0] ? `, e.g. extra ${diff.extra[0].row}` : ''}`;
        }
        process.stdout.write(
          `  ${q} p=${p} run ${i + 1}/${runs}: weir ${formatRate(w[i].rate)} (total ${(w[i].totalMs / 1000).toFixed(2)} s), Flink ${formatRate(f[i].rate)} (total ${(f[i].totalMs / 1000).toFixed(2)} s), ${diff.equal ? 'equal' : proctime ? 'not compared (processing time)' : 'DIFFERENT'} (${diff.flinkRows} rows)\n`,
        );
        // the tables are only needed for the comparison
        w[i].table = f[i].table = { columns: [], rows: [] };
      }
      const pick = (ms: Measured[]) => ({
        eventsPerSecond: median(ms.map((m) => m.rate)),
        runMs: median(ms.map((m) => m.runMs)),
        totalMs: median(ms.map((m) => m.totalMs)),
        rates: ms.map((m) => Math.round(m.rate)),
      });
      const weir = pick(w);
      const fl = pick(f);
      results.push({
        query: q,
        parallelism: p,
        runs,
        weir,
        flink: fl,
        ratio: weir.eventsPerSecond / fl.eventsPerSecond,
        equal: proctime ? null : equal,
        tableRows,
        load: [Number(load0.toFixed(2)), Number(os.loadavg()[0].toFixed(2))],
        date: new Date().toISOString(),
        ...(mismatch !== undefined ? { mismatch } : {}),
      });
    }
  }
} finally {
  flink.close();
  rmSync(dir, { recursive: true, force: true });
}

const headers = [
  'query',
  'p',
  '>weir SQL',
  '>Flink SQL',
  '>weir / Flink',
  '>weir total s',
  '>Flink total s',
  'tables',
  '>rows',
  '>runs',
  '>load 1m',
];
const out = values.out;
if (values.update && existsSync(out)) {
  // keep the earlier rows of queries not measured now (same event count), in query order
  const earlier = JSON.parse(readFileSync(out, 'utf8')) as { events: number; results: RowResult[] };
  if (earlier.events !== events) throw new Error(`--update: ${out} has ${earlier.events} events, this run ${events}`);
  const measured = new Set(results.map((r) => `${r.query}/${r.parallelism}`));
  results.push(...earlier.results.filter((r) => !measured.has(`${r.query}/${r.parallelism}`)));
  results.sort((a, b) => queryNumber(a.query) - queryNumber(b.query) || a.parallelism - b.parallelism);
}
const rows = results.map((r) => [
  r.query,
  String(r.parallelism),
  formatRate(r.weir.eventsPerSecond),
  formatRate(r.flink.eventsPerSecond),
  `${r.ratio.toFixed(2)}×`,
  (r.weir.totalMs / 1000).toFixed(2),
  (r.flink.totalMs / 1000).toFixed(2),
  r.equal === null ? 'n/a (proctime)' : r.equal ? 'equal' : 'DIFFERENT',
  String(r.tableRows),
  String(r.runs),
  `${r.load[0].toFixed(1)}–${r.load[1].toFixed(1)}`,
]);
const table = textTable(headers, rows);
console.log(`\n${table}`);
const subtitle = `${formatCount(events)} events, median of ${runs} run(s); rate from first record in to last out; ${startedAt.toISOString().slice(0, 16)} UTC, load ${machine.loadAverage1m}`;
writeResults(out, { benchmark: 'nexmark-sql-flink', startedAt, command, revision, machine }, { events, runs, results });
const md = [
  `# Nexmark SQL: weir vs Apache Flink 2.3`,
  '',
  `\`${command}\` — ${startedAt.toISOString()}, weir ${revision?.commit ?? 'unknown'}${revision?.srcDirty ? ' (src/ modified)' : ''}${values.update ? " (with --update: the rows it did not measure are from earlier runs of the script; each row's date and load are in the JSON)" : ''}.`,
  `${machineLine(machine)} at start; load average (1 min) per row in the last column. ${formatCount(events)} events of the Nexmark generator`,
  `(10,000 events/s of event time), the median of the runs of each row (column runs). Rate = events / (last record out − first record in),`,
  'start-up excluded on both sides; total = the whole job (weir: worker threads started and job module loaded; Flink: submission',
  'to end on a MiniCluster started once). "tables": the final tables of the two engines equal (row for row, as the SQL oracle compares them) in every run (a query on processing time, q12, is not compared: its windows are cut by the wall clock).',
  '',
  table,
  '',
].join('\n');
writeFileSync(out.replace(/\.json$/, '.md'), md);
writeFileSync(
  out.replace(/\.json$/, '.svg'),
  nexmarkSvg(
    results.flatMap((r) => [
      { query: r.query, mode: `weir-sql-${r.parallelism}`, eventsPerSecond: r.weir.eventsPerSecond, matchesLoop: r.equal },
      { query: r.query, mode: `flink-sql-${r.parallelism}`, eventsPerSecond: r.flink.eventsPerSecond, matchesLoop: r.equal },
    ]),
    subtitle,
    'Nexmark SQL: weir vs Flink (events/s, higher is better)',
  ),
);
console.log(`wrote ${out} and its .md and .svg`);
const different = results.filter((r) => r.equal === false);
for (const r of different) console.log(`${r.query} p=${r.parallelism}: tables DIFFERENT: ${r.mismatch}`);
process.exit(different.length === 0 ? 0 : 1);
