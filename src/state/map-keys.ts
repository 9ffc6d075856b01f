//! Keys as Maps compare them: primitives as they are, composites as canonical JSON; the way back; a total order on them.

/**
 * Turns a key into something a Map compares by value: primitives as they are, composites (arrays,
 * plain objects) as canonical JSON behind a NUL marker. Composite keys must be JSON data.
 */
export function mapKey(key: unknown): unknown {
  const type = typeof key;
  if (type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint' || key === undefined || key === null) return key;
  return `\u0000${JSON.stringify(key)}`;
}

/** The inverse of {@link mapKey}: composite keys come back as an equal copy (parsed from their JSON). */
export function unmapKey(mapped: unknown): unknown {
  if (typeof mapped === 'string' && mapped.length > 0 && mapped.charCodeAt(0) === 0) return JSON.parse(mapped.slice(1));
  return mapped;
}

function typeRank(value: unknown): number {
  switch (typeof value) {
    case 'undefined':
      return 0;
    case 'object':
      return 1; // null: mapped keys are never other objects
    case 'boolean':
      return 2;
    case 'number':
      return 3;
    case 'bigint':
      return 4;
    case 'string':
      return 5;
    default:
      return 6;
  }
}

/**
 * A total order on mapped keys ({@link mapKey} results): by type (undefined, null, boolean, number,
 * bigint, string/composite), then by value. Deterministic across runs and restores.
 */
export function compareMappedKeys(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if ((a as number) < (b as number)) return -1;
  if ((a as number) > (b as number)) return 1;
  return 0;
}
