// CountFn: a KeyedProcessFunction that counts events per key in ValueState, over generated page views.
//   weir run examples/count-fn.ts -p 2
//   weir run examples/count-fn.ts -p 2 --param events=5000000 --param users=50000 --param top=5
//
// params: events (1,000,000), users (10,000), top (users shown; 10), output (summary | collect | print).
import {
  KeyedProcessFunction,
  ValueStateDescriptor,
  defineJob,
  generatorSource,
  type Collector,
  type KeyedProcessContext,
  type Sink,
  type SinkWriter,
  type ValueState,
} from '../src/index.ts';

/** A page view by a user. */
export interface PageView {
  userId: string;
  page: string;
}

/** A key with the number of events seen for it so far. */
export interface KeyCount {
  key: string;
  count: number;
}

/** Pages the generator picks from. */
export const PAGES: readonly string[] = ['/', '/search', '/product', '/cart', '/checkout', '/account', '/help'];

/** A deterministic 32-bit hash of an event number and a salt. */
function mix(i: number, salt: number): number {
  let x = Math.imul(i ^ Math.imul(salt, 0x27d4eb2f), 0x9e3779b1) ^ 0x5bd1e995;
  x ^= x >>> 15;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Page view number `i` over `users` users, the same on every thread; a few users are much busier than the rest. */
export function pageViewAt(i: number, users: number): PageView {
  const r = (mix(i, 1) % 1_000_000) / 1_000_000;
  return { userId: `u${Math.floor(r * r * users)}`, page: PAGES[mix(i, 2) % PAGES.length] };
}

/**
 * Counts events per key: the count lives in keyed ValueState, so each key has its own, kept by the
 * subtask that owns the key's key group (and part of its snapshots). Emits the new count after
 * every event.
 */
export class CountFn<T> extends KeyedProcessFunction<string, T, KeyCount> {
  private count!: ValueState<number>;

  override open(): void {
    this.count = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('count', 0));
  }

  processElement(_event: T, ctx: KeyedProcessContext & { getCurrentKey(): string }, out: Collector<KeyCount>): void {
    const count = (this.count.value() ?? 0) + 1;
    this.count.update(count);
    // KeyedProcessContext types getCurrentKey() as unknown, and its overload comes first: name the key type here.
    out.collect({ key: ctx.getCurrentKey() as string, count });
  }
}

export default defineJob((env, params) => {
  const events = Number(params.events ?? 1_000_000);
  const users = Number(params.users ?? 10_000);
  const counts = env
    .fromSource(generatorSource({ count: events, generate: (i) => pageViewAt(i, users), name: 'Page Views' }))
    .keyBy((view) => view.userId)
    .process(new CountFn<PageView>())
    .name('CountFn');
  const output = params.output ?? 'summary';
  if (output === 'collect') counts.collect('counts');
  else if (output === 'print') counts.print();
  else if (output === 'summary') counts.sinkTo(topCountsSink(Number(params.top ?? 10))).name('Top Users');
  else throw new RangeError(`param output must be summary, collect or print, got ${output}`);
});

/** Keeps the latest count per key and prints the largest at the end. */
function topCountsSink(limit: number): Sink<KeyCount> {
  return {
    name: 'Top Counts',
    maxParallelism: 1,
    createWriter: (): SinkWriter<KeyCount> => {
      const latest = new Map<string, number>();
      let updates = 0;
      return {
        write(kc) {
          updates++;
          latest.set(kc.key, kc.count);
        },
        close() {
          const top = [...latest].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit);
          const lines = [`${latest.size} users, ${updates} count updates; busiest ${top.length}:`];
          for (const [key, count] of top) lines.push(`  ${key.padEnd(8)} ${count}`);
          console.log(lines.join('\n'));
        },
      };
    },
  };
}
