//! Nexmark generator settings: the published defaults (Beam's NexmarkConfiguration) and their validation.

/** Settings of the Nexmark generator; every field has the default of Beam's/Flink's Nexmark. */
export interface NexmarkConfig {
  /** Events in all (across subtasks); the source is bounded by it. Default 1,000,000. */
  events?: number;
  /** Event-time rate: event `n` happens `n / eventsPerSecond` s after {@link baseTime}. Default 10,000 (Beam's `firstEventRate`). */
  eventsPerSecond?: number;
  /** Event time of event 0, in ms since the epoch. Default 2015-07-15T00:00:00Z (Beam's `BASE_TIME`). */
  baseTime?: number;
  /**
   * Seed: XOR-ed into every event's random seed (its event id), as `new Random(eventId ^ seed)`
   * in Java. 0 (the default) reproduces Beam's generator draw for draw. Below 2^48.
   */
  seed?: number;
  /** Events per out-of-order group (Beam's `outOfOrderGroupSize`); 1 = in order. Default 1. */
  outOfOrderGroupSize?: number;
  /** Proportions of persons, auctions and bids. Default 1, 3, 46. */
  personProportion?: number;
  auctionProportion?: number;
  bidProportion?: number;
  /** Average sizes in bytes that the `extra` field pads each kind to. Default 200, 500, 100. */
  avgPersonByteSize?: number;
  avgAuctionByteSize?: number;
  avgBidByteSize?: number;
  /** Ratio of bids on hot auctions / by hot bidders, and auctions of hot sellers. Default 2, 4, 4. */
  hotAuctionRatio?: number;
  hotBiddersRatio?: number;
  hotSellersRatio?: number;
  /** People considered active for new auctions and bids. Default 1000. */
  numActivePeople?: number;
  /** Auctions considered in flight for bids. Default 100. */
  numInFlightAuctions?: number;
  /** Wall-clock limit in events per second over all subtasks; unlimited when absent or 0. */
  maxEventsPerSecond?: number;
  /**
   * Emit each event no earlier than the wall clock (`Date.now()`) reaches its event time, for
   * latency runs with {@link baseTime} near now: an output's timestamp then is the wall time its
   * input was generated, so sink time − timestamp is its latency. Default false.
   */
  realTime?: boolean;
}

/** {@link NexmarkConfig} with every field set. */
export type ResolvedNexmarkConfig = Required<NexmarkConfig>;

/** Beam's `NexmarkUtils.BASE_TIME`: 2015-07-15T00:00:00Z. */
export const NEXMARK_BASE_TIME = Date.UTC(2015, 6, 15);

/** The defaults of Beam's `NexmarkConfiguration` (and Flink Nexmark's) for the generator. */
export const NEXMARK_DEFAULTS: Readonly<ResolvedNexmarkConfig> = Object.freeze({
  events: 1_000_000,
  eventsPerSecond: 10_000,
  baseTime: NEXMARK_BASE_TIME,
  seed: 0,
  outOfOrderGroupSize: 1,
  personProportion: 1,
  auctionProportion: 3,
  bidProportion: 46,
  avgPersonByteSize: 200,
  avgAuctionByteSize: 500,
  avgBidByteSize: 100,
  hotAuctionRatio: 2,
  hotBiddersRatio: 4,
  hotSellersRatio: 4,
  numActivePeople: 1000,
  numInFlightAuctions: 100,
  maxEventsPerSecond: 0,
  realTime: false,
});

const POSITIVE_INTS = [
  'outOfOrderGroupSize',
  'personProportion',
  'auctionProportion',
  'bidProportion',
  'avgPersonByteSize',
  'avgAuctionByteSize',
  'avgBidByteSize',
  'hotAuctionRatio',
  'hotBiddersRatio',
  'hotSellersRatio',
  'numActivePeople',
  'numInFlightAuctions',
] as const;

/** Fills in the defaults and checks the ranges; throws a RangeError on a bad setting. */
export function resolveNexmarkConfig(config: NexmarkConfig = {}): ResolvedNexmarkConfig {
  const c: ResolvedNexmarkConfig = { ...NEXMARK_DEFAULTS };
  for (const [k, v] of Object.entries(config)) if (v !== undefined) (c as unknown as Record<string, unknown>)[k] = v;
  if (!Number.isSafeInteger(c.events) || c.events < 0)
    throw new RangeError(`nexmark: events must be a non-negative integer, got ${c.events}`);
  if (!(c.eventsPerSecond > 0) || !Number.isFinite(c.eventsPerSecond))
    throw new RangeError(`nexmark: eventsPerSecond must be positive, got ${c.eventsPerSecond}`);
  if (!Number.isSafeInteger(c.baseTime)) throw new RangeError(`nexmark: baseTime must be an integer (ms), got ${c.baseTime}`);
  if (!Number.isSafeInteger(c.seed) || c.seed < 0 || c.seed >= 2 ** 48)
    throw new RangeError(`nexmark: seed must be an integer in [0, 2^48), got ${c.seed}`);
  if (!(c.maxEventsPerSecond >= 0)) throw new RangeError(`nexmark: maxEventsPerSecond must be >= 0, got ${c.maxEventsPerSecond}`);
  for (const k of POSITIVE_INTS) {
    const v = c[k];
    if (!Number.isSafeInteger(v) || v < 1 || v > 0x7fffffff)
      throw new RangeError(`nexmark: ${k} must be a positive 32-bit integer, got ${v}`);
  }
  return c;
}
