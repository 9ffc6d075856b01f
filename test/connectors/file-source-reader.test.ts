// The file source's readers without threads: exact records, byte-range splits, and restores from every position at other parallelisms.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SourceReader } from '../../src/actors/operator.ts';
import { ErrorCodes, WeirError, fileSource, type FileSourceOptions, type FileSourceState } from '../../src/index.ts';
import { openWriter } from './file-sink-helpers.ts';
import {
  RecordingOutput,
  csvText,
  drain,
  jsonRecords,
  jsonlText,
  openReaders,
  orderRows,
  tempDir,
  throughStorage,
  writeWhole,
  type JsonRecord,
} from './file-source-helpers.ts';

/** A directory of JSON-lines files in every style; returns it and the records of each file in order. */
function jsonlDir(): { dir: string; files: Record<string, JsonRecord[]> } {
  const dir = tempDir('file-source-jsonl');
  const files: Record<string, JsonRecord[]> = { a: jsonRecords('a', 40), b: jsonRecords('b', 25), 'sub/c': jsonRecords('c', 31) };
  writeWhole(join(dir, 'a.jsonl'), jsonlText(files.a, { crlf: true, bom: true, blanks: true, finalNewline: false }));
  writeWhole(join(dir, 'b.jsonl'), jsonlText(files.b, { blanks: true }));
  writeWhole(join(dir, 'sub/c.jsonl'), jsonlText(files['sub/c'], { finalNewline: false }));
  // Hidden and underscore names are skipped, as are empty files.
  writeWhole(join(dir, '.hidden.jsonl'), jsonlText(jsonRecords('hidden', 3)));
  writeWhole(join(dir, '_tmp.jsonl'), jsonlText(jsonRecords('tmp', 3)));
  writeWhole(join(dir, 'empty.jsonl'), '');
  return { dir, files };
}

const ids = (values: unknown[]) => values.map((v) => (v as { id: string }).id).sort();
const allIds = (files: Record<string, { id: string }[]>) =>
  Object.values(files)
    .flatMap((rs) => rs.map((r) => r.id))
    .sort();

/** Every reader of `parallelism` drained; the values per reader. */
async function readAll(options: FileSourceOptions, parallelism: number, states?: unknown[]): Promise<unknown[][]> {
  const readers = await openReaders(fileSource(options), parallelism, states);
  return readers.map((r) => {
    const out = new RecordingOutput();
    drain(r, out);
    return out.emitted.map((e) => e.value);
  });
}

describe('file source readers', () => {
  it('read every JSON line once, in file order, at parallelism 1, 2 and 4, and with byte-range splits', async () => {
    const { dir, files } = jsonlDir();
    for (const splitSizeBytes of [undefined, 100, 333]) {
      for (const parallelism of [1, 2, 4]) {
        const perReader = await readAll({ path: dir, format: 'jsonl', splitSizeBytes }, parallelism);
        const all = perReader.flat();
        expect(ids(all)).toEqual(allIds(files));
        expect(all.length).toBe(96);
        if (splitSizeBytes === undefined) {
          // A whole file is read by one reader, in order.
          for (const [name, records] of Object.entries(files)) {
            const reader = perReader.find((vs) => vs.some((v) => (v as JsonRecord).id === records[0].id)) as unknown[];
            expect(reader.filter((v) => (v as JsonRecord).id.startsWith(`${name.split('/').pop()}-`))).toEqual(records);
          }
        }
      }
    }
  });

  it('read a single file given by path', async () => {
    const { dir, files } = jsonlDir();
    const [values] = await readAll({ path: join(dir, 'b.jsonl'), format: 'jsonl' }, 1);
    expect(values).toEqual(files.b);
  });

  it('read CSV with a header into objects, with quoted fields, CRLF, empty lines and no final line break', async () => {
    const dir = tempDir('file-source-csv');
    const header = ['id', 'customer', 'note', 'amount'];
    const one = orderRows('x', 23);
    const two = orderRows('y', 17);
    writeWhole(join(dir, 'x.csv'), csvText(header, one, { crlf: true, blanks: true, finalNewline: false }));
    writeWhole(join(dir, 'y.csv'), csvText(header, two, { blanks: true }));
    const expected = [...one, ...two].map(([id, customer, note, amount]) => ({ id, customer, note, amount }));
    for (const parallelism of [1, 2, 4]) {
      const all = (await readAll({ path: dir, format: 'csv' }, parallelism)).flat();
      expect(ids(all)).toEqual(expected.map((r) => r.id).sort());
      expect([...all].sort((a, b) => ((a as { id: string }).id < (b as { id: string }).id ? -1 : 1))).toEqual(
        [...expected].sort((a, b) => (a.id < b.id ? -1 : 1)),
      );
    }
    // Typed columns, and given column names.
    const [typed] = await readAll(
      { path: join(dir, 'y.csv'), format: 'csv', csv: { columns: ['k', 'c', 'n', 'a'], header: true, types: { a: 'number' } } },
      1,
    );
    expect(typed).toEqual(two.map(([k, c, n, a]) => ({ k, c, n, a: Number(a) })));
    // Without a header or names: arrays of strings.
    writeWhole(join(dir, 'plain', 'z.csv'), csvText(undefined, one, { crlf: true }));
    const [arrays] = await readAll({ path: join(dir, 'plain'), format: 'csv', csv: { header: false } }, 1);
    expect(arrays).toEqual(one);
  });

  it('restored from a snapshot after any record, at another parallelism, emit exactly the records not yet emitted', async () => {
    const { dir, files } = jsonlDir();
    const csvDir = tempDir('file-source-csv');
    const rows = orderRows('r', 30);
    writeWhole(
      join(csvDir, 'r.csv'),
      csvText(['id', 'customer', 'note', 'amount'], rows, { crlf: true, blanks: true, finalNewline: false }),
    );
    writeWhole(join(csvDir, 's.csv'), csvText(['id', 'customer', 'note', 'amount'], orderRows('s', 9), { blanks: true }));
    const cases: { options: FileSourceOptions; expected: string[] }[] = [
      { options: { path: dir, format: 'jsonl', splitSizeBytes: 120 }, expected: allIds(files) },
      { options: { path: csvDir, format: 'csv' }, expected: [...rows.map((r) => r[0]), ...orderRows('s', 9).map((r) => r[0])].sort() },
    ];
    for (const { options, expected } of cases) {
      for (const [before, after] of [
        [2, 3],
        [3, 1],
        [1, 4],
      ]) {
        for (let cut = 0; cut <= expected.length; cut += 7) {
          const readers = await openReaders(fileSource(options), before);
          const out = new RecordingOutput();
          // Readers take turns, one record at a time, until `cut` records are out.
          let turn = 0;
          const ended = new Set<SourceReader>();
          while (out.emitted.length < cut && ended.size < readers.length) {
            const r = readers[turn++ % readers.length];
            if (!ended.has(r) && r.pollNext(out, 1) === 'end') ended.add(r);
          }
          const states = readers.map((r) => throughStorage(r.snapshotState?.(1)));
          for (const r of readers) await r.close?.();
          const rest = (await readAll(options, after, states)).flat();
          const emitted = [...out.emitted.map((e) => e.value), ...rest];
          expect(ids(emitted), `cut ${cut}, ${before} → ${after}`).toEqual(expected);
        }
      }
    }
  });

  it('name the file and line of a malformed JSON line, also in a byte range after the first', async () => {
    const dir = tempDir('file-source-bad');
    const lines = jsonRecords('m', 50).map((r) => JSON.stringify(r));
    lines[36] = '{"id": "m-36", oops';
    writeFileSync(join(dir, 'bad.jsonl'), `${lines.join('\n')}\n`);
    for (const splitSizeBytes of [undefined, 200]) {
      const readers = await openReaders(fileSource({ path: dir, format: 'jsonl', splitSizeBytes }), 1);
      const error = (() => {
        try {
          drain(readers[0], new RecordingOutput());
        } catch (e) {
          return e as WeirError;
        }
      })();
      expect(error).toBeInstanceOf(WeirError);
      expect(error?.code).toBe(ErrorCodes.SOURCE_FORMAT);
      expect(error?.message).toContain(`${join(dir, 'bad.jsonl')} at line 37: invalid JSON`);
      expect(error?.message).toContain('"{\\"id\\": \\"m-36\\", oops"');
    }
  });

  it("with onError 'skip', count malformed lines (across a restore) and emit the rest", async () => {
    const dir = tempDir('file-source-skip');
    const lines = jsonRecords('s', 30).map((r) => JSON.stringify(r));
    for (const i of [3, 17, 29]) lines[i] = `not json ${i}`;
    writeFileSync(join(dir, 's.jsonl'), lines.join('\n'));
    const options: FileSourceOptions = { path: dir, format: 'jsonl', onError: 'skip' };
    const [reader] = await openReaders(fileSource(options), 1);
    const out = new RecordingOutput();
    for (let i = 0; i < 10; i++) reader.pollNext(out, 1);
    const state = throughStorage(reader.snapshotState?.(1)) as FileSourceState;
    expect(state.skipped).toBe(1);
    const restored = await openReaders(fileSource(options), 2, [state]);
    const rest = new RecordingOutput();
    for (const r of restored) drain(r, rest);
    const values = [...out.emitted, ...rest.emitted].map((e) => (e.value as JsonRecord).n).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: 30 }, (_, i) => i).filter((i) => ![3, 17, 29].includes(i)));
    expect(restored.map((r) => r.counters?.()['file.records_skipped'])).toEqual([3, 0]);
  });

  it('read back what the exactly-once file sink wrote as CSV, skipping its hidden in-progress files', async () => {
    const dir = tempDir('file-source-roundtrip');
    const records = orderRows('w', 40).map(([id, customer, note, amount]) => ({ id, customer, note, amount: Number(amount) }));
    const writer = await openWriter(dir, {
      format: 'csv',
      csv: { header: true, columns: ['id', 'customer', 'note', 'amount'] },
      rollSizeBytes: 300,
    });
    for (const r of records) writer.write(r, undefined);
    writer.endInput?.();
    await writer.close?.();
    // A part file still being written by another job is hidden: it is not read.
    writeFileSync(join(dir, '.part-9-0.inprogress'), 'id,customer,note,amount\nhidden,c,n,1\n');
    const [values] = await readAll({ path: dir, format: 'csv', csv: { types: { amount: 'number' } } }, 1);
    expect([...(values as typeof records)].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(
      [...records].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
  });

  it('read only the files the filter accepts', async () => {
    const { dir, files } = jsonlDir();
    writeWhole(join(dir, 'notes.txt'), 'not json\n');
    const [values] = await readAll({ path: dir, format: 'jsonl', filter: (p) => p.endsWith('.jsonl') && !p.startsWith('sub/') }, 1);
    expect(values).toEqual([...files.a, ...files.b]);
  });

  it('while monitoring, a reader without files releases its output (holds no watermark back) and waits', async () => {
    const dir = tempDir('file-source-monitor-idle');
    const [reader] = await openReaders(fileSource({ path: dir, format: 'jsonl', monitorIntervalMs: 10 }), 1);
    const out = new RecordingOutput();
    expect(reader.pollNext(out, 100)).toBe('wait');
    expect(out.released).toEqual(['']);
    writeWhole(join(dir, 'late.jsonl'), jsonlText(jsonRecords('late', 3)));
    // Waits for the next listing (a condition, not a duration).
    while (out.emitted.length < 3) if (reader.pollNext(out, 100) === 'wait') await reader.available?.();
    expect(out.emitted.map((e) => [e.split, (e.value as JsonRecord).id])).toEqual([
      ['late.jsonl', 'late-0'],
      ['late.jsonl', 'late-1'],
      ['late.jsonl', 'late-2'],
    ]);
    expect(reader.pollNext(out, 100)).toBe('wait');
    expect(out.released).toEqual(['', 'late.jsonl']);
    expect((reader.snapshotState?.(1) as FileSourceState).seen).toEqual(['late.jsonl']);
    await reader.close?.();
  });

  it('fail with WEIR_SOURCE_IO when the path does not exist', async () => {
    const source = fileSource({ path: join(tempDir('file-source-missing'), 'nothing'), format: 'jsonl' });
    const reader = source.createReader({ operatorName: 'files', subtaskIndex: 0, parallelism: 1 });
    expect(() => reader.open?.()).toThrow(expect.objectContaining({ code: ErrorCodes.SOURCE_IO }));
  });
});
