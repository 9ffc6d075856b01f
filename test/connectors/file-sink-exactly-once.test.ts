// Exactly-once file sink, driven as the runtime would: output visible only after the checkpoint completes, crash and restore commit exactly the pre-committed files, leftovers cleaned, no-checkpointing jobs commit at close.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../fixtures/random.ts';
import { ErrorCodes, WeirError } from '../../src/core/errors.ts';
import type { TwoPhaseCommitState } from '../../src/connectors/two-phase-commit.ts';
import type { FileSinkContext, FileSinkTransaction } from '../../src/connectors/file-sink.ts';
import { FakeClock, committedLines, hiddenFiles, openWriter, throughStorage, visibleParts } from './file-sink-helpers.ts';

let dir: string;
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'weir-file-sink-')), 'out');
});
afterEach(() => {
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

const jsonl = { format: 'jsonl' as const };
type State = TwoPhaseCommitState<FileSinkTransaction, FileSinkContext>;

describe('exactly-once file sink', () => {
  it('makes records visible only when the checkpoint after them completes', async () => {
    const w = await openWriter<{ n: number }>(dir, jsonl);
    w.write({ n: 1 }, undefined);
    w.write({ n: 2 }, undefined);
    expect(visibleParts(dir)).toEqual([]);
    expect(hiddenFiles(dir)).toEqual(['.part-0-0.inprogress']);

    const state = w.snapshotState!(1) as State;
    expect(state.pending).toEqual([{ checkpointId: 1, transaction: { parts: ['part-0-0'] } }]);
    expect(hiddenFiles(dir)).toEqual(['.part-0-0.pending']);
    w.write({ n: 3 }, undefined);
    expect(visibleParts(dir)).toEqual([]);

    await w.notifyCheckpointComplete!(1);
    expect(visibleParts(dir)).toEqual(['part-0-0']);
    expect(readFileSync(join(dir, 'part-0-0'), 'utf8')).toBe('{"n":1}\n{"n":2}\n');
    expect(hiddenFiles(dir)).toEqual(['.part-0-1.inprogress']);

    w.snapshotState!(2);
    await w.notifyCheckpointComplete!(2);
    expect(committedLines(dir)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(hiddenFiles(dir)).toEqual([]);
    await w.close?.();
  });

  it('creates no file for a checkpoint without records', async () => {
    const w = await openWriter<number>(dir, jsonl);
    const state = w.snapshotState!(1) as State;
    expect(state.pending).toEqual([{ checkpointId: 1, transaction: { parts: [] } }]);
    await w.notifyCheckpointComplete!(1);
    expect(visibleParts(dir)).toEqual([]);
    expect(hiddenFiles(dir)).toEqual([]);
  });

  it('after a crash between snapshot and notify, commits exactly the pre-committed files and deletes the leftovers', async () => {
    const first = await openWriter<string>(dir, jsonl);
    for (const r of ['a', 'b', 'c']) first.write(r, undefined);
    first.snapshotState!(1);
    await first.notifyCheckpointComplete!(1);
    for (const r of ['d', 'e']) first.write(r, undefined);
    const checkpoint2 = throughStorage(first.snapshotState!(2));
    // Checkpoint 2 completes in the coordinator, but the writer crashes before hearing of it,
    // after writing records the restored sources will replay.
    first.write('f', undefined);
    first.write('g', undefined);
    expect(hiddenFiles(dir)).toEqual(['.part-0-1.pending', '.part-0-2.inprogress']);
    // (No close: the crashed writer is just dropped.)

    const second = await openWriter<string>(dir, jsonl, [checkpoint2]);
    expect(visibleParts(dir)).toEqual(['part-0-0', 'part-0-1']);
    expect(hiddenFiles(dir)).toEqual([]);
    expect(committedLines(dir)).toEqual(['"a"', '"b"', '"c"', '"d"', '"e"']);

    // The replay: the new writer's part numbers never reuse the deleted leftover's.
    second.write('f', undefined);
    second.write('g', undefined);
    second.snapshotState!(3);
    await second.notifyCheckpointComplete!(3);
    expect(visibleParts(dir)).toEqual(['part-0-0', 'part-0-1', 'part-0-3']);
    expect(committedLines(dir)).toEqual(['"a"', '"b"', '"c"', '"d"', '"e"', '"f"', '"g"']);
  });

  it('commits harmlessly twice: a repeated notification, and a restore of an already committed checkpoint', async () => {
    const first = await openWriter<number>(dir, jsonl);
    first.write(1, undefined);
    const state = throughStorage(first.snapshotState!(1));
    await first.notifyCheckpointComplete!(1);
    await first.notifyCheckpointComplete!(1);
    expect(committedLines(dir)).toEqual(['1']);
    // A restore from checkpoint 1 after its files were committed: committing again is a no-op.
    const second = await openWriter<number>(dir, jsonl, [state]);
    const third = await openWriter<number>(dir, jsonl, [state]);
    expect(committedLines(dir)).toEqual(['1']);
    expect(hiddenFiles(dir)).toEqual([]);
    await second.close?.();
    await third.close?.();
  });

  it('keeps an aborted checkpoint pending and commits it with the next completed one', async () => {
    const w = await openWriter<number>(dir, jsonl);
    w.write(1, undefined);
    w.snapshotState!(1);
    w.notifyCheckpointAborted!(1);
    w.write(2, undefined);
    const state = w.snapshotState!(2) as State;
    expect(state.pending.map((p) => p.checkpointId)).toEqual([1, 2]);
    expect(visibleParts(dir)).toEqual([]);
    await w.notifyCheckpointComplete!(2);
    expect(committedLines(dir)).toEqual(['1', '2']);
  });

  it('commits only the checkpoints up to the completed id', async () => {
    const w = await openWriter<number>(dir, jsonl);
    w.write(1, undefined);
    w.snapshotState!(1);
    w.write(2, undefined);
    w.snapshotState!(2);
    await w.notifyCheckpointComplete!(1);
    expect(committedLines(dir)).toEqual(['1']);
    expect(hiddenFiles(dir)).toEqual(['.part-0-1.pending']);
  });

  it('fails clearly when a pending file to commit has vanished', async () => {
    const w = await openWriter<number>(dir, jsonl);
    w.write(1, undefined);
    const state = throughStorage(w.snapshotState!(1));
    rmSync(join(dir, '.part-0-0.pending'));
    const error = (await openWriter<number>(dir, jsonl, [state]).catch((e: unknown) => e)) as WeirError;
    expect(error).toBeInstanceOf(WeirError);
    expect(error.code).toBe(ErrorCodes.SINK_IO);
    expect(error.message).toContain(join(dir, 'part-0-0'));
  });

  it('restores the states of several old subtasks into one (lower parallelism) and cleans only their leftovers', async () => {
    const old0 = await openWriter<string>(dir, jsonl, undefined, 0);
    const old1 = await openWriter<string>(dir, jsonl, undefined, 1);
    const old2 = await openWriter<string>(dir, jsonl, undefined, 2);
    old0.write('x0', undefined);
    old1.write('x1', undefined);
    old2.write('x2', undefined);
    const s0 = throughStorage(old0.snapshotState!(1));
    const s1 = throughStorage(old1.snapshotState!(1));
    old2.snapshotState!(1);
    old0.write('late0', undefined);
    old1.write('late1', undefined);
    old2.write('late2', undefined);
    // New subtask 0 takes old 0 and 1; old 2's share went to new subtask 1 (not started here).
    const merged = await openWriter<string>(dir, jsonl, [s0, s1], 0);
    expect(visibleParts(dir)).toEqual(['part-0-0', 'part-1-0']);
    expect(hiddenFiles(dir)).toEqual(['.part-2-0.pending', '.part-2-1.inprogress']);
    merged.write('y', undefined);
    merged.snapshotState!(2);
    await merged.notifyCheckpointComplete!(2);
    expect(visibleParts(dir)).toEqual(['part-0-0', 'part-0-2', 'part-1-0']);
  });

  it('without checkpointing, commits everything at close after the end of input', async () => {
    const w = await openWriter<number>(dir, { ...jsonl, rollSizeBytes: 4 });
    for (let i = 0; i < 5; i++) w.write(i, undefined);
    w.endInput?.();
    expect(visibleParts(dir)).toEqual([]);
    await w.close?.();
    expect(visibleParts(dir)).toEqual(['part-0-0', 'part-0-1', 'part-0-2']);
    expect(committedLines(dir)).toEqual(['0', '1', '2', '3', '4']);
    expect(hiddenFiles(dir)).toEqual([]);
  });

  it('with checkpointing, commits at close what arrived after the last barrier', async () => {
    const w = await openWriter<number>(dir, jsonl);
    w.write(1, undefined);
    w.snapshotState!(1);
    w.write(2, undefined);
    w.endInput?.();
    await w.close?.();
    expect(committedLines(dir)).toEqual(['1', '2']);
  });

  it('on close without end of input (cancel), deletes the open part and keeps the pending ones for the restore', async () => {
    const w = await openWriter<number>(dir, jsonl);
    w.write(1, undefined);
    const state = throughStorage(w.snapshotState!(1));
    w.write(2, undefined);
    await w.close?.();
    expect(visibleParts(dir)).toEqual([]);
    expect(hiddenFiles(dir)).toEqual(['.part-0-0.pending']);
    await openWriter<number>(dir, jsonl, [state]);
    expect(committedLines(dir)).toEqual(['1']);
  });

  it('on a fresh start, deletes its own hidden leftovers and numbers parts after the existing ones', async () => {
    const before = await openWriter<number>(dir, jsonl);
    before.write(1, undefined);
    before.endInput?.();
    await before.close?.();
    const crashed = await openWriter<number>(dir, jsonl);
    crashed.write(2, undefined);
    const other = await openWriter<number>(dir, jsonl, undefined, 1);
    other.write(3, undefined);
    expect(hiddenFiles(dir)).toEqual(['.part-0-1.inprogress', '.part-1-0.inprogress']);

    const fresh = await openWriter<number>(dir, jsonl);
    expect(hiddenFiles(dir)).toEqual(['.part-1-0.inprogress']);
    fresh.write(4, undefined);
    fresh.endInput?.();
    await fresh.close?.();
    expect(visibleParts(dir)).toEqual(['part-0-0', 'part-0-2']);
  });

  it('rejects bad options when the sink is defined', async () => {
    const { exactlyOnceFileSink } = await import('../../src/connectors/file-sink.ts');
    expect(() => exactlyOnceFileSink(dir, { format: 'xml' as never })).toThrow(/unknown format/);
    expect(() => exactlyOnceFileSink(dir, { format: 'jsonl', rollSizeBytes: 0 })).toThrow(/positive/);
    expect(() => exactlyOnceFileSink(dir, { format: 'jsonl', prefix: 'a/b' })).toThrow(/prefix/);
    expect(() => exactlyOnceFileSink(dir, { format: 'csv', csv: { delimiter: '"' } })).toThrow(/delimiter/);
  });
});

describe('exactly-once file sink under random failures', () => {
  it('commits every record exactly once, in order, whatever the failures between checkpoints', async () => {
    const seeds = Array.from({ length: 6 }, (_, i) => 1000 + i);
    for (const seed of seeds) {
      const out = join(dir, `seed-${seed}`);
      try {
        await runRandomJob(out, seed);
      } catch (error) {
        throw new Error(`random file sink run failed with seed ${seed}: ${(error as Error).message}`, { cause: error });
      }
    }
  });
});

/**
 * A job of one sequence source and the sink: checkpoints, completions, lost notifications and
 * crashes at random; a crash restores sink and source from the last completed checkpoint.
 */
async function runRandomJob(out: string, seed: number): Promise<void> {
  const random = mulberry32(seed);
  const total = 200;
  const clock = new FakeClock();
  const options = { format: 'jsonl' as const, rollSizeBytes: 4 + Math.floor(random() * 60), rollIntervalMs: 5 };
  let completed: { offset: number; state: unknown } | undefined;
  let inFlight: { id: number; offset: number; state: unknown }[] = [];
  let nextId = 1;
  let offset = 0;
  let writer = await openWriter<number>(out, options, undefined, 0, clock);
  while (offset < total) {
    const roll = random();
    if (roll < 0.7) {
      writer.write(offset++, undefined);
      clock.time += Math.floor(random() * 3);
    } else if (roll < 0.8) {
      const id = nextId++;
      inFlight.push({ id, offset, state: throughStorage(writer.snapshotState!(id)) });
    } else if (roll < 0.9 && inFlight.length > 0) {
      // The oldest in-flight checkpoint completes; the notification may be lost.
      const done = inFlight.shift()!;
      completed = done;
      if (random() < 0.7) await writer.notifyCheckpointComplete!(done.id);
    } else if (roll < 0.95) {
      // Crash: drop the writer; restore from the last completed checkpoint.
      inFlight = [];
      offset = completed?.offset ?? 0;
      writer = await openWriter<number>(out, options, completed ? [completed.state] : undefined, 0, clock);
    }
  }
  writer.endInput?.();
  await writer.close?.();
  const lines = committedLines(out).map(Number);
  expect(lines).toEqual(Array.from({ length: total }, (_, i) => i));
  expect(hiddenFiles(out)).toEqual([]);
}
