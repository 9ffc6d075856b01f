//! A subtask's bounded mailbox: per-channel batch queues, served round robin, bounded by the credits each channel grants.

import type { ElementBatch } from '../core/elements.ts';

/** Lets a queued entry be decoded only when it is taken, so queued batches stay compact bytes. */
export type MailboxEntry = ElementBatch | ArrayBuffer;

/** Receiver-side hooks of one input channel. */
export interface InputChannelEndpoint {
  /** Returns `n` credits to the sender. */
  returnCredit(n: number): void;
  /** Turns a queued entry into a batch (decodes bytes; in-thread batches pass through). */
  open(entry: MailboxEntry): ElementBatch;
  /** Releases the channel once its end-of-input has been consumed. */
  close(): void;
  /** Asks the sender for batches of at most `elements` elements (buffer debloating). */
  announceBatchLimit?(elements: number): void;
}

/** Mailbox states: accepting batches, draining after close was asked, closed. */
export type MailboxState = 'open' | 'quiesced' | 'closed';

class ChannelQueue {
  readonly entries: MailboxEntry[] = [];
  head = 0;
  blocked = false;
  closed = false;
  inReady = false;
  maxQueued = 0;
  received = 0;
  constructor(
    readonly index: number,
    readonly name: string,
    readonly endpoint: InputChannelEndpoint,
  ) {}
  get size(): number {
    return this.entries.length - this.head;
  }
}

/** What {@link BoundedMailbox.poll} hands out: a batch and the channel it came on. */
export interface PolledBatch {
  channel: number;
  batch: ElementBatch;
}

/**
 * The input side of a subtask actor.
 *
 * Threading model: one thread. Batches are delivered by transports (MessagePort handlers or
 * in-thread writers) and taken by the owning actor, never concurrently.
 *
 * Life cycle: open → quiesced (no new batches expected; queued ones are still served) → closed.
 * The bound is by construction: a channel holds at most as many batches as the credits it granted,
 * and {@link deliver} fails loudly if a sender ever breaks that.
 */
export class BoundedMailbox {
  private readonly channels: ChannelQueue[] = [];
  private readonly ready: number[] = [];
  private readyHead = 0;
  private total = 0;
  private lifecycle: MailboxState = 'open';
  /** Highest number of batches queued at once over all channels. */
  maxQueued = 0;
  /**
   * Receives priority events (unaligned checkpoint barriers) with the number of batches queued on
   * the channel when the event came: the batches it overtook (later ones came after it).
   */
  onPriority: ((channel: number, event: ElementBatch, overtaken: number) => void) | undefined;

  constructor(
    /** Credits granted per channel, which is the per-channel bound. */
    readonly creditsPerChannel: number,
    private readonly onData: () => void,
  ) {}

  /** Registers an input channel; returns its index. */
  addChannel(name: string, endpoint: InputChannelEndpoint): number {
    const index = this.channels.length;
    this.channels.push(new ChannelQueue(index, name, endpoint));
    return index;
  }

  /** Number of input channels. */
  get channelCount(): number {
    return this.channels.length;
  }

  /** The most batches this mailbox can ever hold. */
  get bound(): number {
    return this.creditsPerChannel * this.channels.length;
  }

  /** Batches queued now. */
  get queued(): number {
    return this.total;
  }

  /** Current life-cycle state. */
  get state(): MailboxState {
    return this.lifecycle;
  }

  /** Accepts a batch from a channel's transport. */
  deliver(channel: number, entry: MailboxEntry): void {
    if (this.lifecycle === 'closed') return;
    const queue = this.channels[channel];
    if (queue.size >= this.creditsPerChannel) {
      throw new Error(`mailbox overflow on channel ${queue.name}: sender exceeded its ${this.creditsPerChannel} credits`);
    }
    queue.entries.push(entry);
    queue.received++;
    if (queue.size > queue.maxQueued) queue.maxQueued = queue.size;
    this.total++;
    if (this.total > this.maxQueued) this.maxQueued = this.total;
    if (!queue.inReady && !queue.blocked) {
      queue.inReady = true;
      this.ready.push(channel);
    }
    this.onData();
  }

  /** Accepts a priority event (an unaligned barrier): it goes to {@link onPriority} at once, ahead of the queue. */
  deliverPriority(channel: number, event: ElementBatch): void {
    if (this.lifecycle === 'closed') return;
    this.onPriority?.(channel, event, this.channels[channel].size);
  }

  /**
   * The batches queued on a channel, oldest first, decoded (they stay queued, decoded in place so
   * they are not decoded twice): what an unaligned barrier overtook.
   */
  queuedBatches(channel: number, limit = Infinity): ElementBatch[] {
    const queue = this.channels[channel];
    const out: ElementBatch[] = [];
    const end = Math.min(queue.entries.length, queue.head + limit);
    for (let i = queue.head; i < end; i++) {
      const entry = queue.entries[i];
      const batch = entry instanceof ArrayBuffer ? queue.endpoint.open(entry) : entry;
      queue.entries[i] = batch;
      out.push(batch);
    }
    return out;
  }

  /** Replaces the `index`-th queued batch of a channel (a barrier taken out of it); its credit stays out. */
  replaceQueued(channel: number, index: number, batch: ElementBatch): void {
    const queue = this.channels[channel];
    queue.entries[queue.head + index] = batch;
  }

  /** Asks every open channel's sender for batches of at most `elements` elements (buffer debloating). */
  announceBatchLimit(elements: number): void {
    for (const queue of this.channels) if (!queue.closed) queue.endpoint.announceBatchLimit?.(elements);
  }

  /** Whether a batch can be taken now. */
  get hasReady(): boolean {
    return this.readyHead < this.ready.length;
  }

  /** Takes the next batch, round robin over channels with data; the caller must {@link release} it when consumed. */
  poll(): PolledBatch | undefined {
    while (this.readyHead < this.ready.length) {
      const channel = this.ready[this.readyHead++];
      if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
        this.ready.splice(0, this.readyHead);
        this.readyHead = 0;
      }
      const queue = this.channels[channel];
      queue.inReady = false;
      if (queue.blocked || queue.size === 0) continue;
      const entry = queue.entries[queue.head];
      queue.entries[queue.head++] = undefined as unknown as MailboxEntry;
      if (queue.head === queue.entries.length) {
        queue.entries.length = 0;
        queue.head = 0;
      }
      this.total--;
      if (queue.size > 0) {
        queue.inReady = true;
        this.ready.push(channel);
      }
      return { channel, batch: queue.endpoint.open(entry) };
    }
    return undefined;
  }

  /** Marks a taken batch consumed: its credit goes back to the sender. */
  release(channel: number): void {
    this.channels[channel].endpoint.returnCredit(1);
  }

  /**
   * Puts the unread rest of a taken batch back at the front of its channel (its credit is still
   * out): the actor stopped in the middle of it because the channel was blocked for alignment.
   */
  requeueFront(channel: number, rest: ElementBatch): void {
    const queue = this.channels[channel];
    if (queue.head > 0) queue.entries[--queue.head] = rest;
    else queue.entries.unshift(rest);
    this.total++;
    if (!queue.inReady && !queue.blocked) {
      queue.inReady = true;
      this.ready.push(channel);
    }
  }

  /** Whether a channel is blocked for alignment. */
  isBlocked(channel: number): boolean {
    return this.channels[channel].blocked;
  }

  /** Stops serving a channel (barrier alignment) until {@link unblock}. */
  block(channel: number): void {
    this.channels[channel].blocked = true;
  }

  /** Serves a blocked channel again. */
  unblock(channel: number): void {
    const queue = this.channels[channel];
    queue.blocked = false;
    if (queue.size > 0 && !queue.inReady) {
      queue.inReady = true;
      this.ready.push(channel);
      this.onData();
    }
  }

  /** Releases one channel's resources after its end-of-input. */
  closeChannel(channel: number): void {
    this.channels[channel].closed = true;
    this.channels[channel].endpoint.close();
  }

  /** No more batches are expected. */
  quiesce(): void {
    if (this.lifecycle === 'open') this.lifecycle = 'quiesced';
  }

  /** Drops everything and releases every channel. */
  close(): void {
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'closed';
    for (const queue of this.channels) queue.endpoint.close();
  }

  /** Per-channel counters for metrics. */
  channelStats(): { name: string; maxQueued: number; received: number; bound: number }[] {
    return this.channels.map((c) => ({ name: c.name, maxQueued: c.maxQueued, received: c.received, bound: this.creditsPerChannel }));
  }
}
