// State TTL of a SQL regular join (`table.exec.state.ttl`): the same long join, keys always moving on, run without TTL
// and with it; at every checkpoint the join's state is read from the checkpoint itself (keys, map entries, encoded
// bytes of its 'left' and 'right' states), to show it grows without TTL and stays bounded with it.
//
//   npm run bench:sql-state-ttl
//   npm run bench:sql-state-ttl -- --seconds 30 --rate 5000 --ttl '2 s'
//
// Input: two datagen tables of ids 1..rate·seconds at `rate` rows/s each; a row's join key is id − id mod 4, so each key
// gets 4 rows per side within a millisecond or so and never again. TTL is processing time (Flink's only kind): a key
// left alone for the TTL is dropped (lazily on access, incrementally, and from every snapshot).

import { Packr } from 'msgpackr';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CompletedCheckpoint } from '../src/checkpoint/coordinator.ts';
import { parseEntry } from '../src/checkpoint/snapshots.ts';
import type { KeyGroupStateSnapshot } from '../src/state/snapshot-format.ts';
import { TableEnvironment } from '../src/sql/table-environment.ts';
import { machineInfo, machineLine, sourceRevision, textTable, writeResults } from './lib/report.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    rate: { type: 'string', default: '5000' },
    ttl: { type: 'string', default: '2 s' },
    out: { type: 'string', default: join('bench', 'results', 'sql-state-ttl.json') },
  },
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const rows = Math.round(seconds * rate);

/** The join's state in one checkpoint. */
interface Sample {
  checkpoint: number;
  /** Seconds since the job was submitted. */
  at: number;
  /** Distinct join keys with state (either side). */
  keys: number;
  /** Rows kept (map entries of both sides). */
  entries: number;
  /** Encoded bytes of the key groups holding the join's state. */
  bytes: number;
}

const unpackr = new Packr({ useRecords: true });

/** Reads the join's 'left'/'right' states out of a checkpoint's key-group entries. */
function sample(checkpoint: CompletedCheckpoint, start: number): Sample {
  const keys = new Set<string>();
  let entries = 0;
  let bytes = 0;
  for (const [name, blob] of checkpoint.states) {
    if (parseEntry(name).keyGroup === undefined) continue;
    const kg = unpackr.unpack(blob) as KeyGroupStateSnapshot;
    const join = kg.states.filter((s) => s.name === 'left' || s.name === 'right');
    if (join.length === 0) continue;
    bytes += blob.byteLength;
    for (const s of join) {
      s.keys.forEach((k) => keys.add(JSON.stringify(k)));
      for (const v of s.values) entries += Array.isArray(v) ? v.length : 1;
    }
  }
  return { checkpoint: checkpoint.id, at: (performance.now() - start) / 1000, keys: keys.size, entries, bytes };
}

async function run(ttl: string | undefined): Promise<Sample[]> {
  const samples: Sample[] = [];
  const start = performance.now();
  const env = TableEnvironment.create({
    parallelism: 2,
    onCheckpoint: (c) => {
      const s = sample(c, start);
      samples.push(s);
      process.stdout.write(
        `  ${ttl === undefined ? 'no TTL ' : `TTL ${ttl}`}  checkpoint ${String(s.checkpoint).padStart(3)} at ${s.at.toFixed(1).padStart(5)} s: ${s.keys} keys, ${s.entries} rows, ${(s.bytes / 1024).toFixed(0)} KiB\n`,
      );
    },
  });
  const table = (name: string) => `
    CREATE TABLE ${name} (id BIGINT, v INT) WITH (
      'connector' = 'datagen', 'number-of-rows' = '${rows}', 'rows-per-second' = '${rate}',
      'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '${rows}',
      'fields.v.min' = '0', 'fields.v.max' = '1000');
    CREATE VIEW ${name}_keyed AS SELECT id - MOD(id, 4) AS k, id, v FROM ${name};`;
  await env.executeScript(`
    SET 'execution.checkpointing.interval' = '1 s';
    ${ttl === undefined ? '' : `SET 'table.exec.state.ttl' = '${ttl}';`}
    ${table('l')}
    ${table('r')}
    CREATE TABLE sink (k BIGINT, lv INT, rv INT) WITH ('connector' = 'blackhole');
    INSERT INTO sink SELECT l.k, l.v, r.v FROM l_keyed AS l JOIN r_keyed AS r ON l.k = r.k;`);
  return samples;
}

const startedAt = new Date();
const machine = machineInfo();
console.log(`SQL regular join, state TTL on and off — ${startedAt.toISOString()}`);
console.log(machineLine(machine));
console.log(
  `${rows.toLocaleString('en')} rows per side at ${rate.toLocaleString('en')} rows/s (${seconds} s), key = id − id mod 4, p=2, checkpoints every 1 s`,
);
const without = await run(undefined);
const withTtl = await run(values.ttl);
const line = (label: string, xs: Sample[]) => {
  const last = xs[xs.length - 1];
  const peak = xs.reduce((m, s) => Math.max(m, s.keys), 0);
  return [
    label,
    String(xs.length),
    String(last?.keys ?? 0),
    String(peak),
    String(last?.entries ?? 0),
    `${((last?.bytes ?? 0) / 1024).toFixed(0)} KiB`,
  ];
};
console.log(
  `\n${textTable(
    ['run', '>checkpoints', '>keys at last checkpoint', '>peak keys', '>rows at last checkpoint', '>bytes at last checkpoint'],
    [line('no TTL', without), line(`TTL ${values.ttl}`, withTtl)],
  )}`,
);
const revision = sourceRevision();
writeResults(
  values.out as string,
  {
    benchmark: 'sql-state-ttl',
    startedAt,
    command: `npm run bench:sql-state-ttl${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    revision,
    machine,
  },
  { rowsPerSide: rows, rate, ttl: values.ttl, loadAverage: os.loadavg(), noTtl: without, withTtl },
);
