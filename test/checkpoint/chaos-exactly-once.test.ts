// Chaos suite: failures injected after a completed checkpoint; every key's sequence arrives exactly once and in order, as in a failure-free run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { executeJob, startJob, type JobResult } from '../../src/index.ts';

const KEYS = 16;
const PER_KEY = 2000;
const JOB = 'test/fixtures/jobs/chaos-sequences.ts';

/** Every key's sequence exactly once, in order. */
function checkSequences(result: JobResult): void {
  const byKey = new Map<number, number[]>();
  for (const [key, seq] of result.collected.out as [number, number, number][]) byKey.set(key, [...(byKey.get(key) ?? []), seq]);
  expect([...byKey.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: KEYS }, (_, k) => k));
  for (const [key, seqs] of byKey) {
    const expected = Array.from({ length: PER_KEY }, (_, i) => i);
    if (seqs.length !== PER_KEY || seqs.some((s, i) => s !== i)) {
      throw new Error(`key ${key}: ${seqs.length} records, first out of place at ${seqs.findIndex((s, i) => s !== i)}`);
    }
    expect(seqs).toEqual(expected);
  }
}

const canonical = (result: JobResult) => (result.collected.out as [number, number, number][]).map((r) => r.join(':')).sort();

/** Aligned checkpoints (the default) or unaligned ones (barriers overtake queued batches, which are stored and replayed). */
type Barriers = 'aligned' | 'unaligned';

/** Whether a completed checkpoint holds channel state (the in-flight data of an unaligned checkpoint). */
const hasChannelState = (states: ReadonlyMap<string, Uint8Array>) => [...states.keys()].some((k) => k.includes('\u0001channels'));

async function chaos(fault: string, barriers: Barriers, mode: 'threads' | 'local' = 'threads') {
  const faultDir = mkdtempSync(join(tmpdir(), `weir-chaos-${fault}-`));
  let armed = false;
  let channelStates = 0;
  const client = await startJob(JOB, {
    mode,
    parallelism: 2,
    params: { keys: KEYS, perKey: PER_KEY, fault, faultDir, interval: 50, rate: 40_000, unaligned: barriers === 'unaligned' },
    // The hung worker is noticed after this long without heartbeats.
    heartbeatTimeoutMs: 3000,
    onCheckpoint: (checkpoint, _attempt, c) => {
      if (hasChannelState(checkpoint.states)) channelStates++;
      // Arm the fault only once a checkpoint has completed.
      if (checkpoint.id >= 2 && !armed) {
        armed = true;
        writeFileSync(join(faultDir, 'armed'), String(checkpoint.id));
        if (fault === 'terminate') void c.killWorker(1).catch(() => undefined);
      }
    },
  });
  const result = await client.result.finally(() => rmSync(faultDir, { recursive: true, force: true }));
  // Unaligned checkpoints really ran unaligned (they carry channel state), aligned ones never do.
  if (barriers === 'unaligned') expect(channelStates).toBeGreaterThan(0);
  else expect(channelStates).toBe(0);
  return result;
}

let golden: string[];
let goldenResult: JobResult;

beforeAll(async () => {
  goldenResult = await executeJob(JOB, { parallelism: 2, params: { keys: KEYS, perKey: PER_KEY } });
  golden = canonical(goldenResult);
});

it('a failure-free run gives every sequence once, in order', () => {
  checkSequences(goldenResult);
  expect(goldenResult.faultTolerance.restarts).toBe(0);
});

describe.each<Barriers>(['aligned', 'unaligned'])('exactly-once under failures, %s checkpoints', (barriers) => {
  // 'hang': the worker stops answering heartbeats (an endless loop); the supervisor notices and restarts.
  for (const fault of ['throw', 'exit', 'terminate', 'snapshot-throw', 'restore-throw', 'hang']) {
    it(`recovers from '${fault}' with output identical to the golden run`, async () => {
      const result = await chaos(fault, barriers);
      checkSequences(result);
      expect(canonical(result)).toEqual(golden);
      // restore-throw: the injected failure, then the restore that fails once.
      expect(result.faultTolerance.restarts).toBe(fault === 'restore-throw' ? 2 : 1);
      expect(result.faultTolerance.checkpointsCompleted).toBeGreaterThanOrEqual(2);
    });
  }

  it('survives several random worker kills (seeded; the long run is bench/chaos.ts)', async () => {
    const seed = Number(process.env.WEIR_CHAOS_SEED ?? Date.now() % 100_000);
    let state = seed;
    const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let kills = 0;
    const client = await startJob(JOB, {
      parallelism: 2,
      params: { keys: KEYS, perKey: PER_KEY, interval: 40, rate: 40_000, unaligned: barriers === 'unaligned' },
      onCheckpoint: (_c, attempt, c) => {
        // At most one kill per attempt, after its first checkpoint, four kills in all.
        if (kills < 4 && kills < attempt && random() < 0.7) {
          kills++;
          void c.killWorker(Math.floor(random() * 2)).catch(() => undefined);
        }
      },
    });
    const result = await client.result.catch((e: Error) => {
      throw new Error(`chaos seed ${seed}: ${e.message}`);
    });
    try {
      checkSequences(result);
      expect(canonical(result)).toEqual(golden);
    } catch (e) {
      throw new Error(`chaos seed ${seed} (rerun with WEIR_CHAOS_SEED=${seed}): ${(e as Error).message}`);
    }
    expect(result.faultTolerance.restarts).toBe(kills);
  });

  it('recovers in local mode too', async () => {
    const result = await chaos('throw', barriers, 'local');
    checkSequences(result);
    expect(result.faultTolerance.restarts).toBe(1);
  });
});
