//! The two ways a batch crosses a channel: encoded over a MessagePort between threads, or handed over within a thread.

import type { MessagePort } from 'node:worker_threads';
import { BatchCodec, type CodecSite } from '../core/codec.ts';
import type { ElementBatch } from '../core/elements.ts';
import type { BoundedMailbox, InputChannelEndpoint, MailboxEntry } from './bounded-mailbox.ts';
import type { BatchTransport, ChannelWriter } from './channel-writer.ts';

/**
 * Sending end over a MessagePort: each batch is msgpack-encoded into its own ArrayBuffer and
 * transferred (not cloned). Credits come back on the same port as plain numbers.
 */
export class PortSender implements BatchTransport {
  /** Encodes this channel's batches; its counters feed the `channel.bytes_encoded` metric. */
  readonly codec: BatchCodec;
  private writer: ChannelWriter | undefined;

  constructor(
    private readonly port: MessagePort,
    site: CodecSite,
  ) {
    this.codec = new BatchCodec(site);
    port.on('message', (message: unknown) => {
      if (typeof message === 'number') this.writer?.addCredit(message);
      else if (typeof (message as BatchLimitMessage)?.batchLimit === 'number') this.writer?.setBatchLimit((message as BatchLimitMessage).batchLimit);
    });
  }

  /** Connects the writer that receives returned credits. */
  attach(writer: ChannelWriter): void {
    this.writer = writer;
  }

  bytesEncoded(): number {
    return this.codec.bytesEncoded;
  }

  ship(batch: ElementBatch): void {
    const bytes = this.codec.encode(batch);
    this.port.postMessage(bytes, [bytes]);
  }

  shipPriority(event: ElementBatch): void {
    // Posted as a plain array (primitives only), so the receiver tells it from a batch's bytes.
    this.port.postMessage(event);
  }

  close(): void {
    // The receiver closes the port after it consumed the end of input; closing here could drop
    // batches still in the port's queue.
  }

  /** Closes the port (job teardown). */
  dispose(): void {
    this.port.removeAllListeners('message');
    this.port.close();
  }
}

/** What a receiver posts to its sender when debloating changes the batch size. */
interface BatchLimitMessage {
  batchLimit: number;
}

/** Receiving end over a MessagePort: queues the bytes, decodes when the actor takes the batch. */
export class PortReceiver implements InputChannelEndpoint {
  private readonly codec = new BatchCodec();

  constructor(private readonly port: MessagePort) {}

  /** Starts delivering this port's batches into the mailbox as channel `channel`. */
  connect(mailbox: BoundedMailbox, channel: number): void {
    this.port.on('message', (bytes: ArrayBuffer | ElementBatch) => {
      if (bytes instanceof ArrayBuffer) mailbox.deliver(channel, bytes);
      else mailbox.deliverPriority(channel, bytes);
    });
  }

  returnCredit(n: number): void {
    this.port.postMessage(n);
  }

  announceBatchLimit(elements: number): void {
    this.port.postMessage({ batchLimit: elements } satisfies BatchLimitMessage);
  }

  open(entry: MailboxEntry): ElementBatch {
    // A batch put back after an alignment stop is already decoded.
    return entry instanceof ArrayBuffer ? this.codec.decode(entry) : entry;
  }

  close(): void {
    this.port.removeAllListeners('message');
    this.port.close();
  }
}

/**
 * A channel between two actors on the same thread: same credit protocol, batches passed by
 * reference, nothing encoded.
 */
export class LocalChannel implements BatchTransport, InputChannelEndpoint {
  private writer: ChannelWriter | undefined;
  private mailbox: BoundedMailbox | undefined;
  private channel = -1;

  /** Connects the sending writer. */
  attachWriter(writer: ChannelWriter): void {
    this.writer = writer;
  }

  /** Connects the receiving mailbox as channel `channel`. */
  connect(mailbox: BoundedMailbox, channel: number): void {
    this.mailbox = mailbox;
    this.channel = channel;
  }

  ship(batch: ElementBatch): void {
    (this.mailbox as BoundedMailbox).deliver(this.channel, batch);
  }

  shipPriority(event: ElementBatch): void {
    (this.mailbox as BoundedMailbox).deliverPriority(this.channel, event);
  }

  returnCredit(n: number): void {
    this.writer?.addCredit(n);
  }

  announceBatchLimit(elements: number): void {
    this.writer?.setBatchLimit(elements);
  }

  open(entry: MailboxEntry): ElementBatch {
    return entry as ElementBatch;
  }

  close(): void {}
}
