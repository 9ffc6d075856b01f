// File source → keyed counts → exactly-once file sink: a worker kill after a completed checkpoint, and a savepoint restored at another parallelism, give exactly the golden output.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, executeJob, startJob, type JobClient, type WeirError } from '../../src/index.ts';
import type { Step } from '../fixtures/jobs/file-source.ts';
import { committedLines } from './file-sink-helpers.ts';
import { csvText, jsonlText, tempDir, writeWhole } from './file-source-helpers.ts';

const JOB = 'test/fixtures/jobs/file-source.ts';
const FILES = 6;
const KEYS_PER_FILE = 3;
const PER_KEY = 120;

/** Input files: each holds the sequences of its own keys, interleaved, so every key's order is fixed by its file. */
function writeInput(format: 'jsonl' | 'csv'): string {
  const dir = tempDir(`file-source-replay-${format}`);
  for (let f = 0; f < FILES; f++) {
    const steps: Step[] = [];
    for (let seq = 0; seq < PER_KEY; seq++) for (let k = 0; k < KEYS_PER_FILE; k++) steps.push({ key: `f${f}k${k}`, seq, ts: seq });
    if (format === 'jsonl')
      writeWhole(join(dir, `part-${f}.jsonl`), jsonlText(steps, { crlf: f % 2 === 0, blanks: true, finalNewline: f % 3 !== 0 }));
    else
      writeWhole(
        join(dir, `part-${f}.csv`),
        csvText(
          ['key', 'seq', 'ts'],
          steps.map((s) => [s.key, String(s.seq), String(s.ts)]),
          { crlf: f % 2 === 0, blanks: true, finalNewline: f % 3 !== 0 },
        ),
      );
  }
  return dir;
}

/** The output a correct run writes, computed without weir: every key's running count, once. */
function expectedLines(): string[] {
  const lines: string[] = [];
  for (let f = 0; f < FILES; f++)
    for (let k = 0; k < KEYS_PER_FILE; k++)
      for (let seq = 0; seq < PER_KEY; seq++) lines.push(JSON.stringify({ key: `f${f}k${k}`, seq, count: seq + 1 }));
  return lines.sort();
}

const params = (input: string, out: string, format: 'jsonl' | 'csv', extra: Record<string, string | number> = {}) => ({
  path: input,
  out,
  format,
  variant: 'keyed',
  interval: 50,
  ...(format === 'csv' ? { types: JSON.stringify({ seq: 'integer', ts: 'integer' }) } : {}),
  ...extra,
});

const hidden = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.'));

describe.each(['jsonl', 'csv'] as const)('file source replay (%s)', (format) => {
  let input: string;
  let golden: string[];

  beforeAll(async () => {
    input = writeInput(format);
    const out = tempDir('file-source-golden');
    const result = await executeJob(JOB, { parallelism: 2, params: params(input, out, format) });
    expect(result.faultTolerance.restarts).toBe(0);
    golden = committedLines(out).sort();
    expect(golden).toEqual(expectedLines());
  });

  it('a worker killed after a completed checkpoint: the output equals the failure-free run, without duplicates', async () => {
    const out = tempDir('file-source-kill');
    let killedAt: number | undefined;
    const client = await startJob(JOB, {
      parallelism: 2,
      params: params(input, out, format, { delayMs: 1, batchSize: 16 }),
      onCheckpoint: (c, _attempt, cl) => {
        if (killedAt !== undefined || c.id < 3) return;
        killedAt = c.id;
        void cl.killWorker(1).catch(() => undefined);
      },
    });
    const result = await client.result;
    expect(killedAt).toBeDefined();
    expect(result.faultTolerance.restarts).toBe(1);
    expect(committedLines(out).sort()).toEqual(golden);
    expect(hidden(out)).toEqual([]);
  });

  it('a savepoint taken at parallelism 2 and restored at parallelism 3: the two runs together write the golden output', async () => {
    const out = tempDir('file-source-savepoint');
    const savepoints = join(out, '..', `${out.split('/').pop()}-savepoints`);
    mkdirSync(savepoints, { recursive: true });
    let stop: Promise<string> | undefined;
    let seen = 0;
    let client: JobClient | undefined;
    client = await startJob(JOB, {
      parallelism: 2,
      params: params(input, out, format, { delayMs: 1, batchSize: 16 }),
      onCheckpoint: (_c, _a, cl) => {
        if (++seen === 2) stop = cl.stopWithSavepoint(savepoints).then((s) => s.path as string);
      },
    });
    const ended = await client.result;
    const path = await (stop as Promise<string>);
    expect(ended.savepoint?.path).toBe(path);
    const before = committedLines(out).length;
    expect(before).toBeLessThan(golden.length);
    const result = await executeJob(JOB, { parallelism: 3, params: params(input, out, format), fromSavepoint: path });
    expect(result.faultTolerance.restarts).toBe(0);
    expect(committedLines(out).sort()).toEqual(golden);
    expect(hidden(out)).toEqual([]);
  });
});
