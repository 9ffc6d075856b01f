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
  type SinkWriter,
  type StreamExecutionEnvironment,
  nexmarkSource,
} from '../../src/index.ts';

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
export const QUERIES = ['q0', 'q1', 'q2', 'q3', 'q4', 'q5', 'q7', 'q8', 'q9', 'q11', 'q12'] as const;
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
};

/** A result summary: record count and the wrapping 64-bit sum of the digests (as a decimal string, as Flink's checksum). */
export interface ResultSummary {
  count: number;
  checksum: string;
}

/**
 * Accumulates a {@link ResultSummary}: digests (exact integers below 2^43) are summed as numbers
 * and folded into a BigInt every 1024 records, so the sum stays exact without a BigInt per record.
 */
export class Summarizer {
  private count = 0;
  private pending = 0;
  private pendingCount = 0;
  private total = 0n;

  constructor(private readonly digest: (out: never) => number) {}

  /** Adds one output record. */
  add(out: unknown): void {
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
    this.flush();
    return { count: this.count, checksum: BigInt.asIntN(64, this.total).toString() };
  }
}

/** The union of per-subtask summaries. */
export function mergeResultSummaries(parts: readonly ResultSummary[]): ResultSummary {
  let count = 0;
  let total = 0n;
  for (const p of parts) {
    count += p.count;
    total += BigInt(p.checksum);
  }
  return { count, checksum: BigInt.asIntN(64, total).toString() };
}

/**
 * The generator settings a job reads from its params: `events` (default 100,000), `seed` (default 0),
 * `rate` (event-time events/s, default 10,000) and `pace` (wall-clock limit in events/s over all
 * subtasks, `maxEventsPerSecond`; default 0 = unlimited).
 */
export function nexmarkConfigOf(params: JobParams): NexmarkConfig {
  return {
    events: Number(params.events ?? 100_000),
    seed: Number(params.seed ?? 0),
    eventsPerSecond: Number(params.rate ?? 10_000),
    maxEventsPerSecond: Number(params.pace ?? 0),
  };
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

/** Counts and checksums what reaches it; each subtask sends one {@link ResultSummary} to {@link SUMMARY_ID} at close. */
export function summarySink<T>(query: QueryName): Sink<T> & { collectId: string } {
  const digest = DIGESTS[query];
  return {
    name: `Summary (${query})`,
    collectId: SUMMARY_ID,
    createWriter: (ctx): SinkWriter<T> => {
      const s = new Summarizer(digest);
      return {
        write: (v) => s.add(v),
        close: () => (ctx as unknown as { reporter: Reporter }).reporter.collect(SUMMARY_ID, ctx.subtaskIndex, [s.summary()]),
      };
    },
  };
}

/** Ends a query: with `params.collect` set, every output record goes to {@link OUTPUT_ID}; else to a {@link summarySink}. */
export function finish<T>(stream: DataStream<T>, query: QueryName, params: JobParams): void {
  const collect = params.collect === true || params.collect === 'true' || params.collect === 1 || params.collect === '1';
  if (collect) stream.collect(OUTPUT_ID);
  else stream.sinkTo(summarySink<T>(query)).name('Summary');
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
  return env.fromSource(nexmarkSource(config), nexmarkWatermarks(config), 'Nexmark Source');
}

/** Counts elements (Queries.Count). */
export const COUNT: AggregateFunction<unknown, number, number> = {
  createAccumulator: () => 0,
  add: (_v, acc) => acc + 1,
  getResult: (acc) => acc,
  merge: (a, b) => a + b,
};
