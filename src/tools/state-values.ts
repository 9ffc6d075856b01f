//! State values as the inspector shows and compares them: identity of keys, a canonical text of any stored value, and keys typed on a command line.

import { mapKey } from '../state/map-keys.ts';

/**
 * A string that is equal for equal keys (and namespaces) and different otherwise: the type is part
 * of it, so the number `1` and the string `'1'` stay apart, as they do in the runtime's tables.
 */
export function keyIdentity(key: unknown, namespace?: unknown): string {
  const one = (k: unknown) => {
    const mapped = mapKey(k);
    return `${typeof mapped}:${String(mapped)}`;
  };
  return namespace === undefined || namespace === null ? one(key) : `${one(key)}\u0002${one(namespace)}`;
}

/**
 * A JSON-like text of a stored value, the same for equal values: object fields sorted, and the
 * values JSON has no words for spelled out (`123n`, `bytes:…`, `Date(…)`, `undefined`). Used to
 * compare values across checkpoints and to print them.
 */
export function canonicalText(value: unknown): string {
  return JSON.stringify(toJsonValue(value, true));
}

/**
 * A stored value as JSON data: bigints become strings with an `n`, bytes a `base64:` string,
 * dates their ISO text, `undefined` null. Object fields keep their order unless `sorted`.
 */
export function toJsonValue(value: unknown, sorted = false): unknown {
  switch (typeof value) {
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return null;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (value instanceof Uint8Array) return `base64:${Buffer.from(value).toString('base64')}`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v, sorted));
  if (value instanceof Map) return [...value].map(([k, v]) => [toJsonValue(k, sorted), toJsonValue(v, sorted)]);
  const names = Object.keys(value as object);
  if (sorted) names.sort();
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = toJsonValue((value as Record<string, unknown>)[name], sorted);
  return out;
}

/**
 * A key as typed on a command line: JSON when it parses as JSON (`42` is a number, `"42"` or `'"42"'`
 * a string, `[1,"a"]` a composite key), else the text as a string (`C00042`).
 */
export function parseKeyArgument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Bytes as people read them: `812 B`, `12.3 KiB`, `4.1 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
