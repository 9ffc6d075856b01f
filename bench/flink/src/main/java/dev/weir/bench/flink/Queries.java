// The Nexmark queries q0-q5, q7-q9, q11-q22 as Flink DataStream jobs over NexmarkSource, each ending in a counting sink.
package dev.weir.bench.flink;

import dev.weir.bench.flink.NexmarkGenerator.Auction;
import dev.weir.bench.flink.NexmarkGenerator.Bid;
import dev.weir.bench.flink.NexmarkGenerator.Event;
import dev.weir.bench.flink.NexmarkGenerator.Person;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.api.java.tuple.Tuple5;
import org.apache.flink.api.java.tuple.Tuple7;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingProcessingTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/**
 * Each query follows the Flink Nexmark SQL definition (nexmark/nexmark, queries/*.sql) written
 * with the DataStream API: one source of events, views {@code person/auction/bid} by filtering on
 * the kind, and a final {@link CountingSink}. Window sizes are those of the benchmark: 10 s
 * windows, q5 sliding by 2 s, q11 sessions with a 10 s gap.
 */
public final class Queries {
  private Queries() {}

  /** Every query this class builds. */
  public static final List<String> NAMES =
      List.of("q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8", "q9", "q11", "q12", "q13", "q14", "q15", "q16", "q17", "q18", "q19", "q20", "q21", "q22");

  static final Duration WINDOW = Duration.ofSeconds(10);
  static final Duration Q5_SLIDE = Duration.ofSeconds(2);
  /** List<Bid> with Flink's ListSerializer, so q7's accumulators never fall back to Kryo. */
  static final TypeInformation<List<Bid>> BID_LIST = Types.LIST(TypeInformation.of(Bid.class));
  /** Keys of the local phase of q7's two-phase global max. */
  static final int Q7_FANOUT = 64;

  /** Adds the source and the query to {@code env}. */
  public static void build(String query, StreamExecutionEnvironment env, NexmarkGenerator.Config config) {
    NexmarkGenerator gen = new NexmarkGenerator(config);
    long outOfOrder = gen.maxOutOfOrdernessMs();
    WatermarkStrategy<Event> watermarks =
        outOfOrder == 0 ? WatermarkStrategy.forMonotonousTimestamps() : WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofMillis(outOfOrder));
    DataStream<Event> events = env.fromSource(new NexmarkSource(config), watermarks, "Nexmark Source");
    Views v = new Views(events);
    switch (query) {
      case "q0" -> CountingSink.attach(v.bids(), b -> b.auction + b.bidder + b.price + b.dateTime + b.channel.length() + b.url.length() + b.extra.length());
      case "q1" -> CountingSink.attach(q1(v.bids()), t -> t.f0 + t.f1 + Math.round(t.f2 * 1000) + t.f3 + t.f4.length());
      case "q2" -> CountingSink.attach(q2(v.bids()), t -> t.f0 + t.f1);
      case "q3" -> CountingSink.attach(q3(v.persons(), v.auctions()), t -> t.f0.length() + t.f1.length() + t.f2.length() + t.f3);
      case "q4" -> CountingSink.attach(q4(v.auctions(), v.bids()), t -> t.f0 + Math.round(t.f1 * 1000));
      case "q5" -> CountingSink.attach(q5(v.bids()), t -> t.f0 + t.f1 + t.f2);
      case "q7" -> CountingSink.attach(q7(v.bids()), b -> b.auction + b.bidder + b.price + b.dateTime);
      case "q8" -> CountingSink.attach(q8(v.persons(), v.auctions()), t -> t.f0 + t.f1.length() + t.f2);
      case "q9" -> CountingSink.attach(q9(v.auctions(), v.bids()), t -> t.f0 + t.f1 + t.f2 + t.f3);
      case "q11" -> CountingSink.attach(q11(v.bids()), t -> t.f0 + t.f1 + t.f2 + t.f3);
      case "q12" -> CountingSink.attach(q12(v.bids()), t -> t.f0 + t.f1);
      case "q13" -> CountingSink.attach(q13(v.bids()), t -> t.f0 + t.f1 + t.f2 + t.f3 + t.f4.length());
      case "q14" -> CountingSink.attach(q14(v.bids()), t -> t.f0 + t.f1 + Math.round(t.f2 * 1000) + t.f3.length() + t.f4 + t.f5.length() + t.f6);
      case "q15" -> CountingSink.attach(q15(v.bids()), s -> s.day.length() + weighted(s.counts), s -> s.day);
      case "q16" -> CountingSink.attach(
          q16(v.bids()), s -> s.channel.length() + s.day.length() + minutes(s.minute) + weighted(s.counts), s -> s.channel + "|" + s.day);
      case "q17" -> CountingSink.attach(q17(v.bids()), s -> s.auction + s.day.length() + weighted(s.values), s -> s.auction + "|" + s.day);
      case "q18" -> CountingSink.attach(q18(v.bids()), b -> b.auction + b.bidder + b.dateTime, b -> b.bidder * KEY_SHIFT + b.auction);
      case "q19" -> CountingSink.attach(q19(v.bids()), t -> t.f0.auction + t.f0.price + t.f1, t -> t.f0.auction * 16 + t.f1);
      case "q20" -> CountingSink.attach(q20(v.bids(), v.auctions()), t -> t.f0.auction + t.f0.bidder + t.f0.price + t.f0.dateTime
          + t.f1.dateTime + t.f1.expires + t.f1.seller + t.f1.category + t.f1.itemName.length());
      case "q21" -> CountingSink.attach(q21(v.bids()), t -> t.f0 + t.f1 + t.f2 + t.f3.length() + t.f4.length());
      case "q22" -> CountingSink.attach(
          q22(v.bids()), t -> t.f0 + t.f1 + t.f2 + t.f3.length() + t.f4.length() + 2L * t.f5.length() + 3L * t.f6.length());
      default -> throw new IllegalArgumentException("unknown query " + query + "; one of " + NAMES);
    }
  }

  /**
   * The {@code bid}, {@code person} and {@code auction} views, each created on first use so a
   * query's source chain holds only the filters it reads (Flink would run unused ones too).
   */
  static final class Views {
    private final DataStream<Event> events;
    private DataStream<Bid> bids;
    private DataStream<Person> persons;
    private DataStream<Auction> auctions;

    Views(DataStream<Event> events) {
      this.events = events;
    }

    DataStream<Bid> bids() {
      if (bids == null) bids = events.filter(e -> e.kind == Event.BID).name("Bids").map(e -> e.bid).name("Bid").returns(Bid.class);
      return bids;
    }

    DataStream<Person> persons() {
      if (persons == null) {
        persons = events.filter(e -> e.kind == Event.PERSON).name("Persons").map(e -> e.person).name("Person").returns(Person.class);
      }
      return persons;
    }

    DataStream<Auction> auctions() {
      if (auctions == null) {
        auctions = events.filter(e -> e.kind == Event.AUCTION).name("Auctions").map(e -> e.auction).name("Auction").returns(Auction.class);
      }
      return auctions;
    }
  }

  /** q1 currency conversion: (auction, bidder, 0.908 * price, dateTime, extra). */
  static DataStream<Tuple5<Long, Long, Double, Long, String>> q1(DataStream<Bid> bids) {
    return bids.map(b -> Tuple5.of(b.auction, b.bidder, 0.908 * b.price, b.dateTime, b.extra))
        .returns(Types.TUPLE(Types.LONG, Types.LONG, Types.DOUBLE, Types.LONG, Types.STRING))
        .name("Q1 Convert");
  }

  /** q2 selection: (auction, price) of bids with auction % 123 == 0. */
  static DataStream<Tuple2<Long, Long>> q2(DataStream<Bid> bids) {
    return bids.filter(b -> b.auction % 123 == 0).name("Q2 Filter")
        .map(b -> Tuple2.of(b.auction, b.price)).returns(Types.TUPLE(Types.LONG, Types.LONG)).name("Q2 Project");
  }

  /** q3 local item suggestion: (name, city, state, auction id), persons in OR/ID/CA joined with category-10 auctions by seller. */
  static DataStream<Tuple4<String, String, String, Long>> q3(DataStream<Person> persons, DataStream<Auction> auctions) {
    DataStream<Person> local = persons.filter(p -> p.state.equals("OR") || p.state.equals("ID") || p.state.equals("CA")).name("Q3 State");
    DataStream<Auction> cat10 = auctions.filter(a -> a.category == 10).name("Q3 Category");
    return local.keyBy(p -> p.id).connect(cat10.keyBy(a -> a.seller)).process(new IncrementalJoin()).name("Q3 Join");
  }

  /** Inner join of a person with the auctions it sells, emitting each match once as either side arrives. */
  static final class IncrementalJoin extends KeyedCoProcessFunction<Long, Person, Auction, Tuple4<String, String, String, Long>> {
    private transient ValueState<Person> person;
    private transient ListState<Auction> auctions;

    @Override
    public void open(OpenContext ctx) {
      person = getRuntimeContext().getState(new ValueStateDescriptor<>("person", Person.class));
      auctions = getRuntimeContext().getListState(new ListStateDescriptor<>("auctions", Auction.class));
    }

    @Override
    public void processElement1(Person p, Context ctx, Collector<Tuple4<String, String, String, Long>> out) throws Exception {
      person.update(p);
      for (Auction a : auctions.get()) out.collect(Tuple4.of(p.name, p.city, p.state, a.id));
    }

    @Override
    public void processElement2(Auction a, Context ctx, Collector<Tuple4<String, String, String, Long>> out) throws Exception {
      auctions.add(a); // kept, as in SQL's regular join, for a person who may come later
      Person p = person.value();
      if (p != null) out.collect(Tuple4.of(p.name, p.city, p.state, a.id));
    }
  }

  /** q9 winning bids: (auction, category, price, bidder) of the highest valid bid of each auction, at its expiry. */
  static DataStream<Tuple4<Long, Long, Long, Long>> q9(DataStream<Auction> auctions, DataStream<Bid> bids) {
    return auctions.keyBy(a -> a.id).connect(bids.keyBy(b -> b.auction)).process(new WinningBid()).name("Q9 Winning Bids");
  }

  /**
   * Keeps an auction and its best bid so far (price ≥ reserve, within [dateTime, expires), highest
   * price, then earliest); fires at the auction's expiry. Bids before their auction wait in state.
   */
  static final class WinningBid extends KeyedCoProcessFunction<Long, Auction, Bid, Tuple4<Long, Long, Long, Long>> {
    private transient ValueState<Auction> auction;
    private transient ValueState<Bid> best;
    private transient ListState<Bid> early;
    private transient ValueState<Boolean> closed;

    @Override
    public void open(OpenContext ctx) {
      auction = getRuntimeContext().getState(new ValueStateDescriptor<>("auction", Auction.class));
      best = getRuntimeContext().getState(new ValueStateDescriptor<>("best", Bid.class));
      early = getRuntimeContext().getListState(new ListStateDescriptor<>("early", Bid.class));
      closed = getRuntimeContext().getState(new ValueStateDescriptor<>("closed", Types.BOOLEAN));
    }

    private void offer(Auction a, Bid b) throws Exception {
      if (b.price < a.reserve || b.dateTime < a.dateTime || b.dateTime >= a.expires) return;
      Bid cur = best.value();
      if (cur == null || b.price > cur.price || (b.price == cur.price && b.dateTime < cur.dateTime)) best.update(b);
    }

    @Override
    public void processElement1(Auction a, Context ctx, Collector<Tuple4<Long, Long, Long, Long>> out) throws Exception {
      auction.update(a);
      ctx.timerService().registerEventTimeTimer(a.expires);
      for (Bid b : early.get()) offer(a, b);
      early.clear();
    }

    @Override
    public void processElement2(Bid b, Context ctx, Collector<Tuple4<Long, Long, Long, Long>> out) throws Exception {
      if (closed.value() != null) return;
      Auction a = auction.value();
      if (a == null) early.add(b);
      else offer(a, b);
    }

    @Override
    public void onTimer(long ts, OnTimerContext ctx, Collector<Tuple4<Long, Long, Long, Long>> out) throws Exception {
      Auction a = auction.value();
      Bid b = best.value();
      if (a != null && b != null) out.collect(Tuple4.of(a.id, a.category, b.price, b.bidder));
      auction.clear();
      best.clear();
      early.clear();
      closed.update(true);
    }
  }

  /** q4 average closing price per category: (category, running average of winning prices). */
  static DataStream<Tuple2<Long, Double>> q4(DataStream<Auction> auctions, DataStream<Bid> bids) {
    return q9(auctions, bids).keyBy(t -> t.f1).process(new RunningAverage()).name("Q4 Average");
  }

  /** Emits the updated average of f2 per key on every input (SQL's changelog of a group AVG). */
  static final class RunningAverage extends KeyedProcessFunction<Long, Tuple4<Long, Long, Long, Long>, Tuple2<Long, Double>> {
    private transient ValueState<Tuple2<Long, Long>> sumCount;

    @Override
    public void open(OpenContext ctx) {
      sumCount = getRuntimeContext().getState(new ValueStateDescriptor<>("sumCount", Types.TUPLE(Types.LONG, Types.LONG)));
    }

    @Override
    public void processElement(Tuple4<Long, Long, Long, Long> t, Context ctx, Collector<Tuple2<Long, Double>> out) throws Exception {
      Tuple2<Long, Long> sc = sumCount.value();
      sc = sc == null ? Tuple2.of(t.f2, 1L) : Tuple2.of(sc.f0 + t.f2, sc.f1 + 1);
      sumCount.update(sc);
      out.collect(Tuple2.of(t.f1, (double) sc.f0 / sc.f1));
    }
  }

  /** Counts elements. */
  static final class Count<T> implements AggregateFunction<T, Long, Long> {
    @Override
    public Long createAccumulator() {
      return 0L;
    }

    @Override
    public Long add(T value, Long acc) {
      return acc + 1;
    }

    @Override
    public Long getResult(Long acc) {
      return acc;
    }

    @Override
    public Long merge(Long a, Long b) {
      return a + b;
    }
  }

  /** (key, count, window start, window end). */
  static final class WithWindow extends ProcessWindowFunction<Long, Tuple4<Long, Long, Long, Long>, Long, TimeWindow> {
    @Override
    public void process(Long key, Context ctx, Iterable<Long> counts, Collector<Tuple4<Long, Long, Long, Long>> out) {
      out.collect(Tuple4.of(key, counts.iterator().next(), ctx.window().getStart(), ctx.window().getEnd()));
    }
  }

  /** q5 hot items: (auction, bid count, window end) of the auctions with the most bids in each 10 s window sliding by 2 s. */
  static DataStream<Tuple3<Long, Long, Long>> q5(DataStream<Bid> bids) {
    // Only the auction crosses the network (projection pushdown, as Flink SQL plans q5; the same in the weir job).
    DataStream<Tuple4<Long, Long, Long, Long>> counts = bids.map(b -> b.auction)
        .returns(Types.LONG)
        .name("Q5 Auction")
        .keyBy(a -> a)
        .window(SlidingEventTimeWindows.of(WINDOW, Q5_SLIDE))
        .aggregate(new Count<>(), new WithWindow())
        .name("Q5 Count");
    return counts.keyBy(t -> t.f3).process(new MaxPerWindow()).name("Q5 Max");
  }

  /** Per window end: keeps the top count and its auctions; emits them when the watermark passes the window. */
  static final class MaxPerWindow extends KeyedProcessFunction<Long, Tuple4<Long, Long, Long, Long>, Tuple3<Long, Long, Long>> {
    private transient ValueState<Long> max;
    private transient ListState<Long> top;

    @Override
    public void open(OpenContext ctx) {
      max = getRuntimeContext().getState(new ValueStateDescriptor<>("max", Types.LONG));
      top = getRuntimeContext().getListState(new ListStateDescriptor<>("top", Types.LONG));
    }

    @Override
    public void processElement(Tuple4<Long, Long, Long, Long> t, Context ctx, Collector<Tuple3<Long, Long, Long>> out) throws Exception {
      Long m = max.value();
      if (m == null || t.f1 > m) {
        max.update(t.f1);
        top.update(List.of(t.f0));
        ctx.timerService().registerEventTimeTimer(t.f3 - 1); // window results carry end - 1
      } else if (t.f1.equals(m)) {
        top.add(t.f0);
      }
    }

    @Override
    public void onTimer(long ts, OnTimerContext ctx, Collector<Tuple3<Long, Long, Long>> out) throws Exception {
      long m = max.value();
      for (Long auction : top.get()) out.collect(Tuple3.of(auction, m, ctx.getCurrentKey()));
      max.clear();
      top.clear();
    }
  }

  /** The bids with the highest price seen (ties kept). */
  static final class MaxBids implements AggregateFunction<Bid, List<Bid>, List<Bid>> {
    @Override
    public List<Bid> createAccumulator() {
      return new ArrayList<>(1);
    }

    @Override
    public List<Bid> add(Bid b, List<Bid> acc) {
      if (acc.isEmpty() || b.price > acc.get(0).price) {
        acc.clear();
        acc.add(b);
      } else if (b.price == acc.get(0).price) {
        acc.add(b);
      }
      return acc;
    }

    @Override
    public List<Bid> getResult(List<Bid> acc) {
      return acc;
    }

    @Override
    public List<Bid> merge(List<Bid> a, List<Bid> b) {
      for (Bid x : b) add(x, a);
      return a;
    }
  }

  /**
   * q7 highest bid: the bids with the top price of each 10 s tumbling window. Two phases, as Flink
   * SQL's local-global aggregation: a keyed max over {@link #Q7_FANOUT} auction buckets, then a global max.
   */
  static DataStream<Bid> q7(DataStream<Bid> bids) {
    DataStream<Bid> local = bids.keyBy(b -> (int) (b.auction % Q7_FANOUT))
        .window(TumblingEventTimeWindows.of(WINDOW))
        .aggregate(new MaxBids(), BID_LIST, BID_LIST)
        .name("Q7 Local Max")
        .flatMap((List<Bid> l, Collector<Bid> out) -> l.forEach(out::collect))
        .returns(Bid.class)
        .name("Q7 Unpack");
    return local.windowAll(TumblingEventTimeWindows.of(WINDOW))
        .aggregate(new MaxBids(), BID_LIST, BID_LIST)
        .name("Q7 Global Max")
        .flatMap((List<Bid> l, Collector<Bid> out) -> l.forEach(out::collect))
        .returns(Bid.class)
        .name("Q7 Result");
  }

  /** q8 new users: (person id, name, window start) of persons who opened an auction in the 10 s tumbling window they registered in. */
  static DataStream<Tuple3<Long, String, Long>> q8(DataStream<Person> persons, DataStream<Auction> auctions) {
    return persons.coGroup(auctions)
        .where(p -> p.id)
        .equalTo(a -> a.seller)
        .window(TumblingEventTimeWindows.of(WINDOW))
        .apply(
            (Iterable<Person> ps, Iterable<Auction> as, Collector<Tuple3<Long, String, Long>> out) -> {
              if (!as.iterator().hasNext()) return;
              Set<Long> seen = new HashSet<>();
              for (Person p : ps) {
                if (seen.add(p.id)) out.collect(Tuple3.of(p.id, p.name, p.dateTime - Math.floorMod(p.dateTime, WINDOW.toMillis())));
              }
            },
            Types.TUPLE(Types.LONG, Types.STRING, Types.LONG))
        .name("Q8 Window Join");
  }

  /** q11 user sessions: (bidder, bids, session start, session end), session gap 10 s. */
  static DataStream<Tuple4<Long, Long, Long, Long>> q11(DataStream<Bid> bids) {
    // Only the bidder crosses the network (projection pushdown, as Flink SQL plans q11; the same in the weir job).
    return bids.map(b -> b.bidder)
        .returns(Types.LONG)
        .name("Q11 Bidder")
        .keyBy(b -> b)
        .window(EventTimeSessionWindows.withGap(WINDOW))
        .aggregate(new Count<>(), new WithWindow())
        .name("Q11 Sessions");
  }

  /** q12 processing-time windows: (bidder, bids, window start, window end) per 10 s processing-time tumbling window. */
  static DataStream<Tuple4<Long, Long, Long, Long>> q12(DataStream<Bid> bids) {
    return bids.keyBy(b -> b.bidder)
        .window(TumblingProcessingTimeWindows.of(WINDOW))
        .aggregate(new Count<>(), new WithWindow())
        .name("Q12 Proctime Windows");
  }

  // ---- q13-q22 (Flink Nexmark's queries beyond the original suite) ----

  /** Composite keys (bidder, auction) pack as bidder * 2^21 + auction, as in bench/nexmark/lib.ts. */
  static final long KEY_SHIFT = 1L << 21;

  /** Σ (i + 1) · values[i]: a position-sensitive digest of a row of counts. */
  static long weighted(long[] values) {
    long d = 0;
    for (int i = 0; i < values.length; i++) d += (i + 1) * values[i];
    return d;
  }

  /** Minutes of an 'HH:mm' string. */
  static long minutes(String hhmm) {
    return Integer.parseInt(hhmm.substring(0, 2)) * 60L + Integer.parseInt(hhmm.substring(3, 5));
  }

  /** DATE_FORMAT(ts, 'yyyy-MM-dd') in UTC. */
  static String day(long ts) {
    return java.time.LocalDate.ofEpochDay(Math.floorDiv(ts, 86_400_000L)).toString();
  }

  /** DATE_FORMAT(ts, 'HH:mm') in UTC. */
  static String minute(long ts) {
    long m = Math.floorMod(ts / 60_000L, 1440L);
    return String.format(java.util.Locale.ROOT, "%02d:%02d", m / 60, m % 60);
  }

  /** Price rank of the FILTER clauses: 1 below 10,000, 2 below 1,000,000, else 3. */
  static int priceRank(long price) {
    return price < 10_000 ? 1 : price < 1_000_000 ? 2 : 3;
  }

  /** q13 bounded side input join: (auction, bidder, price, dateTime, value of key auction mod 10,000). */
  static DataStream<Tuple5<Long, Long, Long, Long, String>> q13(DataStream<Bid> bids) {
    return bids.map(new SideInputJoin()).returns(Types.TUPLE(Types.LONG, Types.LONG, Types.LONG, Types.LONG, Types.STRING)).name("Q13 Side Input Join");
  }

  /** The side input (keys 0..9999, value = the key's decimal string), loaded once per subtask. */
  static final class SideInputJoin extends RichMapFunction<Bid, Tuple5<Long, Long, Long, Long, String>> {
    private transient Map<Long, String> table;

    @Override
    public void open(OpenContext ctx) {
      table = new HashMap<>();
      for (long k = 0; k < 10_000; k++) table.put(k, Long.toString(k));
    }

    @Override
    public Tuple5<Long, Long, Long, Long, String> map(Bid b) {
      return Tuple5.of(b.auction, b.bidder, b.price, b.dateTime, table.get(b.auction % 10_000));
    }
  }

  /** q14 calculation: bids with 1e6 < 0.908 × price < 5e7, with time-of-day class and count_char(extra, 'c'). */
  static DataStream<Tuple7<Long, Long, Double, String, Long, String, Long>> q14(DataStream<Bid> bids) {
    return bids.filter(b -> 0.908 * b.price > 1_000_000 && 0.908 * b.price < 50_000_000)
        .name("Q14 Filter")
        .map(b -> {
          long h = Math.floorMod(b.dateTime / 3_600_000L, 24L);
          String type = h >= 8 && h <= 18 ? "dayTime" : h <= 6 || h >= 20 ? "nightTime" : "otherTime";
          long c = 0;
          for (int i = 0; i < b.extra.length(); i++) if (b.extra.charAt(i) == 'c') c++;
          return Tuple7.of(b.auction, b.bidder, 0.908 * b.price, type, b.dateTime, b.extra, c);
        })
        .returns(Types.TUPLE(Types.LONG, Types.LONG, Types.DOUBLE, Types.STRING, Types.LONG, Types.STRING, Types.LONG))
        .name("Q14 Calc");
  }

  /** An output row of q15/q16: group columns and the twelve counts (bids, distinct bidders, distinct auctions; each in all and per rank). */
  public static class Stats implements java.io.Serializable {
    public String channel = "";
    public String day = "";
    public String minute = "";
    public long[] counts = new long[12];

    public Stats() {}

    Stats copy() {
      Stats s = new Stats();
      s.channel = channel;
      s.day = day;
      s.minute = minute;
      s.counts = counts.clone();
      return s;
    }
  }

  /** q15/q16's group aggregate: an upsert row per bid; distinct values as MapState value → mask of ranks seen. */
  static final class BidStats extends KeyedProcessFunction<String, Bid, Stats> {
    private final boolean byChannel;
    private transient ValueState<Stats> row;
    private transient MapState<Long, Integer> bidders;
    private transient MapState<Long, Integer> auctions;

    BidStats(boolean byChannel) {
      this.byChannel = byChannel;
    }

    @Override
    public void open(OpenContext ctx) {
      row = getRuntimeContext().getState(new ValueStateDescriptor<>("row", Stats.class));
      bidders = getRuntimeContext().getMapState(new MapStateDescriptor<>("bidders", Types.LONG, Types.INT));
      auctions = getRuntimeContext().getMapState(new MapStateDescriptor<>("auctions", Types.LONG, Types.INT));
    }

    @Override
    public void processElement(Bid b, Context ctx, Collector<Stats> out) throws Exception {
      Stats prev = row.value();
      Stats s;
      if (prev == null) {
        s = new Stats();
        s.day = day(b.dateTime);
        if (byChannel) s.channel = b.channel;
      } else s = prev.copy();
      if (byChannel) {
        String m = minute(b.dateTime);
        if (m.compareTo(s.minute) > 0) s.minute = m;
      }
      int r = priceRank(b.price);
      long[] c = s.counts;
      c[0]++;
      c[r]++;
      int bit = 1 << r;
      Integer bm = bidders.get(b.bidder);
      int bmv = bm == null ? 0 : bm;
      if ((bmv & bit) == 0) {
        if (bmv == 0) c[4]++;
        c[4 + r]++;
        bidders.put(b.bidder, bmv | bit);
      }
      Integer am = auctions.get(b.auction);
      int amv = am == null ? 0 : am;
      if ((amv & bit) == 0) {
        if (amv == 0) c[8]++;
        c[8 + r]++;
        auctions.put(b.auction, amv | bit);
      }
      row.update(s);
      out.collect(s);
    }
  }

  /** q15 bidding statistics per day. */
  static DataStream<Stats> q15(DataStream<Bid> bids) {
    return bids.keyBy(b -> day(b.dateTime)).process(new BidStats(false)).returns(Stats.class).name("Q15 Day Stats");
  }

  /** q16 channel statistics per day. */
  static DataStream<Stats> q16(DataStream<Bid> bids) {
    return bids.keyBy(b -> b.channel + "|" + day(b.dateTime)).process(new BidStats(true)).returns(Stats.class).name("Q16 Channel Stats");
  }

  /** q17's row: auction, day and (total, rank1..3 bids, min, max, avg, sum). */
  public static class AuctionStats implements java.io.Serializable {
    public long auction;
    public String day = "";
    public long[] values = new long[8];

    public AuctionStats() {}
  }

  /** q17 auction statistics per day: an upsert row per bid; AVG of BIGINT truncates. */
  static DataStream<AuctionStats> q17(DataStream<Bid> bids) {
    return bids.keyBy(b -> b.auction * 32_768L + Math.floorDiv(b.dateTime, 86_400_000L))
        .process(new KeyedProcessFunction<Long, Bid, AuctionStats>() {
          private transient ValueState<AuctionStats> row;

          @Override
          public void open(OpenContext ctx) {
            row = getRuntimeContext().getState(new ValueStateDescriptor<>("row", AuctionStats.class));
          }

          @Override
          public void processElement(Bid b, Context ctx, Collector<AuctionStats> out) throws Exception {
            AuctionStats prev = row.value();
            AuctionStats s = new AuctionStats();
            s.auction = b.auction;
            s.day = prev == null ? day(b.dateTime) : prev.day;
            long[] v = s.values;
            if (prev == null) {
              v[4] = b.price;
              v[5] = b.price;
            } else System.arraycopy(prev.values, 0, v, 0, 8);
            v[0]++;
            v[priceRank(b.price)]++;
            v[4] = Math.min(v[4], b.price);
            v[5] = Math.max(v[5], b.price);
            v[7] += b.price;
            v[6] = v[7] / v[0];
            row.update(s);
            out.collect(s);
          }
        })
        .returns(AuctionStats.class)
        .name("Q17 Auction Stats");
  }

  /** q18 last bid per (bidder, auction) by dateTime (row-time deduplication keeping the last row). */
  static DataStream<Bid> q18(DataStream<Bid> bids) {
    return bids.keyBy(b -> b.bidder * KEY_SHIFT + b.auction)
        .process(new KeyedProcessFunction<Long, Bid, Bid>() {
          private transient ValueState<Bid> last;

          @Override
          public void open(OpenContext ctx) {
            last = getRuntimeContext().getState(new ValueStateDescriptor<>("last", Bid.class));
          }

          @Override
          public void processElement(Bid b, Context ctx, Collector<Bid> out) throws Exception {
            Bid prev = last.value();
            if (prev != null && b.dateTime < prev.dateTime) return;
            last.update(b);
            out.collect(b);
          }
        })
        .returns(Bid.class)
        .name("Q18 Dedup");
  }

  /** q19 top 10 bids by price per auction, with rank; a bid entering the top emits every rank it shifts. */
  static DataStream<Tuple2<Bid, Long>> q19(DataStream<Bid> bids) {
    return bids.keyBy(b -> b.auction)
        .process(new KeyedProcessFunction<Long, Bid, Tuple2<Bid, Long>>() {
          private transient ValueState<List<Bid>> top;

          @Override
          public void open(OpenContext ctx) {
            top = getRuntimeContext().getState(new ValueStateDescriptor<>("top", BID_LIST));
          }

          @Override
          public void processElement(Bid b, Context ctx, Collector<Tuple2<Bid, Long>> out) throws Exception {
            List<Bid> prev = top.value();
            if (prev == null) prev = List.of();
            int i = prev.size();
            while (i > 0 && prev.get(i - 1).price < b.price) i--;
            if (i >= 10) return;
            List<Bid> next = new ArrayList<>(Math.min(prev.size() + 1, 10));
            next.addAll(prev.subList(0, i));
            next.add(b);
            for (int j = i; j < prev.size() && next.size() < 10; j++) next.add(prev.get(j));
            top.update(next);
            for (int j = i; j < next.size(); j++) out.collect(Tuple2.of(next.get(j), (long) (j + 1)));
          }
        })
        .returns(Types.TUPLE(TypeInformation.of(Bid.class), Types.LONG))
        .name("Q19 Top 10");
  }

  /** q20 bids joined with their category-10 auction; auction ids are unique, so only bids before their auction wait in state. */
  static DataStream<Tuple2<Bid, Auction>> q20(DataStream<Bid> bids, DataStream<Auction> auctions) {
    return bids.connect(auctions)
        .keyBy(b -> b.auction, a -> a.id)
        .process(new KeyedCoProcessFunction<Long, Bid, Auction, Tuple2<Bid, Auction>>() {
          private transient ValueState<Auction> auction;
          private transient ValueState<Boolean> otherCategory;
          private transient ListState<Bid> early;

          @Override
          public void open(OpenContext ctx) {
            auction = getRuntimeContext().getState(new ValueStateDescriptor<>("auction", Auction.class));
            otherCategory = getRuntimeContext().getState(new ValueStateDescriptor<>("other", Types.BOOLEAN));
            early = getRuntimeContext().getListState(new ListStateDescriptor<>("early", Bid.class));
          }

          @Override
          public void processElement1(Bid b, Context ctx, Collector<Tuple2<Bid, Auction>> out) throws Exception {
            Auction a = auction.value();
            if (a != null) out.collect(Tuple2.of(b, a));
            else if (otherCategory.value() == null) early.add(b);
          }

          @Override
          public void processElement2(Auction a, Context ctx, Collector<Tuple2<Bid, Auction>> out) throws Exception {
            if (a.category == 10) {
              auction.update(a);
              for (Bid b : early.get()) out.collect(Tuple2.of(b, a));
            } else otherCategory.update(true);
            early.clear();
          }
        })
        .returns(Types.TUPLE(TypeInformation.of(Bid.class), TypeInformation.of(Auction.class)))
        .name("Q20 Join");
  }

  static final java.util.regex.Pattern CHANNEL_ID = java.util.regex.Pattern.compile("(&|^)channel_id=([^&]*)");

  /** q21 add channel id: the hot channels' fixed ids, else REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2); rows with neither dropped. */
  static DataStream<Tuple5<Long, Long, Long, String, String>> q21(DataStream<Bid> bids) {
    return bids.flatMap((Bid b, Collector<Tuple5<Long, Long, Long, String, String>> out) -> {
          String id;
          switch (b.channel.toLowerCase(java.util.Locale.ROOT)) {
            case "apple" -> id = "0";
            case "google" -> id = "1";
            case "facebook" -> id = "2";
            case "baidu" -> id = "3";
            default -> {
              java.util.regex.Matcher m = CHANNEL_ID.matcher(b.url);
              id = m.find() ? m.group(2) : null;
            }
          }
          if (id != null) out.collect(Tuple5.of(b.auction, b.bidder, b.price, b.channel, id));
        })
        .returns(Types.TUPLE(Types.LONG, Types.LONG, Types.LONG, Types.STRING, Types.STRING))
        .name("Q21 Channel Id");
  }

  /** q22 URL directory split: SPLIT_INDEX(url, '/', 3..5). */
  static DataStream<Tuple7<Long, Long, Long, String, String, String, String>> q22(DataStream<Bid> bids) {
    return bids.map(b -> {
          String[] parts = b.url.split("/");
          return Tuple7.of(b.auction, b.bidder, b.price, b.channel, parts.length > 3 ? parts[3] : "", parts.length > 4 ? parts[4] : "",
              parts.length > 5 ? parts[5] : "");
        })
        .returns(Types.TUPLE(Types.LONG, Types.LONG, Types.LONG, Types.STRING, Types.STRING, Types.STRING, Types.STRING))
        .name("Q22 Split");
  }
}
