// Credit-based flow control: randomised producers and consumers never exceed credits, lose nothing, and keep order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TAG_RECORD } from '../../src/core/elements.ts';
import { BoundedMailbox } from '../../src/mailbox/bounded-mailbox.ts';
import { ChannelWriter, type ChannelWriterOwner } from '../../src/mailbox/channel-writer.ts';
import { LocalChannel } from '../../src/mailbox/transports.ts';

interface Rig {
  writers: ChannelWriter[];
  mailbox: BoundedMailbox;
  blocked: Set<number>;
}

function rig(channels: number, credits: number, batchSize: number): Rig {
  const blocked = new Set<number>();
  const mailbox = new BoundedMailbox(credits, () => undefined);
  const writers: ChannelWriter[] = [];
  for (let c = 0; c < channels; c++) {
    const local = new LocalChannel();
    const owner: ChannelWriterOwner = {
      onWriterBlocked: () => void blocked.add(c),
      onWriterAvailable: () => void blocked.delete(c),
      onWriterDirty: () => undefined,
      onWriterFailed: (_w, error) => {
        throw error;
      },
    };
    const writer = new ChannelWriter(c, `ch${c}`, local, { batchSize, credits, bufferTimeoutMs: -1 }, owner);
    local.attachWriter(writer);
    local.connect(mailbox, mailbox.addChannel(`ch${c}`, local));
    writers.push(writer);
  }
  return { writers, mailbox, blocked };
}

describe('credit-based flow control', () => {
  it('delivers every record once, in per-channel order, never beyond the credits (randomised)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 16 }),
        fc.array(
          fc.oneof(
            fc.integer({ min: 0, max: 3 }).map((c) => ({ op: 'send' as const, c })),
            fc.constant({ op: 'consume' as const }),
          ),
          { maxLength: 400 },
        ),
        (channels, credits, batchSize, ops) => {
          const { writers, mailbox, blocked } = rig(channels, credits, batchSize);
          const sent = Array.from({ length: channels }, () => 0);
          const received: number[][] = Array.from({ length: channels }, () => []);
          const consume = () => {
            const polled = mailbox.poll();
            if (!polled) return false;
            for (let i = 0; i < polled.batch.length; i += 2) {
              expect(polled.batch[i]).toBe(TAG_RECORD);
              received[polled.channel].push(polled.batch[i + 1] as number);
            }
            mailbox.release(polled.channel);
            return true;
          };
          for (const step of ops) {
            if (step.op === 'send') {
              const c = step.c % channels;
              // A well-behaved producer stops while its writer is blocked.
              if (!blocked.has(c)) writers[c].appendRecord(sent[c]++, undefined);
            } else consume();
            expect(mailbox.queued).toBeLessThanOrEqual(mailbox.bound);
            for (const w of writers) {
              expect(w.inFlight).toBeLessThanOrEqual(credits);
              expect(w.maxBacklog).toBeLessThanOrEqual(1);
            }
          }
          for (const w of writers) w.finish();
          while (consume() || writers.some((w) => !w.finished)) {
            // drain
          }
          for (let c = 0; c < channels; c++) expect(received[c]).toEqual(Array.from({ length: sent[c] }, (_, i) => i));
          expect(mailbox.maxQueued).toBeLessThanOrEqual(mailbox.bound);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fails loudly if a sender ever exceeds its credits', () => {
    const mailbox = new BoundedMailbox(1, () => undefined);
    const local = new LocalChannel();
    local.connect(mailbox, mailbox.addChannel('x', local));
    mailbox.deliver(0, [TAG_RECORD, 1]);
    expect(() => mailbox.deliver(0, [TAG_RECORD, 2])).toThrow(/mailbox overflow on channel x: sender exceeded its 1 credits/);
  });

  it('serves channels round robin and skips a blocked channel until it is unblocked', () => {
    const mailbox = new BoundedMailbox(4, () => undefined);
    for (const name of ['a', 'b']) {
      const local = new LocalChannel();
      local.connect(mailbox, mailbox.addChannel(name, local));
    }
    mailbox.deliver(0, [TAG_RECORD, 'a1']);
    mailbox.deliver(0, [TAG_RECORD, 'a2']);
    mailbox.deliver(1, [TAG_RECORD, 'b1']);
    expect(mailbox.poll()?.batch[1]).toBe('a1');
    expect(mailbox.poll()?.batch[1]).toBe('b1');
    mailbox.block(0);
    expect(mailbox.poll()).toBeUndefined();
    mailbox.unblock(0);
    expect(mailbox.poll()?.batch[1]).toBe('a2');
  });
});

describe('a batch that cannot be encoded while it waits for credit', () => {
  it('fails the owner when the returned credit ships it, instead of throwing from the port handler', async () => {
    const { MessageChannel } = await import('node:worker_threads');
    const { PortSender } = await import('../../src/mailbox/transports.ts');
    const { port1, port2 } = new MessageChannel();
    const sender = new PortSender(port1, { operator: 'Explode', subtask: 0, edge: 'Explode -> Counter' });
    const failures: unknown[] = [];
    const owner: ChannelWriterOwner = {
      onWriterBlocked: () => undefined,
      onWriterAvailable: () => undefined,
      onWriterDirty: () => undefined,
      onWriterFailed: (_w, error) => void failures.push(error),
    };
    const writer = new ChannelWriter(0, 'Explode[0] -> Counter[0]', sender, { batchSize: 1, credits: 1, bufferTimeoutMs: -1 }, owner);
    sender.attach(writer);
    writer.appendRecord({ i: 1 }, undefined);
    writer.appendRecord({ i: 2, f: () => 0 }, undefined); // no credit left: waits in the backlog, not yet encoded
    expect(failures).toEqual([]);
    port2.postMessage(1); // the receiver returns a credit; the waiting batch is encoded now
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(failures).toHaveLength(1);
    expect((failures[0] as { code?: string }).code).toBe('WEIR_RECORD_NOT_ENCODABLE');
    expect(String((failures[0] as Error).message)).toContain('on edge Explode -> Counter');
    sender.dispose();
    port2.close();
  });
});
