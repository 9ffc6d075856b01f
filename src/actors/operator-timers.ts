//! Timers of a keyed operator: the timer service of its key groups, fired by the watermark and by processing time, run as actor mails.

import { HeapInternalTimerService, type InternalTimer } from '../state/timer-service.ts';
import { mapKey, type KeyedStateBackend } from '../state/keyed-backend.ts';
import type { OperatorContext } from './operator.ts';

/** What fires a keyed operator's timers calls back. */
export interface Triggerable<N> {
  /** An event-time timer fired; the backend's current key is the timer's key. */
  onEventTime(timer: InternalTimer<unknown, N>): void;
  /** A processing-time timer fired; the backend's current key is the timer's key. */
  onProcessingTime(timer: InternalTimer<unknown, N>): void;
}

/**
 * Connects a {@link HeapInternalTimerService} to the runtime: timers are registered for the
 * backend's current key; the watermark fires event-time timers; a single processing-time
 * registration with the subtask's clock (re-armed for the earliest timer) fires the others, as a
 * mail of the actor, never in the middle of a record.
 *
 * Threading model: the owning subtask actor's thread. Life cycle: created in the operator's setup,
 * {@link dispose}d at close.
 */
export class OperatorTimers<N = unknown> {
  readonly service: HeapInternalTimerService<unknown, N>;
  private armedAt: number | undefined;
  private cancelArm: (() => void) | undefined;
  private firing = false;

  constructor(
    private readonly context: OperatorContext,
    private readonly backend: KeyedStateBackend,
    private readonly target: Triggerable<N>,
    name: string,
  ) {
    this.service = new HeapInternalTimerService<unknown, N>(context.maxParallelism, { keyGroupRange: backend.keyGroupRange, name });
    context.registerTimerService(name, this.service as HeapInternalTimerService<unknown, unknown>);
    // A backend on disk keeps the state of keys with timers in its cache: firing never waits for disk.
    if (backend.retainKey !== undefined) {
      this.retain = (key) => (backend.retainKey as (key: unknown) => void)(key);
      this.release = (key) => (backend.releaseKey as (key: unknown) => void)(key);
      const { start, end } = backend.keyGroupRange;
      for (let kg = start; kg <= end; kg++) {
        const restored = this.service.snapshotKeyGroup(kg);
        for (const key of restored.eventTime.keys) this.retain(key);
        for (const key of restored.processingTime.keys) this.retain(key);
      }
    }
  }

  private retain: ((key: unknown) => void) | undefined;
  private release: ((key: unknown) => void) | undefined;

  /** The operator's current watermark. */
  currentWatermark(): number {
    return this.service.currentWatermark();
  }

  /** Current processing time. */
  currentProcessingTime(): number {
    return this.context.processingTime.now();
  }

  registerEventTimeTimer(namespace: N, time: number): void {
    const backend = this.backend;
    const key = backend.getCurrentKey();
    if (this.service.registerEventTimeTimerIn(backend.getCurrentKeyGroup(), key, mapKey(key), namespace, time)) this.retain?.(key);
  }

  deleteEventTimeTimer(namespace: N, time: number): void {
    const backend = this.backend;
    const key = backend.getCurrentKey();
    if (this.service.deleteEventTimeTimerIn(backend.getCurrentKeyGroup(), key, mapKey(key), namespace, time)) this.release?.(key);
  }

  registerProcessingTimeTimer(namespace: N, time: number): void {
    const key = this.backend.getCurrentKey();
    if (this.service.registerProcessingTimeTimer(key, namespace, time)) this.retain?.(key);
    if (!this.firing) this.arm();
  }

  deleteProcessingTimeTimer(namespace: N, time: number): void {
    const key = this.backend.getCurrentKey();
    if (this.service.deleteProcessingTimeTimer(key, namespace, time)) this.release?.(key);
  }

  /** Fires every event-time timer due at `watermark`, in order. */
  advanceWatermark(watermark: number): void {
    this.service.advanceWatermark(watermark, (timer) => {
      this.backend.setCurrentKey(timer.key);
      try {
        this.target.onEventTime(timer);
      } finally {
        this.release?.(timer.key);
      }
    });
  }

  /** Arms the clock for the earliest processing-time timer (once; re-armed after it rings). */
  private arm(): void {
    const next = this.service.nextProcessingTime();
    if (next === undefined) return;
    if (this.armedAt !== undefined && this.armedAt <= next) return;
    this.cancelArm?.();
    this.armedAt = next;
    this.cancelArm = this.context.processingTime.registerTimer(next, () => {
      this.armedAt = undefined;
      this.cancelArm = undefined;
      this.fireProcessingTimers();
    });
  }

  private fireProcessingTimers(): void {
    this.firing = true;
    try {
      this.service.onProcessingTime(this.context.processingTime.now(), (timer) => {
        this.backend.setCurrentKey(timer.key);
        try {
          this.target.onProcessingTime(timer);
        } finally {
          this.release?.(timer.key);
        }
      });
    } finally {
      this.firing = false;
    }
    this.arm();
  }

  /** Cancels the clock registration. */
  dispose(): void {
    this.cancelArm?.();
    this.cancelArm = undefined;
    this.service.dispose();
  }
}
