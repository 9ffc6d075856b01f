// The Nexmark queries as hand-written single-thread loops over `nexmarkEvents`: the baseline weir is measured and checked against.
import { NexmarkGenerator, nexmarkEvents, type Auction, type Bid, type NexmarkConfig, type Person } from '../../src/index.ts';
import {
  Q5_SLIDE_MS,
  WINDOW_MS,
  windowStart,
  type Q11Out,
  type Q12Out,
  type Q1Out,
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
  if (gen.maxOutOfOrdernessMs() !== 0 && query !== 'q0' && query !== 'q1' && query !== 'q2' && query !== 'q3' && query !== 'q12')
    throw new RangeError(`loop ${query}: needs in-order events (outOfOrderGroupSize 1)`);
  LOOPS[query](config, emit);
}

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
};

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
