// The file source in running jobs: exact JSON-lines and CSV output at parallelism 1, 2 and 4 on worker threads and in local mode, and event-time windows on its timestamps.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { executeJob, type ExecuteOptions } from '../../src/index.ts';
import { csvText, jsonRecords, jsonlText, orderRows, tempDir, writeWhole, type JsonRecord } from './file-source-helpers.ts';

const JOB = 'test/fixtures/jobs/file-source.ts';
const RUNS: { name: string; options: ExecuteOptions }[] = [
  { name: 'parallelism 1', options: { parallelism: 1 } },
  { name: 'parallelism 2', options: { parallelism: 2 } },
  { name: 'parallelism 4', options: { parallelism: 4 } },
  { name: 'local mode, parallelism 2', options: { parallelism: 2, mode: 'local' } },
];

/** Checks that the records of each file come in file order within the collected output (one reader reads a file, in order). */
function expectFileOrder(collected: unknown[], files: Record<string, { id: string }[]>): void {
  for (const [prefix, records] of Object.entries(files)) {
    const got = collected.filter((r) => (r as { id: string }).id.startsWith(`${prefix}-`));
    expect(got).toEqual(records);
  }
}

describe('file source output', () => {
  let jsonlDir: string;
  let jsonlFiles: Record<string, JsonRecord[]>;
  let csvDir: string;
  let csvFiles: Record<string, { id: string; customer: string; note: string; amount: number }[]>;

  beforeAll(() => {
    jsonlDir = tempDir('file-source-out-jsonl');
    jsonlFiles = { a: jsonRecords('a', 300), b: jsonRecords('b', 170), c: jsonRecords('c', 55), d: jsonRecords('d', 1) };
    writeWhole(join(jsonlDir, 'a.jsonl'), jsonlText(jsonlFiles.a, { crlf: true, blanks: true, finalNewline: false }));
    writeWhole(join(jsonlDir, 'b.jsonl'), jsonlText(jsonlFiles.b, { blanks: true, bom: true }));
    writeWhole(join(jsonlDir, 'nested', 'c.jsonl'), jsonlText(jsonlFiles.c, { crlf: true }));
    writeWhole(join(jsonlDir, 'nested', 'deeper', 'd.jsonl'), jsonlText(jsonlFiles.d, { finalNewline: false }));
    writeWhole(join(jsonlDir, '.in-progress.jsonl'), jsonlText(jsonRecords('hidden', 5)));

    csvDir = tempDir('file-source-out-csv');
    const header = ['id', 'customer', 'note', 'amount'];
    const rows = { x: orderRows('x', 120), y: orderRows('y', 64), z: orderRows('z', 9) };
    writeWhole(join(csvDir, 'x.csv'), csvText(header, rows.x, { crlf: true, blanks: true, finalNewline: false }));
    writeWhole(join(csvDir, 'y.csv'), csvText(header, rows.y, { blanks: true }));
    writeWhole(join(csvDir, 'z.csv'), csvText(header, rows.z, { crlf: true }));
    csvFiles = Object.fromEntries(
      Object.entries(rows).map(([name, rs]) => [
        name,
        rs.map(([id, customer, note, amount]) => ({ id, customer, note, amount: Number(amount) })),
      ]),
    );
  });

  for (const run of RUNS) {
    it(`JSON lines, ${run.name}: every record once, each file in order`, async () => {
      const result = await executeJob(JOB, { ...run.options, params: { path: jsonlDir, format: 'jsonl' } });
      const out = result.collected.out;
      expect(out.length).toBe(526);
      expect(out.map((r) => (r as JsonRecord).id).sort()).toEqual(
        Object.values(jsonlFiles)
          .flat()
          .map((r) => r.id)
          .sort(),
      );
      expectFileOrder(out, jsonlFiles);
    });

    it(`CSV with quoted fields and a typed column, ${run.name}: every record once, each file in order`, async () => {
      const result = await executeJob(JOB, {
        ...run.options,
        params: { path: csvDir, format: 'csv', types: JSON.stringify({ amount: 'number' }) },
      });
      const out = result.collected.out;
      expect(out.length).toBe(193);
      expectFileOrder(out, csvFiles);
    });
  }

  it('JSON lines cut into byte ranges at parallelism 4: every record once', async () => {
    const result = await executeJob(JOB, { parallelism: 4, params: { path: jsonlDir, format: 'jsonl', splitSize: 1000 } });
    const out = result.collected.out as JsonRecord[];
    expect(out.map((r) => r.id).sort()).toEqual(
      Object.values(jsonlFiles)
        .flat()
        .map((r) => r.id)
        .sort(),
    );
  });

  it('timestamps from a field drive event-time windows through the source watermarks', async () => {
    const dir = tempDir('file-source-windows');
    // Timestamps rise through the files in path order, so each reader's are monotonous.
    const files = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'];
    const expected = new Map<string, number>();
    files.forEach((name, f) => {
      const steps = Array.from({ length: 200 }, (_, i) => ({ key: `k${i % 3}`, seq: i, ts: f * 1000 + i * 5 }));
      for (const s of steps) {
        const w = `${s.key}@${Math.floor(s.ts / 100) * 100}`;
        expected.set(w, (expected.get(w) ?? 0) + 1);
      }
      writeWhole(join(dir, `${name}.jsonl`), jsonlText(steps, { crlf: f % 2 === 0 }));
    });
    for (const parallelism of [1, 3]) {
      const result = await executeJob(JOB, { parallelism, params: { path: dir, format: 'jsonl', variant: 'windows', windowMs: 100 } });
      const got = new Map((result.collected.out as [string, number, number][]).map(([k, start, n]) => [`${k}@${start}`, n]));
      expect(got).toEqual(expected);
      expect(result.collected.out.length).toBe(expected.size);
    }
  });
});
