// The file source's dead-letter policy: each malformed line or record goes to a side output with its file, line, offset, error and text; the main output stays exact, also across a worker kill.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, OutputTag, executeJob, fileSource, startJob, type FileDeadLetter, type JobResult } from '../../src/index.ts';
import { csvText, jsonRecords, tempDir, writeWhole } from './file-source-helpers.ts';

const JOB = 'test/fixtures/jobs/file-source.ts';
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function input(prefix: string): string {
  const dir = tempDir(prefix);
  dirs.push(dir);
  return dir;
}

/** The dead letters `lines` make, written to `path` with `eol`: those of the lines `bad` says are malformed (1-based line → error). */
function expectedLetters(path: string, lines: string[], eol: string, bad: Map<number, string>): FileDeadLetter[] {
  const letters: FileDeadLetter[] = [];
  let offset = 0;
  lines.forEach((text, i) => {
    const error = bad.get(i + 1);
    if (error !== undefined) letters.push({ file: path, line: i + 1, offset, error, text });
    offset += Buffer.byteLength(text + eol);
  });
  return letters;
}

/** `invalid JSON (…)` as the source words it for this text. */
function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return `invalid JSON (${(error as Error).message})`;
  }
  throw new Error(`${text} is valid JSON`);
}

/** Sum of a counter of the source over its subtasks. */
function counter(result: JobResult, name: string): number {
  return result.subtasks
    .flatMap((s) => s.operators)
    .filter((o) => o.name === 'File Source')
    .reduce((sum, o) => sum + (o.counters?.[name] ?? 0), 0);
}

const byOrigin = (a: FileDeadLetter, b: FileDeadLetter) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line);

describe('file source dead letters', () => {
  it('malformed JSON lines go to the side output with file, line, offset, error and text; the rest is read exactly', async () => {
    const dir = input('file-dlq-jsonl');
    writeWhole(join(dir, 'good.jsonl'), `${jsonRecords('good', 40).map((r) => JSON.stringify(r)).join('\n')}\n`);
    const lines = jsonRecords('bad', 15).map((r) => JSON.stringify(r));
    lines[4] = '{"id": "bad-4", "n": 4';
    lines[11] = 'bad-11';
    lines[13] = '{"id": "bad-13", "text": "zoë ☃"'; // multi-byte text before it moves the offsets
    writeWhole(join(dir, 'bad.jsonl'), `${lines.join('\r\n')}\r\n`);
    const expected = expectedLetters(
      join(dir, 'bad.jsonl'),
      lines,
      '\r\n',
      // the parser sees the line with its \r (the dead letter's text is without it)
      new Map([4, 11, 13].map((i) => [i + 1, jsonError(`${lines[i]}\r`)])),
    );
    for (const mode of ['threads', 'local'] as const) {
      const result = await executeJob(JOB, {
        mode,
        parallelism: 2,
        params: { path: dir, format: 'jsonl', onError: 'dead-letter', variant: 'dead-letter', splitSize: 200 },
      });
      expect((result.collected.dead as FileDeadLetter[]).sort(byOrigin)).toEqual(expected);
      const ids = (result.collected.out as { id: string }[]).map((r) => r.id).sort();
      const good = [...jsonRecords('good', 40), ...jsonRecords('bad', 15).filter((r) => ![4, 11, 13].includes(r.n))];
      expect(ids).toEqual(good.map((r) => r.id).sort());
      expect(counter(result, 'file.records_dead_lettered')).toBe(3);
      expect(counter(result, 'file.records_skipped')).toBe(0);
    }
  });

  it('malformed CSV records go to the side output, a record over several lines with its first line and whole text', async () => {
    const dir = input('file-dlq-csv');
    writeWhole(join(dir, 'good.csv'), csvText(['id', 'qty'], [['good-0', '0']]));
    const lines = ['id,qty', 'ok-1,1', 'bad-2,"2', '2"x', 'ok-3,3', 'bad-4,4,extra', 'ok-5,5'];
    writeWhole(join(dir, 'bad.csv'), `${lines.join('\n')}\n`);
    const result = await executeJob(JOB, {
      parallelism: 2,
      params: { path: dir, format: 'csv', onError: 'dead-letter', variant: 'dead-letter' },
    });
    const path = join(dir, 'bad.csv');
    expect((result.collected.dead as FileDeadLetter[]).sort(byOrigin)).toEqual([
      { file: path, line: 3, offset: 14, error: 'unexpected "x" after the closing quote of field 2', text: 'bad-2,"2\n2"x' },
      { file: path, line: 6, offset: 34, error: 'expected 2 fields, found 3', text: 'bad-4,4,extra' },
    ]);
    expect((result.collected.out as { id: string }[]).map((r) => r.id).sort()).toEqual(['good-0', 'ok-1', 'ok-3', 'ok-5']);
  });

  it('across a worker kill and restore: every dead letter and every record exactly once', async () => {
    const dir = input('file-dlq-kill');
    const bad = new Map<number, string>();
    const files: { name: string; lines: string[] }[] = [];
    for (const name of ['a', 'b', 'c']) {
      const lines = jsonRecords(name, 400).map((r) => JSON.stringify(r));
      for (let i = 17; i < lines.length; i += 37) lines[i] = `{"id": "${name}-${i}", broken`;
      files.push({ name, lines });
      writeWhole(join(dir, `${name}.jsonl`), `${lines.join('\n')}\n`);
    }
    const expected = files
      .flatMap(({ name, lines }) => {
        bad.clear();
        lines.forEach((l, i) => l.endsWith('broken') && bad.set(i + 1, jsonError(l)));
        return expectedLetters(join(dir, `${name}.jsonl`), lines, '\n', bad);
      })
      .sort(byOrigin);
    let killed = false;
    const client = await startJob(JOB, {
      parallelism: 2,
      params: {
        path: dir,
        format: 'jsonl',
        onError: 'dead-letter',
        variant: 'dead-letter',
        splitSize: 4096,
        interval: 50,
        batchSize: 16,
        delayMs: 2, // 1,200 records over 2 subtasks: about 1.2 s each, so the kill lands mid-stream
      },
      onCheckpoint: (c, _a, cl) => {
        if (killed || c.id < 3) return;
        killed = true;
        void cl.killWorker(1).catch(() => undefined);
      },
    });
    const result = await client.result;
    expect(killed).toBe(true);
    expect(result.faultTolerance.restarts).toBe(1);
    expect(expected.length).toBe(33);
    expect((result.collected.dead as FileDeadLetter[]).sort(byOrigin)).toEqual(expected);
    const good = files.flatMap(({ name, lines }) =>
      lines.flatMap((l, i) => (l.endsWith('broken') ? [] : [`${name}-${i}`])),
    );
    expect((result.collected.out as { id: string }[]).map((r) => r.id).sort()).toEqual(good.sort());
    expect(counter(result, 'file.records_dead_lettered')).toBe(33);
  });

  it("'dead-letter' without a deadLetterTag is a configuration error", () => {
    expect(() => fileSource({ path: '/tmp', format: 'jsonl', onError: 'dead-letter' })).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG, message: expect.stringContaining("onError 'dead-letter' needs a deadLetterTag") }),
    );
    expect(() => fileSource({ path: '/tmp', format: 'jsonl', onError: 'dead-letter', deadLetterTag: new OutputTag('bad') })).not.toThrow();
  });
});
