// Apache Flink 2.3 as the oracle of weir's SQL: every script of cases/ (and Nexmark q0–q9, q11 at 20,000 events, q13–q22 at 10,000)
// runs on weir and on Flink (bench/flink SqlRunner, one JVM for all scripts) and the final tables must be equal, row
// for row; the scripts of known/ are weir's known differences from Flink, each asserted exactly as it is today.
// Needs Java 17 and Maven (or a built bench/flink): without them the suite fails, naming what is missing.

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type ChangelogCounts,
  compareOptionsOf,
  compareTables,
  describeDiff,
  ensureFlinkRunner,
  type FinalTable,
  runOnFlink,
  runOnWeir,
} from '../../bench/flink/sql-oracle.ts';

// A test may wait for the Flink JVM to finish every script (minutes on a loaded 2-core machine).
vi.setConfig({ testTimeout: 600_000 });

const HERE = join('test', 'sql-oracle');
const CASES = join(HERE, 'cases');
const KNOWN = join(HERE, 'known');
const NEXMARK = join('bench', 'nexmark', 'sql');

/** Rows of each equal case's final table (Flink's count): an empty result on both sides must not pass unnoticed. */
const EXPECTED_ROWS: Record<string, number> = {
  'substring-start': 1,
  'int-overflow': 2,
  'double-to-string': 2,
  'double-division-by-zero': 2,
  'date-format-patterns': 1,
  'cast-boolean-to-string': 5,
  'case-cast': 6,
  'changelog-counts-count-of-groups': 3,
  'changelog-counts-group-by': 3,
  'changelog-counts-group-over-join': 3,
  'changelog-counts-left-join-late': 6,
  'changelog-counts-top-n': 5,
  'changelog-counts-unchanged': 3,
  conditional: 6,
  'csv-tumble': 5,
  'cumulate-tvf': 25,
  'distinct-filter': 4,
  'group-hop': 8,
  'group-hop-first-window': 6,
  'group-session': 13,
  'group-tumble': 11,
  'join-comma-where': 3,
  'join-full-outer': 10,
  'join-interval': 5,
  'join-temporal': 7,
  'join-temporal-changelog': 9,
  'join-temporal-left': 9,
  'join-window': 21,
  'lookup-join': 6,
  'split-index-regexp-extract': 6,
  'user-function': 6,
  'hop-tvf': 8,
  'math-functions': 6,
  'null-logic': 6,
  'over-events-late': 17,
  'over-interval-join': 12,
  'over-range-bounded': 12,
  'over-range-unbounded': 10,
  'over-rows-bounded': 12,
  'over-rows-unbounded': 9,
  'projection-filter': 3,
  'string-functions': 6,
  'time-functions': 6,
  'tumble-tvf-late': 11,
  'window-dedup-first': 11,
  'window-dedup-last': 8,
  'window-over-interval-join': 7,
  'window-topn-agg': 8,
  'window-topn-tvf': 8,
  'nexmark-q0': 18_400,
  'nexmark-q1': 18_400,
  'nexmark-q2': 99,
  'nexmark-q3': 105,
  'nexmark-q4': 5,
  'nexmark-q5': 19,
  'nexmark-q6': 950,
  'nexmark-q7': 2,
  'nexmark-q8': 165,
  'nexmark-q9': 950,
  'nexmark-q11': 379,
  'nexmark-q13': 9_200,
  'nexmark-q14': 2_623,
  'nexmark-q15': 1,
  'nexmark-q16': 3_840,
  'nexmark-q17': 378,
  'nexmark-q18': 1_789,
  'nexmark-q19': 3_002,
  'nexmark-q20': 714,
  'nexmark-q21': 8_721,
  'nexmark-q22': 9_200,
};

/**
 * Flink's changelog of each case that asks to compare the counts of row kinds (`-- oracle-compare: changelog-counts`):
 * weir's must be the same, and these pin them (a case that stopped retracting must not pass unnoticed).
 */
const EXPECTED_KINDS: Record<string, ChangelogCounts> = {
  'changelog-counts-count-of-groups': { '+I': 3, '-U': 6, '+U': 6, '-D': 0 },
  'changelog-counts-group-by': { '+I': 3, '-U': 3, '+U': 3, '-D': 0 },
  'changelog-counts-left-join-late': { '+I': 11, '-U': 0, '+U': 0, '-D': 5 },
  'changelog-counts-top-n': { '+I': 5, '-U': 2, '+U': 2, '-D': 0 },
  'changelog-counts-unchanged': { '+I': 3, '-U': 1, '+U': 1, '-D': 0 },
};

const sqlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();

/** Nexmark's DDL at `events` events followed by one query file, as one script. */
function nexmarkScript(q: string, events: number): string {
  const ddl = readFileSync(join(NEXMARK, 'ddl.sql'), 'utf8').replace(/'events\.num' = '\d+'/, `'events.num' = '${events}'`);
  return `${ddl}\n${readFileSync(join(NEXMARK, `${q}.sql`), 'utf8')}`;
}

const scripts = new Map<string, { file: string; text: string }>();
for (const f of sqlFiles(CASES)) scripts.set(f.replace(/\.sql$/, ''), { file: join(CASES, f), text: readFileSync(join(CASES, f), 'utf8') });
for (const f of sqlFiles(KNOWN))
  scripts.set(`known/${f.replace(/\.sql$/, '')}`, { file: join(KNOWN, f), text: readFileSync(join(KNOWN, f), 'utf8') });

/**
 * Flink's tables, by script name. The JVM runs every script while the tests run weir's side (Flink waits on its
 * MiniCluster much of the time), and each test awaits Flink's tables after computing weir's.
 */
let flinkTables: Promise<Map<string, FinalTable>>;
/**
 * weir's tables, by script name: computed one after another from the start, while the Flink JVM runs (the first test
 * would otherwise wait for all of Flink's tables before weir computed its second one).
 */
const weirTables = new Map<string, Promise<FinalTable>>();

beforeAll(() => {
  ensureFlinkRunner(); // builds bench/flink on first use; throws naming java or mvn when missing
  const dir = mkdtempSync(join(tmpdir(), 'weir-sql-oracle-'));
  // q12 (windows of the wall clock) is left out: its tables differ run to run
  const nexmark: [string, number][] = [
    ...['q0', 'q1', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7', 'q8', 'q9', 'q11'].map((q): [string, number] => [q, 20_000]),
    ...['q13', 'q14', 'q15', 'q16', 'q17', 'q18', 'q19', 'q20', 'q21', 'q22'].map((q): [string, number] => [q, 10_000]),
  ];
  for (const [q, events] of nexmark) {
    const file = join(dir, `nexmark-${q}.sql`);
    const text = nexmarkScript(q, events);
    writeFileSync(file, text);
    scripts.set(`nexmark-${q}`, { file, text });
  }
  const names = [...scripts.keys()];
  flinkTables = runOnFlink(names.map((n) => (scripts.get(n) as { file: string }).file)).then(
    (tables) => new Map(names.map((n, i) => [n, tables[i]])),
  );
  flinkTables.catch(() => {}); // reported by the first test that awaits it
  // In the order the tests ask for them: the equal cases, then the known differences.
  let previous: Promise<unknown> = Promise.resolve();
  for (const name of [...Object.keys(EXPECTED_ROWS), ...names.filter((n) => !(n in EXPECTED_ROWS))]) {
    const text = (scripts.get(name) as { text: string }).text;
    const table = previous.then(() => runOnWeir(text, { parallelism: 1 }));
    weirTables.set(name, table);
    previous = table;
  }
}, 600_000);

async function weirAndFlink(name: string): Promise<{ weir: FinalTable; flink: FinalTable }> {
  const script = scripts.get(name);
  if (script === undefined) throw new Error(`no script ${name}`);
  const weir = await (weirTables.get(name) ?? runOnWeir(script.text, { parallelism: 1 }));
  return { weir, flink: (await flinkTables).get(name) as FinalTable };
}

describe('weir and Flink give the same final table', () => {
  it('has a row count for every case (and a case for every count)', () => {
    expect([...scripts.keys()].filter((n) => !n.startsWith('known/')).sort()).toEqual(Object.keys(EXPECTED_ROWS).sort());
  });

  for (const name of Object.keys(EXPECTED_ROWS)) {
    it(
      name,
      async () => {
        const { weir, flink } = await weirAndFlink(name);
        expect(flink.error).toBeUndefined();
        expect(weir.error).toBeUndefined();
        const options = compareOptionsOf((scripts.get(name) as { text: string }).text);
        const diff = compareTables(weir, flink, options);
        expect(diff.equal, describeDiff(name, weir, flink, diff)).toBe(true);
        expect(flink.rows.length).toBe(EXPECTED_ROWS[name]);
        expect(weir.rows.length).toBe(EXPECTED_ROWS[name]);
        expect(options.changelogCounts === true).toBe(name in EXPECTED_KINDS);
        if (options.changelogCounts === true) {
          expect(flink.kinds).toEqual(EXPECTED_KINDS[name]);
          expect(weir.kinds).toEqual(EXPECTED_KINDS[name]);
        }
      },
      600_000,
    );
  }
});

describe("weir's known differences from Flink (each test fails once weir changes: then move the case)", () => {
  it('an empty CSV field of an INT column: Flink fails the job, weir reads NULL', async () => {
    const { weir, flink } = await weirAndFlink('known/csv-empty-number');
    expect(flink.error).toMatch(/Fail to deserialize at field: qty[\s\S]*NumberFormatException: For input string: ""/);
    expect(weir.error).toBeUndefined();
    expect(weir.rows).toEqual([
      { id: 1, name: 'alice', qty: 10 },
      { id: 2, name: '', qty: null },
      { id: 3, name: 'bob', qty: 7 },
    ]);
  });

  it('an unquoted dateTime column: a parse error on Flink (DATETIME is reserved), a name on weir', async () => {
    const { weir, flink } = await weirAndFlink('known/unquoted-datetime');
    expect(flink.error).toMatch(/SQL parse failed\. Encountered "dateTime" at line 1, column 24/);
    expect(weir.error).toBeUndefined();
    expect(weir.rows.map((r) => r.v).sort()).toEqual([1, 2, 3, 4]);
  });
  it('an ambiguous window_start (window TVF over a view that has one): refused by Flink, answered by weir', async () => {
    const { weir, flink } = await weirAndFlink('known/ambiguous-window-column');
    expect(flink.error).toMatch(/Column 'window_start' is ambiguous/);
    expect(weir.error).toBeUndefined();
    expect(weir.rows.length).toBe(4);
  });
});

describe("weir's known differences from Flink: changelogs", () => {
  it('a DISTINCT over its input\'s unique key: dropped by Flink (-U/+U pass through), run by weir (-D/+I); same table', async () => {
    const name = 'known/changelog-counts-distinct-unique-key';
    const { weir, flink } = await weirAndFlink(name);
    expect(flink.error).toBeUndefined();
    expect(compareTables(weir, flink).equal).toBe(true);
    expect(weir.rows.length).toBe(3);
    const diff = compareTables(weir, flink, compareOptionsOf((scripts.get(name) as { text: string }).text));
    expect(diff.equal).toBe(false);
    expect(flink.kinds).toEqual({ '+I': 3, '-U': 1, '+U': 1, '-D': 0 });
    expect(weir.kinds).toEqual({ '+I': 4, '-U': 0, '+U': 0, '-D': 1 });
  });
});

describe('the comparison reports differences', () => {
  it('names the rows weir misses and the rows it has beyond Flink, with counts', async () => {
    const { weir, flink } = await weirAndFlink('tumble-tvf-late');
    // plant: drop alice's first window, change bob's count in it, add erin's row a second time
    const sorted = [...weir.rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const alice = sorted.find((r) => r.user === 'alice' && r.window_start === 1704067200000);
    const bob = sorted.find((r) => r.user === 'bob' && r.window_start === 1704067200000);
    expect(alice).toEqual({ window_start: 1704067200000, window_end: 1704067210000, user: 'alice', n: 2, total: 5, top: 1.5 });
    expect(bob).toEqual({ window_start: 1704067200000, window_end: 1704067210000, user: 'bob', n: 3, total: 13, top: 2.25 });
    const erin = sorted.find((r) => r.user === 'erin');
    expect(erin).toEqual({ window_start: 1704067220000, window_end: 1704067230000, user: 'erin', n: 1, total: 4, top: 0.25 });
    const planted: FinalTable = {
      columns: weir.columns,
      rows: [...weir.rows.filter((r) => r !== alice && r !== bob), { ...bob, n: 4 }, erin as Record<string, unknown>],
    };
    const diff = compareTables(planted, flink);
    expect(diff.equal).toBe(false);
    expect(diff.missing).toEqual([
      { row: '{"window_start":1704067200000,"window_end":1704067210000,"user":"alice","n":2,"total":5,"top":1.5}', count: 1 },
      { row: '{"window_start":1704067200000,"window_end":1704067210000,"user":"bob","n":3,"total":13,"top":2.25}', count: 1 },
    ]);
    expect(diff.extra).toEqual([
      { row: '{"window_start":1704067200000,"window_end":1704067210000,"user":"bob","n":4,"total":13,"top":2.25}', count: 1 },
      { row: '{"window_start":1704067220000,"window_end":1704067230000,"user":"erin","n":1,"total":4,"top":0.25}', count: 1 },
    ]);
    const text = describeDiff('planted', planted, flink, diff);
    expect(text).toContain('planted: DIFFERENT — weir 11 rows, Flink 11 rows');
    expect(text).toContain('missing on weir (Flink has them): 2 rows');
    expect(text).toContain('extra on weir (Flink lacks them): 2 rows');
  });

  it('compares the counts of row kinds only when asked, and names them when they differ', () => {
    const columns = [{ name: 'n', type: 'BIGINT' }];
    const weir: FinalTable = { columns, rows: [{ n: 2 }], kinds: { '+I': 1, '-U': 0, '+U': 0, '-D': 0 } };
    const flink: FinalTable = { columns, rows: [{ n: 2 }], kinds: { '+I': 1, '-U': 1, '+U': 1, '-D': 0 } };
    expect(compareTables(weir, flink).equal).toBe(true);
    const diff = compareTables(weir, flink, compareOptionsOf('-- oracle-compare: changelog-counts\nSELECT 1'));
    expect(diff.equal).toBe(false);
    expect(diff.kinds).toEqual({ weir: weir.kinds, flink: flink.kinds });
    expect(describeDiff('kinds', weir, flink, diff)).toContain('changelog row kinds: weir +I 1, -U 0, +U 0, -D 0; Flink +I 1, -U 1, +U 1, -D 0');
    expect(compareTables(weir, { ...flink, kinds: weir.kinds }, { changelogCounts: true }).equal).toBe(true);
    expect(() => compareOptionsOf('-- oracle-compare: changelog')).toThrow("-- oracle-compare: unknown comparison 'changelog' (known: changelog-counts)");
  });

  it('compares DECIMAL(p, s) at scale s, timestamps as epoch ms, and columns by position', () => {
    const flink: FinalTable = {
      columns: [
        { name: 'price', type: 'DECIMAL(23, 3)' },
        { name: 'ts', type: 'TIMESTAMP(3)' },
      ],
      rows: [{ price: 1120.472, ts: 1704067200000 }],
    };
    const weir = (price: number, ts: number, name = 'price'): FinalTable => ({
      columns: [
        { name, type: 'DECIMAL(23, 3)' },
        { name: 'ts', type: 'TIMESTAMP(3)' },
      ],
      rows: [{ [name]: price, ts }],
    });
    expect(compareTables(weir(0.908 * 1234, 1704067200000), flink).equal).toBe(true);
    expect(
      compareTables({ ...weir(0.908 * 15, 0), rows: [{ price: 0.908 * 15, ts: 0 }] }, { ...flink, rows: [{ price: 13.62, ts: 0 }] }).equal,
    ).toBe(true);
    expect(compareTables(weir(1120.473, 1704067200000), flink).equal).toBe(false);
    expect(compareTables(weir(1120.472, 1704067200001), flink).equal).toBe(false);
    const renamed = compareTables(weir(1120.472, 1704067200000, 'cost'), flink);
    expect(renamed.equal).toBe(false);
    expect(renamed.columns).toEqual({ weir: ['cost', 'ts'], flink: ['price', 'ts'] });
  });
});
