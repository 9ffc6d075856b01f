// Malformed input in running jobs: the error names file and line; with onError 'skip' the rest is exact and the skipped records are counted.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, executeJob, type JobResult } from '../../src/index.ts';
import { csvText, jsonRecords, jsonlText, tempDir, writeWhole, type JsonRecord } from './file-source-helpers.ts';

const JOB = 'test/fixtures/jobs/file-source.ts';

/** Skipped records over every subtask of the source. */
function skipped(result: JobResult): number {
  return result.subtasks
    .flatMap((s) => s.operators)
    .filter((o) => o.name === 'File Source')
    .reduce((sum, o) => sum + (o.counters?.['file.records_skipped'] ?? 0), 0);
}

/** A CSV directory: a good file, and one whose records starting at lines 9 (text after a closing quote, on line 10) and 13 (a field too many) are malformed. */
function csvInput(): string {
  const dir = tempDir('file-source-bad-csv');
  writeWhole(
    join(dir, 'good.csv'),
    csvText(
      ['id', 'qty'],
      Array.from({ length: 30 }, (_, i) => [`good-${i}`, String(i)]),
    ),
  );
  const bad = [
    'id,qty', // line 1
    'bad-0,0', // 2
    '"bad-1",1', // 3
    '', // 4
    '"bad-2","multi', // 5
    'line"', // 6: the record of line 5 ends here
    'bad-3,3\r', // 7
    'bad-4,"4"', // 8
    'bad-5,"5', // 9: a quoted field opens ...
    '5"x', // 10: ... and closes, followed by text: the record of line 9 is malformed
    'bad-6,6', // 11
    'bad-7,7', // 12
    'bad-8,8,extra', // 13: malformed
    'bad-9,9', // 14
  ];
  writeWhole(join(dir, 'bad.csv'), bad.join('\n'));
  return dir;
}

/** A JSON-lines directory: a good file, and one whose lines 5 and 12 are malformed. */
function jsonlInput(): string {
  const dir = tempDir('file-source-bad-jsonl');
  writeWhole(join(dir, 'good.jsonl'), jsonlText(jsonRecords('good', 40)));
  const lines = jsonRecords('bad', 15).map((r) => JSON.stringify(r));
  lines[4] = '{"id": "bad-4", "n": 4'; // line 5
  lines[11] = 'bad-11'; // line 12
  writeWhole(join(dir, 'bad.jsonl'), `${lines.join('\r\n')}\r\n`);
  return dir;
}

describe('file source with malformed input', () => {
  it('a malformed CSV record fails the job naming the file and the line it starts on', async () => {
    const dir = csvInput();
    const failure = executeJob(JOB, { parallelism: 2, params: { path: dir, format: 'csv', restarts: 0 } });
    await expect(failure).rejects.toMatchObject({ code: ErrorCodes.SOURCE_FORMAT });
    const message = (await failure.catch((e: Error) => e.message)) as string;
    expect(message).toContain(
      `malformed CSV record in ${join(dir, 'bad.csv')} at line 9: unexpected "x" after the closing quote of field 2: "bad-5,\\"5\\n5\\"x"`,
    );
  });

  it('a malformed JSON line fails the job naming the file and the line, also on a checkpointed job', async () => {
    const dir = jsonlInput();
    const failure = executeJob(JOB, { parallelism: 2, params: { path: dir, format: 'jsonl', restarts: 0, interval: 50 } });
    await expect(failure).rejects.toMatchObject({ code: ErrorCodes.SOURCE_FORMAT });
    const message = (await failure.catch((e: Error) => e.message)) as string;
    expect(message).toContain(`malformed JSON line in ${join(dir, 'bad.jsonl')} at line 5: invalid JSON`);
    expect(message).toContain('"{\\"id\\": \\"bad-4\\", \\"n\\": 4"');
  });

  it("with onError 'skip', malformed CSV records are counted and every other record is read exactly", async () => {
    const dir = csvInput();
    for (const mode of ['threads', 'local'] as const) {
      const result = await executeJob(JOB, { mode, parallelism: 2, params: { path: dir, format: 'csv', onError: 'skip' } });
      const ids = (result.collected.out as { id: string }[]).map((r) => r.id).sort();
      const expected = [
        ...Array.from({ length: 30 }, (_, i) => `good-${i}`),
        ...['bad-0', 'bad-1', 'bad-2', 'bad-3', 'bad-4', 'bad-6', 'bad-7', 'bad-9'],
      ].sort();
      expect(ids).toEqual(expected);
      const bad2 = (result.collected.out as { id: string; qty: string }[]).find((r) => r.id === 'bad-2');
      expect(bad2).toEqual({ id: 'bad-2', qty: 'multi\nline' });
      expect(skipped(result)).toBe(2);
    }
  });

  it("with onError 'skip', malformed JSON lines are counted and every other record is read exactly", async () => {
    const dir = jsonlInput();
    const result = await executeJob(JOB, { parallelism: 2, params: { path: dir, format: 'jsonl', onError: 'skip', splitSize: 200 } });
    const ids = (result.collected.out as JsonRecord[]).map((r) => r.id).sort();
    const expected = [
      ...jsonRecords('good', 40).map((r) => r.id),
      ...jsonRecords('bad', 15)
        .map((r) => r.id)
        .filter((id) => id !== 'bad-4' && id !== 'bad-11'),
    ].sort();
    expect(ids).toEqual(expected);
    expect(skipped(result)).toBe(2);
  });
});
