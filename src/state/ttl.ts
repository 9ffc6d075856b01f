//! State time-to-live: StateTtlConfig and its builder, the clock TTL reads, and the expiry rule.

import { configError } from '../core/errors.ts';

/**
 * The clock state TTL reads (Flink's `TtlTimeProvider`). Processing time in milliseconds; tests
 * inject a clock they move by hand.
 */
export interface TtlTimeProvider {
  /** Current processing time, in milliseconds. */
  now(): number;
}

/** The wall clock: `Date.now()`. */
export const SYSTEM_TTL_TIME_PROVIDER: TtlTimeProvider = { now: () => Date.now() };

/** When the last-access timestamp of a state value is refreshed (Flink's `StateTtlConfig.UpdateType`). */
export const UpdateType = {
  /** TTL is off. */
  Disabled: 'Disabled',
  /** The timestamp is set when the value is created and on every write. The default. */
  OnCreateAndWrite: 'OnCreateAndWrite',
  /** As OnCreateAndWrite, and also on every read. */
  OnReadAndWrite: 'OnReadAndWrite',
} as const;
/** One of {@link UpdateType}. */
export type UpdateType = (typeof UpdateType)[keyof typeof UpdateType];

/** Whether a read may see an expired value that is still stored (Flink's `StateTtlConfig.StateVisibility`). */
export const StateVisibility = {
  /** An expired value is returned by the read that finds it (and removed then). */
  ReturnExpiredIfNotCleanedUp: 'ReturnExpiredIfNotCleanedUp',
  /** An expired value is never returned. The default. */
  NeverReturnExpired: 'NeverReturnExpired',
} as const;
/** One of {@link StateVisibility}. */
export type StateVisibility = (typeof StateVisibility)[keyof typeof StateVisibility];

/** Incremental cleanup: a lazy cursor over all entries of a state checks this many entries per trigger. */
export interface IncrementalCleanupStrategy {
  /** Entries checked per trigger. */
  readonly cleanupSize: number;
  /** Also trigger on every record (every key selection), not only on accesses of the state. */
  readonly runCleanupForEveryRecord: boolean;
}

/** Flink's default incremental cleanup for heap state when background cleanup is on: 5 entries per access. */
export const DEFAULT_INCREMENTAL_CLEANUP: IncrementalCleanupStrategy = Object.freeze({ cleanupSize: 5, runCleanupForEveryRecord: false });

/**
 * Time-to-live of keyed state, attached to a descriptor with `enableTimeToLive`. Processing time
 * only (as Flink). A value (a list element, a map entry) expires when `lastAccess + ttl <= now`.
 *
 * Cleanup: expired values are removed when a read finds them; `cleanupFullSnapshot` leaves them
 * out of snapshots; incremental cleanup (on by default with 5 entries per state access, as Flink's
 * heap backend, unless `disableCleanupInBackground`) walks all entries a few at a time.
 */
export class StateTtlConfig {
  /** TTL off. */
  static readonly DISABLED: StateTtlConfig = new StateTtlConfig(
    UpdateType.Disabled,
    StateVisibility.NeverReturnExpired,
    Number.MAX_SAFE_INTEGER,
    false,
    undefined,
    false,
  );

  /** Starts a config with the given time-to-live in milliseconds. */
  static newBuilder(ttlMs: number): StateTtlConfigBuilder {
    return new StateTtlConfigBuilder(ttlMs);
  }

  /** @internal use {@link StateTtlConfig.newBuilder}. */
  constructor(
    /** When the timestamp is refreshed. */
    readonly updateType: UpdateType,
    /** Whether expired values may be returned. */
    readonly stateVisibility: StateVisibility,
    /** Time-to-live in milliseconds. */
    readonly ttl: number,
    /** Leave expired values out of full snapshots. */
    readonly cleanupFullSnapshot: boolean,
    /** Incremental cleanup as configured explicitly, if it was. */
    private readonly explicitIncremental: IncrementalCleanupStrategy | undefined,
    /** Whether background cleanup (the default incremental cleanup) is on. */
    readonly cleanupInBackground: boolean,
  ) {
    Object.freeze(this);
  }

  /** Whether TTL is on. */
  isEnabled(): boolean {
    return this.updateType !== UpdateType.Disabled;
  }

  /** The incremental cleanup in effect: the configured one, or Flink's default when background cleanup is on. */
  get incrementalCleanup(): IncrementalCleanupStrategy | undefined {
    return this.explicitIncremental ?? (this.cleanupInBackground ? DEFAULT_INCREMENTAL_CLEANUP : undefined);
  }
}

/** Builds a {@link StateTtlConfig} (Flink's `StateTtlConfig.Builder`). */
export class StateTtlConfigBuilder {
  private updateType: UpdateType = UpdateType.OnCreateAndWrite;
  private visibility: StateVisibility = StateVisibility.NeverReturnExpired;
  private fullSnapshot = false;
  private incremental: IncrementalCleanupStrategy | undefined = undefined;
  private inBackground = true;
  private ttlMs: number;

  /** @internal use {@link StateTtlConfig.newBuilder}. */
  constructor(ttlMs: number) {
    this.ttlMs = checkTtl(ttlMs);
  }

  /** Sets when the timestamp is refreshed. */
  setUpdateType(updateType: UpdateType): this {
    if (!Object.values(UpdateType).includes(updateType)) throw configError(`unknown TTL update type '${String(updateType)}'`);
    this.updateType = updateType;
    return this;
  }
  /** Refreshes the timestamp on creation and writes (the default). */
  updateTtlOnCreateAndWrite(): this {
    return this.setUpdateType(UpdateType.OnCreateAndWrite);
  }
  /** Refreshes the timestamp on creation, writes and reads. */
  updateTtlOnReadAndWrite(): this {
    return this.setUpdateType(UpdateType.OnReadAndWrite);
  }
  /** Sets whether expired values may be returned. */
  setStateVisibility(visibility: StateVisibility): this {
    if (!Object.values(StateVisibility).includes(visibility)) throw configError(`unknown TTL state visibility '${String(visibility)}'`);
    this.visibility = visibility;
    return this;
  }
  /** Never returns expired values (the default). */
  neverReturnExpired(): this {
    return this.setStateVisibility(StateVisibility.NeverReturnExpired);
  }
  /** Returns an expired value until it is cleaned up. */
  returnExpiredIfNotCleanedUp(): this {
    return this.setStateVisibility(StateVisibility.ReturnExpiredIfNotCleanedUp);
  }
  /** Leaves expired values out of full snapshots (they stay in memory until read or cleaned). */
  cleanupFullSnapshot(): this {
    this.fullSnapshot = true;
    return this;
  }
  /**
   * Checks `cleanupSize` entries of the state, through a lazy cursor over all of them, on every
   * access of the state and, when `runCleanupForEveryRecord`, on every record.
   */
  cleanupIncrementally(cleanupSize: number, runCleanupForEveryRecord: boolean): this {
    if (!Number.isInteger(cleanupSize) || cleanupSize < 0)
      throw configError(`TTL incremental cleanup size must be a non-negative integer, got ${cleanupSize}`);
    this.incremental = Object.freeze({ cleanupSize, runCleanupForEveryRecord });
    return this;
  }
  /** Turns off the default background (incremental) cleanup; an explicit `cleanupIncrementally` still applies. */
  disableCleanupInBackground(): this {
    this.inBackground = false;
    return this;
  }
  /** Changes the time-to-live. */
  setTtl(ttlMs: number): this {
    this.ttlMs = checkTtl(ttlMs);
    return this;
  }
  /** The config. */
  build(): StateTtlConfig {
    return new StateTtlConfig(this.updateType, this.visibility, this.ttlMs, this.fullSnapshot, this.incremental, this.inBackground);
  }
}

function checkTtl(ttlMs: number): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0)
    throw configError(`state TTL must be a positive finite number of milliseconds, got ${ttlMs}`);
  return ttlMs;
}

/** A stored value with its last-access time (Flink's `TtlValue`). Mutated in place on refresh. */
export interface TtlValue<V> {
  /** The user value. */
  v: V;
  /** Last access (creation, write, or read under OnReadAndWrite), in the TTL clock's milliseconds. */
  ts: number;
}

/** Whether a value last accessed at `ts` has expired at `now`: exactly when `ts + ttl <= now`. */
export function isExpired(ts: number, ttl: number, now: number): boolean {
  return ts + ttl <= now;
}
