// Directory monitoring: files added while the job runs are read once, and a restore from a savepoint reads only files it has not taken.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, startJob, type JobClient, type WeirError } from '../../src/index.ts';
import type { Step } from '../fixtures/jobs/file-source.ts';
import { committedLines } from './file-sink-helpers.ts';
import { jsonlText, tempDir, waitFor, writeWhole } from './file-source-helpers.ts';

const JOB = 'test/fixtures/jobs/file-source.ts';
const PER_KEY = 40;

/** Writes file `name` with the sequences of its two keys; returns the output lines a correct job writes for it. */
function addFile(dir: string, name: string): string[] {
  const steps: Step[] = [];
  for (let seq = 0; seq < PER_KEY; seq++) for (const k of ['x', 'y']) steps.push({ key: `${name}-${k}`, seq, ts: seq });
  writeWhole(join(dir, `${name}.jsonl`), jsonlText(steps, { crlf: name.length % 2 === 0, finalNewline: false }));
  return steps.map((s) => JSON.stringify({ key: s.key, seq: s.seq, count: s.seq + 1 }));
}

/** Stops a job with a savepoint; returns its path once the job has ended with it. */
async function stop(client: JobClient, dir: string): Promise<string> {
  const savepoint = await client.stopWithSavepoint(dir);
  expect((await client.result).savepoint).toEqual({ id: savepoint.id, path: savepoint.path });
  return savepoint.path as string;
}

describe('file source monitoring a directory', () => {
  it('reads files added while it runs, and after a restore at another parallelism only the new ones', async () => {
    const input = tempDir('file-source-monitor-in');
    const out = tempDir('file-source-monitor-out');
    const savepoints = join(out, '..', `${out.split('/').pop()}-savepoints`);
    mkdirSync(savepoints, { recursive: true });
    const params = { path: input, out, format: 'jsonl', variant: 'keyed', interval: 50, monitor: 50 };
    const committed = () => committedLines(out).sort();

    const expected = [...addFile(input, 'a'), ...addFile(input, 'bb')];
    const first = await startJob(JOB, { parallelism: 2, params });
    await waitFor(() => committed().length >= expected.length, 'the files present at the start');
    expected.push(...addFile(input, 'c'), ...addFile(input, 'dd'));
    await waitFor(() => committed().length >= expected.length, 'the files added while the job runs');
    expect(committed()).toEqual(expected.sort());
    const savepoint = await stop(first, savepoints);

    // Added while no job runs: the restored job takes it, and none of the files the savepoint holds as taken.
    expected.push(...addFile(input, 'e'));
    const second = await startJob(JOB, { parallelism: 3, params, fromSavepoint: savepoint });
    await waitFor(() => committed().length >= expected.length, 'the file added before the restore');
    expected.push(...addFile(input, 'ff'));
    await waitFor(() => committed().length >= expected.length, 'the file added after the restore');
    await stop(second, savepoints);
    expect(committed()).toEqual(expected.sort());
    expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
