// Sliding windows: paid orders and revenue per customer over the last hour, updated every 15 minutes (the revenue pipeline's orders).
//   weir run examples/sliding-window.ts -p 2
//   weir run examples/sliding-window.ts -p 2 --param orders=2000000 --param hours=6
//
// params: orders (300,000), hours of event time (3), customers (2,000), delayed (per 1,000; 0),
// output (summary | collect | print).
import {
  SlidingEventTimeWindows,
  Time,
  WatermarkStrategy,
  defineJob,
  type AggregateFunction,
  type Sink,
  type SinkWriter,
} from '../src/index.ts';
import { interleavedGeneratorSource } from './lib/interleaved-source.ts';
import { MAX_OUT_OF_ORDERNESS, orderAt, orderStreamConfig, type Order } from './revenue-pipeline.ts';

/** Length of each window. */
export const SLIDING_SIZE = Time.hours(1);
/** How often a new window starts (and one ends). */
export const SLIDING_SLIDE = Time.minutes(15);

/** A customer's paid orders and revenue in one sliding window. */
export interface RollingRevenue {
  customerId: string;
  windowStart: number;
  windowEnd: number;
  orders: number;
  /** Cents. */
  revenue: number;
}

/** Paid orders and their revenue (cents). */
export interface OrderTally {
  orders: number;
  revenue: number;
}

/** Counts orders and sums their amounts; `merge` lets sliding windows share 15-minute panes. */
export const ordersAndRevenue: AggregateFunction<Order, OrderTally, OrderTally> = {
  createAccumulator: () => ({ orders: 0, revenue: 0 }),
  add: (order, acc) => ({ orders: acc.orders + 1, revenue: acc.revenue + order.amount }),
  getResult: (acc) => acc,
  merge: (a, b) => ({ orders: a.orders + b.orders, revenue: a.revenue + b.revenue }),
};

export default defineJob((env, params) => {
  const config = orderStreamConfig({ orders: 300_000, hours: 3, customers: 2_000, delayed: 0, ...params });
  const rolling = env
    .fromSource(
      interleavedGeneratorSource({ count: config.orders, generate: (i) => orderAt(i, config) }),
      WatermarkStrategy.forBoundedOutOfOrderness<Order>(MAX_OUT_OF_ORDERNESS).withTimestampAssigner((o) => o.ts),
      'Orders',
    )
    .filter((o) => o.amount > 0)
    .name('Paid Orders')
    .keyBy((o) => o.customerId)
    .window(SlidingEventTimeWindows.of(SLIDING_SIZE, SLIDING_SLIDE))
    .aggregate<OrderTally, OrderTally, RollingRevenue>(ordersAndRevenue, (customerId, ctx, results, out) => {
      const w = ctx.window();
      for (const r of results) out.collect({ customerId, windowStart: w.start, windowEnd: w.end, ...r });
    })
    .name('Last Hour');
  const output = params.output ?? 'summary';
  if (output === 'collect') rolling.collect('rolling');
  else if (output === 'print') rolling.print();
  else if (output === 'summary') rolling.sinkTo(rollingSummarySink()).name('Summary');
  else throw new RangeError(`param output must be summary, collect or print, got ${output}`);
});

const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);

/** Prints, for every window end, the last hour's orders and revenue and its best customer. */
function rollingSummarySink(): Sink<RollingRevenue> {
  return {
    name: 'Rolling Summary',
    maxParallelism: 1,
    createWriter: (): SinkWriter<RollingRevenue> => {
      const byEnd = new Map<number, { start: number; orders: number; revenue: number; best?: RollingRevenue }>();
      return {
        write(r) {
          let w = byEnd.get(r.windowEnd);
          if (!w) byEnd.set(r.windowEnd, (w = { start: r.windowStart, orders: 0, revenue: 0 }));
          w.orders += r.orders;
          w.revenue += r.revenue;
          if (!w.best || r.revenue > w.best.revenue || (r.revenue === w.best.revenue && r.customerId < w.best.customerId)) w.best = r;
        },
        close() {
          const lines = ['last hour of paid orders, every 15 minutes (sliding event-time windows of 1 h, slide 15 min)'];
          for (const end of [...byEnd.keys()].sort((a, b) => a - b)) {
            const w = byEnd.get(end) as { start: number; orders: number; revenue: number; best: RollingRevenue };
            lines.push(
              `  ${hhmm(w.start)}–${hhmm(end)}  ${String(w.orders).padStart(8)} orders  ${dollars.format(w.revenue / 100).padStart(16)}  best ${w.best.customerId} ${dollars.format(w.best.revenue / 100)}`,
            );
          }
          console.log(lines.join('\n'));
        },
      };
    },
  };
}
