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

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Java's DateTimeFormatter/SimpleDateFormat patterns, as Flink's DATE_FORMAT reads them (UTC, English):
 * runs of y, M, d, H, h, m, s, S, E, a; text in '…' is literal ('' is a quote); other characters stay.
 */
function dateFormat(ms: number, format: string): string {
  const d = new Date(ms);
  return format.replace(/'((?:[^']|'')*)'|([yMdHhmsSEa])\2*/g, (run, quoted: string | undefined, letter: string | undefined) => {
    if (quoted !== undefined) return quoted === '' ? "'" : quoted.replace(/''/g, "'");
    const n = run.length;
    switch (letter) {
      case 'y': {
        const y = d.getUTCFullYear();
        return n === 2 ? pad(y % 100) : pad(y, n);
      }
      case 'M': {
        const m = d.getUTCMonth();
        return n >= 4 ? MONTHS[m] : n === 3 ? MONTHS[m].slice(0, 3) : pad(m + 1, n);
      }
      case 'd':
        return pad(d.getUTCDate(), n);
      case 'H':
        return pad(d.getUTCHours(), n);
      case 'h':
        return pad(d.getUTCHours() % 12 === 0 ? 12 : d.getUTCHours() % 12, n);
      case 'm':
        return pad(d.getUTCMinutes(), n);
      case 's':
        return pad(d.getUTCSeconds(), n);
      case 'S':
        return pad(d.getUTCMilliseconds(), 3).slice(0, n).padEnd(n, '0');
      case 'E':
        return n >= 4 ? DAYS[d.getUTCDay()] : DAYS[d.getUTCDay()].slice(0, 3);
      default:
        return d.getUTCHours() < 12 ? 'AM' : 'PM';
    }
  });
}

/** Java's Double.toString: a decimal point always, scientific notation (7.25E10) outside [10^-3, 10^7). */
export function javaDouble(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e7) {
    const t = String(v);
    return t.includes('.') || t.includes('e') ? t : `${t}.0`;
  }
  const [mantissa, exponent] = v.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
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
  /** CAST(… AS STRING) as Flink writes each type: TRUE/FALSE, a DOUBLE as Java's Double.toString (34.0, 7.25E10). */
  toStr: (v: V, timestamp: boolean, from?: string): V => {
    if (isNull(v)) return null;
    if (timestamp) return formatTimestamp(v as number);
    if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
    if (typeof v === 'number' && (from === 'DOUBLE' || from === 'FLOAT')) return javaDouble(v);
    return String(v);
  },
  /** Two's-complement wrap of an integer result to its type's width (Flink's INT, SMALLINT, TINYINT arithmetic). */
  wrap: (v: V, bits: number): V => (isNull(v) ? null : bits === 32 ? (v as number) | 0 : ((v as number) << (32 - bits)) >> (32 - bits)),
  /** Integer multiplication of INT, SMALLINT, TINYINT operands, exact in 32 bits (a double product loses bits past 2^53). */
  imul: (a: V, b: V): V => (isNull(a) || isNull(b) ? null : Math.imul(a as number, b as number)),
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
  /**
   * SUBSTRING(s FROM start [FOR len]) as Flink's: positions count from 1, a start of 0 is taken as 1,
   * a negative start counts from the end (-2: the last two characters).
   */
  substring: (s: V, from: V, len?: V): V => {
    if (isNull(s) || isNull(from) || len === null) return null;
    const str = s as string;
    let start = from as number;
    if (start === 0) start = 1;
    const begin = start > 0 ? start - 1 : Math.max(str.length + start, 0);
    if (len === undefined) return str.slice(begin);
    if ((len as number) < 0) throw new Error(`SUBSTRING: negative length ${String(len)}`);
    return str.slice(begin, begin + (len as number));
  },
  regexpExtract: (s: V, re: V, group?: V): V => {
    if (isNull(s) || isNull(re)) return null;
    const m = new RegExp(re as string).exec(s as string);
    return m === null ? null : (m[(group as number | undefined) ?? 0] ?? null);
  },
  /** SPLIT_INDEX(s, sep, i) as Flink's: the i-th (from 0) piece of s split at every sep; NULL past the last piece, for a negative i, or an empty s. */
  splitIndex: (s: V, sep: V, index: V): V => {
    if (isNull(s) || isNull(sep) || isNull(index) || (index as number) < 0 || s === '') return null;
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
  /** User-defined scalar functions by key (`module#export`), filled from the plan before the graph is built (user-functions.ts). */
  udf: {} as Record<string, (...args: unknown[]) => unknown>,
};

/** The type of {@link SQL_FUNCTIONS}. */
export type SqlFunctions = typeof SQL_FUNCTIONS;
