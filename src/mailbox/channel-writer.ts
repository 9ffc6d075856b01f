//! The sending end of one channel: fills batches, ships them only with credit, and keeps a small backlog otherwise.

import { TAG_RECORD, TAG_TIMED_RECORD, type ElementBatch } from '../core/elements.ts';

/** How a finished batch leaves the writer: encoded over a MessagePort, or handed over in-thread. */
export interface BatchTransport {
  /** Ships one batch; called only while the writer holds a credit for it. */
  ship(batch: ElementBatch): void;
  /**
   * Ships a priority event (an unaligned checkpoint barrier) ahead of everything not yet shipped,
   * without credit; it reaches the receiver after the batches shipped before it and before any
   * shipped after it.
   */
  shipPriority(event: ElementBatch): void;
  /** Releases transport resources after the last batch. */
  close(): void;
  /** Bytes this transport encoded (zero for an in-thread channel). */
  bytesEncoded?(): number;
}

/** Hooks a writer calls on its owner (the subtask actor and the thread's flush timer). */
export interface ChannelWriterOwner {
  /** The writer has a batch it cannot ship for lack of credit: the owner must stop producing. */
  onWriterBlocked(writer: ChannelWriter): void;
  /** The writer had a backlog and has drained it: the owner may produce again. */
  onWriterAvailable(writer: ChannelWriter): void;
  /** The writer started a new partial batch that must be flushed by the buffer timeout. */
  onWriterDirty(writer: ChannelWriter): void;
  /**
   * Shipping failed outside the owner's own call (a returned credit or a new batch size let a
   * waiting batch go, and it could not be encoded): the owner fails as if its own call had thrown.
   */
  onWriterFailed(writer: ChannelWriter, error: unknown): void;
}

/** Flush policy and bounds for a writer. */
export interface ChannelWriterConfig {
  /** Elements per batch before it is shipped. */
  batchSize: number;
  /** Credits (batches in flight or queued at the receiver) granted to this writer. */
  credits: number;
  /** 0 = ship after every record; > 0 = partial batches wait for the owner's flush timer; -1 = only full batches. */
  bufferTimeoutMs: number;
  /** Elements per batch until the receiver announces a size (buffer debloating starts small); default {@link batchSize}. */
  initialBatchSize?: number;
}

/**
 * Sender side of credit-based flow control.
 *
 * Threading model: owned by one subtask actor; every method runs on that actor's thread. Credits
 * arrive through {@link addCredit} from the transport's message handler on the same thread.
 *
 * Life cycle: open (records appended, batches shipped) → {@link finish} (last batch queued) →
 * closed once the backlog has drained and the transport is released.
 */
export class ChannelWriter {
  private current: ElementBatch = [];
  private elements = 0;
  private readonly backlog: ElementBatch[] = [];
  private availableCredits: number;
  /** Elements per batch now: the configured size, or less while the receiver debloats. */
  private limit: number;
  private finishing = false;
  private blocked = false;
  private closed = false;
  /** Whether a partial batch is registered with the flush timer. */
  dirty = false;

  /** Batches shipped so far. */
  batchesSent = 0;
  /** Records appended so far. */
  recordsOut = 0;
  /** Highest backlog length seen (batches waiting for credit). */
  maxBacklog = 0;
  /** Highest number of batches in flight (shipped, credit not yet returned). */
  maxInFlight = 0;
  /** Times the writer ran out of credit with a batch to ship. */
  creditStalls = 0;

  constructor(
    /** Index of this channel among its record writer's channels. */
    readonly index: number,
    /** Name for metrics and errors: `producer[i] -> consumer[j]`. */
    readonly name: string,
    private readonly transport: BatchTransport,
    private readonly config: ChannelWriterConfig,
    private readonly owner: ChannelWriterOwner,
  ) {
    this.availableCredits = config.credits;
    this.limit = Math.min(config.batchSize, config.initialBatchSize ?? config.batchSize);
  }

  /** Elements per batch now (buffer debloating lowers it below the configured batch size). */
  get batchLimit(): number {
    return this.limit;
  }

  /** The receiver's debloater asks for batches of at most `elements` (clamped to 1..batch size). */
  setBatchLimit(elements: number): void {
    this.limit = Math.max(1, Math.min(this.config.batchSize, Math.floor(elements)));
    // A partial batch already at the new size goes now rather than at the buffer timeout.
    if (this.elements >= this.limit) this.shipOrFail(() => this.flush());
  }

  /**
   * Sends an unaligned checkpoint barrier ahead of this writer's unshipped batches and returns
   * those batches (the backlog and the partial batch, copied): they are the channel's output
   * state for the checkpoint. They are still shipped as usual afterwards. A finished writer sends
   * the barrier too (its receiver may not have reached the end of input yet).
   */
  overtakeWith(event: ElementBatch): ElementBatch[] {
    const pending = this.backlog.slice();
    if (this.elements > 0) pending.push(this.current.slice());
    this.transport.shipPriority(event);
    return pending;
  }

  /** Ships batches restored from an unaligned checkpoint's output state, before any new output. */
  restoreOutput(batches: readonly ElementBatch[]): void {
    for (const batch of batches) this.backlog.push(batch);
    this.drain();
  }

  /** True while nothing waits for credit: the producer may go on. */
  get available(): boolean {
    return this.backlog.length === 0;
  }

  /** Credits granted to this writer: the most batches it may have in flight. */
  get credits(): number {
    return this.config.credits;
  }

  /** Bytes encoded on this channel so far. */
  bytesEncoded(): number {
    return this.transport.bytesEncoded?.() ?? 0;
  }

  /** Batches shipped whose credit has not come back. */
  get inFlight(): number {
    return this.config.credits - this.availableCredits;
  }

  /** Appends a record (timestamp undefined for none). */
  appendRecord(value: unknown, timestamp: number | undefined): void {
    const batch = this.current;
    if (timestamp === undefined) batch.push(TAG_RECORD, value);
    else batch.push(TAG_TIMED_RECORD, value, timestamp);
    this.recordsOut++;
    this.afterAppend();
  }

  /** Appends an already flat-encoded non-record element (watermark, barrier, marker). */
  appendEvent(tag: number, ...fields: unknown[]): void {
    this.current.push(tag, ...fields);
    this.afterAppend();
  }

  private afterAppend(): void {
    const count = ++this.elements;
    if (count >= this.limit || this.config.bufferTimeoutMs === 0) {
      this.flush();
    } else if (count === 1 && !this.dirty && this.config.bufferTimeoutMs > 0) {
      this.dirty = true;
      this.owner.onWriterDirty(this);
    }
  }

  /** Ends the partial batch (if any) and ships what credit allows. */
  flush(): void {
    if (this.elements > 0) {
      this.backlog.push(this.current);
      this.current = [];
      this.elements = 0;
    }
    this.drain();
  }

  /**
   * Called with credit the receiver returned. It runs from the transport's message handler, not
   * inside the owner's processing, so a batch that fails to ship is reported to the owner here
   * (thrown, it would end the thread).
   */
  addCredit(n: number): void {
    this.availableCredits += n;
    this.shipOrFail(() => this.drain());
  }

  private shipOrFail(ship: () => void): void {
    try {
      ship();
    } catch (error) {
      this.owner.onWriterFailed(this, error);
    }
  }

  /** Queues the last batch; the writer closes once everything is shipped. */
  finish(): void {
    this.finishing = true;
    this.flush();
  }

  /** Whether every batch has been shipped after {@link finish}. */
  get finished(): boolean {
    return this.closed;
  }

  private drain(): void {
    const backlog = this.backlog;
    while (backlog.length > 0 && this.availableCredits > 0) {
      const batch = backlog.shift() as ElementBatch;
      this.availableCredits--;
      this.batchesSent++;
      const inFlight = this.config.credits - this.availableCredits;
      if (inFlight > this.maxInFlight) this.maxInFlight = inFlight;
      this.transport.ship(batch);
    }
    if (backlog.length > 0) {
      if (backlog.length > this.maxBacklog) this.maxBacklog = backlog.length;
      if (!this.blocked) {
        this.blocked = true;
        this.creditStalls++;
        this.owner.onWriterBlocked(this);
      }
    } else if (this.blocked) {
      this.blocked = false;
      this.owner.onWriterAvailable(this);
    }
    if (this.finishing && backlog.length === 0 && this.elements === 0 && !this.closed) {
      this.closed = true;
      this.transport.close();
    }
  }
}
