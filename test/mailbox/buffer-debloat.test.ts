// Buffer debloating and barrier overtaking in the mailbox layer: batch sizes follow a consumer's measured throughput, and an unaligned barrier overtakes unshipped batches.
import { describe, expect, it } from 'vitest';
import { TAG_BARRIER, TAG_RECORD, type ElementBatch } from '../../src/core/elements.ts';
import { BoundedMailbox } from '../../src/mailbox/bounded-mailbox.ts';
import { BufferDebloater } from '../../src/mailbox/buffer-debloater.ts';
import { ChannelWriter, type ChannelWriterOwner } from '../../src/mailbox/channel-writer.ts';
import { LocalChannel } from '../../src/mailbox/transports.ts';

const owner: ChannelWriterOwner = {
  onWriterBlocked: () => undefined,
  onWriterAvailable: () => undefined,
  onWriterDirty: () => undefined,
  onWriterFailed: (_w, error) => {
    throw error;
  },
};

function channel(credits: number, batchSize: number, initialBatchSize?: number) {
  const mailbox = new BoundedMailbox(credits, () => undefined);
  const priority: { channel: number; event: ElementBatch; overtaken: number }[] = [];
  mailbox.onPriority = (c, event, overtaken) => priority.push({ channel: c, event, overtaken });
  const local = new LocalChannel();
  const writer = new ChannelWriter(0, 'a[0] -> b[0]', local, { batchSize, credits, bufferTimeoutMs: -1, initialBatchSize }, owner);
  local.attachWriter(writer);
  local.connect(mailbox, mailbox.addChannel('a[0] -> b[0]', local));
  return { mailbox, writer, priority };
}

const records = (writer: ChannelWriter, from: number, n: number) => {
  for (let i = from; i < from + n; i++) writer.appendRecord(i, undefined);
};

describe('buffer debloating', () => {
  it('sizes batches so that all credits hold the target time of the throughput measured while busy', () => {
    const d = new BufferDebloater({ targetMs: 1000, maxBatch: 1024, credits: 4, periodMs: 200 });
    expect(d.announced).toBe(64);
    expect(d.update(0, 0, 2)).toBeUndefined();
    // 200 ms, 100 of them idle: 50 records in 100 busy ms = 500 records/s → 500 / (2 channels × 4 credits).
    d.idleStart(50);
    d.idleEnd(150);
    // That is 63 elements a batch, within 25 % of the 64 senders start with: not announced.
    expect(d.update(200, 50, 2)).toBeUndefined();
    expect(d.announced).toBe(64);
    // 1,000 records in 200 busy ms (5,000/s), smoothed with the 500/s before: 1,850/s over 1 channel × 4 credits.
    expect(d.update(400, 1050, 1)).toBe(463);
  });

  it('goes to full-size batches while the consumer mostly waits for input, and never below the minimum', () => {
    const d = new BufferDebloater({ targetMs: 1000, maxBatch: 1024, credits: 4, periodMs: 100, minBatch: 4 });
    d.update(0, 0, 1);
    d.idleStart(0);
    expect(d.update(100, 10, 1)).toBe(1024);
    d.idleEnd(100);
    // 1 record in 100 busy ms: 10/s → 2.5 records per credit, clamped to 4.
    expect(d.update(200, 11, 1)).toBe(4);
  });

  it('a writer cuts batches at the size its receiver announces', () => {
    const { mailbox, writer } = channel(4, 1024, 64);
    records(writer, 0, 64);
    expect(mailbox.queued).toBe(1);
    mailbox.announceBatchLimit(10);
    expect(writer.batchLimit).toBe(10);
    records(writer, 64, 20);
    expect(mailbox.queued).toBe(3);
    mailbox.announceBatchLimit(1 << 20);
    expect(writer.batchLimit).toBe(1024);
  });
});

describe('barrier overtaking', () => {
  it('an unaligned barrier overtakes the unshipped batches, which are returned as output state and still shipped later', () => {
    const { mailbox, writer, priority } = channel(1, 2);
    records(writer, 0, 5); // one batch shipped (1 credit), one in the backlog, one partial
    expect(mailbox.queued).toBe(1);
    const pending = writer.overtakeWith([TAG_BARRIER, 7, 0, 0]);
    expect(pending).toEqual([
      [TAG_RECORD, 2, TAG_RECORD, 3],
      [TAG_RECORD, 4],
    ]);
    // The barrier went ahead without credit; the one queued batch is what it overtook.
    expect(priority).toEqual([{ channel: 0, event: [TAG_BARRIER, 7, 0, 0], overtaken: 1 }]);
    expect(mailbox.queuedBatches(0)).toEqual([[TAG_RECORD, 0, TAG_RECORD, 1]]);
    const taken = mailbox.poll();
    mailbox.release(taken!.channel);
    expect(mailbox.poll()?.batch).toEqual([TAG_RECORD, 2, TAG_RECORD, 3]);
  });
});
