//! Micro-benchmark: BoundedMailbox deliver/poll/release, and ChannelWriter append/flush through a LocalChannel into a mailbox.

import { TAG_RECORD, type ElementBatch } from '../../../src/core/elements.ts';
import {
  BoundedMailbox,
  ChannelWriter,
  LocalChannel,
  type ChannelWriterOwner,
  type InputChannelEndpoint,
  type MailboxEntry,
} from '../../../src/mailbox/index.ts';
import { createBench, runBench, type MicroOptions, type MicroResult, type TaskInfo } from '../../lib/micro.ts';

/** weir's default credits per channel and batch size. */
const CREDITS = 4;
const BATCH = 1024;

/** Keeps results alive so V8 cannot drop the work. */
let sink = 0;

/** An input channel endpoint that does nothing but count returned credits. */
class CountingEndpoint implements InputChannelEndpoint {
  credits = 0;
  returnCredit(n: number): void {
    this.credits += n;
  }
  open(entry: MailboxEntry): ElementBatch {
    return entry as ElementBatch;
  }
  close(): void {}
}

/** A mailbox of `channels` channels fed directly (no writer); one op = fill every credit of every channel, then drain. */
function mailboxRoundTrip(channels: number): () => void {
  const mailbox = new BoundedMailbox(CREDITS, () => undefined);
  for (let c = 0; c < channels; c++) mailbox.addChannel(`in-${c}`, new CountingEndpoint());
  const batch: ElementBatch = [TAG_RECORD, 1];
  return () => {
    for (let k = 0; k < CREDITS; k++) for (let c = 0; c < channels; c++) mailbox.deliver(c, batch);
    let polled = mailbox.poll();
    while (polled !== undefined) {
      sink += polled.batch.length;
      mailbox.release(polled.channel);
      polled = mailbox.poll();
    }
  };
}

/** A writer → LocalChannel → mailbox pipe whose consumer drains the mailbox whenever it is told of data. */
function localPipe(bufferTimeoutMs: number): { writer: ChannelWriter; mailbox: BoundedMailbox } {
  const channel = new LocalChannel();
  let mailbox: BoundedMailbox | undefined;
  let draining = false;
  // Consumes in-thread as the subtask actor would (minus scheduling): take, read, release.
  const drain = () => {
    if (draining || mailbox === undefined) return;
    draining = true;
    let polled = mailbox.poll();
    while (polled !== undefined) {
      const batch = polled.batch;
      for (let i = 1; i < batch.length; i += 2) sink += batch[i] as number;
      mailbox.release(polled.channel);
      polled = mailbox.poll();
    }
    draining = false;
  };
  mailbox = new BoundedMailbox(CREDITS, drain);
  channel.connect(mailbox, mailbox.addChannel('local', channel));
  const owner: ChannelWriterOwner = {
    onWriterBlocked: () => undefined,
    onWriterAvailable: () => undefined,
    // A timer would flush the partial batch; the bench flushes explicitly instead.
    onWriterDirty: () => undefined,
    onWriterFailed: (_w, error) => {
      throw error;
    },
  };
  const writer = new ChannelWriter(0, 'bench -> bench', channel, { batchSize: BATCH, credits: CREDITS, bufferTimeoutMs }, owner);
  channel.attachWriter(writer);
  return { writer, mailbox };
}

/** Runs the mailbox and channel-writer benches. */
export default async function mailboxSuite(options: MicroOptions): Promise<MicroResult[]> {
  const results: MicroResult[] = [];

  const mailboxBench = createBench(`mailbox: BoundedMailbox deliver → poll → release (${CREDITS} credits per channel)`, options);
  const mailboxInfo = new Map<string, TaskInfo>();
  for (const channels of [1, 4, 16]) {
    const name = `${channels} channel${channels > 1 ? 's' : ''} × ${CREDITS} batches`;
    mailboxBench.add(name, mailboxRoundTrip(channels));
    mailboxInfo.set(name, { items: channels * CREDITS, note: 'items = batches' });
  }
  results.push(...(await runBench(mailboxBench, mailboxInfo, 'batches')));

  const writerBench = createBench(`channel: ChannelWriter append → LocalChannel → mailbox, ${BATCH} records per op`, options);
  const writerInfo = new Map<string, TaskInfo>();
  const batched = localPipe(5);
  writerBench.add(`batch size ${BATCH} (one batch per op)`, () => {
    const w = batched.writer;
    for (let i = 0; i < BATCH; i++) w.appendRecord(i, undefined);
  });
  writerInfo.set(`batch size ${BATCH} (one batch per op)`, { items: BATCH });
  const partial = localPipe(5);
  writerBench.add('batches of 64, flushed by hand', () => {
    const w = partial.writer;
    for (let i = 0; i < BATCH; i++) {
      w.appendRecord(i, undefined);
      if ((i & 63) === 63) w.flush();
    }
  });
  writerInfo.set('batches of 64, flushed by hand', { items: BATCH, note: 'as a 1/16-full buffer timeout flush' });
  const perRecord = localPipe(0);
  writerBench.add('buffer timeout 0 (a batch per record)', () => {
    const w = perRecord.writer;
    for (let i = 0; i < BATCH; i++) w.appendRecord(i, undefined);
  });
  writerInfo.set('buffer timeout 0 (a batch per record)', { items: BATCH });
  // The floor: the same records pushed into a plain flat array and read back, with no writer, credit or mailbox.
  let plain: ElementBatch = [];
  writerBench.add('baseline: plain array push + read', () => {
    for (let i = 0; i < BATCH; i++) plain.push(TAG_RECORD, i);
    for (let i = 1; i < plain.length; i += 2) sink += plain[i] as number;
    plain = [];
  });
  writerInfo.set('baseline: plain array push + read', { items: BATCH });
  results.push(...(await runBench(writerBench, writerInfo)));

  for (const pipe of [batched, partial, perRecord]) {
    if (pipe.mailbox.queued !== 0 || !pipe.writer.available) throw new Error('channel bench left batches behind: the pipe is not draining');
  }
  if (sink === -1) console.log(sink);
  return results;
}
