//! Windows (time windows and the global window), durations, and Flink's window-start arithmetic.

/** A time window `[start, end)`: holds records with `start <= timestamp < end`. */
export class TimeWindow {
  /** @internal The window's {@link windowKey}, once made (a field, so every window has one shape). */
  key: string | undefined = undefined;

  constructor(
    readonly start: number,
    readonly end: number,
  ) {}

  /** The largest timestamp inside the window: `end - 1` (window results carry it). */
  maxTimestamp(): number {
    return this.end - 1;
  }

  /** Whether two windows overlap or touch (session windows merge then). */
  intersects(other: TimeWindow): boolean {
    return this.start <= other.end && this.end >= other.start;
  }

  /** The smallest window covering both. */
  cover(other: TimeWindow): TimeWindow {
    return new TimeWindow(Math.min(this.start, other.start), Math.max(this.end, other.end));
  }

  /** Same bounds. */
  equals(other: unknown): boolean {
    return other instanceof TimeWindow && other.start === this.start && other.end === this.end;
  }

  /** `TimeWindow{start=…, end=…}` as Flink prints it. */
  toString(): string {
    return `TimeWindow{start=${this.start}, end=${this.end}}`;
  }
}

/** The single window of a global window assigner; it never ends on its own. */
export class GlobalWindow {
  static readonly INSTANCE = new GlobalWindow();
  private constructor() {}
  /** The largest timestamp: event time never reaches it. */
  maxTimestamp(): number {
    return Number.MAX_SAFE_INTEGER;
  }
  /** `GlobalWindow`. */
  toString(): string {
    return 'GlobalWindow';
  }
}

/** Any window. */
export type Window = TimeWindow | GlobalWindow;

/**
 * A window as a state and timer namespace: a number (the start of a window of an aligned assigner,
 * whose size is fixed per operator) or the text key of {@link windowKey}.
 */
export type WindowNamespace = number | string;

/** A canonical key for a window, usable as a state namespace or Map key (computed once per window object). */
export function windowKey(window: Window): string {
  if (!(window instanceof TimeWindow)) return 'global';
  return window.key ?? (window.key = `${window.start}:${window.end}`);
}

/** Parses {@link windowKey} back into a window. */
export function windowFromKey(key: string): Window {
  if (key === 'global') return GlobalWindow.INSTANCE;
  const colon = key.indexOf(':');
  return new TimeWindow(Number(key.slice(0, colon)), Number(key.slice(colon + 1)));
}

/**
 * The start of the window of size `size` (with `offset`) that contains `timestamp`; correct for
 * negative timestamps (Flink's TimeWindow.getWindowStartWithOffset).
 */
export function windowStart(timestamp: number, offset: number, size: number): number {
  const remainder = (timestamp - offset) % size;
  return remainder < 0 ? timestamp - (remainder + size) : timestamp - remainder;
}

/** Durations in milliseconds (Flink's `Time`). */
export const Time = {
  milliseconds: (n: number): number => n,
  seconds: (n: number): number => n * 1000,
  minutes: (n: number): number => n * 60_000,
  hours: (n: number): number => n * 3_600_000,
  days: (n: number): number => n * 86_400_000,
} as const;
