// The state inspector on savepoints of the revenue pipeline, heap and RocksDB: open windows, timers and key groups exactly as the orders predict, through the API and `weir state`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { diffSavepoints, readSavepoint } from '../../src/index.ts';
import { assignToKeyGroup } from '../../src/state/key-groups.ts';
import { WINDOW_SIZE } from '../../examples/revenue-pipeline.ts';
import { REVENUE_PARAMS, expectedOpenWindows, revenueSavepoint, weir, type Backend } from './state-fixtures.ts';

const WINDOWS = '2-window-aggregate';
const STATE = 'window-contents';

interface Taken {
  path: string;
  /** Orders the source had read at the savepoint. */
  position: number;
  expected: Map<string, number>;
}

const taken = {} as Record<Backend, Taken>;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-inspect-revenue-'));
  const [heap, rocksdb] = await Promise.all([
    revenueSavepoint('heap', join(dir, 'heap')),
    revenueSavepoint('rocksdb', join(dir, 'rocksdb')),
  ]);
  for (const [backend, path] of [
    ['heap', heap],
    ['rocksdb', rocksdb],
  ] as const) {
    const [source] = (await readSavepoint(path).operator('0-source').functionStates()) as { next: number }[];
    taken[backend] = { path, position: source.next, expected: expectedOpenWindows(source.next) };
  }
});

/** `customer|windowStart` → cents of a keyed-state iterator. */
async function windowsOf(path: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const e of readSavepoint(path).operator(WINDOWS).keyedState(STATE)) out.set(`${e.key}|${e.namespace}`, e.value as number);
  return out;
}

describe.each(['heap', 'rocksdb'] as const)('readSavepoint on a revenue pipeline savepoint (%s backend)', (backend) => {
  it('holds exactly the windows the orders before the savepoint leave open, with their sums', async () => {
    const { path, position, expected } = taken[backend];
    // The savepoint was taken mid-run (the job stopped with it), so windows are open.
    expect(position).toBeGreaterThan(0);
    expect(position).toBeLessThan(REVENUE_PARAMS.orders);
    expect(expected.size).toBeGreaterThan(100);
    expect(await windowsOf(path)).toEqual(expected);
  });

  it('lists the operators by uid with their state, timers and key groups', async () => {
    const { path, expected } = taken[backend];
    const reader = readSavepoint(path);
    const info = await reader.info();
    expect(info).toMatchObject({ kind: 'savepoint', maxParallelism: 128, path });
    const ops = await reader.operators();
    expect(ops.map((o) => [o.uid, o.name, o.parallelism, o.generatedUid])).toEqual([
      ['0-source', 'Orders', 1, true],
      ['1-filter', 'Paid Orders', 1, true],
      [WINDOWS, 'Hourly Revenue', 2, true],
      ['3-collect-sink', 'Collect Sink (revenue)', 2, true],
      ['4-collect-sink', 'Collect Sink (late)', 2, true],
    ]);
    const customers = new Set([...expected.keys()].map((id) => id.split('|')[0]));
    const windows = ops[2];
    expect(windows.keyedStates).toEqual([
      {
        name: STATE,
        kind: 'value',
        ttl: false,
        entries: expected.size,
        keys: customers.size,
        namespaced: true,
        keyGroups: windows.keyGroups.length,
      },
    ]);
    // One cleanup timer per open window, at its last millisecond.
    const starts = [...expected.keys()].map((id) => Number(id.split('|')[1]));
    expect(windows.timers).toEqual([
      { name: 'window-timers', eventTime: expected.size, processingTime: 0, earliestEventTime: Math.min(...starts) + WINDOW_SIZE - 1 },
    ]);
    const timers: string[] = [];
    for await (const t of reader.operator(WINDOWS).timers()) {
      expect(t.timestamp).toBe((t.namespace as number) + WINDOW_SIZE - 1);
      timers.push(`${t.service}|${t.domain}|${t.key}|${t.namespace}`);
    }
    expect(timers.sort()).toEqual([...expected.keys()].map((id) => `window-timers|event-time|${id}`).sort());
    // Key groups: the runtime's assignment, each held by the subtask owning its range at parallelism 2.
    const perGroup = new Map<number, number>();
    for (const c of customers) {
      const kg = assignToKeyGroup(c, 128);
      perGroup.set(kg, (perGroup.get(kg) ?? 0) + [...expected.keys()].filter((id) => id.startsWith(`${c}|`)).length);
    }
    expect(windows.keyGroups.map((g) => [g.keyGroup, g.subtask, g.entries])).toEqual(
      [...perGroup].sort((a, b) => a[0] - b[0]).map(([kg, n]) => [kg, kg < 64 ? 0 : 1, n]),
    );
    expect(windows.keyGroups.every((g) => g.bytes > 0)).toBe(true);
    for (const o of [ops[1], ops[3], ops[4]]) expect([o.keyedStates, o.timers, o.functionStates]).toEqual([[], [], 0]);
    expect(ops[0].functionStates).toBe(1);
  });

  it('gets one key from its key group', async () => {
    const { path, expected } = taken[backend];
    const [id, cents] = [...expected][0];
    const [customer, start] = id.split('|');
    const entries = await readSavepoint(path).operator(WINDOWS).get(STATE, customer);
    const mine = [...expected].filter(([k]) => k.startsWith(`${customer}|`)).map(([k, v]) => [Number(k.split('|')[1]), v]);
    expect(entries.map((e) => [e.namespace, e.value])).toEqual(expect.arrayContaining(mine));
    expect(entries).toHaveLength(mine.length);
    expect(entries.find((e) => e.namespace === Number(start))).toEqual({
      key: customer,
      namespace: Number(start),
      value: cents,
      keyGroup: assignToKeyGroup(customer, 128),
    });
    expect(await readSavepoint(path).operator(WINDOWS).get(STATE, 'C99999')).toEqual([]);
  });
});

describe('diffSavepoints between the two savepoints (taken at different positions)', () => {
  it('counts the windows added, removed and changed as the orders between the positions predict', async () => {
    const a = taken.heap;
    const b = taken.rocksdb;
    const diff = await diffSavepoints(a.path, b.path, { examples: 5 });
    const added = [...b.expected.keys()].filter((k) => !a.expected.has(k));
    const removed = [...a.expected.keys()].filter((k) => !b.expected.has(k));
    const changed = [...b.expected.keys()].filter((k) => a.expected.has(k) && a.expected.get(k) !== b.expected.get(k));
    const unchanged = [...b.expected.keys()].filter((k) => a.expected.get(k) === b.expected.get(k));
    expect(diff.operators.map((o) => [o.uid, o.presence, o.states.length])).toEqual([
      ['0-source', 'both', 0],
      ['1-filter', 'both', 0],
      [WINDOWS, 'both', a.position === b.position ? 0 : 1],
      ['3-collect-sink', 'both', 0],
      ['4-collect-sink', 'both', 0],
    ]);
    if (a.position === b.position) return;
    const s = diff.operators[2].states[0];
    expect([s.name, s.kindBefore, s.kindAfter, s.added, s.removed, s.changed, s.unchanged]).toEqual([
      STATE,
      'value',
      'value',
      added.length,
      removed.length,
      changed.length,
      unchanged.length,
    ]);
    expect(s.examples.added).toHaveLength(Math.min(5, added.length));
    for (const e of s.examples.added) expect(b.expected.get(`${e.key}|${e.namespace}`)).toBe(e.value);
    for (const e of s.examples.removed) expect(a.expected.get(`${e.key}|${e.namespace}`)).toBe(e.value);
    for (const e of s.examples.changed) {
      expect(a.expected.get(`${e.key}|${e.namespace}`)).toBe(e.before);
      expect(b.expected.get(`${e.key}|${e.namespace}`)).toBe(e.after);
    }
  });
});

describe('weir state on revenue savepoints', () => {
  it('ls, get, dump (jsonl, csv) and diff print what the orders predict', async () => {
    const { path, expected } = taken.heap;
    const [id, cents] = [...expected].find(
      ([k]) => [...expected.keys()].filter((o) => o.startsWith(`${k.split('|')[0]}|`)).length === 1,
    ) as [string, number];
    const [customer, start] = id.split('|');
    const [ls, get, missing, jsonl, csv, diff, position] = await Promise.all([
      weir('state', 'ls', path),
      weir('state', 'get', path, WINDOWS, STATE, customer),
      weir('state', 'get', path, WINDOWS, STATE, 'C99999'),
      weir('state', 'dump', path, WINDOWS),
      weir('state', 'dump', path, WINDOWS, STATE, '--format', 'csv'),
      weir('state', 'diff', path, taken.rocksdb.path),
      weir('state', 'dump', path, '0-source', '--function'),
    ]);
    expect([position.status, position.stdout]).toEqual([
      0,
      `{"subtask":0,"state":{"subtask":0,"parallelism":1,"next":${taken.heap.position}}}\n`,
    ]);
    const ops = await readSavepoint(path).operators();
    const w = ops[2];
    const customers = new Set([...expected.keys()].map((k) => k.split('|')[0])).size;
    expect(ls.status, ls.stderr).toBe(0);
    expect(ls.stdout.split('\n').slice(0, 3)).toEqual([
      expect.stringMatching(/^savepoint \d+ of job 'weir job', taken \d{4}-\d\d-\d\dT/),
      `  ${path}`,
      expect.stringMatching(/^ {2}128 key groups, 5 operators, [\d.]+ KiB$/),
    ]);
    expect(ls.stdout).toContain(
      [
        `${WINDOWS}  'Hourly Revenue' (generated uid)  parallelism 2`,
        `  keyed   ${STATE}  value  ${expected.size} entries by key and namespace (${customers} keys)  in ${w.keyGroups.length} key groups`,
      ].join('\n'),
    );
    expect(ls.stdout).toMatch(new RegExp(`\n  timers  window-timers +${expected.size} event-time, 0 processing-time  +earliest 20`));
    expect(ls.stdout).toContain(`1-filter  'Paid Orders' (generated uid)  parallelism 1  (no state)`);
    expect(ls.stdout).toContain(
      `0-source  'Orders' (generated uid)  parallelism 1\n  function state of subtask 0: {"subtask":0,"parallelism":1,"next":${taken.heap.position}}\n`,
    );

    expect(get.status, get.stderr).toBe(0);
    expect(get.stdout).toBe(`{"namespace":${start},"value":${cents}}\n`);
    expect([missing.status, missing.stdout, missing.stderr]).toEqual([
      1,
      '',
      `weir: no entry for key "C99999" in state '${STATE}' of operator '${WINDOWS}'\n`,
    ]);

    expect(jsonl.status, jsonl.stderr).toBe(0);
    const dumped = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { state: string; key: string; namespace: number; value: number });
    expect(dumped.every((d) => d.state === STATE)).toBe(true);
    expect(new Map(dumped.map((d) => [`${d.key}|${d.namespace}`, d.value]))).toEqual(expected);
    expect(dumped).toHaveLength(expected.size);

    expect(csv.status, csv.stderr).toBe(0);
    const rows = csv.stdout.trim().split('\n');
    expect(rows[0]).toBe('state,key,namespace,value');
    expect(
      new Map(
        rows
          .slice(1)
          .map((r) => r.split(','))
          .map(([s, k, ns, v]) => [`${s}:${k}|${ns}`, Number(v)]),
      ),
    ).toEqual(new Map([...expected].map(([k, v]) => [`${STATE}:${k}`, v])));

    expect(diff.status, diff.stderr).toBe(0);
    const api = await diffSavepoints(path, taken.rocksdb.path);
    const s = api.operators[2].states[0];
    if (s === undefined) expect(diff.stdout).toContain('no differences in keyed state');
    else {
      expect(diff.stdout).toContain(
        `${WINDOWS}  'Hourly Revenue'\n  ${STATE} (value): ${s.added} added, ${s.removed} removed, ${s.changed} changed, ${s.unchanged} unchanged\n`,
      );
      const e = s.examples.changed[0];
      if (e) expect(diff.stdout).toContain(`    ~ ${JSON.stringify(e.key)} @ ${e.namespace}: ${e.before} → ${e.after}\n`);
      expect(diff.stdout).toContain('4 operator(s) without differences');
    }
  });
});
