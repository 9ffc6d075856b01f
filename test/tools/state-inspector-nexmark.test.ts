// The state inspector on retained checkpoints of Nexmark q3 (an incremental join keeping persons and auctions), heap and RocksDB, and its errors: through the API and `weir state`.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, WeirError, readSavepoint, type Auction } from '../../src/index.ts';
import { expectedQ3, q3Checkpoints, weir, weirStateInProcess, type Backend } from './state-fixtures.ts';

const JOIN = '5-keyed-co-process';
const runs = {} as Record<Backend, string>;
const expected = expectedQ3();

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-inspect-q3-'));
  runs.heap = await q3Checkpoints('heap', join(dir, 'heap'), 'local');
  // RocksDB in worker threads, as `weir run` runs it.
  runs.rocksdb = await q3Checkpoints('rocksdb', join(dir, 'rocksdb'), 'threads');
});

const byId = (a: Auction, b: Auction) => a.id - b.id;

describe.each(['heap', 'rocksdb'] as const)('readSavepoint on the final checkpoint of Nexmark q3 (%s backend)', (backend) => {
  it('holds every OR/ID/CA person by id and every category-10 auction by seller, as the events say', async () => {
    // A run folder reads as its newest valid checkpoint: the final one, after all input.
    const reader = readSavepoint(runs[backend]);
    expect((await reader.info()).path).toMatch(/\/chk-\d+$/);
    const ops = await reader.operators();
    expect(ops.map((o) => [o.uid, o.name])).toEqual([
      ['0-source', 'Nexmark Source'],
      ['1-filter', 'Persons'],
      ['2-filter', 'Q3 State'],
      ['3-filter', 'Auctions'],
      ['4-filter', 'Q3 Category'],
      [JOIN, 'Q3 Join'],
      ['6-collect-sink', 'Collect Sink (nexmark-output)'],
    ]);
    const join = ops[5];
    expect(join.keyedStates.map((s) => [s.name, s.kind, s.keys, s.entries, s.namespaced])).toEqual([
      ['person', 'value', expected.persons.size, expected.persons.size, false],
      ['auctions', 'list', expected.auctions.size, expected.auctions.size, false],
    ]);
    expect(join.timers).toEqual([{ name: 'user-timers', eventTime: 0, processingTime: 0 }]);

    const persons = new Map<unknown, unknown>();
    for await (const e of reader.operator(JOIN).keyedState('person')) persons.set(e.key, e.value);
    expect(persons).toEqual(expected.persons);
    const auctions = new Map<unknown, Auction[]>();
    for await (const e of reader.operator(JOIN).keyedState('auctions')) auctions.set(e.key, (e.value as Auction[]).slice().sort(byId));
    // Two source readers interleave a seller's auctions, so the list order is the arrival order: compared by id.
    expect(auctions).toEqual(new Map([...expected.auctions].map(([k, v]) => [k, v.slice().sort(byId)])));

    const [id, person] = [...expected.persons][0];
    expect(await reader.operator(JOIN).get('person', id)).toEqual([expect.objectContaining({ key: id, value: person })]);
    // A key of the other type is another key: the string "1001" is not the number 1001.
    expect(await reader.operator(JOIN).get('person', String(id))).toEqual([]);
  });
});

describe('weir state on Nexmark q3 checkpoints', () => {
  it('gets a person by a numeric key, dumps the auctions, and finds no difference between the backends', async () => {
    const [id, person] = [...expected.persons][0];
    const [seller, sold] = [...expected.auctions][0];
    const [lsJson, lsGroups, get, quoted, dump, diff] = await Promise.all([
      weir('state', 'ls', runs.rocksdb, '--json'),
      weir('state', 'ls', runs.rocksdb, '--key-groups'),
      weir('state', 'get', runs.rocksdb, JOIN, 'person', String(id)),
      weir('state', 'get', runs.rocksdb, JOIN, 'person', JSON.stringify(String(id))),
      weir('state', 'dump', runs.heap, JOIN, 'auctions'),
      weir('state', 'diff', runs.heap, runs.rocksdb),
    ]);
    const reader = readSavepoint(runs.rocksdb);
    expect(JSON.parse(lsJson.stdout)).toEqual({ ...(await reader.info()), operators: await reader.operators() });
    // One line per key group: key group, subtask of the run (64 groups each at parallelism 2), entries, bytes.
    const groups = (await reader.operators())[5].keyGroups;
    expect(lsGroups.stdout).toContain(
      [
        '    key group  subtask  entries  bytes',
        ...groups.map(
          (g) =>
            `    ${String(g.keyGroup).padStart(9)}  ${String(g.keyGroup < 64 ? 0 : 1).padStart(7)}  ${String(g.entries).padStart(7)}  ${String(g.bytes).padStart(5)}`,
        ),
      ].join('\n'),
    );
    expect(groups.reduce((n, g) => n + g.entries, 0)).toBe(expected.persons.size + expected.auctions.size);
    expect(get.status, get.stderr).toBe(0);
    expect(JSON.parse(get.stdout)).toEqual(person);
    expect([quoted.status, quoted.stderr]).toEqual([1, `weir: no entry for key "${id}" in state 'person' of operator '${JOIN}'\n`]);
    expect(dump.status, dump.stderr).toBe(0);
    const lines = dump.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { state: string; key: number; value: Auction[] });
    expect(lines).toHaveLength(expected.auctions.size);
    expect(lines.find((l) => l.key === seller)?.value.sort(byId)).toEqual(sold.slice().sort(byId));
    expect(diff.status, diff.stderr).toBe(0);
    // Same input, same final state whatever the backend: the same persons; the same auctions per
    // seller, a list in arrival order (two source readers interleave), so some lists differ in order.
    expect(diff.stdout).not.toContain('person (value)');
    const auctions = /auctions \(list\): 0 added, 0 removed, (\d+) changed, (\d+) unchanged/.exec(diff.stdout);
    if (auctions === null) expect(diff.stdout).toContain('no differences in keyed state');
    else {
      expect(Number(auctions[1]) + Number(auctions[2])).toBe(expected.auctions.size);
      // Examples fit on a line.
      expect(diff.stdout.split('\n').every((l) => l.length < 260)).toBe(true);
    }
  });

  it('says what is wrong: not a checkpoint, unknown uid, unknown state, a live job, bad usage', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'weir-inspect-empty-'));
    const damaged = join(empty, 'savepoint-3-abcdef12');
    mkdirSync(damaged);
    writeFileSync(join(damaged, '_metadata'), '{"format":"weir-checkpoint"');
    const [notCheckpoint, uid, state, live] = await Promise.all([
      weir('state', 'ls', empty),
      weir('state', 'get', runs.heap, 'join', 'person', '1'),
      weir('state', 'dump', runs.heap, JOIN, 'persons'),
      weir('state', 'get', '--job', 'abc123', JOIN, 'person', '1'),
    ]);
    const broken = await weirStateInProcess('ls', damaged);
    const usage = await weirStateInProcess('get', runs.heap, JOIN);
    const noSub = await weirStateInProcess('lst', runs.heap);
    expect([notCheckpoint.status, notCheckpoint.stderr]).toEqual([
      1,
      `weir: ${empty} is not a checkpoint or savepoint folder (it has no _metadata); give a savepoint-…, chk-N or run-… folder\n`,
    ]);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/^weir: cannot read .*savepoint-3-abcdef12: metadata file .*_metadata is not valid JSON/);
    expect(uid.status).toBe(1);
    expect(uid.stderr).toMatch(
      new RegExp(
        `^weir: .*chk-\\d+ has no operator with uid 'join'; its operators: '0-source' \\(Nexmark Source\\), .*'${JOIN}' \\(Q3 Join\\)`,
      ),
    );
    expect([state.status, state.stderr]).toEqual([
      1,
      `weir: operator '${JOIN}' (Q3 Join) has no keyed state 'persons'; its keyed states: 'person', 'auctions'\n`,
    ]);
    // --job reads a running job over its control socket: there is no job abc123.
    expect(live.status).toBe(1);
    expect(live.stderr).toContain("weir: no running job with id abc123 (see 'weir list')");
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("weir: 'state get' takes <dir> <uid> <state> <key>, got 2 argument(s)");
    expect(noSub.status).toBe(2);
    expect(noSub.stderr).toContain("weir: unknown 'state' subcommand 'lst'");
    // The same errors from the API carry a code.
    const error = (await readSavepoint(runs.heap)
      .operator('join')
      .info()
      .catch((e: unknown) => e)) as WeirError;
    expect(error).toBeInstanceOf(WeirError);
    expect(error.code).toBe(ErrorCodes.CONFIG);
  });
});
