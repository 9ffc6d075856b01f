// Shared pieces of the weir Nexmark queries: params, watermarks, the bid/person/auction views, output digests and the summary (count + checksum) sink.
import {
  NexmarkGenerator,
  WatermarkStrategy,
  type AggregateFunction,
  type Auction,
  type Bid,
  type DataStream,
  type JobParams,
  type NexmarkConfig,
  type NexmarkEvent,
  type Person,
  type Sink,
  type Source,
  type SinkWriter,
  type StreamExecutionEnvironment,
  nexmarkSource,
} from '../../src/index.ts';
import { appendFileSync, readFileSync } from 'node:fs';

/** Window size of q5, q7, q8 and the session gap of q11 (ms), as in Queries.java. */
export const WINDOW_MS = 10_000;
/** q5's slide (ms). */
export const Q5_SLIDE_MS = 2_000;
/** Keys of q7's local phase (Queries.Q7_FANOUT). */
export const Q7_FANOUT = 64;
/** Collect id of the full outputs (`params.collect`). */
export const OUTPUT_ID = 'nexmark-output';
/** Collect id of the per-subtask summaries. */
export const SUMMARY_ID = 'nexmark-summary';

/** The queries with a weir job and a hand-written loop. */
export const QUERIES = [
  'q0',
  'q1',
  'q2',
  'q3',
  'q4',
  'q5',
  'q7',
  'q8',
  'q9',
  'q11',
  'q12',
  'q13',
  'q14',
  'q15',
  'q16',
  'q17',
  'q18',
  'q19',
  'q20',
  'q21',
  'q22',
] as const;
/** One of {@link QUERIES}. */
export type QueryName = (typeof QUERIES)[number];

/** q1 output: (auction, bidder, 0.908 × price, dateTime, extra). */
export type Q1Out = [number, number, number, number, string];
/** q2 output: (auction, price). */
export type Q2Out = [number, number];
/** q3 output: (name, city, state, auction id). */
export type Q3Out = [string, string, string, number];
/** q4 output: (category, running average price). */
export type Q4Out = [number, number];
/** q5 output: (auction, bid count, window end). */
export type Q5Out = [number, number, number];
/** q8 output: (person id, name, window start). */
export type Q8Out = [number, string, number];
/** q9 output: (auction, category, price, bidder). */
export type Q9Out = [number, number, number, number];
/** q11 output: (bidder, bids, session start, session end). */
export type Q11Out = [number, number, number, number];
/** q12 output: (bidder, bids, window start, window end), windows in processing time. */
export type Q12Out = [number, number, number, number];

/** q13 output: (auction, bidder, price, dateTime, side-input value). */
export type Q13Out = [number, number, number, number, string];
/** q14 output: (auction, bidder, 0.908 × price, bidTimeType, dateTime, extra, count of 'c' in extra). */
export type Q14Out = [number, number, number, string, number, string, number];
/**
 * q15 output: (day, total_bids, rank1..3_bids, total_bidders, rank1..3_bidders, total_auctions,
 * rank1..3_auctions); an upsert row per bid, keyed by day.
 */
export type Q15Out = [string, number, number, number, number, number, number, number, number, number, number, number, number];
/** q16 output: (channel, day, max minute 'HH:mm', then q15's twelve counts); an upsert row per bid, keyed by (channel, day). */
export type Q16Out = [
  string,
  string,
  string,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];
/** q17 output: (auction, day, total_bids, rank1..3_bids, min, max, avg (integer, as BIGINT AVG), sum of price); upsert per bid, keyed by (auction, day). */
export type Q17Out = [number, string, number, number, number, number, number, number, number, number];
/** q18 output: the latest bid (by dateTime) of each (bidder, auction); upsert, keyed by (bidder, auction). */
export type Q18Out = Bid;
/** q19 output: (bid, rank 1..10) of the top 10 bids by price of each auction; upsert, keyed by (auction, rank). */
export type Q19Out = [Bid, number];
/** q20 output: a bid and its category-10 auction. */
export type Q20Out = [Bid, Auction];
/** q21 output: (auction, bidder, price, channel, channel_id). */
export type Q21Out = [number, number, number, string, string];
/** q22 output: (auction, bidder, price, channel, dir1, dir2, dir3). */
export type Q22Out = [number, number, number, string, string, string, string];

/** Σ (i + 1) · values[i] over `values[from..]`, a position-sensitive digest of a row of counts (CountingSink's `weighted`). */
export function weighted(values: readonly unknown[], from: number): number {
  let d = 0;
  for (let i = from; i < values.length; i++) d += (i - from + 1) * (values[i] as number);
  return d;
}

/** Minutes of an 'HH:mm' string. */
export function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** Per-record digests, the same as the Flink side's `CountingSink.attach` lambdas (doubles ×1000 rounded, strings by length). */
export const DIGESTS: Record<QueryName, (out: never) => number> = {
  q0: (b: Bid) => b.auction + b.bidder + b.price + b.dateTime + b.channel.length + b.url.length + b.extra.length,
  q1: (t: Q1Out) => t[0] + t[1] + Math.round(t[2] * 1000) + t[3] + t[4].length,
  q2: (t: Q2Out) => t[0] + t[1],
  q3: (t: Q3Out) => t[0].length + t[1].length + t[2].length + t[3],
  q4: (t: Q4Out) => t[0] + Math.round(t[1] * 1000),
  q5: (t: Q5Out) => t[0] + t[1] + t[2],
  q7: (b: Bid) => b.auction + b.bidder + b.price + b.dateTime,
  q8: (t: Q8Out) => t[0] + t[1].length + t[2],
  q9: (t: Q9Out) => t[0] + t[1] + t[2] + t[3],
  q11: (t: Q11Out) => t[0] + t[1] + t[2] + t[3],
  // Not comparable across runs (windows cut by the wall clock): the harness does not check q12.
  q12: (t: Q12Out) => t[0] + t[1],
  q13: (t: Q13Out) => t[0] + t[1] + t[2] + t[3] + t[4].length,
  q14: (t: Q14Out) => t[0] + t[1] + Math.round(t[2] * 1000) + t[3].length + t[4] + t[5].length + t[6],
  q15: (t: Q15Out) => t[0].length + weighted(t, 1),
  q16: (t: Q16Out) => t[0].length + t[1].length + minutesOf(t[2]) + weighted(t, 3),
  q17: (t: Q17Out) => t[0] + t[1].length + weighted(t, 2),
  // Ties (same dateTime; same price) may be resolved by arrival order: the digests leave out what a tie changes.
  q18: (b: Q18Out) => b.auction + b.bidder + b.dateTime,
  q19: (t: Q19Out) => t[0].auction + t[0].price + t[1],
  q20: (t: Q20Out) =>
    t[0].auction +
    t[0].bidder +
    t[0].price +
    t[0].dateTime +
    t[1].dateTime +
    t[1].expires +
    t[1].seller +
    t[1].category +
    t[1].itemName.length,
  q21: (t: Q21Out) => t[0] + t[1] + t[2] + t[3].length + t[4].length,
  q22: (t: Q22Out) => t[0] + t[1] + t[2] + t[3].length + t[4].length + 2 * t[5].length + 3 * t[6].length,
};

/** Day of a timestamp as Flink's `DATE_FORMAT(dateTime, 'yyyy-MM-dd')` in UTC, cached per day. */
export function dayOf(ts: number): string {
  const d = Math.floor(ts / 86_400_000);
  let s = DAYS.get(d);
  if (s === undefined) DAYS.set(d, (s = new Date(d * 86_400_000).toISOString().slice(0, 10)));
  return s;
}
const DAYS = new Map<number, string>();

/** `DATE_FORMAT(dateTime, 'HH:mm')` in UTC, cached per minute of the day. */
export function minuteOf(ts: number): string {
  const m = Math.floor(ts / 60_000) % 1440;
  let s = MINUTES[m];
  if (s === undefined) MINUTES[m] = s = `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return s;
}
const MINUTES: string[] = [];

/** Bits below which (bidder, auction) and (auction, rank) composite keys pack into one safe integer. */
export const KEY_SHIFT = 2 ** 21;

/**
 * Upsert keys of the queries whose output is a changelog (Flink SQL group aggregates, deduplication,
 * Top-N): each output record replaces the previous one with its key, and the result is the final
 * table. The summary (and the loop check) covers that table: it does not depend on the order in
 * which the subtasks' records interleave, which the intermediate updates do.
 */
export const UPSERT_KEYS: Partial<Record<QueryName, (out: never) => string | number>> = {
  q15: (t: Q15Out) => t[0],
  q16: (t: Q16Out) => `${t[0]}|${t[1]}`,
  q17: (t: Q17Out) => `${t[0]}|${t[1]}`,
  q18: (b: Q18Out) => b.bidder * KEY_SHIFT + b.auction,
  q19: (t: Q19Out) => t[0].auction * 16 + t[1],
};

/** The final table of a changelog output ({@link UPSERT_KEYS}): the last record per key, in first-seen key order. */
export function upsertFinal(query: QueryName, records: readonly unknown[]): unknown[] {
  const key = UPSERT_KEYS[query];
  if (key === undefined) return records.slice();
  const table = new Map<string | number, unknown>();
  for (const r of records) table.set(key(r as never), r);
  return [...table.values()];
}

/** A result summary: record count and the wrapping 64-bit sum of the digests (as a decimal string, as Flink's checksum). */
export interface ResultSummary {
  count: number;
  checksum: string;
  /** Sink latency histogram (ms → records) of a real-time run, as sparse [ms, count] pairs. */
  latency?: [number, number][];
}

/**
 * Accumulates a {@link ResultSummary}: digests (exact integers below 2^43) are summed as numbers
 * and folded into a BigInt every 1024 records, so the sum stays exact without a BigInt per record.
 * With an upsert key ({@link UPSERT_KEYS}) it keeps the last digest per key and sums the final table.
 */
export class Summarizer {
  private count = 0;
  private pending = 0;
  private pendingCount = 0;
  private total = 0n;
  private readonly table: Map<string | number, number> | undefined;

  constructor(
    private readonly digest: (out: never) => number,
    private readonly key?: (out: never) => string | number,
  ) {
    if (key !== undefined) this.table = new Map();
  }

  /** Adds one output record. */
  add(out: unknown): void {
    if (this.table !== undefined) {
      this.table.set((this.key as (out: unknown) => string | number)(out), this.digest(out as never));
      return;
    }
    this.pending += this.digest(out as never);
    this.count++;
    if (++this.pendingCount === 1024) this.flush();
  }

  private flush(): void {
    this.total += BigInt(this.pending);
    this.pending = 0;
    this.pendingCount = 0;
  }

  /** The summary so far. */
  summary(): ResultSummary {
    if (this.table !== undefined) {
      this.count = this.table.size;
      this.total = 0n;
      this.pending = 0;
      this.pendingCount = 0;
      for (const d of this.table.values()) {
        this.pending += d;
        if (++this.pendingCount === 1024) this.flush();
      }
    }
    this.flush();
    return { count: this.count, checksum: BigInt.asIntN(64, this.total).toString() };
  }
}

/** The {@link Summarizer} of a query: with its upsert key when its output is a changelog. */
export function summarizerFor(query: QueryName): Summarizer {
  return new Summarizer(DIGESTS[query], UPSERT_KEYS[query]);
}

/**
 * Sink latency of a real-time run: per output record, wall clock at the sink − its timestamp
 * (the event time the source emitted it at, or a window's last millisecond), in 1 ms buckets.
 */
export class LatencyHistogram {
  private readonly buckets = new Map<number, number>();

  /**
   * Records one latency (ms). A negative one is a result emitted before the wall clock reached its
   * timestamp: a window fired by the end of input (the final watermark), not by time; not counted.
   */
  add(ms: number): void {
    if (ms < 0) return;
    const b = Math.floor(ms);
    this.buckets.set(b, (this.buckets.get(b) ?? 0) + 1);
  }

  /** Sparse [ms, count] pairs. */
  toPairs(): [number, number][] {
    return [...this.buckets];
  }
}

/** The `q` quantile (0..1) of merged latency pairs, ms; NaN when empty. */
export function latencyQuantile(pairs: readonly [number, number][], q: number): number {
  const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
  let total = 0;
  for (const [, c] of sorted) total += c;
  if (total === 0) return Number.NaN;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (const [ms, c] of sorted) {
    seen += c;
    if (seen >= rank) return ms;
  }
  return sorted[sorted.length - 1][0];
}

/** The union of per-subtask summaries. */
export function mergeResultSummaries(parts: readonly ResultSummary[]): ResultSummary {
  let count = 0;
  let total = 0n;
  let latency: [number, number][] | undefined;
  for (const p of parts) {
    count += p.count;
    total += BigInt(p.checksum);
    if (p.latency !== undefined) (latency ??= []).push(...p.latency);
  }
  const merged: ResultSummary = { count, checksum: BigInt.asIntN(64, total).toString() };
  if (latency !== undefined) merged.latency = latency;
  return merged;
}

/**
 * The generator settings a job reads from its params: `events` (default 100,000), `seed` (default 0),
 * `rate` (event-time events/s, default 10,000), `pace` (wall-clock limit in events/s over all
 * subtasks, `maxEventsPerSecond`; default 0 = unlimited), and for latency runs `baseTime` (ms since
 * the epoch) with `realTime` (each event emitted when the wall clock reaches its event time).
 */
export function nexmarkConfigOf(params: JobParams): NexmarkConfig {
  const config: NexmarkConfig = {
    events: Number(params.events ?? 100_000),
    seed: Number(params.seed ?? 0),
    eventsPerSecond: Number(params.rate ?? 10_000),
    maxEventsPerSecond: Number(params.pace ?? 0),
  };
  if (params.baseTime !== undefined) config.baseTime = Number(params.baseTime);
  if (isSet(params.realTime)) config.realTime = true;
  return config;
}

/** A boolean job param: true, 'true', 1 or '1'. */
export function isSet(v: unknown): boolean {
  return v === true || v === 'true' || v === 1 || v === '1';
}

/** Event time from `dateTime`, watermarks bounded by the generator's out-of-orderness. */
export function nexmarkWatermarks(config: NexmarkConfig): WatermarkStrategy<NexmarkEvent> {
  const outOfOrder = new NexmarkGenerator(config).maxOutOfOrdernessMs();
  return WatermarkStrategy.forBoundedOutOfOrderness<NexmarkEvent>(outOfOrder).withTimestampAssigner((e) => e.dateTime);
}

/** The `bid` view. */
export function bidsOf(events: DataStream<NexmarkEvent>): DataStream<Bid> {
  return events.filter((e) => e.kind === 'bid').name('Bids') as unknown as DataStream<Bid>;
}

/** The `person` view. */
export function personsOf(events: DataStream<NexmarkEvent>): DataStream<Person> {
  return events.filter((e) => e.kind === 'person').name('Persons') as unknown as DataStream<Person>;
}

/** The `auction` view. */
export function auctionsOf(events: DataStream<NexmarkEvent>): DataStream<Auction> {
  return events.filter((e) => e.kind === 'auction').name('Auctions') as unknown as DataStream<Auction>;
}

interface Reporter {
  collect(id: string, subtask: number, records: unknown[]): void;
}

/** Wall-clock time in ms with sub-ms precision, comparable across worker threads (each has its own `performance.now()` origin). */
function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The source, marking in `file` (a line `in <wall ms>`) when each of its readers first polls: with
 * the summary sinks' `out` marks, the steady-state interval of a run (first record in → last record
 * out, start-up excluded).
 */
function timedSource<T>(source: Source<T>, file: string): Source<T> {
  return {
    ...source,
    createReader: (ctx) => {
      const reader = source.createReader(ctx);
      const poll = reader.pollNext.bind(reader);
      reader.pollNext = (output, max) => {
        reader.pollNext = poll;
        appendFileSync(file, `in ${wallNow()}\n`);
        return poll(output, max);
      };
      return reader;
    },
  };
}

/** A run's steady-state interval (ms) from the marks in `file`: the earliest `in` to the latest `out`. */
export function steadyInterval(file: string): { firstIn: number; lastOut: number } {
  let firstIn = Infinity;
  let lastOut = -Infinity;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [what, at] = line.split(' ');
    if (what === 'in') firstIn = Math.min(firstIn, Number(at));
    else if (what === 'out') lastOut = Math.max(lastOut, Number(at));
  }
  return { firstIn, lastOut };
}

/** Counts and checksums what reaches it; each subtask sends one {@link ResultSummary} to {@link SUMMARY_ID} at close. */
export function summarySink<T>(query: QueryName, latencyFrom?: number, timingFile?: string): Sink<T> & { collectId: string } {
  return {
    name: `Summary (${query})`,
    collectId: SUMMARY_ID,
    createWriter: (ctx): SinkWriter<T> => {
      const s = summarizerFor(query);
      const latency = latencyFrom !== undefined ? new LatencyHistogram() : undefined;
      const from = latencyFrom ?? 0;
      const report = () => {
        if (timingFile !== undefined) appendFileSync(timingFile, `out ${wallNow()}\n`);
        const summary = s.summary();
        if (latency !== undefined) summary.latency = latency.toPairs();
        (ctx as unknown as { reporter: Reporter }).reporter.collect(SUMMARY_ID, ctx.subtaskIndex, [summary]);
      };
      if (latency === undefined) return { write: (v) => s.add(v), close: report };
      return {
        write: (v, ts) => {
          s.add(v);
          if (ts !== undefined && ts >= from) latency.add(Date.now() - ts);
        },
        close: report,
      };
    },
  };
}

/**
 * Ends a query: with `params.collect` set, every output record goes to {@link OUTPUT_ID}; else to a
 * {@link summarySink}, which in a real-time run (`params.realTime`) also records the latency of
 * records with timestamps from `params.latencyFrom` on (earlier ones are the warm-up).
 */
export function finish<T>(stream: DataStream<T>, query: QueryName, params: JobParams): void {
  if (isSet(params.collect)) stream.collect(OUTPUT_ID);
  else
    stream
      .sinkTo(summarySink<T>(query, isSet(params.realTime) ? Number(params.latencyFrom ?? 0) : undefined, timingFileOf(params)))
      .name('Summary');
}

/** `params.timing`: the file a run's steady-state marks go to (see {@link timedSource}), if asked. */
function timingFileOf(params: JobParams): string | undefined {
  return typeof params.timing === 'string' && params.timing !== '' ? params.timing : undefined;
}

/** Turns `params.checkpointInterval` (ms; 0 or absent = off) into the env call. */
export function checkpointIntervalOf(params: JobParams): number {
  return Number(params.checkpointInterval ?? 0);
}

/** The start of the tumbling window of `size` ms holding `t`. */
export function windowStart(t: number, size: number): number {
  return t - (((t % size) + size) % size);
}

/** A canonical, order-free form of an output multiset (sorted JSON lines), for comparisons in tests. */
export function canonical(records: readonly unknown[]): string[] {
  return records.map((r) => JSON.stringify(r)).sort();
}

/** The common start of every query job: checkpointing per `params.checkpointInterval`, then the Nexmark source with event-time watermarks. */
export function nexmarkEventsOf(env: StreamExecutionEnvironment, params: JobParams): DataStream<NexmarkEvent> {
  const interval = checkpointIntervalOf(params);
  if (interval > 0) env.enableCheckpointing(interval);
  const config = nexmarkConfigOf(params);
  const timing = timingFileOf(params);
  const source = nexmarkSource(config);
  return env.fromSource(timing === undefined ? source : timedSource(source, timing), nexmarkWatermarks(config), 'Nexmark Source');
}

/** Counts elements (Queries.Count). */
export const COUNT: AggregateFunction<unknown, number, number> = {
  createAccumulator: () => 0,
  add: (_v, acc) => acc + 1,
  getResult: (acc) => acc,
  merge: (a, b) => a + b,
};

/** Keys of q13's side input. */
export const SIDE_INPUT_KEYS = 10_000;

/** q13's bounded side input, as Flink Nexmark's `side_input.txt`: keys 0..9999, each with its decimal string as value. */
export function sideInput(): Map<number, string> {
  const table = new Map<number, string>();
  for (let k = 0; k < SIDE_INPUT_KEYS; k++) table.set(k, String(k));
  return table;
}
