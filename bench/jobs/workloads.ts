//! The per-record work of the foundation benchmark, shared by the hand-written loops and the weir job modules.

/**
 * A deterministic 32-bit mix of an index (xorshift-multiply), so generated records differ
 * without a random generator and replay identically on every thread.
 */
export function mix32(i: number): number {
  let x = Math.imul(i ^ 0x5bd1e995, 0x9e3779b1);
  x ^= x >>> 15;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  return x >>> 0;
}

// ---- (a) stateless: generator → map → filter → sink

/** A generated event of the stateless workload. */
export interface Reading {
  id: number;
  value: number;
}

/** A reading after the map step. */
export interface Scored {
  id: number;
  score: number;
}

/** Record `i` of the stateless workload. */
export function generateReading(i: number): Reading {
  return { id: i, value: mix32(i) % 1000 };
}

/** The map step: a new object with a derived field. */
export function scoreReading(r: Reading): Scored {
  return { id: r.id, score: r.value * 3 + (r.id & 7) };
}

/** The filter step: keeps about three records in four. */
export function keepScored(s: Scored): boolean {
  return s.score % 4 !== 0;
}

/** What the stateless sink folds into its checksum. */
export function scoredChecksum(s: Scored): number {
  return s.score;
}

// ---- (b) keyed running count: generator of keys → keyBy → rolling count → sink

/** A generated event of the keyed workload: one occurrence of a key. */
export interface KeyCount {
  key: number;
  count: number;
}

/** Record `i` of the keyed workload, over `keys` distinct keys. */
export function generateKeyCount(i: number, keys: number): KeyCount {
  return { key: mix32(i) % keys, count: 1 };
}

/** The key of a keyed-workload record. */
export function keyOf(r: KeyCount): number {
  return r.key;
}

/** What the keyed sink folds into its checksum: the running count (sums to Σ n(n+1)/2 over keys, whatever the parallelism). */
export function keyCountChecksum(r: KeyCount): number {
  return r.count;
}

/** Count and 32-bit wrapping checksum of what a sink received. */
export interface SinkTally {
  count: number;
  checksum: number;
  /** When the sink got its first record ({@link wallClock} ms); absent without records. */
  firstAt?: number;
  /** When the sink closed (after its last record). */
  lastAt?: number;
}

/** Combines the tallies of several sink subtasks (checksum addition wraps at 32 bits, so order does not matter). */
export function combineTallies(tallies: readonly SinkTally[]): SinkTally {
  let count = 0;
  let checksum = 0;
  for (const t of tallies) {
    count += t.count;
    checksum = (checksum + t.checksum) | 0;
  }
  return { count, checksum };
}
