// The `nexmark` SQL table connector for Flink (`'connector' = 'nexmark'`): the FLIP-27 NexmarkSource as rows of
// (event_type INT, person ROW, auction ROW, bid ROW), with the option names weir's SQL connector reads.
package dev.weir.bench.flink;

import dev.weir.bench.flink.NexmarkGenerator.Event;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.ScanTableSource;
import org.apache.flink.table.connector.source.SourceProvider;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;

/** Factory of the `nexmark` table source; registered in META-INF/services. */
public final class NexmarkTableFactory implements DynamicTableSourceFactory {
  /**
   * {@link System#nanoTime()} of the first poll of any reader in this JVM (SqlRunner's bench mode: "first record in");
   * Long.MAX_VALUE until then. Reset by SqlRunner before each script.
   */
  static final java.util.concurrent.atomic.AtomicLong FIRST_POLL_NANOS = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);

  static final ConfigOption<Long> EVENTS = ConfigOptions.key("events.num").longType().defaultValue(100_000_000L);
  static final ConfigOption<Double> FIRST_RATE = ConfigOptions.key("first-event.rate").doubleType().noDefaultValue();
  static final ConfigOption<Double> NEXT_RATE = ConfigOptions.key("next-event.rate").doubleType().noDefaultValue();
  static final ConfigOption<Integer> PERSON = ConfigOptions.key("person.proportion").intType().noDefaultValue();
  static final ConfigOption<Integer> AUCTION = ConfigOptions.key("auction.proportion").intType().noDefaultValue();
  static final ConfigOption<Integer> BID = ConfigOptions.key("bid.proportion").intType().noDefaultValue();
  static final ConfigOption<Long> SEED = ConfigOptions.key("nexmark.seed").longType().noDefaultValue();

  @Override
  public String factoryIdentifier() {
    return "nexmark";
  }

  @Override
  public Set<ConfigOption<?>> requiredOptions() {
    return new HashSet<>();
  }

  @Override
  public Set<ConfigOption<?>> optionalOptions() {
    return new HashSet<>(List.of(EVENTS, FIRST_RATE, NEXT_RATE, PERSON, AUCTION, BID, SEED));
  }

  @Override
  public DynamicTableSource createDynamicTableSource(Context context) {
    FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, context);
    helper.validate();
    ReadableConfig o = helper.getOptions();
    NexmarkGenerator.Config config = new NexmarkGenerator.Config();
    config.events = o.get(EVENTS);
    Double first = o.getOptional(FIRST_RATE).orElse(null);
    Double next = o.getOptional(NEXT_RATE).orElse(null);
    if (first != null && next != null && !first.equals(next))
      throw new ValidationException("'first-event.rate' and 'next-event.rate' must be equal (the generator has one rate)");
    if (first != null || next != null) config.eventsPerSecond = first != null ? first : next;
    o.getOptional(PERSON).ifPresent(v -> config.personProportion = v);
    o.getOptional(AUCTION).ifPresent(v -> config.auctionProportion = v);
    o.getOptional(BID).ifPresent(v -> config.bidProportion = v);
    o.getOptional(SEED).ifPresent(v -> config.seed = v);
    RowType row = (RowType) context.getPhysicalRowDataType().getLogicalType();
    return new TableSource(config, row);
  }

  /** The scan source: bounded, insert-only. */
  static final class TableSource implements ScanTableSource {
    private final NexmarkGenerator.Config config;
    private final RowType row;

    TableSource(NexmarkGenerator.Config config, RowType row) {
      this.config = config;
      this.row = row;
    }

    @Override
    public ChangelogMode getChangelogMode() {
      return ChangelogMode.insertOnly();
    }

    @Override
    public ScanRuntimeProvider getScanRuntimeProvider(ScanContext ctx) {
      return SourceProvider.of(new RowSource(config, new RowBuilder(row)));
    }

    @Override
    public DynamicTableSource copy() {
      return new TableSource(config, row);
    }

    @Override
    public String asSummaryString() {
      return "nexmark";
    }
  }

  /** Builds the table's row from an event, by the declared column and field names (any subset, any order). */
  static final class RowBuilder implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final String[] columns;
    private final String[][] fields;

    RowBuilder(RowType row) {
      columns = row.getFieldNames().toArray(new String[0]);
      fields = new String[columns.length][];
      for (int i = 0; i < columns.length; i++) {
        LogicalType t = row.getTypeAt(i);
        String c = columns[i];
        if (c.equals("event_type")) continue;
        if (!(c.equals("person") || c.equals("auction") || c.equals("bid")) || !(t instanceof RowType))
          throw new ValidationException("nexmark table: unknown column '" + c + "' (expected event_type INT, person/auction/bid ROW)");
        fields[i] = ((RowType) t).getFieldNames().toArray(new String[0]);
      }
    }

    RowData build(Event e) {
      GenericRowData out = new GenericRowData(columns.length);
      for (int i = 0; i < columns.length; i++) {
        switch (columns[i]) {
          case "event_type":
            out.setField(i, e.kind);
            break;
          case "person":
            out.setField(i, e.kind == Event.PERSON ? nested(fields[i], f -> person(e.person, f)) : null);
            break;
          case "auction":
            out.setField(i, e.kind == Event.AUCTION ? nested(fields[i], f -> auction(e.auction, f)) : null);
            break;
          default:
            out.setField(i, e.kind == Event.BID ? nested(fields[i], f -> bid(e.bid, f)) : null);
        }
      }
      return out;
    }

    private static GenericRowData nested(String[] names, Function<String, Object> get) {
      GenericRowData r = new GenericRowData(names.length);
      for (int i = 0; i < names.length; i++) r.setField(i, get.apply(names[i]));
      return r;
    }

    private static Object str(String s) {
      return s == null ? null : StringData.fromString(s);
    }

    private static Object ts(long ms) {
      return TimestampData.fromEpochMillis(ms);
    }

    private static Object person(NexmarkGenerator.Person p, String f) {
      switch (f) {
        case "id": return p.id;
        case "name": return str(p.name);
        case "emailAddress": return str(p.emailAddress);
        case "creditCard": return str(p.creditCard);
        case "city": return str(p.city);
        case "state": return str(p.state);
        case "dateTime": return ts(p.dateTime);
        case "extra": return str(p.extra);
        default: throw new IllegalArgumentException("nexmark table: person has no field '" + f + "'");
      }
    }

    private static Object auction(NexmarkGenerator.Auction a, String f) {
      switch (f) {
        case "id": return a.id;
        case "itemName": return str(a.itemName);
        case "description": return str(a.description);
        case "initialBid": return a.initialBid;
        case "reserve": return a.reserve;
        case "dateTime": return ts(a.dateTime);
        case "expires": return ts(a.expires);
        case "seller": return a.seller;
        case "category": return a.category;
        case "extra": return str(a.extra);
        default: throw new IllegalArgumentException("nexmark table: auction has no field '" + f + "'");
      }
    }

    private static Object bid(NexmarkGenerator.Bid b, String f) {
      switch (f) {
        case "auction": return b.auction;
        case "bidder": return b.bidder;
        case "price": return b.price;
        case "channel": return str(b.channel);
        case "url": return str(b.url);
        case "dateTime": return ts(b.dateTime);
        case "extra": return str(b.extra);
        default: throw new IllegalArgumentException("nexmark table: bid has no field '" + f + "'");
      }
    }
  }

  /** NexmarkSource with each event turned into the table's row: same splits, enumerator and checkpoints. */
  static final class RowSource implements Source<RowData, NexmarkSource.Split, Collection<NexmarkSource.Split>> {
    private static final long serialVersionUID = 1L;
    private final NexmarkSource events;
    private final RowBuilder rows;

    RowSource(NexmarkGenerator.Config config, RowBuilder rows) {
      this.events = new NexmarkSource(config);
      this.rows = rows;
    }

    @Override
    public Boundedness getBoundedness() {
      return events.getBoundedness();
    }

    @Override
    public SplitEnumerator<NexmarkSource.Split, Collection<NexmarkSource.Split>> createEnumerator(
        SplitEnumeratorContext<NexmarkSource.Split> ctx) {
      return events.createEnumerator(ctx);
    }

    @Override
    public SplitEnumerator<NexmarkSource.Split, Collection<NexmarkSource.Split>> restoreEnumerator(
        SplitEnumeratorContext<NexmarkSource.Split> ctx, Collection<NexmarkSource.Split> state) {
      return events.restoreEnumerator(ctx, state);
    }

    @Override
    public SimpleVersionedSerializer<NexmarkSource.Split> getSplitSerializer() {
      return events.getSplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<Collection<NexmarkSource.Split>> getEnumeratorCheckpointSerializer() {
      return events.getEnumeratorCheckpointSerializer();
    }

    @Override
    public SourceReader<RowData, NexmarkSource.Split> createReader(SourceReaderContext ctx) throws Exception {
      SourceReader<Event, NexmarkSource.Split> inner = events.createReader(ctx);
      return new SourceReader<>() {
        private ReaderOutput<RowData> last;
        private Mapped mapped;
        private boolean polled;

        @Override
        public void start() {
          inner.start();
        }

        @Override
        public InputStatus pollNext(ReaderOutput<RowData> output) throws Exception {
          if (!polled) {
            polled = true;
            FIRST_POLL_NANOS.accumulateAndGet(System.nanoTime(), Math::min);
          }
          if (output != last) {
            last = output;
            mapped = new Mapped(output, rows);
          }
          return inner.pollNext(mapped);
        }

        @Override
        public List<NexmarkSource.Split> snapshotState(long checkpointId) {
          return inner.snapshotState(checkpointId);
        }

        @Override
        public CompletableFuture<Void> isAvailable() {
          return inner.isAvailable();
        }

        @Override
        public void addSplits(List<NexmarkSource.Split> splits) {
          inner.addSplits(splits);
        }

        @Override
        public void notifyNoMoreSplits() {
          inner.notifyNoMoreSplits();
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) throws Exception {
          inner.notifyCheckpointComplete(checkpointId);
        }

        @Override
        public void close() throws Exception {
          inner.close();
        }
      };
    }
  }

  /** A ReaderOutput of events that writes rows to the real output. */
  static final class Mapped implements ReaderOutput<Event> {
    private final ReaderOutput<RowData> out;
    private final RowBuilder rows;

    Mapped(ReaderOutput<RowData> out, RowBuilder rows) {
      this.out = out;
      this.rows = rows;
    }

    @Override
    public void collect(Event e) {
      out.collect(rows.build(e));
    }

    @Override
    public void collect(Event e, long timestamp) {
      out.collect(rows.build(e), timestamp);
    }

    @Override
    public void emitWatermark(Watermark watermark) {
      out.emitWatermark(watermark);
    }

    @Override
    public void markIdle() {
      out.markIdle();
    }

    @Override
    public void markActive() {
      out.markActive();
    }

    @Override
    public SourceOutput<Event> createOutputForSplit(String splitId) {
      throw new UnsupportedOperationException("per-split output");
    }

    @Override
    public void releaseOutputForSplit(String splitId) {
      out.releaseOutputForSplit(splitId);
    }
  }
}
