// Chaos with the exactly-once file sink: kills while barriers are in flight, while a checkpoint is stored, and before and after its commit.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startJob, type ExecuteOptions, type JobClient } from '../../src/index.ts';

const KEYS = 8;
const PER_KEY = 1500;

/** Reads the committed part files in part order and checks every key's sequence exactly once, in order. */
function checkFiles(dir: string): void {
  const files = readdirSync(dir);
  expect(files.filter((f) => f.startsWith('.'))).toEqual([]);
  const parts = files
    .filter((f) => f.startsWith('part-'))
    .map((f) => ({ f, subtask: Number(f.split('-')[1]), n: Number(f.split('-')[2]) }))
    .sort((a, b) => a.subtask - b.subtask || a.n - b.n);
  const byKey = new Map<number, number[]>();
  for (const { f } of parts) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!line) continue;
      const { key, seq } = JSON.parse(line) as { key: number; seq: number };
      byKey.set(key, [...(byKey.get(key) ?? []), seq]);
    }
  }
  expect(byKey.size).toBe(KEYS);
  for (const [key, seqs] of byKey) {
    if (seqs.length !== PER_KEY || seqs.some((s, i) => s !== i))
      throw new Error(`key ${key}: ${seqs.length} records, first misplaced at ${seqs.findIndex((s, i) => s !== i)}`);
  }
}

async function run(inject: (client: () => JobClient) => Partial<ExecuteOptions>) {
  const out = mkdtempSync(join(tmpdir(), 'weir-file-chaos-'));
  let client: JobClient | undefined;
  const started = await startJob('test/fixtures/jobs/chaos-file-sink.ts', {
    parallelism: 2,
    params: { keys: KEYS, perKey: PER_KEY, out },
    ...inject(() => client as JobClient),
  });
  client = started;
  const result = await started.result;
  checkFiles(out);
  return result;
}

/** Kills worker 1 once, at the first call at or after checkpoint 3. */
function once() {
  let done = false;
  return (id: number, client: JobClient) => {
    if (done || id < 3) return;
    done = true;
    void client.killWorker(1).catch(() => undefined);
  };
}

describe('exactly-once file sink under kills', () => {
  it('without failures, every sequence is in the committed files once, and no hidden file is left', async () => {
    const result = await run(() => ({}));
    expect(result.faultTolerance.restarts).toBe(0);
  });

  it('a kill before alignment completes (barriers in flight)', async () => {
    const kill = once();
    const result = await run(() => ({ onCheckpointTriggered: (id, _a, c) => kill(id, c) }));
    expect(result.faultTolerance.restarts).toBe(1);
  });

  it('a kill after all acknowledgements, while the checkpoint is stored', async () => {
    const kill = once();
    const result = await run((client) => ({
      storeCheckpoint: async (c) => {
        kill(c.id, client());
        await new Promise((r) => setTimeout(r, 20));
      },
    }));
    expect(result.faultTolerance.restarts).toBe(1);
  });

  it('a kill before the sink commits a completed checkpoint', async () => {
    const kill = once();
    const result = await run(() => ({ onCheckpoint: (c, _a, client) => kill(c.id, client) }));
    expect(result.faultTolerance.restarts).toBe(1);
  });

  it('a kill after the sink committed a checkpoint', async () => {
    const kill = once();
    const result = await run(() => ({ onCheckpointCommitted: (id, _a, c) => kill(id, c) }));
    expect(result.faultTolerance.restarts).toBe(1);
  });
});
