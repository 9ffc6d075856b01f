// Nexmark as SQL against the DataStream jobs: per query, the SQL file (INSERT INTO a blackhole table, through the planner and the SQL job module) and the hand-written DataStream job, one run each at p=1 and p=2 on worker threads, with the ratio SQL / DataStream (target: ≥ 80 %).
//
//   npm run bench:nexmark-sql                              q0,q1,q2,q11, 200,000 events
//   npm run bench:nexmark-sql -- --events 1000000 --queries q0,q2
//
// Rate = events / wall time of the whole job run (thread start-up included), the same for both.
// Both read the same generator (seed 0, 10,000 events/s of event time); the DataStream job ends in
// its count-and-checksum sink, the SQL job in `blackhole`.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { executeJob } from '../../../src/index.ts';
import { TableEnvironment } from '../../../src/sql/table-environment.ts';
import { formatRate, machineInfo, machineLine, sourceRevision, textTable } from '../../lib/report.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    queries: { type: 'string', default: 'q0,q1,q2,q11' },
  },
});
const events = Number(values.events);
const queries = (values.queries as string).split(',');
const SQL_DIR = join('bench', 'nexmark', 'sql');

async function sqlRate(q: string, parallelism: number): Promise<number> {
  const ddl = readFileSync(join(SQL_DIR, 'ddl.sql'), 'utf8')
    .replace(/'events\.num' = '\d+'/, `'events.num' = '${events}'`)
    .replace(/'(first|next)-event\.rate' = '\d+'/g, `'$1-event.rate' = '10000'`);
  const env = TableEnvironment.create({ parallelism });
  await env.executeScript(ddl);
  const start = performance.now();
  await env.executeScript(readFileSync(join(SQL_DIR, `${q}.sql`), 'utf8'));
  return events / ((performance.now() - start) / 1000);
}

async function dataStreamRate(q: string, parallelism: number): Promise<number> {
  const start = performance.now();
  await executeJob(join('bench', 'nexmark', 'queries', `${q}.ts`), { parallelism, params: { events, rate: 10_000, seed: 0 } });
  return events / ((performance.now() - start) / 1000);
}

const startedAt = new Date();
const startMachine = machineInfo();
const rows: string[][] = [];
for (const q of queries) {
  for (const p of [1, 2]) {
    const ds = await dataStreamRate(q, p);
    const sql = await sqlRate(q, p);
    rows.push([q, `p=${p}`, formatRate(ds), formatRate(sql), `${((sql / ds) * 100).toFixed(0)} %`]);
    process.stdout.write(`${rows[rows.length - 1].join('  ')}\n`);
  }
}
const revision = sourceRevision();
process.stdout.write(
  [
    '',
    `Nexmark SQL vs DataStream, ${events.toLocaleString('en')} events, one run each`,
    `date ${startedAt.toISOString()} · commit ${revision === undefined ? 'unknown' : `${revision.commit}${revision.srcDirty ? ' (src/ modified)' : ''}`}`,
    `${machineLine(startMachine)} at start, ${machineInfo().loadAverage1m} at end (load average 1m; 2 cores shared: other processes add noise)`,
    '',
  ].join('\n'),
);
process.stdout.write(`${textTable(['query', 'parallelism', 'DataStream', 'SQL', 'SQL / DataStream'], rows)}\n`);
