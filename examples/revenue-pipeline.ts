// The Customer Revenue Pipeline: generated orders → event time (30 s out-of-orderness) → drop refunds → hourly revenue per customer; late orders to a side output.
//   weir run examples/revenue-pipeline.ts -p 2
//   weir run examples/revenue-pipeline.ts -p 2 --param orders=5000000 --param hours=24 --param top=5
//
// params: orders (1,000,000), hours of event time (12), customers (5,000), delayed (orders per
// 1,000 that arrive more than 30 s late; 2), top (customers shown per hour; 3),
// watermarks (periodic | per-record), output (summary | collect | print), checkpointMs (off).
import {
  OutputTag,
  Time,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  defineJob,
  type AggregateFunction,
  type JobParams,
  type Sink,
  type SinkWriter,
} from '../src/index.ts';
import { interleavedGeneratorSource } from './lib/interleaved-source.ts';

/** An order as the shop records it. `amount` is in cents, so sums are exact in any order. */
export interface Order {
  orderId: number;
  customerId: string;
  /** Cents; negative for a refund, zero for a free order. */
  amount: number;
  /** Event time: when the order was placed (ms since the epoch). */
  ts: number;
}

/** One customer's revenue in one hour: the pipeline's main output. */
export interface CustomerRevenue {
  customerId: string;
  windowStart: number;
  windowEnd: number;
  /** Cents. */
  revenue: number;
}

/** The shape of the generated order stream. */
export interface OrderStreamConfig {
  /** Orders in all. */
  orders: number;
  /** Event time the orders span, from {@link OrderStreamConfig.start}. */
  hours: number;
  /** Distinct customers. */
  customers: number;
  /** Orders per 1,000 that arrive more than the 30 s bound late (between 30 s and 15 min). */
  delayedPerMille: number;
  /** Event time of the first order (ms since the epoch). */
  start: number;
}

/** How far out of order orders may arrive before the watermark leaves them behind. */
export const MAX_OUT_OF_ORDERNESS = Time.seconds(30);
/** Size of the revenue windows. */
export const WINDOW_SIZE = Time.hours(1);
/** Longest delay of a delayed order. */
export const MAX_DELAY = Time.minutes(15);

/** The defaults of the demo run. */
export const DEFAULT_ORDER_STREAM: OrderStreamConfig = {
  orders: 1_000_000,
  hours: 12,
  customers: 5_000,
  delayedPerMille: 2,
  start: Date.UTC(2025, 0, 6),
};

/** The order stream a job's params describe (missing params take the defaults). */
export function orderStreamConfig(params: JobParams): OrderStreamConfig {
  const num = (name: string, fallback: number): number => {
    const value = params[name] === undefined ? fallback : Number(params[name]);
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`param ${name} must be a non-negative number, got ${params[name]}`);
    return value;
  };
  return {
    orders: Math.floor(num('orders', DEFAULT_ORDER_STREAM.orders)),
    hours: num('hours', DEFAULT_ORDER_STREAM.hours) || 1,
    customers: Math.max(1, Math.floor(num('customers', DEFAULT_ORDER_STREAM.customers))),
    delayedPerMille: num('delayed', DEFAULT_ORDER_STREAM.delayedPerMille),
    start: num('start', DEFAULT_ORDER_STREAM.start),
  };
}

/** A deterministic 32-bit hash of an order number and a salt, so each field varies on its own. */
function mix(i: number, salt: number): number {
  let x = Math.imul(i ^ Math.imul(salt, 0x27d4eb2f), 0x9e3779b1) ^ 0x5bd1e995;
  x ^= x >>> 15;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The time order `i` would have if nothing were out of order: evenly spread over the span. */
export function nominalTime(i: number, config: OrderStreamConfig): number {
  return config.start + Math.floor((i * config.hours * WINDOW_SIZE) / Math.max(1, config.orders));
}

/** Whether order `i` is one of the delayed ones (more than 30 s behind its neighbours). */
export function isDelayed(i: number, config: OrderStreamConfig): boolean {
  return config.delayedPerMille > 0 && mix(i, 2) % 1000 < config.delayedPerMille;
}

/**
 * Order number `i` of the stream, the same on every thread. Orders arrive in order of `i`; their
 * timestamps trail the nominal time by up to 29.999 s (within the watermark's bound, so never
 * late), except delayed orders, which trail it by 30 s to 15 min and may miss their window.
 * About 3 % are refunds (negative) and 1 % are free (zero). Customers are skewed (a few buy a
 * lot), and who the big buyers are changes every hour.
 */
export function orderAt(i: number, config: OrderStreamConfig): Order {
  const nominal = nominalTime(i, config);
  const lag = isDelayed(i, config)
    ? MAX_OUT_OF_ORDERNESS + 1 + (mix(i, 3) % (MAX_DELAY - MAX_OUT_OF_ORDERNESS))
    : mix(i, 1) % MAX_OUT_OF_ORDERNESS;
  const ts = Math.max(config.start, nominal - lag);
  const kind = mix(i, 4) % 100;
  const base = 199 + (mix(i, 5) % 24_800);
  const amount = kind < 3 ? -base : kind === 3 ? 0 : kind >= 97 ? base * 10 : base;
  const r = (mix(i, 6) % 1_000_000) / 1_000_000;
  const hour = Math.floor((nominal - config.start) / WINDOW_SIZE);
  // Rank (0 = busiest) → id by a hash that changes every hour, so each hour has other big buyers.
  const rank = Math.floor(r * r * config.customers);
  const customer = mix(rank * 4096 + (hour % 4096), 7) % config.customers;
  return { orderId: i, customerId: `C${String(customer).padStart(5, '0')}`, amount, ts };
}

/** Sums order amounts (cents) of a window, incrementally. */
export const sumAmounts: AggregateFunction<Order, number, number> = {
  createAccumulator: () => 0,
  add: (order, acc) => acc + order.amount,
  getResult: (acc) => acc,
  merge: (a, b) => a + b,
};

/** Side output of orders that arrived after their hour's window had fired. */
export const LATE_ORDERS = new OutputTag<Order>('late-orders');

/**
 * A bounded-out-of-orderness strategy that emits its watermark after every order instead of
 * periodically. Same bound and formula (`max − 30 s − 1`), but which orders are late no longer
 * depends on thread timing: tests use it to predict the side output exactly.
 */
export function perRecordWatermarks(boundMs: number): WatermarkStrategy<Order> {
  return WatermarkStrategy.forGenerator<Order>(() => {
    let max = Number.NEGATIVE_INFINITY;
    return {
      onEvent(_order, ts, out) {
        if (ts > max) {
          max = ts;
          out.emitWatermark(max - boundMs - 1);
        }
      },
      onPeriodicEmit() {},
    };
  }).withTimestampAssigner((o) => o.ts);
}

export default defineJob((env, params) => {
  if (params.checkpointMs !== undefined) env.enableCheckpointing(Number(params.checkpointMs));
  const config = orderStreamConfig(params);
  const perRecord = params.watermarks === 'per-record';
  if (params.watermarks !== undefined && !perRecord && params.watermarks !== 'periodic') {
    throw new RangeError(`param watermarks must be periodic or per-record, got ${params.watermarks}`);
  }
  const strategy = perRecord
    ? perRecordWatermarks(MAX_OUT_OF_ORDERNESS)
    : WatermarkStrategy.forBoundedOutOfOrderness<Order>(MAX_OUT_OF_ORDERNESS).withTimestampAssigner((o) => o.ts);
  const source = env.fromSource(
    interleavedGeneratorSource({ count: config.orders, generate: (i) => orderAt(i, config) }),
    strategy,
    'Orders',
  );
  const paid = source.filter((o) => o.amount > 0).name('Paid Orders');
  if (perRecord) {
    // One reader, one channel into each window subtask: lateness follows the source's order alone.
    source.setParallelism(1);
    paid.setParallelism(1);
  }
  const revenue = paid
    .keyBy((o) => o.customerId)
    .window(TumblingEventTimeWindows.of(WINDOW_SIZE))
    .sideOutputLateData(LATE_ORDERS)
    .aggregate<number, number, CustomerRevenue>(sumAmounts, (customerId, ctx, sums, out) => {
      const w = ctx.window();
      for (const cents of sums) out.collect({ customerId, windowStart: w.start, windowEnd: w.end, revenue: cents });
    })
    .name('Hourly Revenue');
  const late = revenue.getSideOutput(LATE_ORDERS);

  const output = params.output ?? 'summary';
  if (output === 'collect') {
    revenue.collect('revenue');
    late.collect('late');
  } else if (output === 'print') {
    revenue.print('revenue');
    late.print('late');
  } else if (output === 'summary') {
    revenue
      .map((row): SummaryItem => ({ kind: 'revenue', row }))
      .name('Tag Revenue')
      .union(late.map((order): SummaryItem => ({ kind: 'late', order })).name('Tag Late'))
      .sinkTo(summarySink(Number(params.top ?? 3), perRecord ? 'after every order' : `every ${env.getAutoWatermarkInterval()} ms`))
      .name('Summary');
  } else {
    throw new RangeError(`param output must be summary, collect or print, got ${output}`);
  }
});

/** What the summary sink receives: a window result or a late order. */
type SummaryItem = { kind: 'revenue'; row: CustomerRevenue } | { kind: 'late'; order: Order };

const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const integer = new Intl.NumberFormat('en-US');
const money = (cents: number): string => dollars.format(cents / 100);
const utc = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** Collects hourly results and late orders, and prints a short table per hour at the end. */
function summarySink(top: number, watermarkCadence: string): Sink<SummaryItem> {
  return {
    name: 'Revenue Summary',
    maxParallelism: 1,
    createWriter: (): SinkWriter<SummaryItem> => {
      const hours = new Map<number, CustomerRevenue[]>();
      const late: Order[] = [];
      return {
        write(item) {
          if (item.kind === 'late') late.push(item.order);
          else {
            const rows = hours.get(item.row.windowStart);
            if (rows) rows.push(item.row);
            else hours.set(item.row.windowStart, [item.row]);
          }
        },
        close() {
          const lines = ['hourly revenue per customer (1 h tumbling event-time windows, watermark = latest order − 30 s)'];
          const table: string[][] = [['hour (UTC)', 'revenue', 'customers', `top ${top}`]];
          for (const start of [...hours.keys()].sort((a, b) => a - b)) {
            const rows = (hours.get(start) as CustomerRevenue[]).sort(
              (a, b) => b.revenue - a.revenue || (a.customerId < b.customerId ? -1 : 1),
            );
            const total = rows.reduce((sum, r) => sum + r.revenue, 0);
            const best = rows.slice(0, top).map((r) => `${r.customerId} ${money(r.revenue)}`);
            table.push([utc(start), money(total), integer.format(rows.length), best.join(', ')]);
          }
          const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
          for (const row of table)
            lines.push(
              `  ${row
                .map((cell, c) => (c === 1 || c === 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
                .join('  ')
                .trimEnd()}`,
            );
          const lateCents = late.reduce((sum, o) => sum + o.amount, 0);
          lines.push(
            `late orders (their hour had closed; side output '${LATE_ORDERS.id}'): ${integer.format(late.length)}, ${money(lateCents)} — watermarks ${watermarkCadence}`,
          );
          for (const o of late.slice(0, 3))
            lines.push(
              `  e.g. order ${o.orderId} of ${o.customerId}, ${money(o.amount)} placed ${new Date(o.ts).toISOString().slice(11, 19)}`,
            );
          console.log(lines.join('\n'));
        },
      };
    },
  };
}
