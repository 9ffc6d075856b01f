//! The Actor base: a mailbox of messages handled one at a time, in order, possibly asynchronously.

/**
 * An actor handles its messages strictly one after another; `receive` may be async and the next
 * message waits for it.
 *
 * Threading model: one thread; `tell` may be called from any callback on that thread.
 * Life cycle: running until {@link stop}; messages told after that are dropped.
 */
export abstract class Actor<M> {
  private readonly queue: M[] = [];
  private running = false;
  private stopped = false;

  /** Queues a message. */
  tell(message: M): void {
    if (this.stopped) return;
    this.queue.push(message);
    if (!this.running) void this.drain();
  }

  /** Drops queued and future messages. */
  protected stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const message = this.queue.shift() as M;
        try {
          await this.receive(message);
        } catch (error) {
          this.onReceiveError(error, message);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Handles one message. */
  protected abstract receive(message: M): void | Promise<void>;

  /** A handler threw; by default the error is rethrown asynchronously. */
  protected onReceiveError(error: unknown, _message: M): void {
    queueMicrotask(() => {
      throw error;
    });
  }
}
