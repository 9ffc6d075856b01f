// Live keyed state queries of a running job (JobClient.queryState): the owning subtask answers between records, equal to what the next savepoint holds, heap and RocksDB.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/checkpoint/storage.ts';
import { operatorsOf } from '../../src/scheduler/restore.ts';
import { startJob, type JobClient, type StateBackendConfig } from '../../src/index.ts';

const JOB = 'test/fixtures/jobs/state-plan.ts';
const KEYS = 200;
const COUNT = 2000;

/** Waits until every key counted all its records (the source then holds, so state stays as it is). */
async function settled(client: JobClient): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const counts = await Promise.all(Array.from({ length: KEYS }, (_, k) => client.queryState('totals', 'count', k).then((v) => v.value)));
    if (counts.every((c) => c === COUNT / KEYS)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the job did not process its records');
}

/** The entry of `key` in state `name` of operator `uid` in a stored savepoint (default namespace). */
function savedValue(byOperator: ReturnType<typeof operatorsOf>, uid: string, name: string, key: unknown): unknown {
  for (const subtask of byOperator.get(uid) ?? [])
    for (const kg of subtask?.keyed ?? [])
      for (const s of kg.states) {
        if (s.name !== name) continue;
        const i = s.keys.findIndex((k, j) => k === key && (s.namespaces?.[j] ?? null) === null);
        if (i >= 0) return s.values[i];
      }
  return undefined;
}

const backends: [string, StateBackendConfig][] = [
  ['heap', { kind: 'heap' }],
  // A cache of 8 keys per subtask: most of the 200 keys are on disk when asked for.
  ['rocksdb', { kind: 'rocksdb', cacheKeys: 8 }],
];

describe.each(backends)('JobClient.queryState (%s)', (_name, stateBackend) => {
  it('answers every key live, equal to what the savepoint taken next holds', async () => {
    // Small batches: many loads, so the RocksDB cache writes keys back to disk as it goes.
    const client = await startJob(JOB, { parallelism: 2, batchSize: 16, stateBackend, params: { hold: true, count: COUNT, keys: KEYS } });
    try {
      await settled(client);
      const keys = Array.from({ length: KEYS }, (_, k) => k);
      const live = await Promise.all(
        keys.map(async (k) => ({
          count: await client.queryState('totals', 'count', k),
          recent: await client.queryState('totals', 'recent', k),
          last: await client.queryState('totals', 'last', k),
          seen: await client.queryState('flags', 'seen', k),
        })),
      );
      const dir = mkdtempSync(join(tmpdir(), 'weir-live-state-'));
      const taken = await client.triggerSavepoint(dir);
      const saved = operatorsOf(new Map((await loadCheckpoint(taken.path as string)).entries.map((e) => [e.name, e.data as Uint8Array])));
      for (const k of keys) {
        const { count, recent, last, seen } = live[k];
        // Key k got k, k+200, …, k+1800.
        expect(count).toMatchObject({ uid: 'totals', state: 'count', key: k, kind: 'value', found: true, value: 10 });
        expect(recent).toMatchObject({ kind: 'list', found: true, value: [k + 1400, k + 1600, k + 1800] });
        expect(last).toMatchObject({ kind: 'value', found: true, value: k + 1800 });
        expect(seen).toMatchObject({ kind: 'value', found: true, value: true });
        expect(count.subtask).toBe(recent.subtask);
        expect(savedValue(saved, 'totals', 'count', k)).toEqual(count.value);
        expect(savedValue(saved, 'totals', 'recent', k)).toEqual(recent.value);
        expect(savedValue(saved, 'totals', 'last', k)).toEqual(last.value);
        expect(savedValue(saved, 'flags', 'seen', k)).toEqual(seen.value);
      }
      // Both subtasks answered (the routing by key group reached each).
      expect(new Set(live.map((l) => l.count.subtask))).toEqual(new Set([0, 1]));
      // A key the job never saw has no value.
      expect(await client.queryState('totals', 'count', KEYS + 5)).toMatchObject({ found: false });
      expect((await client.queryState('totals', 'count', KEYS + 5)).value).toBeUndefined();
    } finally {
      await client.cancel();
      await client.result.catch(() => undefined);
    }
  });
});

describe('JobClient.queryState errors', () => {
  it('names the known operators, keyed operators and states', async () => {
    const client = await startJob(JOB, { mode: 'local', parallelism: 2, params: { hold: true, count: 100, keys: 10 } });
    try {
      const error = (p: Promise<unknown>) =>
        p.then(
          () => undefined,
          (e: Error & { code?: string }) => `${e.code}: ${e.message}`,
        );
      expect(await error(client.queryState('totalz', 'count', 1))).toBe(
        "WEIR_STATE_ACCESS: job 'weir job' has no operator with uid 'totalz'; its operators: 'numbers' (Numbers), 'totals' (Totals), 'flags' (Flags), 'collect' (Collect Sink (out))",
      );
      expect(await error(client.queryState('numbers', 'count', 1))).toBe(
        "WEIR_STATE_ACCESS: operator 'numbers' (Numbers) does not read a keyed stream and has no keyed state; keyed operators: 'totals', 'flags'",
      );
      expect(await error(client.queryState('totals', 'counts', 1))).toBe(
        "WEIR_STATE_ACCESS: operator 'totals' has no keyed state 'counts'; its keyed states: 'count', 'last', 'recent'",
      );
    } finally {
      await client.cancel();
      await client.result.catch(() => undefined);
    }
    // After the end there is nothing live to ask.
    expect(
      await client.queryState('totals', 'count', 1).then(
        () => 'answered',
        (e: Error & { code?: string }) => e.code,
      ),
    ).toBe('WEIR_JOB_NOT_RUNNING');
  });
});
