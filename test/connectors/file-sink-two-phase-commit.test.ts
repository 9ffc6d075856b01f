// The two-phase-commit base the file sink stands on, with an in-memory transaction log: pre-commit at the barrier, commit up to the completed id, recover on open, commit or abort at close.
import { describe, expect, it } from 'vitest';
import { ErrorCodes, WeirError } from '../../src/core/errors.ts';
import { TwoPhaseCommitSinkWriter, type TwoPhaseCommitState } from '../../src/connectors/two-phase-commit.ts';

interface Txn {
  id: number;
  records: string[];
}

/** An external system that keeps committed transactions by id, so a second commit is a no-op. */
class Ledger {
  committed = new Map<number, string[]>();
  aborted: number[] = [];
  log: string[] = [];
  output(): string[] {
    return [...this.committed.keys()].sort((a, b) => a - b).flatMap((id) => this.committed.get(id)!);
  }
}

class LedgerWriter extends TwoPhaseCommitSinkWriter<string, Txn, { nextTxn: number }> {
  private nextTxn = 0;
  failCommit = false;
  restoredContexts: unknown;
  constructor(private readonly ledger: Ledger) {
    super({ operator: 'ledger', subtask: 0 });
  }
  protected beginTransaction(): Txn {
    this.ledger.log.push(`begin ${this.nextTxn}`);
    return { id: this.nextTxn++, records: [] };
  }
  protected invoke(txn: Txn, value: string): void {
    txn.records.push(value);
  }
  protected preCommit(txn: Txn): void {
    this.ledger.log.push(`preCommit ${txn.id}`);
  }
  protected async commit(txn: Txn): Promise<void> {
    await Promise.resolve();
    if (this.failCommit) throw new Error('ledger offline');
    this.ledger.log.push(`commit ${txn.id}`);
    this.ledger.committed.set(txn.id, [...txn.records]);
  }
  protected abort(txn: Txn): void {
    this.ledger.log.push(`abort ${txn.id}`);
    this.ledger.aborted.push(txn.id);
  }
  protected override initializeContext(restored: readonly { nextTxn: number }[] | undefined): void {
    this.restoredContexts = restored;
    for (const c of restored ?? []) this.nextTxn = Math.max(this.nextTxn, c.nextTxn);
  }
  protected override snapshotContext(): { nextTxn: number } {
    return { nextTxn: this.nextTxn };
  }
}

describe('two-phase-commit sink base', () => {
  it('pre-commits at the barrier and commits every pending transaction up to the completed id', async () => {
    const ledger = new Ledger();
    const w = new LedgerWriter(ledger);
    await w.open();
    w.write('a', undefined);
    const s1 = w.snapshotState(1);
    expect(s1).toEqual({
      version: 1,
      pending: [{ checkpointId: 1, transaction: { id: 0, records: ['a'] } }],
      current: { id: 1, records: [] },
      context: { nextTxn: 2 },
    });
    w.write('b', undefined);
    w.snapshotState(2);
    w.write('c', undefined);
    w.snapshotState(3);
    expect(w.pendingCheckpointIds).toEqual([1, 2, 3]);
    await w.notifyCheckpointComplete(2);
    expect(ledger.output()).toEqual(['a', 'b']);
    expect(w.pendingCheckpointIds).toEqual([3]);
    expect(ledger.log).toEqual([
      'begin 0',
      'preCommit 0',
      'begin 1',
      'preCommit 1',
      'begin 2',
      'preCommit 2',
      'begin 3',
      'commit 0',
      'commit 1',
    ]);
  });

  it('returns a copy of its state: later writes do not change a snapshot already taken', async () => {
    const w = new LedgerWriter(new Ledger());
    await w.open();
    const state = w.snapshotState(1);
    w.write('later', undefined);
    expect(state.current.records).toEqual([]);
  });

  it('commits the restored pending transactions, aborts the restored current one, and hands the contexts over', async () => {
    const before = new Ledger();
    const w = new LedgerWriter(before);
    await w.open();
    w.write('a', undefined);
    w.snapshotState(1);
    w.write('b', undefined);
    const state = w.snapshotState(2);

    const after = new Ledger();
    const restored = new LedgerWriter(after);
    await restored.open([state]);
    expect(after.log).toEqual(['commit 0', 'commit 1', 'abort 2', 'begin 3']);
    expect(after.output()).toEqual(['a', 'b']);
    expect(restored.restoredContexts).toEqual([{ nextTxn: 3 }]);
    expect(restored.pendingCheckpointIds).toEqual([]);
  });

  it('serialises completions, even when the runtime does not await them', async () => {
    const ledger = new Ledger();
    const w = new LedgerWriter(ledger);
    await w.open();
    for (let id = 1; id <= 4; id++) {
      w.write(`r${id}`, undefined);
      w.snapshotState(id);
    }
    const a = w.notifyCheckpointComplete(3);
    const b = w.notifyCheckpointComplete(3);
    const c = w.notifyCheckpointComplete(4);
    await Promise.all([a, b, c]);
    expect(ledger.log.filter((l) => l.startsWith('commit'))).toEqual(['commit 0', 'commit 1', 'commit 2', 'commit 3']);
  });

  it('keeps a transaction pending when its commit fails, and commits it with the next completion', async () => {
    const ledger = new Ledger();
    const w = new LedgerWriter(ledger);
    await w.open();
    w.write('a', undefined);
    w.snapshotState(1);
    w.failCommit = true;
    const error = (await w.notifyCheckpointComplete(1).catch((e: unknown) => e)) as WeirError;
    expect(error).toBeInstanceOf(WeirError);
    expect(error.code).toBe(ErrorCodes.SINK_IO);
    expect(error.retriable).toBe(true);
    expect(error.message).toMatch(/sink 'ledger' \(subtask 0\) failed committing the transaction of checkpoint 1: ledger offline/);
    expect(w.pendingCheckpointIds).toEqual([1]);
    w.failCommit = false;
    w.snapshotState(2);
    await w.notifyCheckpointComplete(2);
    expect(ledger.output()).toEqual(['a']);
  });

  it('commits everything at close after the end of input, with or without checkpoints', async () => {
    const ledger = new Ledger();
    const w = new LedgerWriter(ledger);
    await w.open();
    w.write('a', undefined);
    w.snapshotState(1);
    w.write('b', undefined);
    w.endInput();
    await w.close();
    expect(ledger.output()).toEqual(['a', 'b']);
    expect(w.pendingCheckpointIds).toEqual([]);

    const plain = new Ledger();
    const p = new LedgerWriter(plain);
    await p.open();
    p.write('x', undefined);
    p.endInput();
    await p.close();
    expect(plain.log).toEqual(['begin 0', 'preCommit 0', 'commit 0']);
  });

  it('aborts the current transaction at close without end of input and leaves the pending ones', async () => {
    const ledger = new Ledger();
    const w = new LedgerWriter(ledger);
    await w.open();
    w.write('a', undefined);
    w.snapshotState(1);
    w.write('b', undefined);
    await w.close();
    expect(ledger.output()).toEqual([]);
    expect(ledger.aborted).toEqual([1]);
    expect(w.pendingCheckpointIds).toEqual([1]);
  });

  it('rejects restored state that is not its own, and calls out of order', async () => {
    const w = new LedgerWriter(new Ledger());
    await expect(w.open([{ offsets: [1] }])).rejects.toMatchObject({ code: ErrorCodes.STATE_RESTORE });
    const v = new LedgerWriter(new Ledger());
    await expect(
      v.open([{ version: 9, pending: [], current: null, context: null } satisfies TwoPhaseCommitState<unknown, unknown>]),
    ).rejects.toThrow(/version 9/);
    const u = new LedgerWriter(new Ledger());
    expect(() => u.write('x', undefined)).toThrow(/write\(\) on a writer that is created/);
    await u.open();
    u.snapshotState(1);
    expect(() => u.snapshotState(1)).toThrow(/already snapshotted/);
  });
});
