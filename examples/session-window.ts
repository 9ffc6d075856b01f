// Session windows: user activity sessions (30 min of inactivity closes one) with their clicks and duration, over generated clicks.
//   weir run examples/session-window.ts -p 2
//   weir run examples/session-window.ts -p 2 --param clicks=2000000 --param users=10000
//
// params: clicks (200,000), hours of event time (8), users (2,000), output (summary | collect | print).
import {
  EventTimeSessionWindows,
  Time,
  WatermarkStrategy,
  defineJob,
  type AggregateFunction,
  type JobParams,
  type Sink,
  type SinkWriter,
} from '../src/index.ts';
import { interleavedGeneratorSource } from './lib/interleaved-source.ts';

/** A click by a user. */
export interface Click {
  userId: string;
  page: string;
  /** Event time (ms since the epoch). */
  ts: number;
}

/** One user session: its window, clicks and how long it lasted (first to last click). */
export interface UserSession {
  userId: string;
  /** Time of the first click. */
  start: number;
  /** Window end: the last click plus the gap. */
  end: number;
  clicks: number;
  durationMs: number;
}

/** The shape of the generated click stream. */
export interface ClickStreamConfig {
  clicks: number;
  hours: number;
  users: number;
  start: number;
}

/** Inactivity that ends a session. */
export const SESSION_GAP = Time.minutes(30);
/** How far out of order clicks may arrive (they never exceed it, so none is late). */
export const CLICK_OUT_OF_ORDERNESS = Time.seconds(10);
/** Users are online or not per slot of this length. */
export const ACTIVITY_SLOT = Time.minutes(15);
const PAGES = ['/', '/search', '/product', '/cart', '/checkout', '/account'] as const;

/** The click stream a job's params describe. */
export function clickStreamConfig(params: JobParams): ClickStreamConfig {
  const num = (name: string, fallback: number): number => (params[name] === undefined ? fallback : Number(params[name]));
  return {
    clicks: Math.floor(num('clicks', 200_000)),
    hours: num('hours', 8),
    users: Math.max(1, Math.floor(num('users', 2_000))),
    start: num('start', Date.UTC(2025, 0, 6)),
  };
}

/** A deterministic 32-bit hash of a number and a salt. */
function mix(i: number, salt: number): number {
  let x = Math.imul(i ^ Math.imul(salt, 0x27d4eb2f), 0x9e3779b1) ^ 0x5bd1e995;
  x ^= x >>> 15;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Whether `user` is online during activity slot `slot` (about one slot in four). */
export function isOnline(user: number, slot: number): boolean {
  return mix(Math.imul(user, 7919) + slot, 7) % 4 === 0;
}

/**
 * Click number `i`, the same on every thread: clicks are spread evenly over the span, each by a
 * user who is online in that 15-minute slot, and trail their nominal time by up to 10 s.
 */
export function clickAt(i: number, config: ClickStreamConfig): Click {
  const nominal = config.start + Math.floor((i * config.hours * Time.hours(1)) / Math.max(1, config.clicks));
  const slot = Math.floor((nominal - config.start) / ACTIVITY_SLOT);
  const first = mix(i, 2) % config.users;
  let user = first;
  for (let k = 0; k < config.users; k++) {
    const candidate = (first + k) % config.users;
    if (isOnline(candidate, slot)) {
      user = candidate;
      break;
    }
  }
  const ts = Math.max(config.start, nominal - (mix(i, 1) % CLICK_OUT_OF_ORDERNESS));
  return { userId: `user-${user}`, page: PAGES[mix(i, 3) % PAGES.length], ts };
}

/** What a session window accumulates: clicks, first and last click time. */
export interface SessionAccumulator {
  clicks: number;
  first: number;
  last: number;
}

/** Counts a session's clicks and tracks its first and last; `merge` joins sessions a click bridges. */
export const sessionStats: AggregateFunction<Click, SessionAccumulator, SessionAccumulator> = {
  createAccumulator: () => ({ clicks: 0, first: Number.POSITIVE_INFINITY, last: Number.NEGATIVE_INFINITY }),
  add: (click, acc) => ({ clicks: acc.clicks + 1, first: Math.min(acc.first, click.ts), last: Math.max(acc.last, click.ts) }),
  getResult: (acc) => acc,
  merge: (a, b) => ({ clicks: a.clicks + b.clicks, first: Math.min(a.first, b.first), last: Math.max(a.last, b.last) }),
};

export default defineJob((env, params) => {
  const config = clickStreamConfig(params);
  const sessions = env
    .fromSource(
      interleavedGeneratorSource({ count: config.clicks, generate: (i) => clickAt(i, config) }),
      WatermarkStrategy.forBoundedOutOfOrderness<Click>(CLICK_OUT_OF_ORDERNESS).withTimestampAssigner((c) => c.ts),
      'Clicks',
    )
    .keyBy((c) => c.userId)
    .window(EventTimeSessionWindows.withGap(SESSION_GAP))
    .aggregate<SessionAccumulator, SessionAccumulator, UserSession>(sessionStats, (userId, ctx, stats, out) => {
      const w = ctx.window();
      for (const s of stats) out.collect({ userId, start: w.start, end: w.end, clicks: s.clicks, durationMs: s.last - s.first });
    })
    .name('Sessions');
  const output = params.output ?? 'summary';
  if (output === 'collect') sessions.collect('sessions');
  else if (output === 'print') sessions.print();
  else if (output === 'summary') sessions.sinkTo(sessionSummarySink()).name('Summary');
  else throw new RangeError(`param output must be summary, collect or print, got ${output}`);
});

const minutes = (ms: number): string => `${(ms / 60_000).toFixed(1)} min`;

/** Prints how many sessions there were, how long they lasted, and the longest. */
function sessionSummarySink(): Sink<UserSession> {
  const buckets = [5, 15, 30, 60, 120, Number.POSITIVE_INFINITY];
  return {
    name: 'Session Summary',
    maxParallelism: 1,
    createWriter: (): SinkWriter<UserSession> => {
      const counts = buckets.map(() => 0);
      const users = new Set<string>();
      const longest: UserSession[] = [];
      let sessions = 0;
      let clicks = 0;
      let duration = 0;
      return {
        write(s) {
          sessions++;
          clicks += s.clicks;
          duration += s.durationMs;
          users.add(s.userId);
          counts[buckets.findIndex((b) => s.durationMs < b * 60_000)]++;
          longest.push(s);
          if (longest.length > 64) longest.sort((a, b) => b.durationMs - a.durationMs || (a.userId < b.userId ? -1 : 1)).length = 3;
        },
        close() {
          longest.sort((a, b) => b.durationMs - a.durationMs || (a.userId < b.userId ? -1 : 1));
          const lines = [
            `${sessions} sessions of ${users.size} users (event-time session windows, gap 30 min): ${(clicks / Math.max(1, sessions)).toFixed(1)} clicks and ${minutes(duration / Math.max(1, sessions))} on average`,
            `  duration   ${buckets.map((b, i) => `${i === 0 ? `< ${b}` : b === Number.POSITIVE_INFINITY ? `≥ ${buckets[i - 1]}` : `${buckets[i - 1]}–${b}`} min: ${counts[i]}`).join(' · ')}`,
          ];
          for (const s of longest.slice(0, 3)) {
            lines.push(
              `  longest    ${s.userId} ${new Date(s.start).toISOString().slice(11, 16)}, ${minutes(s.durationMs)}, ${s.clicks} clicks`,
            );
          }
          console.log(lines.join('\n'));
        },
      };
    },
  };
}
