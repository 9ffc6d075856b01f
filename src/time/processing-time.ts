//! Processing time: the clock and timer service operators use, real (setTimeout) or manual (tests).

/** Cancels a registered timer. */
export type CancelTimer = () => void;

/** A clock with timers. Callbacks run on the owning thread, never inside another callback. */
export interface ProcessingTimeService {
  /** Current processing time in ms. */
  now(): number;
  /** Calls `callback(time)` once `now() >= time`. */
  registerTimer(time: number, callback: (time: number) => void): CancelTimer;
}

/** Wall-clock processing time with `setTimeout`. */
export class SystemProcessingTimeService implements ProcessingTimeService {
  private readonly pending = new Set<NodeJS.Timeout>();
  private stopped = false;

  now(): number {
    return Date.now();
  }

  registerTimer(time: number, callback: (time: number) => void): CancelTimer {
    if (this.stopped) return () => undefined;
    const handle = setTimeout(
      () => {
        this.pending.delete(handle);
        callback(time);
      },
      Math.max(0, time - Date.now()),
    );
    this.pending.add(handle);
    return () => {
      clearTimeout(handle);
      this.pending.delete(handle);
    };
  }

  /** Cancels every timer (job end). */
  shutdown(): void {
    this.stopped = true;
    for (const handle of this.pending) clearTimeout(handle);
    this.pending.clear();
  }
}

/**
 * A clock that moves only when told: for tests of processing-time timers, windows and TTL.
 * {@link advanceTo} fires due timers in time order (later registrations included).
 */
export class ManualProcessingTimeService implements ProcessingTimeService {
  private current: number;
  private timers: { time: number; seq: number; callback: (time: number) => void; cancelled: boolean }[] = [];
  private seq = 0;

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  registerTimer(time: number, callback: (time: number) => void): CancelTimer {
    const timer = { time, seq: this.seq++, callback, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Moves the clock to `time` (never backwards), firing every timer due on the way. */
  advanceTo(time: number): void {
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.time <= time).sort((a, b) => a.time - b.time || a.seq - b.seq)[0];
      if (!due) break;
      due.cancelled = true;
      if (due.time > this.current) this.current = due.time;
      due.callback(due.time);
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    if (time > this.current) this.current = time;
  }

  /** Moves the clock forward by `ms`. */
  advanceBy(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}

/**
 * The runtime's own clock and timers, apart from the operators' processing time: time slices,
 * buffer timeouts, checkpoint intervals and timeouts, alignment timeouts, restart delays. Real by
 * default ({@link SYSTEM_RUNTIME_CLOCK}); `weir/testing`'s simulation gives a virtual one, so a
 * simulated run depends on no wall time.
 */
export interface RuntimeClock {
  /** Milliseconds since the epoch, for timestamps (`Date.now()`). */
  now(): number;
  /** Milliseconds for durations and deadlines (`performance.now()`). */
  monotonic(): number;
  /** Calls `callback` after `delayMs` (`setTimeout`); `label` says what it is for (a simulation's trace). */
  setTimer(delayMs: number, callback: () => void, label?: string): CancelTimer;
  /** Calls `callback` on a later turn of the event loop (`setImmediate`). */
  defer(callback: () => void): void;
}

/** The wall clock and Node's timers. */
export const SYSTEM_RUNTIME_CLOCK: RuntimeClock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer: (delayMs, callback) => {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    return () => clearTimeout(handle);
  },
  defer: (callback) => void setImmediate(callback),
};
