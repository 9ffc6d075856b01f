// writeSavepoint and `weir state write`: a bootstrapped savepoint that jobs start from (heap and RocksDB) and count on from, at a chosen max parallelism, from iterables and JSONL/CSV files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ErrorCodes,
  KeyedProcessFunction,
  StateTtlConfig,
  ValueStateDescriptor,
  WeirError,
  defineJob,
  entriesFromFile,
  executeJob,
  readSavepoint,
  writeSavepoint,
  type Collector,
  type KeyedProcessContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { assignToKeyGroup } from '../../src/state/key-groups.ts';
import { WORDS_PER_LINE, lineAt } from '../../examples/word-count.ts';
import { weir, weirStateInProcess } from './state-fixtures.ts';

const COUNTS = 'test/fixtures/jobs/savepoint-counts.ts';
const KEYS = 10;
const COUNT = 600;
const params = { keys: KEYS, count: COUNT, rate: 0 };

/** The last count per key of a savepoint-counts run. */
function finals(counts: [number, number][]): Map<number, number> {
  const out = new Map<number, number>();
  for (const [k, c] of counts) out.set(k, Math.max(out.get(k) ?? 0, c));
  return out;
}

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `weir-bootstrap-${name}-`));

describe.each(['heap', 'rocksdb'] as const)('a job started from a bootstrapped savepoint (%s backend)', (backend) => {
  it('counts on from the bootstrapped counts, at max parallelism 64, rescaled to 3 subtasks', async () => {
    const { path, entries } = await writeSavepoint({
      dir: tmp(backend),
      maxParallelism: 64,
      operators: [
        {
          uid: 'count',
          name: 'Count',
          keyedState: { count: { kind: 'value', entries: Array.from({ length: KEYS }, (_, k) => [k, 1000 * k] as const) } },
        },
      ],
    });
    expect(entries).toEqual({ count: { count: KEYS } });
    // Every key sits in the key group the runtime computes for it at 64.
    const [op] = await readSavepoint(path).operators();
    expect([op.uid, op.name, op.maxParallelism, op.generatedUid]).toEqual(['count', 'Count', 64, false]);
    const groups = new Map<number, number>();
    for (let k = 0; k < KEYS; k++) groups.set(assignToKeyGroup(k, 64), (groups.get(assignToKeyGroup(k, 64)) ?? 0) + 1);
    expect(op.keyGroups.map((g) => [g.keyGroup, g.entries])).toEqual([...groups].sort((a, b) => a[0] - b[0]));

    const result = await executeJob(COUNTS, {
      mode: 'local',
      parallelism: 3,
      maxParallelism: 64,
      params,
      fromSavepoint: path,
      stateBackend: { kind: backend },
    });
    const counts = result.collected.counts as [number, number][];
    // 600 numbers over 10 keys: each key counts 60 more, starting right after its bootstrapped count.
    expect(finals(counts)).toEqual(new Map(Array.from({ length: KEYS }, (_, k) => [k, 1000 * k + COUNT / KEYS])));
    for (let k = 0; k < KEYS; k++) {
      const mine = counts.filter(([key]) => key === k).map(([, c]) => c);
      expect(mine).toEqual(Array.from({ length: COUNT / KEYS }, (_, i) => 1000 * k + 1 + i));
    }
  });
});

describe('writeSavepoint', () => {
  it("bootstraps a keyed sum's state (`_reduce`, the reduced record) from a CSV file under the generated uid", async () => {
    const dir = tmp('csv');
    const file = join(dir, 'words.csv');
    // Two words start from counts carried over; a cell is JSON when it parses as JSON.
    writeFileSync(file, 'word,record\nw0,"{""word"":""w0"",""count"":500}"\nw1,"{""word"":""w1"",""count"":7}"\n');
    const { path } = await writeSavepoint({
      dir,
      operators: [
        {
          uid: '3-keyed-reduce',
          keyedState: { _reduce: { kind: 'value', entries: entriesFromFile(file, { keyField: 'word', valueField: 'record' }) } },
        },
      ],
    });
    expect(await readSavepoint(path).operator('3-keyed-reduce').get('_reduce', 'w1')).toEqual([
      { key: 'w1', value: { word: 'w1', count: 7 }, keyGroup: assignToKeyGroup('w1', 128) },
    ]);
    const words = 2000;
    const result = await executeJob('test/fixtures/jobs/word-count.ts', {
      mode: 'local',
      parallelism: 2,
      params: { words },
      fromSavepoint: path,
    });
    const expected = new Map<string, number>();
    for (let i = 0; i < Math.ceil(words / WORDS_PER_LINE); i++)
      for (const w of lineAt(i).split(' ')) if (w) expected.set(w, (expected.get(w) ?? 0) + 1);
    expect(expected.has('w0') && expected.has('w1')).toBe(true);
    expected.set('w0', (expected.get('w0') as number) + 500);
    expected.set('w1', (expected.get('w1') as number) + 7);
    expect(new Map(result.collected.counts as [string, number][])).toEqual(expected);
  });

  it("reads a job's operator list state, and writes operator and broadcast state that a job restores", async () => {
    const OPS = 'test/fixtures/jobs/operator-state.ts';
    const dir = tmp('operator');
    await executeJob(OPS, { mode: 'local', parallelism: 2, params: { count: 600, rate: 0 }, checkpointDir: join(dir, 'ckpt') });
    // The final checkpoint: each of the two subtasks counted its half of the 600 numbers in one slot.
    const ckpt = readSavepoint(join(dir, 'ckpt'));
    const tally = (await ckpt.operators()).find((o) => o.uid === 'tally');
    expect(tally?.operatorStates).toEqual([{ name: 'tally', mode: 'split', elements: 2 }]);
    expect(await ckpt.operator('tally').operatorState('tally')).toEqual([300, 300]);
    const ls = await weir('state', 'ls', join(dir, 'ckpt'));
    expect(ls.stdout).toContain("\ntally  'Map'  parallelism 2\n  operator  tally  list (split)  2 elements\n");

    const { path } = await writeSavepoint({
      dir,
      operators: [{ uid: 'tally', operatorState: { tally: [5, 7] }, broadcastState: { rules: new Map([['a', 1]]) } }],
    });
    const written = readSavepoint(path).operator('tally');
    expect(await written.operatorState('tally')).toEqual([5, 7]);
    expect(await written.broadcastState('rules')).toEqual([['a', 1]]);
    expect((await weir('state', 'ls', path)).stdout).toContain(
      "\ntally  'tally'  parallelism 1\n  operator   tally  list (split)  2 elements\n  broadcast  rules  map           1 entries\n",
    );
    const missing = await written.broadcastState('other').then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(missing).toBe("operator 'tally' (tally) has no broadcast state 'other'; its broadcast states: 'rules'");
    // Tally sums the slots it restores: one subtask starts from 5 + 7.
    const result = await executeJob(OPS, {
      mode: 'local',
      parallelism: 1,
      params: { count: 600, rate: 0 },
      fromSavepoint: path,
      allowNonRestoredState: true,
    });
    const counts = (result.collected.out as [number, number, number][]).map(([, c]) => c);
    expect(Math.max(...counts)).toBe(612);
    expect(Math.min(...counts)).toBe(13);
  });

  it('bootstraps state with TTL for a descriptor with TTL; without TTL the restore is refused', async () => {
    class TtlCount extends KeyedProcessFunction<number, number, [number, number]> {
      private count!: ValueState<number>;
      override open(ctx: RuntimeContext) {
        this.count = ctx.getState(new ValueStateDescriptor<number>('count').enableTimeToLive(StateTtlConfig.newBuilder(3_600_000).build()));
      }
      processElement(n: number, ctx: KeyedProcessContext, out: Collector<[number, number]>) {
        const c = (this.count.value() ?? 0) + 1;
        this.count.update(c);
        out.collect([ctx.getCurrentKey() as number, c]);
      }
    }
    const job = defineJob((env) => {
      env
        .fromSequence(0, 29)
        .keyBy((n) => n % 3)
        .process(new TtlCount())
        .uid('ttl-count')
        .collect('out');
    });
    const bootstrap = (ttl: boolean | { lastAccess: number }) =>
      writeSavepoint({
        dir: tmp('ttl'),
        operators: [
          {
            uid: 'ttl-count',
            keyedState: {
              count: {
                kind: 'value',
                ttl,
                entries: [
                  [0, 50],
                  [1, 70],
                ],
              },
            },
          },
        ],
      });
    const now = Date.now();
    const withTtl = await bootstrap({ lastAccess: now });
    const read = [];
    for await (const e of readSavepoint(withTtl.path).operator('ttl-count').keyedState('count')) read.push([e.key, e.value, e.lastAccess]);
    expect(read.sort()).toEqual([
      [0, 50, now],
      [1, 70, now],
    ]);
    expect((await readSavepoint(withTtl.path).operators())[0].keyedStates[0]).toMatchObject({ name: 'count', ttl: true, keys: 2 });
    const result = await executeJob(job, { mode: 'local', parallelism: 2, fromSavepoint: withTtl.path });
    expect(finals(result.collected.out as [number, number][])).toEqual(
      new Map([
        [0, 60],
        [1, 80],
        [2, 10],
      ]),
    );
    // The same from the command line: --ttl.
    const file = join(tmp('ttl-cli'), 'counts.jsonl');
    writeFileSync(file, '[0, 50]\n[1, 70]\n');
    const cli = await weirStateInProcess(
      'write',
      join(file, '..'),
      '--uid',
      'ttl-count',
      '--state',
      'count',
      '--kind',
      'value',
      '--ttl',
      '--from',
      file,
    );
    expect(cli.status, cli.stderr).toBe(0);
    const fromCli = await executeJob(job, { mode: 'local', parallelism: 2, fromSavepoint: cli.stdout.trim() });
    expect(finals(fromCli.collected.out as [number, number][])).toEqual(
      new Map([
        [0, 60],
        [1, 80],
        [2, 10],
      ]),
    );
    const without = await bootstrap(false);
    const error = (await executeJob(job, { mode: 'local', parallelism: 2, fromSavepoint: without.path }).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain("operator 'ttl-count' (KeyedProcess): state 'count' was snapshotted without TTL and is now registered with it");
  });

  it('reads back list and map state and composite keys as written, each in its key group', async () => {
    const { path } = await writeSavepoint({
      dir: tmp('kinds'),
      maxParallelism: 16,
      operators: [
        {
          uid: 'kinds',
          keyedState: {
            seen: {
              kind: 'list',
              entries: [
                [
                  [1, 'a'],
                  ['x', 'y'],
                ],
              ],
            },
            prices: {
              kind: 'map',
              entries: [
                [
                  'book',
                  new Map([
                    ['eur', 12],
                    ['usd', 13],
                  ]),
                ],
                ['pen', { eur: 2 }],
              ],
            },
          },
        },
      ],
    });
    const op = readSavepoint(path).operator('kinds');
    expect(await op.get('seen', [1, 'a'])).toEqual([{ key: [1, 'a'], value: ['x', 'y'], keyGroup: assignToKeyGroup([1, 'a'], 16) }]);
    expect(await op.get('seen', [1, 'b'])).toEqual([]);
    const prices = [];
    for await (const e of op.keyedState('prices')) prices.push([e.key, e.value]);
    expect(prices.sort()).toEqual([
      [
        'book',
        [
          ['eur', 12],
          ['usd', 13],
        ],
      ],
      ['pen', [['eur', 2]]],
    ]);
    const info = await op.info();
    expect(info.keyedStates.map((s) => [s.name, s.kind, s.keys])).toEqual(
      expect.arrayContaining([
        ['seen', 'list', 1],
        ['prices', 'map', 2],
      ]),
    );
    const cli = await weir('state', 'get', path, 'kinds', 'seen', '[1,"a"]');
    expect([cli.status, cli.stdout]).toEqual([0, '["x","y"]\n']);
  });

  it('refuses a key given twice, a list value that is not an array, and a bad file line, saying where', async () => {
    const dir = tmp('bad');
    const twice: WeirError = await writeSavepoint({
      dir,
      operators: [
        {
          uid: 'count',
          keyedState: {
            count: {
              kind: 'value',
              entries: [
                [1, 1],
                [2, 2],
                [1, 3],
              ],
            },
          },
        },
      ],
    }).then(
      () => new WeirError('written', { code: ErrorCodes.INTERNAL, domain: 'internal' }),
      (e: WeirError) => e,
    );
    expect([twice.code, twice.message]).toEqual([
      ErrorCodes.CONFIG,
      "keyed state 'count' of operator 'count': the key 1 comes twice (entry 3)",
    ]);
    const list = await writeSavepoint({ dir, operators: [{ uid: 'u', keyedState: { l: { kind: 'list', entries: [['a', 5]] } } }] }).then(
      () => new Error('written'),
      (e: Error) => e,
    );
    expect(list.message).toBe(`keyed state 'l' of operator 'u', key "a": a list state's value must be an array of elements`);
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, '[1, 2]\n{"key": 2}\n');
    const line = await writeSavepoint({
      dir,
      operators: [{ uid: 'u', keyedState: { v: { kind: 'value', entries: entriesFromFile(file) } } }],
    }).then(
      () => new Error('written'),
      (e: Error) => e,
    );
    expect(line.message).toBe(`${file}:2: no field 'value'`);
  });

  it('a savepoint written at another max parallelism than the job has is refused at restore', async () => {
    const { path } = await writeSavepoint({
      dir: tmp('max'),
      maxParallelism: 64,
      operators: [
        { uid: 'count', keyedState: { count: { kind: 'value', entries: Array.from({ length: KEYS }, (_, k) => [k, k] as const) } } },
      ],
    });
    const error = (await executeJob(COUNTS, { mode: 'local', parallelism: 2, params, fromSavepoint: path }).catch(
      (e: unknown) => e,
    )) as Error;
    // Refused before any subtask starts, by the state plan (weir plan gives the same verdict).
    expect(error.message).toContain(
      'max parallelism changed: the savepoint has 64 key groups, the job 128; keyed state cannot move to other key groups (keep maxParallelism 64 for this job\'s life)',
    );
  });

  it('a state of the wrong kind is refused when the job restores it, naming both kinds', async () => {
    const { path } = await writeSavepoint({
      dir: tmp('kind'),
      operators: [{ uid: 'count', keyedState: { count: { kind: 'list', entries: [[1, [1, 2]]] } } }],
    });
    const error = (await executeJob(COUNTS, { mode: 'local', parallelism: 1, params, fromSavepoint: path }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error.message).toContain(
      "operator 'count' (Count): state 'count' was list state in the savepoint and is now registered as value state; a state's kind cannot change",
    );
  });
});

describe('weir state write', () => {
  it('writes a savepoint from JSONL that weir run --from-savepoint counts on from', async () => {
    const dir = tmp('cli');
    const file = join(dir, 'counts.jsonl');
    writeFileSync(file, `${Array.from({ length: KEYS }, (_, k) => JSON.stringify({ key: k, value: 100 + k })).join('\n')}\n`);
    const write = await weir(
      'state',
      'write',
      join(dir, 'savepoints'),
      '--uid',
      'count',
      '--state',
      'count',
      '--kind',
      'value',
      '--from',
      file,
    );
    expect(write.status, write.stderr).toBe(0);
    const path = write.stdout.trim();
    expect(path).toMatch(/\/savepoints\/savepoint-1-[0-9a-f]{8}$/);
    expect(write.stderr).toMatch(/^weir: wrote 10 entries of 'count' for operator 'count' \(\d+ B\)\n$/);
    const [get, run] = await Promise.all([
      weir('state', 'get', path, 'count', 'count', '7'),
      weir(
        'run',
        COUNTS,
        '-p',
        '2',
        '--param',
        `keys=${KEYS}`,
        '--param',
        `count=${COUNT}`,
        '--param',
        'rate=0',
        '--from-savepoint',
        path,
        '--json',
      ),
    ]);
    expect([get.status, get.stdout]).toEqual([0, '107\n']);
    expect(run.status, run.stderr).toBe(0);
    expect(finals(JSON.parse(run.stdout).collected.counts)).toEqual(
      new Map(Array.from({ length: KEYS }, (_, k) => [k, 100 + k + COUNT / KEYS])),
    );
  });
});
