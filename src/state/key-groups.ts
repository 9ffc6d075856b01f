//! Key groups: key → Java-compatible hash code → murmur → key group → subtask, by Flink's range formula.

/** Default number of key groups, fixed for a job's life (Flink's default for small jobs is 128). */
export const DEFAULT_MAX_PARALLELISM = 128;
/** Flink's upper limit for maxParallelism. */
export const UPPER_BOUND_MAX_PARALLELISM = 1 << 15;

const float64 = new Float64Array(1);
const float64Words = new Int32Array(float64.buffer);

/**
 * A 32-bit hash code for a key, equal to Java's `hashCode()` for the matching Java type, so that
 * String, Integer, Long, Double and Boolean keys land in the same key group as in Flink:
 * strings hash like `String.hashCode`, integers in int range like `Integer`, other safe integers
 * like `Long`, other numbers like `Double`. Arrays hash like `Arrays.hashCode` (Flink tuples do
 * the same); plain objects hash their values in key order the same way.
 */
export function keyHashCode(key: unknown): number {
  switch (typeof key) {
    case 'string': {
      let h = 0;
      for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
      return h;
    }
    case 'number': {
      if (Number.isInteger(key)) {
        if (key >= -2147483648 && key <= 2147483647) return key | 0;
        if (Number.isSafeInteger(key)) return longHash(BigInt(key));
      }
      // Double.hashCode: bits ^ (bits >>> 32), with NaN canonicalised.
      float64[0] = Number.isNaN(key) ? NaN : key;
      return (float64Words[0] ^ float64Words[1]) | 0;
    }
    case 'boolean':
      return key ? 1231 : 1237;
    case 'bigint':
      return longHash(key);
    case 'undefined':
      return 0;
    case 'object': {
      if (key === null) return 0;
      if (Array.isArray(key)) {
        let h = 1;
        for (const item of key) h = (Math.imul(h, 31) + keyHashCode(item)) | 0;
        return h;
      }
      let h = 1;
      for (const name of Object.keys(key)) h = (Math.imul(h, 31) + keyHashCode((key as Record<string, unknown>)[name])) | 0;
      return h;
    }
    default:
      throw new TypeError(`a ${typeof key} cannot be used as a key`);
  }
}

function longHash(value: bigint): number {
  const v = BigInt.asUintN(64, value);
  return Number(BigInt.asIntN(32, (v ^ (v >> 32n)) & 0xffffffffn));
}

/** Flink's `MathUtils.murmurHash(int)`: one murmur3 round plus finaliser, made non-negative. */
export function murmurHash(code: number): number {
  let h = Math.imul(code, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  h = Math.imul(h, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  h ^= 4;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  if (h >= 0) return h;
  if (h !== -2147483648) return -h;
  return 0;
}

/** The key group of a key: `murmurHash(hashCode(key)) % maxParallelism`. */
export function assignToKeyGroup(key: unknown, maxParallelism: number): number {
  return murmurHash(keyHashCode(key)) % maxParallelism;
}

/** The subtask that owns a key group: `keyGroup * parallelism / maxParallelism`, rounded down. */
export function computeOperatorIndexForKeyGroup(maxParallelism: number, parallelism: number, keyGroup: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/** The subtask that owns a key. */
export function assignKeyToParallelOperator(key: unknown, maxParallelism: number, parallelism: number): number {
  return computeOperatorIndexForKeyGroup(maxParallelism, parallelism, assignToKeyGroup(key, maxParallelism));
}

/** An inclusive range of key groups. */
export interface KeyGroupRange {
  start: number;
  end: number;
}

/** The key groups a subtask owns (Flink's `computeKeyGroupRangeForOperatorIndex`). */
export function keyGroupRangeForSubtask(maxParallelism: number, parallelism: number, subtask: number): KeyGroupRange {
  return {
    start: Math.floor((subtask * maxParallelism + parallelism - 1) / parallelism),
    end: Math.floor(((subtask + 1) * maxParallelism - 1) / parallelism),
  };
}

/** Checks a (parallelism, maxParallelism) pair the way Flink does. */
export function validateMaxParallelism(maxParallelism: number, parallelism: number): string | undefined {
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > UPPER_BOUND_MAX_PARALLELISM) {
    return `maxParallelism must be an integer in 1..${UPPER_BOUND_MAX_PARALLELISM}, got ${maxParallelism}`;
  }
  if (parallelism > maxParallelism) {
    return `parallelism ${parallelism} exceeds maxParallelism ${maxParallelism}`;
  }
  return undefined;
}
