// The Nexmark queries RxJS expresses directly, as a Node user would write them: an Observable over
// the same generator (`from(nexmarkEvents(config))`), single thread, operators in a pipe.
//
// Only q0, q1, q2 (filter/map) and q12 (counts per bidder in 10 s windows of processing time:
// `windowTime`) are here. Event-time windows, watermarks and keyed state with timers (q3-q11) have
// no RxJS operator: they would be a hand-written reducer inside `scan`, i.e. the loop again.
import { from, type Observable } from 'rxjs';
import { filter, map, mergeMap, reduce, windowTime } from 'rxjs/operators';
import { nexmarkEvents, type Bid, type NexmarkConfig } from '../../src/index.ts';
import { WINDOW_MS, type Q12Out, type Q1Out, type Q2Out, type QueryName } from './lib.ts';

/** The queries with an RxJS pipeline. */
export const RX_QUERIES: readonly QueryName[] = ['q0', 'q1', 'q2', 'q12'];

const bidsOf = (config: NexmarkConfig): Observable<Bid> =>
  from(nexmarkEvents(config)).pipe(
    map((x) => x.event),
    filter((e): e is Bid => e.kind === 'bid'),
  );

const PIPELINES: Partial<Record<QueryName, (config: NexmarkConfig) => Observable<unknown>>> = {
  q0: (config) => bidsOf(config),
  q1: (config) => bidsOf(config).pipe(map((b): Q1Out => [b.auction, b.bidder, 0.908 * b.price, b.dateTime, b.extra])),
  q2: (config) =>
    bidsOf(config).pipe(
      filter((b) => b.auction % 123 === 0),
      map((b): Q2Out => [b.auction, b.price]),
    ),
  // Windows start when the pipeline is subscribed (not aligned to the epoch as Flink's), and the
  // window open at completion is emitted (Flink and weir drop it). With a synchronous source no
  // timer runs before completion, so one window holds everything: outputs are not compared.
  q12: (config) =>
    bidsOf(config).pipe(
      windowTime(WINDOW_MS),
      mergeMap((w) => {
        const start = Date.now();
        return w.pipe(
          reduce((counts, b) => counts.set(b.bidder, (counts.get(b.bidder) ?? 0) + 1), new Map<number, number>()),
          mergeMap((counts) => from([...counts].map(([bidder, n]): Q12Out => [bidder, n, start, start + WINDOW_MS]))),
        );
      }),
    ),
};

/** Runs `query`'s RxJS pipeline, calling `emit` per output record; resolves at completion. */
export function runRx(query: QueryName, config: NexmarkConfig, emit: (out: unknown) => void): Promise<void> {
  const pipeline = PIPELINES[query];
  if (pipeline === undefined) throw new RangeError(`no RxJS pipeline for ${query}; one of ${RX_QUERIES.join(', ')}`);
  return new Promise((resolve, reject) => {
    pipeline(config).subscribe({ next: emit, error: reject, complete: resolve });
  });
}
