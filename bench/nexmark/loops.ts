// The Nexmark queries as hand-written single-thread loops over `nexmarkEvents`: the baseline weir is measured and checked against.
import { NexmarkGenerator, nexmarkEvents, type Auction, type Bid, type NexmarkConfig, type Person } from '../../src/index.ts';
import {
  Q5_SLIDE_MS,
  WINDOW_MS,
  windowStart,
  type Q11Out,
  type Q12Out,
  type Q13Out,
  type Q14Out,
  type Q15Out,
  type Q16Out,
  type Q17Out,
  type Q19Out,
  type Q1Out,
  type Q21Out,
  type Q22Out,
  type Q2Out,
  type Q3Out,
  type Q4Out,
  type Q5Out,
  type Q8Out,
  type Q9Out,
  type QueryName,
} from './lib.ts';

/** Receives each output record of a loop. */
export type Emit = (out: unknown) => void;

/**
 * Runs `query` over the events of `config` in event-number order, calling `emit` per output
 * record. Event time as in the weir jobs: watermark = highest timestamp − out-of-orderness − 1
 * after each event, windows and timers fire once it reaches their end − 1 (their time), and the
 * end of input fires everything left (Flink's final MAX watermark). Window and session loops need
 * in-order events (`outOfOrderGroupSize` 1, the default).
 */
export function runLoop(query: QueryName, config: NexmarkConfig, emit: Emit): void {
  const gen = new NexmarkGenerator(config);
  if (gen.maxOutOfOrdernessMs() !== 0 && !ORDER_FREE.has(query))
    throw new RangeError(`loop ${query}: needs in-order events (outOfOrderGroupSize 1)`);
  LOOPS[query](config, emit);
}

/** Loops that do not assume events in timestamp order. */
const ORDER_FREE = new Set<QueryName>([
  'q0',
  'q1',
  'q2',
  'q3',
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
]);

const LOOPS: Record<QueryName, (config: NexmarkConfig, emit: Emit) => void> = {
  q0(config, emit) {
    for (const { event } of nexmarkEvents(config)) if (event.kind === 'bid') emit(event);
  },

  q1(config, emit) {
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind === 'bid') emit([b.auction, b.bidder, 0.908 * b.price, b.dateTime, b.extra] satisfies Q1Out);
    }
  },

  q2(config, emit) {
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind === 'bid' && b.auction % 123 === 0) emit([b.auction, b.price] satisfies Q2Out);
    }
  },

  q3(config, emit) {
    const persons = new Map<number, Person>();
    const auctions = new Map<number, number[]>();
    for (const { event: e } of nexmarkEvents(config)) {
      if (e.kind === 'person') {
        if (e.state !== 'OR' && e.state !== 'ID' && e.state !== 'CA') continue;
        persons.set(e.id, e);
        for (const a of auctions.get(e.id) ?? []) emit([e.name, e.city, e.state, a] satisfies Q3Out);
      } else if (e.kind === 'auction') {
        if (e.category !== 10) continue;
        let list = auctions.get(e.seller);
        if (list === undefined) auctions.set(e.seller, (list = []));
        list.push(e.id);
        const p = persons.get(e.seller);
        if (p !== undefined) emit([p.name, p.city, p.state, e.id] satisfies Q3Out);
      }
    }
  },

  q4(config, emit) {
    const sums = new Map<number, { sum: number; count: number }>();
    winningBids(config, (t) => {
      let s = sums.get(t[1]);
      if (s === undefined) sums.set(t[1], (s = { sum: 0, count: 0 }));
      s.sum += t[2];
      s.count++;
      emit([t[1], s.sum / s.count] satisfies Q4Out);
    });
  },

  q5(config, emit) {
    const open = new Map<number, Map<number, number>>();
    let oldest = Number.POSITIVE_INFINITY;
    const fire = (start: number) => {
      const counts = open.get(start);
      if (counts === undefined) return;
      open.delete(start);
      let max = 0;
      for (const n of counts.values()) if (n > max) max = n;
      const end = start + WINDOW_MS;
      for (const [auction, n] of counts) if (n === max) emit([auction, max, end] satisfies Q5Out);
    };
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind !== 'bid') continue;
      const ts = b.dateTime;
      for (let start = windowStart(ts, Q5_SLIDE_MS); start > ts - WINDOW_MS; start -= Q5_SLIDE_MS) {
        let counts = open.get(start);
        if (counts === undefined) {
          open.set(start, (counts = new Map()));
          if (start < oldest) oldest = start;
        }
        counts.set(b.auction, (counts.get(b.auction) ?? 0) + 1);
      }
      const watermark = ts - 1;
      while (oldest + WINDOW_MS - 1 <= watermark) {
        fire(oldest);
        oldest += Q5_SLIDE_MS;
      }
    }
    for (const start of [...open.keys()].sort((a, b) => a - b)) fire(start);
  },

  q7(config, emit) {
    let start = Number.NaN;
    let top: Bid[] = [];
    const fire = () => {
      for (const b of top) emit(b);
      top = [];
    };
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind !== 'bid') continue;
      const s = windowStart(b.dateTime, WINDOW_MS);
      if (s !== start) {
        fire(); // in order: a later window means the watermark passed the previous one
        start = s;
      }
      if (top.length === 0 || b.price > top[0].price) top = [b];
      else if (b.price === top[0].price) top.push(b);
    }
    fire();
  },

  q8(config, emit) {
    let start = Number.NaN;
    let persons = new Map<number, Person>();
    let sellers = new Set<number>();
    const fire = () => {
      for (const [id, p] of persons) if (sellers.has(id)) emit([id, p.name, start] satisfies Q8Out);
      persons = new Map();
      sellers = new Set();
    };
    for (const { event: e } of nexmarkEvents(config)) {
      if (e.kind === 'bid') continue;
      const s = windowStart(e.dateTime, WINDOW_MS);
      if (s !== start) {
        fire();
        start = s;
      }
      if (e.kind === 'person') {
        if (!persons.has(e.id)) persons.set(e.id, e);
      } else sellers.add(e.seller);
    }
    fire();
  },

  q9(config, emit) {
    winningBids(config, emit);
  },

  q11(config, emit) {
    const sessions = new Map<number, { start: number; end: number; count: number }>();
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind !== 'bid') continue;
      const ts = b.dateTime;
      const s = sessions.get(b.bidder);
      if (s !== undefined && ts <= s.end) {
        // [ts, ts + gap) touches or overlaps the session: they merge (TimeWindow.intersects)
        if (ts + WINDOW_MS > s.end) s.end = ts + WINDOW_MS;
        s.count++;
      } else {
        if (s !== undefined) emit([b.bidder, s.count, s.start, s.end] satisfies Q11Out);
        sessions.set(b.bidder, { start: ts, end: ts + WINDOW_MS, count: 1 });
      }
    }
    for (const [bidder, s] of sessions) emit([bidder, s.count, s.start, s.end] satisfies Q11Out);
  },

  q12(config, emit) {
    // Processing time: Date.now() when the bid is seen (read every 256 bids); a window's counts are
    // emitted once the clock passes its end. As in weir and Flink, the window still open at the end
    // of input is dropped (processing-time timers do not fire at end of input). No pacing (the loop
    // ignores maxEventsPerSecond); outputs differ from run to run and are not compared.
    let counts = new Map<number, number>();
    let end = windowStart(Date.now(), WINDOW_MS) + WINDOW_MS;
    let now = Date.now();
    let seen = 0;
    const fire = () => {
      for (const [bidder, n] of counts) emit([bidder, n, end - WINDOW_MS, end] satisfies Q12Out);
      counts = new Map();
    };
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind !== 'bid') continue;
      if ((++seen & 255) === 0) now = Date.now();
      if (now >= end) {
        fire();
        end = windowStart(now, WINDOW_MS) + WINDOW_MS;
      }
      counts.set(b.bidder, (counts.get(b.bidder) ?? 0) + 1);
    }
  },

  q13(config, emit) {
    // The side input maps key k to String(k) for every k below 10,000: the lookup is the key's string.
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind === 'bid') emit([b.auction, b.bidder, b.price, b.dateTime, String(b.auction % 10_000)] satisfies Q13Out);
    }
  },

  q14(config, emit) {
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind !== 'bid') continue;
      const euros = b.price * 0.908;
      if (!(euros > 1_000_000 && euros < 50_000_000)) continue;
      const hour = new Date(b.dateTime).getUTCHours();
      const type = hour >= 8 && hour <= 18 ? 'dayTime' : hour <= 6 || hour >= 20 ? 'nightTime' : 'otherTime';
      emit([b.auction, b.bidder, euros, type, b.dateTime, b.extra, b.extra.split('c').length - 1] satisfies Q14Out);
    }
  },

  q15(config, emit) {
    const groups = new Map<string, DistinctCounts>();
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind !== 'bid') continue;
      const day = utcDay(b.dateTime);
      let g = groups.get(day);
      if (g === undefined) groups.set(day, (g = new DistinctCounts()));
      g.add(b);
      emit([day, ...g.row()] as Q15Out);
    }
  },

  q16(config, emit) {
    const groups = new Map<string, { g: DistinctCounts; minute: string }>();
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind !== 'bid') continue;
      const day = utcDay(b.dateTime);
      const minute = new Date(b.dateTime).toISOString().slice(11, 16);
      const key = `${b.channel}\u0000${day}`;
      let s = groups.get(key);
      if (s === undefined) groups.set(key, (s = { g: new DistinctCounts(), minute }));
      if (minute > s.minute) s.minute = minute;
      s.g.add(b);
      emit([b.channel, day, s.minute, ...s.g.row()] as Q16Out);
    }
  },

  q17(config, emit) {
    const groups = new Map<string, { n: number[]; min: number; max: number; sum: number }>();
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind !== 'bid') continue;
      const day = utcDay(b.dateTime);
      const key = `${b.auction}/${day}`;
      let s = groups.get(key);
      if (s === undefined) groups.set(key, (s = { n: [0, 0, 0, 0], min: b.price, max: b.price, sum: 0 }));
      s.n[0]++;
      s.n[rankOf(b.price)]++;
      s.min = Math.min(s.min, b.price);
      s.max = Math.max(s.max, b.price);
      s.sum += b.price;
      emit([b.auction, day, s.n[0], s.n[1], s.n[2], s.n[3], s.min, s.max, Math.floor(s.sum / s.n[0]), s.sum] satisfies Q17Out);
    }
  },

  q18(config, emit) {
    const last = new Map<string, Bid>();
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind !== 'bid') continue;
      const key = `${b.bidder}/${b.auction}`;
      const prev = last.get(key);
      if (prev === undefined || b.dateTime >= prev.dateTime) {
        last.set(key, b);
        emit(b);
      }
    }
  },

  q19(config, emit) {
    const tops = new Map<number, Bid[]>();
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind !== 'bid') continue;
      const old = tops.get(b.auction) ?? [];
      // Array.prototype.sort is stable: equal prices keep arrival order, the new bid last among them.
      const top = [...old, b].sort((x, y) => y.price - x.price).slice(0, 10);
      const at = top.indexOf(b);
      if (at < 0) continue;
      tops.set(b.auction, top);
      for (let r = at; r < top.length; r++) emit([top[r], r + 1] satisfies Q19Out);
    }
  },

  q20(config, emit) {
    const auctions = new Map<number, Auction>();
    const waiting = new Map<number, Bid[]>();
    for (const { event: e } of nexmarkEvents(config)) {
      if (e.kind === 'auction') {
        auctions.set(e.id, e);
        if (e.category === 10) for (const b of waiting.get(e.id) ?? []) emit([b, e]);
        waiting.delete(e.id);
      } else if (e.kind === 'bid') {
        const a = auctions.get(e.auction);
        if (a === undefined) {
          const list = waiting.get(e.auction);
          if (list === undefined) waiting.set(e.auction, [e]);
          else list.push(e);
        } else if (a.category === 10) emit([e, a]);
      }
    }
  },

  q21(config, emit) {
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind !== 'bid') continue;
      const lower = b.channel.toLowerCase();
      let id: string | undefined;
      if (lower === 'apple') id = '0';
      else if (lower === 'google') id = '1';
      else if (lower === 'facebook') id = '2';
      else if (lower === 'baidu') id = '3';
      else id = channelIdParam(b.url);
      if (id !== undefined) emit([b.auction, b.bidder, b.price, b.channel, id] satisfies Q21Out);
    }
  },

  q22(config, emit) {
    for (const { event: b } of nexmarkEvents(config)) {
      if (b.kind !== 'bid') continue;
      const dirs = ['', '', ''];
      let start = 0;
      for (let part = 0; part <= 5; part++) {
        const slash = b.url.indexOf('/', start);
        const end = slash < 0 ? b.url.length : slash;
        if (part >= 3) dirs[part - 3] = b.url.slice(start, end);
        if (slash < 0) break;
        start = slash + 1;
      }
      emit([b.auction, b.bidder, b.price, b.channel, dirs[0], dirs[1], dirs[2]] satisfies Q22Out);
    }
  },
};

/** 'yyyy-MM-dd' of a timestamp, UTC. */
function utcDay(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}

/** Price rank 1, 2 or 3 (below 10,000; below 1,000,000; above). */
function rankOf(price: number): 1 | 2 | 3 {
  if (price >= 1_000_000) return 3;
  return price >= 10_000 ? 2 : 1;
}

/** The value of the first `channel_id` parameter at the start of the URL or after an '&' (REGEXP_EXTRACT's group 2), if any. */
function channelIdParam(url: string): string | undefined {
  const name = 'channel_id=';
  let at = url.startsWith(name) ? 0 : url.indexOf(`&${name}`);
  if (at < 0) return undefined;
  if (at > 0 || url[0] === '&') at += 1;
  const from = at + name.length;
  const amp = url.indexOf('&', from);
  return url.slice(from, amp < 0 ? url.length : amp);
}

/** q15/q16's counts with Sets: bids, distinct bidders, distinct auctions, each in all and per price rank. */
class DistinctCounts {
  private readonly bids = [0, 0, 0, 0];
  private readonly bidders = [new Set<number>(), new Set<number>(), new Set<number>(), new Set<number>()];
  private readonly auctions = [new Set<number>(), new Set<number>(), new Set<number>(), new Set<number>()];

  add(b: Bid): void {
    const r = rankOf(b.price);
    this.bids[0]++;
    this.bids[r]++;
    this.bidders[0].add(b.bidder);
    this.bidders[r].add(b.bidder);
    this.auctions[0].add(b.auction);
    this.auctions[r].add(b.auction);
  }

  /** The twelve counts in q15's column order. */
  row(): number[] {
    return [...this.bids, ...this.bidders.map((s) => s.size), ...this.auctions.map((s) => s.size)];
  }
}

/**
 * q9's winning bids: per auction, the highest bid (then the earliest) with price ≥ reserve inside
 * [dateTime, expires), emitted when the watermark reaches `expires`; bids before their auction wait.
 */
function winningBids(config: NexmarkConfig, emit: (t: Q9Out) => void): void {
  const open = new Map<number, { a: Auction; best: Bid | undefined }>();
  const early = new Map<number, Bid[]>();
  const closed = new Set<number>();
  const timers = new MinHeap();
  const offer = (o: { a: Auction; best: Bid | undefined }, b: Bid) => {
    const a = o.a;
    if (b.price < a.reserve || b.dateTime < a.dateTime || b.dateTime >= a.expires) return;
    const cur = o.best;
    if (cur === undefined || b.price > cur.price || (b.price === cur.price && b.dateTime < cur.dateTime)) o.best = b;
  };
  const fireUpTo = (watermark: number) => {
    while (timers.size > 0 && timers.peekTime() <= watermark) {
      const id = timers.pop();
      const o = open.get(id);
      if (o === undefined) continue;
      if (o.best !== undefined) emit([o.a.id, o.a.category, o.best.price, o.best.bidder]);
      open.delete(id);
      early.delete(id);
      closed.add(id);
    }
  };
  for (const { event: e } of nexmarkEvents(config)) {
    if (e.kind === 'auction') {
      const o = { a: e, best: undefined };
      open.set(e.id, o);
      timers.push(e.expires, e.id);
      for (const b of early.get(e.id) ?? []) offer(o, b);
      early.delete(e.id);
    } else if (e.kind === 'bid') {
      if (closed.has(e.auction)) continue;
      const o = open.get(e.auction);
      if (o !== undefined) offer(o, e);
      else {
        let list = early.get(e.auction);
        if (list === undefined) early.set(e.auction, (list = []));
        list.push(e);
      }
    } else continue;
    fireUpTo(e.dateTime - 1);
  }
  fireUpTo(Number.POSITIVE_INFINITY);
}

/** A binary min-heap of (time, id) timers. */
class MinHeap {
  private readonly times: number[] = [];
  private readonly ids: number[] = [];

  get size(): number {
    return this.times.length;
  }

  peekTime(): number {
    return this.times[0];
  }

  push(time: number, id: number): void {
    const t = this.times;
    const d = this.ids;
    let i = t.length;
    t.push(time);
    d.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (t[parent] <= time) break;
      t[i] = t[parent];
      d[i] = d[parent];
      i = parent;
    }
    t[i] = time;
    d[i] = id;
  }

  pop(): number {
    const t = this.times;
    const d = this.ids;
    const top = d[0];
    const lastT = t.pop() as number;
    const lastD = d.pop() as number;
    const n = t.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && t[c + 1] < t[c]) c++;
        if (t[c] >= lastT) break;
        t[i] = t[c];
        d[i] = d[c];
        i = c;
      }
      t[i] = lastT;
      d[i] = lastD;
    }
    return top;
  }
}
