// The Nexmark generator in Java: a line-for-line port of weir's src/connectors/nexmark/generator.ts (event n is a pure function of config and n); its main prints events as JSON for the cross-check.
package dev.weir.bench.flink;

import java.io.Serializable;
import java.util.Random;

/**
 * Generates Nexmark events by number, with the formulas of Beam's {@code Generator} and Flink
 * Nexmark's bid channels. Event {@code n} has event id {@code adjusted(n)}; its random draws come
 * from {@code new Random(eventId ^ seed)}. One instance is not thread-safe (it reuses its Random).
 *
 * <p>Run without Maven for the cross-check: {@code java NexmarkGenerator.java [--rate R] [--seed S]
 * [--ooo G] n1 n2 ...} prints one JSON object per event number.
 */
public final class NexmarkGenerator implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final long FIRST_PERSON_ID = 1000L;
  public static final long FIRST_AUCTION_ID = 1000L;
  public static final long FIRST_CATEGORY_ID = 10L;
  public static final int NUM_CATEGORIES = 5;
  public static final int ID_LEAD = 10;
  public static final int HOT_BATCH = 100;
  public static final int CHANNELS_NUMBER = 10_000;
  /** Beam's NexmarkUtils.BASE_TIME, 2015-07-15T00:00:00Z. */
  public static final long BASE_TIME = 1436918400000L;

  private static final String[] US_STATES = {"AZ", "CA", "ID", "OR", "WA", "WY"};
  private static final String[] US_CITIES = {
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"
  };
  private static final String[] FIRST_NAMES = {
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"
  };
  private static final String[] LAST_NAMES = {"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"};
  private static final String[] HOT_CHANNELS = {"Google", "Facebook", "Baidu", "Apple"};
  private static final int HOT_CHANNELS_RATIO = 2;
  private static final int MIN_STRING_LENGTH = 3;
  private static final String[] HOT_URLS = new String[HOT_CHANNELS.length];
  private static final String[] CHANNEL_NAMES = new String[CHANNELS_NUMBER];
  private static final String[] CHANNEL_URLS = new String[CHANNELS_NUMBER];

  static {
    for (int i = 0; i < HOT_URLS.length; i++) HOT_URLS[i] = baseUrl(new Random(CHANNELS_NUMBER + i));
    for (int c = 0; c < CHANNELS_NUMBER; c++) {
      CHANNEL_NAMES[c] = "channel-" + c;
      Random r = new Random(c);
      String url = baseUrl(r);
      if (r.nextInt(10) > 0) url = url + "&channel_id=" + Math.abs(Integer.reverse(c));
      CHANNEL_URLS[c] = url;
    }
  }

  /** Generator settings; the defaults are Beam's/Flink Nexmark's (and weir's NEXMARK_DEFAULTS). */
  public static final class Config implements Serializable {
    private static final long serialVersionUID = 1L;
    public long events = 1_000_000L;
    public double eventsPerSecond = 10_000;
    public long baseTime = BASE_TIME;
    public long seed = 0;
    public int outOfOrderGroupSize = 1;
    public int personProportion = 1;
    public int auctionProportion = 3;
    public int bidProportion = 46;
    public int avgPersonByteSize = 200;
    public int avgAuctionByteSize = 500;
    public int avgBidByteSize = 100;
    public int hotAuctionRatio = 2;
    public int hotBiddersRatio = 4;
    public int hotSellersRatio = 4;
    public int numActivePeople = 1000;
    public int numInFlightAuctions = 100;
    /** Emit each event when the wall clock reaches its event time (latency runs; the TS source's `realTime`). */
    public boolean realTime = false;
  }

  /** A new person. */
  public static class Person implements Serializable {
    public long id;
    public String name;
    public String emailAddress;
    public String creditCard;
    public String city;
    public String state;
    public long dateTime;
    public String extra;

    public Person() {}
  }

  /** A new auction. */
  public static class Auction implements Serializable {
    public long id;
    public String itemName;
    public String description;
    public long initialBid;
    public long reserve;
    public long dateTime;
    public long expires;
    public long seller;
    public long category;
    public String extra;

    public Auction() {}
  }

  /** A bid. */
  public static class Bid implements Serializable {
    public long auction;
    public long bidder;
    public long price;
    public String channel;
    public String url;
    public long dateTime;
    public String extra;

    public Bid() {}
  }

  /** One event: {@code kind} says which of the three fields is set (Flink Nexmark's Event). */
  public static class Event implements Serializable {
    public static final int PERSON = 0;
    public static final int AUCTION = 1;
    public static final int BID = 2;
    public int kind;
    public Person person;
    public Auction auction;
    public Bid bid;

    public Event() {}

    /** The event time, ms. */
    public long dateTime() {
      return kind == PERSON ? person.dateTime : kind == AUCTION ? auction.dateTime : bid.dateTime;
    }
  }

  private final Config config;
  private final int totalProportion;
  private final double delayUs;
  private final long numEventsForAuctions;
  private final Random rnd = new Random();
  private final char[] buf;

  public NexmarkGenerator(Config config) {
    this.config = config;
    this.totalProportion = config.personProportion + config.auctionProportion + config.bidProportion;
    this.delayUs = 1_000_000.0 / config.eventsPerSecond;
    this.numEventsForAuctions = ((long) config.numInFlightAuctions * totalProportion) / config.auctionProportion;
    this.buf = new char[Math.max(config.avgPersonByteSize, Math.max(config.avgAuctionByteSize, config.avgBidByteSize)) * 2 + 256];
  }

  public Config config() {
    return config;
  }

  /** Event id of event number n (Beam's nextAdjustedEventNumber). */
  public long eventId(long n) {
    long g = config.outOfOrderGroupSize;
    if (g == 1) return n;
    long offset = n % g;
    return n - offset + ((offset * 953) % g);
  }

  public long timestampOfId(long id) {
    return config.baseTime + ((long) (id * delayUs)) / 1000L;
  }

  public long timestamp(long n) {
    return timestampOfId(eventId(n));
  }

  /** Largest lag (ms) of an event behind an earlier-numbered one. */
  public long maxOutOfOrdernessMs() {
    long g = config.outOfOrderGroupSize;
    return g == 1 ? 0 : timestampOfId(g) - timestampOfId(0) + 1;
  }

  public Event event(long n) {
    long id = eventId(n);
    rnd.setSeed(id ^ config.seed);
    long timestamp = timestampOfId(id);
    long rem = id % totalProportion;
    Event e = new Event();
    if (rem < config.personProportion) {
      e.kind = Event.PERSON;
      e.person = person(id, timestamp);
    } else if (rem < config.personProportion + config.auctionProportion) {
      e.kind = Event.AUCTION;
      e.auction = auction(id, timestamp);
    } else {
      e.kind = Event.BID;
      e.bid = bid(id, timestamp);
    }
    return e;
  }

  public long lastBase0PersonId(long id) {
    long epoch = id / totalProportion;
    long offset = id % totalProportion;
    if (offset >= config.personProportion) offset = config.personProportion - 1;
    return epoch * config.personProportion + offset;
  }

  public long lastBase0AuctionId(long id) {
    long epoch = id / totalProportion;
    long offset = id % totalProportion;
    if (offset < config.personProportion) {
      epoch--;
      offset = config.auctionProportion - 1;
    } else if (offset >= config.personProportion + config.auctionProportion) {
      offset = config.auctionProportion - 1;
    } else {
      offset -= config.personProportion;
    }
    return epoch * config.auctionProportion + offset;
  }

  private Person person(long id, long dateTime) {
    Person p = new Person();
    p.id = lastBase0PersonId(id) + FIRST_PERSON_ID;
    p.name = FIRST_NAMES[rnd.nextInt(FIRST_NAMES.length)] + " " + LAST_NAMES[rnd.nextInt(LAST_NAMES.length)];
    int end = writeString(0, 7, ' ');
    buf[end++] = '@';
    end = writeString(end, 5, ' ');
    buf[end++] = '.';
    buf[end++] = 'c';
    buf[end++] = 'o';
    buf[end++] = 'm';
    p.emailAddress = new String(buf, 0, end);
    end = 0;
    for (int i = 0; i < 4; i++) {
      if (i > 0) buf[end++] = ' ';
      int d = rnd.nextInt(10000);
      buf[end++] = (char) ('0' + d / 1000);
      buf[end++] = (char) ('0' + (d / 100) % 10);
      buf[end++] = (char) ('0' + (d / 10) % 10);
      buf[end++] = (char) ('0' + d % 10);
    }
    p.creditCard = new String(buf, 0, end);
    p.city = US_CITIES[rnd.nextInt(US_CITIES.length)];
    p.state = US_STATES[rnd.nextInt(US_STATES.length)];
    int size = 8 + p.name.length() + p.emailAddress.length() + p.creditCard.length() + p.city.length() + p.state.length();
    p.extra = nextExtra(size, config.avgPersonByteSize);
    p.dateTime = dateTime;
    return p;
  }

  private Auction auction(long id, long dateTime) {
    Auction a = new Auction();
    a.id = lastBase0AuctionId(id) + FIRST_AUCTION_ID;
    a.seller =
        (rnd.nextInt(config.hotSellersRatio) > 0 ? (lastBase0PersonId(id) / HOT_BATCH) * HOT_BATCH : nextBase0PersonId(id))
            + FIRST_PERSON_ID;
    a.category = FIRST_CATEGORY_ID + rnd.nextInt(NUM_CATEGORIES);
    a.initialBid = nextPrice();
    long horizonMs = timestampOfId(id + numEventsForAuctions) - dateTime;
    a.expires = dateTime + 1 + nextLong(Math.max(horizonMs * 2, 1L));
    a.itemName = new String(buf, 0, writeString(0, 20, ' '));
    a.description = new String(buf, 0, writeString(0, 100, ' '));
    a.reserve = a.initialBid + nextPrice();
    int size = 8 + a.itemName.length() + a.description.length() + 8 + 8 + 8 + 8 + 8;
    a.extra = nextExtra(size, config.avgAuctionByteSize);
    a.dateTime = dateTime;
    return a;
  }

  private Bid bid(long id, long dateTime) {
    Bid b = new Bid();
    b.auction =
        (rnd.nextInt(config.hotAuctionRatio) > 0 ? (lastBase0AuctionId(id) / HOT_BATCH) * HOT_BATCH : nextBase0AuctionId(id))
            + FIRST_AUCTION_ID;
    b.bidder =
        (rnd.nextInt(config.hotBiddersRatio) > 0 ? (lastBase0PersonId(id) / HOT_BATCH) * HOT_BATCH + 1 : nextBase0PersonId(id))
            + FIRST_PERSON_ID;
    b.price = nextPrice();
    if (rnd.nextInt(HOT_CHANNELS_RATIO) > 0) {
      int i = rnd.nextInt(HOT_CHANNELS.length);
      b.channel = HOT_CHANNELS[i];
      b.url = HOT_URLS[i];
    } else {
      int c = rnd.nextInt(CHANNELS_NUMBER);
      b.channel = CHANNEL_NAMES[c];
      b.url = CHANNEL_URLS[c];
    }
    b.extra = nextExtra(8 + 8 + 8 + 8, config.avgBidByteSize);
    b.dateTime = dateTime;
    return b;
  }

  private long nextBase0PersonId(long id) {
    long numPeople = lastBase0PersonId(id) + 1;
    long active = Math.min(numPeople, config.numActivePeople);
    return numPeople - active + nextLong(active + ID_LEAD);
  }

  private long nextBase0AuctionId(long id) {
    long maxAuction = lastBase0AuctionId(id);
    long minAuction = Math.max(maxAuction - config.numInFlightAuctions, 0);
    return minAuction + nextLong(maxAuction - minAuction + 1 + ID_LEAD);
  }

  private long nextLong(long n) {
    if (n < Integer.MAX_VALUE) return rnd.nextInt((int) n);
    return Math.abs(rnd.nextLong() % n);
  }

  private long nextPrice() {
    return Math.round(Math.pow(10.0, rnd.nextDouble() * 6.0) * 100.0);
  }

  private int writeString(int at, int maxLength, char special) {
    int len = MIN_STRING_LENGTH + rnd.nextInt(maxLength - MIN_STRING_LENGTH);
    int end = at;
    while (len-- > 0) buf[end++] = rnd.nextInt(13) == 0 ? special : (char) ('a' + rnd.nextInt(26));
    if (special != ' ') return end;
    int start = at;
    while (start < end && buf[start] == ' ') start++;
    while (end > start && buf[end - 1] == ' ') end--;
    if (start > at) System.arraycopy(buf, start, buf, at, end - start);
    return at + (end - start);
  }

  private String nextExtra(int currentSize, int averageSize) {
    if (currentSize > averageSize) return "";
    int desired = averageSize - currentSize;
    int delta = (int) Math.round(desired * 0.2);
    int size = desired - delta + (delta == 0 ? 0 : rnd.nextInt(2 * delta));
    int r = 0;
    int left = 0;
    for (int i = 0; i < size; i++) {
      if (left == 0) {
        r = rnd.nextInt();
        left = 6;
      }
      buf[i] = (char) ('a' + r % 26);
      r /= 26;
      left--;
    }
    return new String(buf, 0, size);
  }

  private static String baseUrl(Random r) {
    StringBuilder sb = new StringBuilder("https://www.nexmark.com/");
    for (int p = 0; p < 3; p++) {
      int len = MIN_STRING_LENGTH + r.nextInt(5 - MIN_STRING_LENGTH);
      while (len-- > 0) sb.append(r.nextInt(13) == 0 ? '_' : (char) ('a' + r.nextInt(26)));
      sb.append('/');
    }
    return sb.append("item.htm?query=1").toString();
  }

  // ---- cross-check output -------------------------------------------------------------------

  private static String json(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') sb.append('\\');
      sb.append(c);
    }
    return sb.append('"').toString();
  }

  /** The event as JSON with the field names of weir's flat NexmarkEvent. */
  public static String toJson(Event e) {
    if (e.kind == Event.PERSON) {
      Person p = e.person;
      return "{\"kind\":\"person\",\"id\":" + p.id + ",\"name\":" + json(p.name) + ",\"emailAddress\":" + json(p.emailAddress)
          + ",\"creditCard\":" + json(p.creditCard) + ",\"city\":" + json(p.city) + ",\"state\":" + json(p.state)
          + ",\"dateTime\":" + p.dateTime + ",\"extra\":" + json(p.extra) + "}";
    }
    if (e.kind == Event.AUCTION) {
      Auction a = e.auction;
      return "{\"kind\":\"auction\",\"id\":" + a.id + ",\"itemName\":" + json(a.itemName) + ",\"description\":"
          + json(a.description) + ",\"initialBid\":" + a.initialBid + ",\"reserve\":" + a.reserve + ",\"dateTime\":"
          + a.dateTime + ",\"expires\":" + a.expires + ",\"seller\":" + a.seller + ",\"category\":" + a.category
          + ",\"extra\":" + json(a.extra) + "}";
    }
    Bid b = e.bid;
    return "{\"kind\":\"bid\",\"auction\":" + b.auction + ",\"bidder\":" + b.bidder + ",\"price\":" + b.price
        + ",\"channel\":" + json(b.channel) + ",\"url\":" + json(b.url) + ",\"dateTime\":" + b.dateTime + ",\"extra\":"
        + json(b.extra) + "}";
  }

  /**
   * A digest of one event for bulk cross-checks: the sum of its numeric fields and of the
   * {@code String.hashCode()} of its strings (weir's test computes the same in TypeScript).
   */
  public static long digest(Event e) {
    if (e.kind == Event.PERSON) {
      Person p = e.person;
      return p.id + p.dateTime + (long) p.name.hashCode() + p.emailAddress.hashCode() + p.creditCard.hashCode() + p.city.hashCode()
          + p.state.hashCode() + p.extra.hashCode();
    }
    if (e.kind == Event.AUCTION) {
      Auction a = e.auction;
      return a.id + a.initialBid + a.reserve + a.dateTime + a.expires + a.seller + a.category + (long) a.itemName.hashCode()
          + a.description.hashCode() + a.extra.hashCode();
    }
    Bid b = e.bid;
    return b.auction + b.bidder + b.price + b.dateTime + (long) b.channel.hashCode() + b.url.hashCode() + b.extra.hashCode();
  }

  /**
   * Prints events by number as JSON lines; with {@code --speed N} times generating N events
   * instead; with {@code --digest N} prints the wrapping sum of {@link #digest} over events 0..N-1.
   */
  public static void main(String[] args) {
    Config c = new Config();
    java.util.List<Long> numbers = new java.util.ArrayList<>();
    long speed = 0;
    long digestCount = 0;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rate" -> c.eventsPerSecond = Double.parseDouble(args[++i]);
        case "--seed" -> c.seed = Long.parseLong(args[++i]);
        case "--ooo" -> c.outOfOrderGroupSize = Integer.parseInt(args[++i]);
        case "--speed" -> speed = Long.parseLong(args[++i]);
        case "--digest" -> digestCount = Long.parseLong(args[++i]);
        default -> numbers.add(Long.parseLong(args[i]));
      }
    }
    NexmarkGenerator g = new NexmarkGenerator(c);
    if (digestCount > 0) {
      long sum = 0;
      for (long n = 0; n < digestCount; n++) sum += digest(g.event(n));
      System.out.println("{\"events\":" + digestCount + ",\"digest\":\"" + sum + "\"}");
      return;
    }
    if (speed > 0) {
      for (int rep = 0; rep < 3; rep++) {
        long t0 = System.nanoTime();
        long x = 0;
        for (long n = 0; n < speed; n++) x += g.event(n).dateTime();
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("{\"events\":%d,\"seconds\":%.3f,\"eventsPerSecond\":%.0f,\"sink\":%d}%n", speed, s, speed / s, x);
      }
      return;
    }
    StringBuilder out = new StringBuilder();
    for (long n : numbers) out.append(toJson(g.event(n))).append('\n');
    System.out.print(out);
  }
}
