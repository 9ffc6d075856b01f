// Unaligned checkpoints under backpressure: a kill after one restores exactly (in-flight data replayed), savepoints stay aligned, and rescaling a checkpoint with in-flight data is refused by name.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, executeJob, startJob, type JobResult, type WeirError } from '../../src/index.ts';
import { decodeChannelState, hasInFlightData, parseChannelStateEntry } from '../../src/checkpoint/channel-state.ts';

const JOB = 'bench/jobs/slow-sink.ts';
const KEYS = 8;
const PER_KEY = 500;
// The sink is slow (0.5 ms a record) and the source is not throttled: every channel is backpressured.
const params = (extra: Record<string, string | number | boolean> = {}) => ({
  keys: KEYS,
  perKey: PER_KEY,
  sinkMs: 0.5,
  interval: 50,
  timeout: 10_000,
  unaligned: true,
  ...extra,
});

const canonical = (result: JobResult) => (result.collected.out as [number, number][]).map((r) => r.join(':')).sort();

/** Batches of in-flight data (input and output channels) a checkpoint holds. */
function inFlightBatches(states: ReadonlyMap<string, Uint8Array>): number {
  let batches = 0;
  for (const [name, bytes] of states) {
    if (parseChannelStateEntry(name.slice(0, name.lastIndexOf('/'))) === undefined) continue;
    const state = decodeChannelState(bytes);
    if (!hasInFlightData(state)) continue;
    for (const c of [...state.inputs, ...state.outputs]) batches += c.batches.length;
  }
  return batches;
}

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('unaligned checkpoints', () => {
  it('a worker killed after an unaligned checkpoint that holds in-flight data restores exactly: output identical to a failure-free run', async () => {
    const golden = canonical(await executeJob(JOB, { parallelism: 2, params: params({ unaligned: false }) }));
    expect(golden).toHaveLength(KEYS * PER_KEY);
    let killedAfter: { id: number; batches: number } | undefined;
    const client = await startJob(JOB, {
      parallelism: 2,
      params: params(),
      onCheckpoint: (checkpoint, attempt, c) => {
        if (attempt !== 1 || killedAfter !== undefined) return;
        const batches = inFlightBatches(checkpoint.states);
        if (batches === 0) return;
        killedAfter = { id: checkpoint.id, batches };
        void c.killWorker(1).catch(() => undefined);
      },
    });
    const result = await client.result;
    // The checkpoint restored from held in-flight batches, replayed before new input.
    expect(killedAfter?.batches).toBeGreaterThan(0);
    expect(result.faultTolerance.restarts).toBe(1);
    expect(canonical(result)).toEqual(golden);
  });

  it('with an aligned timeout, checkpoints that take longer go unaligned, and a kill after one restores exactly', async () => {
    const golden = canonical(await executeJob(JOB, { parallelism: 2, params: params({ unaligned: false }) }));
    let killedAfter: number | undefined;
    const client = await startJob(JOB, {
      parallelism: 2,
      // Aligned for 30 ms after the trigger, then the barriers overtake the queues.
      params: params({ alignedTimeout: 30 }),
      onCheckpoint: (checkpoint, attempt, c) => {
        if (attempt !== 1 || killedAfter !== undefined) return;
        if (inFlightBatches(checkpoint.states) === 0) return;
        killedAfter = checkpoint.id;
        void c.killWorker(0).catch(() => undefined);
      },
    });
    const result = await client.result;
    expect(killedAfter).toBeDefined();
    expect(result.faultTolerance.restarts).toBe(1);
    expect(canonical(result)).toEqual(golden);
  });

  it('savepoints stay aligned; a checkpoint with in-flight data restores at the same parallelism only, and says so otherwise', async () => {
    const dir = tempDir('weir-unaligned-');
    let retained: string | undefined;
    let resolveStop!: (p: Promise<{ states: ReadonlyMap<string, Uint8Array>; path?: string }>) => void;
    const stopped = new Promise<Promise<{ states: ReadonlyMap<string, Uint8Array>; path?: string }>>((r) => (resolveStop = r));
    const client = await startJob(JOB, {
      parallelism: 2,
      checkpointDir: dir,
      params: params({ perKey: 1200 }),
      onCheckpoint: (checkpoint, _attempt, c) => {
        if (retained !== undefined || inFlightBatches(checkpoint.states) === 0) return;
        // Checkpoints live in the run's own folder (`<dir>/<job>/run-…/chk-N`).
        retained = join(c.checkpointPath as string, `chk-${checkpoint.id}`);
        resolveStop(c.stopWithSavepoint(join(dir, 'savepoints')));
      },
    });
    const savepoint = await await stopped;
    expect((await client.result).savepoint?.path).toBe(savepoint.path);
    // A savepoint under the same backpressure is aligned: no channel state.
    expect([...savepoint.states.keys()].some((k) => parseChannelStateEntry(k.slice(0, k.lastIndexOf('/'))) !== undefined)).toBe(false);

    const rescaled = (await executeJob(JOB, { parallelism: 3, params: params({ perKey: 1200 }), fromSavepoint: retained }).catch(
      (e: unknown) => e,
    )) as WeirError;
    expect(rescaled.code).toBe(ErrorCodes.STATE_RESTORE);
    expect(rescaled.message).toMatch(/unaligned checkpoint.*in-flight data.*parallelism 2, now 3.*savepoint/);

    // The aligned savepoint rescales: every key's sequence goes on where it stopped, to its end.
    const resumed = await executeJob(JOB, { parallelism: 3, params: params({ perKey: 1200 }), fromSavepoint: savepoint.path });
    const byKey = new Map<number, number[]>();
    for (const [k, s] of resumed.collected.out as [number, number][]) byKey.set(k, [...(byKey.get(k) ?? []), s]);
    for (const seqs of byKey.values()) {
      expect(seqs.at(-1)).toBe(1199);
      expect(seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1)).toBe(true);
    }
  });
});
