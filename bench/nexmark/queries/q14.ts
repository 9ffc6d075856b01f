// Nexmark q14 (calculation): bids priced between 1 M and 50 M euro cents, with a time-of-day class and a UDF counting 'c' in extra.
import { defineJob } from '../../../src/index.ts';
import { countChar as countCharUdf } from '../functions.ts';
import { bidsOf, finish, nexmarkEventsOf, type Q14Out } from '../lib.ts';

/** The UDF `count_char(s, c)` of Flink Nexmark (CountChar), shared with the SQL query: occurrences of `c` in `s`. */
export const countChar = countCharUdf as (s: string, c: string) => number;

/** `CASE` on `HOUR(dateTime)` (UTC): 8-18 dayTime, ≤ 6 or ≥ 20 nightTime, else otherTime. */
export function bidTimeType(dateTime: number): string {
  const h = Math.floor(dateTime / 3_600_000) % 24;
  return h >= 8 && h <= 18 ? 'dayTime' : h <= 6 || h >= 20 ? 'nightTime' : 'otherTime';
}

/** q14: (auction, bidder, 0.908 × price, bidTimeType, dateTime, extra, count_char(extra, 'c')) where 1e6 < 0.908 × price < 5e7. */
export default defineJob((env, params) => {
  const out = bidsOf(nexmarkEventsOf(env, params))
    .filter((b) => 0.908 * b.price > 1_000_000 && 0.908 * b.price < 50_000_000)
    .name('Q14 Filter')
    .map((b): Q14Out => [b.auction, b.bidder, 0.908 * b.price, bidTimeType(b.dateTime), b.dateTime, b.extra, countChar(b.extra, 'c')])
    .name('Q14 Calc');
  finish(out, 'q14', params);
});
