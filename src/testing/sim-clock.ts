//! The simulation's virtual clock: processing time, the runtime's timers and deferred steps, moved only by the simulator.

import type { CancelTimer, ProcessingTimeService, RuntimeClock } from '../time/processing-time.ts';

/** Where virtual time starts: 2026-01-01T00:00:00Z, so timestamps look like dates and never depend on the machine. */
export const SIMULATION_EPOCH = Date.UTC(2026, 0, 1);

/** A timer of the virtual clock. */
export interface VirtualTimer {
  /** Virtual time (ms since the epoch) it is due at. */
  at: number;
  /** Registration order: ties fire in it. */
  seq: number;
  /** What registered it, for the trace. */
  label: string;
  callback: () => void;
  cancelled: boolean;
}

/**
 * Virtual time for a simulated job: the operators' processing time and the runtime's clock
 * (buffer timeouts, checkpoint intervals and timeouts, restart delays, deferred steps) are one
 * clock that moves only when the simulator fires a timer.
 *
 * Threading model: the simulating thread only. Life cycle: one per simulated run.
 */
export class VirtualClock implements RuntimeClock, ProcessingTimeService {
  private current = SIMULATION_EPOCH;
  private seq = 0;
  private timers: VirtualTimer[] = [];
  /** Callbacks deferred to a later turn (setImmediate in a real run), in order. */
  readonly deferred: (() => void)[] = [];

  now(): number {
    return this.current;
  }

  monotonic(): number {
    return this.current - SIMULATION_EPOCH;
  }

  setTimer(delayMs: number, callback: () => void, label = 'timer'): CancelTimer {
    return this.add(this.current + Math.max(0, delayMs), label, callback);
  }

  defer(callback: () => void): void {
    this.deferred.push(callback);
  }

  registerTimer(time: number, callback: (time: number) => void): CancelTimer {
    return this.add(time, 'processing-time', () => callback(time));
  }

  private add(at: number, label: string, callback: () => void): CancelTimer {
    const timer: VirtualTimer = { at, seq: this.seq++, label, callback, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** The timer that fires next (earliest, then first registered), if any. */
  nextTimer(): VirtualTimer | undefined {
    let next: VirtualTimer | undefined;
    let live = 0;
    for (const t of this.timers) {
      if (t.cancelled) continue;
      live++;
      if (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq)) next = t;
    }
    if (live < this.timers.length / 2) this.timers = this.timers.filter((t) => !t.cancelled);
    return next;
  }

  /** Moves time forward by `ms` without firing anything: timers that come due wait for the simulator to fire them. */
  advance(ms: number): void {
    if (ms > 0) this.current += ms;
  }

  /** Moves time to `timer.at` (never backwards) and fires it. */
  fire(timer: VirtualTimer): void {
    timer.cancelled = true;
    if (timer.at > this.current) this.current = timer.at;
    timer.callback();
  }

  /** Drops every timer and deferred callback (the run ended). */
  clear(): void {
    this.timers = [];
    this.deferred.length = 0;
  }
}
