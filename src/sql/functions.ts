//! The runtime functions compiled SQL expressions call (`$.add`, `$.and`, …): SQL's NULL semantics and Flink's built-in functions.

type V = unknown;

const isNull = (v: V): boolean => v === null || v === undefined;

/** Formats epoch ms as Flink prints TIMESTAMP(3): `yyyy-MM-dd HH:mm:ss.SSS` (UTC). */
export function formatTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** Parses `yyyy-MM-dd HH:mm:ss[.SSS]` (or ISO with T/Z) as UTC epoch ms; null when it is not a timestamp. */
export function parseTimestamp(text: string): number | null {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?Z?\s*$/.exec(text);
  if (m === null) return null;
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), ms);
}

function likeToRegExp(pattern: string, escape?: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (escape !== undefined && c === escape && i + 1 < pattern.length) {
      out += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (c === '%') out += '[\\s\\S]*';
    else if (c === '_') out += '[\\s\\S]';
    else out += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

const likeCache = new Map<string, RegExp>();

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Java SimpleDateFormat-style formatting of the common letters (UTC). */
function dateFormat(ms: number, format: string): string {
  const d = new Date(ms);
  return format.replace(/yyyy|MM|dd|HH|mm|ss|SSS/g, (t) => {
    switch (t) {
      case 'yyyy':
        return pad(d.getUTCFullYear(), 4);
      case 'MM':
        return pad(d.getUTCMonth() + 1);
      case 'dd':
        return pad(d.getUTCDate());
      case 'HH':
        return pad(d.getUTCHours());
      case 'mm':
        return pad(d.getUTCMinutes());
      case 'ss':
        return pad(d.getUTCSeconds());
      default:
        return pad(d.getUTCMilliseconds(), 3);
    }
  });
}

/** The functions available to compiled expressions as `$`. */
export const SQL_FUNCTIONS = {
  isNull,
  // arithmetic: NULL in, NULL out
  add: (a: V, b: V): V => (isNull(a) || isNull(b) ? null : (a as number) + (b as number)),
  sub: (a: V, b: V): V => (isNull(a) || isNull(b) ? null : (a as number) - (b as number)),
  mul: (a: V, b: V): V => (isNull(a) || isNull(b) ? null : (a as number) * (b as number)),
  /** Division; integer operands divide as integers (Flink's INT / INT), by zero throws as Flink's. */
  div: (a: V, b: V, integer: boolean): V => {
    if (isNull(a) || isNull(b)) return null;
    if (b === 0 && integer) throw new Error('division by zero');
    const q = (a as number) / (b as number);
    return integer ? Math.trunc(q) : q;
  },
  mod: (a: V, b: V): V => {
    if (isNull(a) || isNull(b)) return null;
    if (b === 0) throw new Error('division by zero');
    return (a as number) % (b as number);
  },
  neg: (a: V): V => (isNull(a) ? null : -(a as number)),
  concat: (...xs: V[]): V => {
    for (const x of xs) if (isNull(x)) return null;
    return xs.join('');
  },
  // comparisons: NULL if either side is NULL
  eq: (a: V, b: V): V => (isNull(a) || isNull(b) ? null : a === b),
  ne: (a: V, b: V): V => (isNull(a) || isNull(b) ? null : a !== b),
  lt: (a: V, b: V): V => (isNull(a) || isNull(b) ? null : (a as number) < (b as number)),
  le: (a: V, b: V): V => (isNull(a) || isNull(b) ? null : (a as number) <= (b as number)),
  gt: (a: V, b: V): V => (isNull(a) || isNull(b) ? null : (a as number) > (b as number)),
  ge: (a: V, b: V): V => (isNull(a) || isNull(b) ? null : (a as number) >= (b as number)),
  // three-valued logic
  and: (a: V, b: V): V => (a === false || b === false ? false : isNull(a) || isNull(b) ? null : true),
  or: (a: V, b: V): V => (a === true || b === true ? true : isNull(a) || isNull(b) ? null : false),
  not: (a: V): V => (isNull(a) ? null : !a),
  between: (v: V, lo: V, hi: V): V => SQL_FUNCTIONS.and(SQL_FUNCTIONS.ge(v, lo), SQL_FUNCTIONS.le(v, hi)),
  in: (v: V, list: V[]): V => {
    if (isNull(v)) return null;
    let sawNull = false;
    for (const x of list) {
      if (isNull(x)) sawNull = true;
      else if (x === v) return true;
    }
    return sawNull ? null : false;
  },
  like: (s: V, pattern: V, escape?: string): V => {
    if (isNull(s) || isNull(pattern)) return null;
    const key = `${escape ?? ''}\u0000${pattern as string}`;
    let re = likeCache.get(key);
    if (re === undefined) likeCache.set(key, (re = likeToRegExp(pattern as string, escape)));
    return re.test(s as string);
  },
  field: (row: V, name: string): V => (isNull(row) ? null : ((row as Record<string, V>)[name] ?? null)),
  item: (container: V, index: V): V => {
    if (isNull(container) || isNull(index)) return null;
    if (Array.isArray(container)) return container[(index as number) - 1] ?? null;
    return (container as Record<string, V>)[index as string] ?? null;
  },
  coalesce: (...xs: V[]): V => {
    for (const x of xs) if (!isNull(x)) return x;
    return null;
  },
  // casts
  toStr: (v: V, timestamp: boolean): V => (isNull(v) ? null : timestamp ? formatTimestamp(v as number) : String(v)),
  toNum: (v: V, integer: boolean, orNull: boolean): V => {
    if (isNull(v)) return null;
    const n = typeof v === 'boolean' ? (v ? 1 : 0) : Number(typeof v === 'string' ? v.trim() : v);
    if (typeof v === 'string' && (v.trim() === '' || Number.isNaN(n))) {
      if (orNull) return null;
      throw new Error(`cannot cast '${v}' to a number`);
    }
    return integer ? Math.trunc(n) : n;
  },
  toBool: (v: V): V => {
    if (isNull(v)) return null;
    if (typeof v === 'string') {
      const t = v.trim().toLowerCase();
      return t === 'true' ? true : t === 'false' ? false : null;
    }
    return Boolean(v);
  },
  toTimestamp: (v: V): V => (isNull(v) ? null : typeof v === 'string' ? parseTimestamp(v) : (v as number)),
  // string functions
  upper: (s: V): V => (isNull(s) ? null : (s as string).toUpperCase()),
  lower: (s: V): V => (isNull(s) ? null : (s as string).toLowerCase()),
  charLength: (s: V): V => (isNull(s) ? null : (s as string).length),
  trim: (s: V): V => (isNull(s) ? null : (s as string).trim()),
  substring: (s: V, from: V, len?: V): V => {
    if (isNull(s) || isNull(from) || len === null) return null;
    const str = s as string;
    const start = Math.max((from as number) - 1, 0);
    return len === undefined ? str.slice(start) : str.slice(start, Math.max(start, (from as number) - 1 + (len as number)));
  },
  regexpExtract: (s: V, re: V, group?: V): V => {
    if (isNull(s) || isNull(re)) return null;
    const m = new RegExp(re as string).exec(s as string);
    return m === null ? null : (m[(group as number | undefined) ?? 0] ?? null);
  },
  splitIndex: (s: V, sep: V, index: V): V => {
    if (isNull(s) || isNull(sep) || isNull(index)) return null;
    return (s as string).split(sep as string)[index as number] ?? null;
  },
  // math
  abs: (x: V): V => (isNull(x) ? null : Math.abs(x as number)),
  round: (x: V, d?: V): V => {
    if (isNull(x)) return null;
    const f = 10 ** ((d as number | undefined) ?? 0);
    return (Math.sign(x as number) * Math.round(Math.abs(x as number) * f)) / f;
  },
  floor: (x: V): V => (isNull(x) ? null : Math.floor(x as number)),
  ceil: (x: V): V => (isNull(x) ? null : Math.ceil(x as number)),
  power: (x: V, y: V): V => (isNull(x) || isNull(y) ? null : (x as number) ** (y as number)),
  // time
  dateFormat: (ts: V, format: V): V =>
    isNull(ts) || isNull(format) ? null : dateFormat(typeof ts === 'string' ? (parseTimestamp(ts) ?? 0) : (ts as number), format as string),
  extract: (unit: string, ts: V): V => {
    if (isNull(ts)) return null;
    const d = new Date(ts as number);
    switch (unit) {
      case 'YEAR':
        return d.getUTCFullYear();
      case 'MONTH':
        return d.getUTCMonth() + 1;
      case 'DAY':
        return d.getUTCDate();
      case 'HOUR':
        return d.getUTCHours();
      case 'MINUTE':
        return d.getUTCMinutes();
      case 'SECOND':
        return d.getUTCSeconds();
      default:
        return d.getUTCMilliseconds();
    }
  },
  now: (): V => Date.now(),
  /** TO_TIMESTAMP_LTZ(n, 0 | 3): epoch seconds or milliseconds as a timestamp. */
  fromEpoch: (n: V, precision: number): V => (isNull(n) ? null : precision === 0 ? (n as number) * 1000 : (n as number)),
};

/** The type of {@link SQL_FUNCTIONS}. */
export type SqlFunctions = typeof SQL_FUNCTIONS;
