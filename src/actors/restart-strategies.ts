//! Restart strategies (Flink's): whether and when the supervisor restarts a failed job, and when it gives up.

import type { RestartStrategy } from '../checkpoint/config.ts';

/** Builders for {@link RestartStrategy} values. */
export const RestartStrategies = {
  /** Never restart: the first failure fails the job. */
  noRestart: (): RestartStrategy => ({ kind: 'none' }),
  /** Restart up to `attempts` times, waiting `delayMs` before each. */
  fixedDelay: (attempts: number, delayMs: number): RestartStrategy => ({ kind: 'fixed-delay', attempts, delayMs }),
  /** Restart with a delay that grows by `multiplier` up to `maxDelayMs`, at most `attempts` times. */
  exponentialDelay: (initialDelayMs: number, maxDelayMs: number, multiplier = 2, attempts = Number.MAX_SAFE_INTEGER): RestartStrategy => ({
    kind: 'exponential-delay',
    initialDelayMs,
    maxDelayMs,
    multiplier,
    attempts,
  }),
  /** Restart unless more than `maxFailures` failures happened within `intervalMs`. */
  failureRate: (maxFailures: number, intervalMs: number, delayMs: number): RestartStrategy => ({
    kind: 'failure-rate',
    maxFailures,
    intervalMs,
    delayMs,
  }),
};

/**
 * The restart strategy of a job with checkpointing that sets none: Flink's fixed delay, bounded.
 * Three restarts, one second apart, then the job fails with the last cause: enough for a lost
 * worker or a flaky connection, and a broken job ends within seconds instead of looping.
 */
export const DEFAULT_CHECKPOINTING_RESTART_STRATEGY: RestartStrategy = { kind: 'fixed-delay', attempts: 3, delayMs: 1000 };

/**
 * Decides, failure by failure, whether to restart and after how long.
 *
 * Threading model: the supervisor's (main) thread. Life cycle: one per job run.
 */
export class RestartBackoff {
  private restarts = 0;
  private readonly failures: number[] = [];
  private delay: number;

  constructor(private readonly strategy: RestartStrategy) {
    this.delay = strategy.kind === 'exponential-delay' ? strategy.initialDelayMs : 0;
  }

  /** Restarts so far. */
  get attempts(): number {
    return this.restarts;
  }

  /** Most restarts the strategy allows, if it counts them (undefined for failure-rate). */
  get limit(): number | undefined {
    const s = this.strategy;
    if (s.kind === 'none') return 0;
    if (s.kind === 'failure-rate') return undefined;
    return s.attempts >= Number.MAX_SAFE_INTEGER ? undefined : s.attempts;
  }

  /** Records a failure at `now`; returns the delay before restarting, or undefined to give up. */
  onFailure(now: number): number | undefined {
    const s = this.strategy;
    switch (s.kind) {
      case 'none':
        return undefined;
      case 'fixed-delay':
        if (this.restarts >= s.attempts) return undefined;
        this.restarts++;
        return s.delayMs;
      case 'exponential-delay': {
        if (this.restarts >= s.attempts) return undefined;
        this.restarts++;
        const d = this.delay;
        this.delay = Math.min(s.maxDelayMs, Math.max(1, this.delay * s.multiplier));
        return d;
      }
      case 'failure-rate': {
        this.failures.push(now);
        while (this.failures.length > 0 && this.failures[0] <= now - s.intervalMs) this.failures.shift();
        if (this.failures.length > s.maxFailures) return undefined;
        this.restarts++;
        return s.delayMs;
      }
    }
  }

  /** Describes the limit reached, for the final error. */
  describe(): string {
    const s = this.strategy;
    switch (s.kind) {
      case 'none':
        return 'no restart strategy (RestartStrategies.noRestart)';
      case 'fixed-delay':
        return `fixed-delay restart strategy: ${s.attempts} restart(s) used up`;
      case 'exponential-delay':
        return `exponential-delay restart strategy: ${s.attempts} restart(s) used up`;
      case 'failure-rate':
        return `failure-rate restart strategy: more than ${s.maxFailures} failure(s) within ${s.intervalMs} ms`;
    }
  }
}
