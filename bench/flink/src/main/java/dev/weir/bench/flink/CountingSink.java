// The end of every benchmark job: counts output records and sums a per-record digest into accumulators (or the final table of a changelog), then discards them.
package dev.weir.bench.flink;

import java.io.Serializable;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.accumulators.Histogram;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

/**
 * Counts records without printing them. The checksum is the wrapping sum of a digest per record,
 * so it does not depend on the order records arrive in or on the parallelism. For changelog
 * queries (an upsert key given) it keeps the last digest per key and reports the final table
 * (rows and the sum of their digests) when the input ends, as bench/nexmark's Summarizer does. In
 * a real-time run it also records, per record, wall clock − record timestamp in a 1 ms histogram.
 */
public final class CountingSink<T> extends ProcessFunction<T, Void> {
  /** Accumulator names in the JobExecutionResult. */
  public static final String RECORDS = "outputRecords";
  public static final String CHECKSUM = "checksum";
  public static final String LATENCY = "latencyMs";

  /** A record's contribution to the checksum. */
  @FunctionalInterface
  public interface Digest<T> extends Serializable {
    long of(T value);
  }

  /** A record's upsert key. */
  @FunctionalInterface
  public interface Key<T> extends Serializable {
    Object of(T value);
  }

  /** System.nanoTime() of the last sink close in this JVM (after its last record): the end of the steady-state interval. */
  static final AtomicLong LAST_CLOSE_NANOS = new AtomicLong(Long.MIN_VALUE);

  /** Whether sinks attached from now on record latencies (set by NexmarkBench before building). */
  static boolean measureLatency = false;
  /** Records with earlier timestamps are the warm-up: their latency is not recorded. */
  static long latencyFrom = 0L;

  private final Digest<T> digest;
  private final Key<T> key;
  private final boolean latency;
  private final long from;
  private transient LongCounter records;
  private transient LongCounter checksum;
  private transient Histogram latencies;
  private transient HashMap<Object, Long> table;

  CountingSink(Digest<T> digest, Key<T> key, boolean latency, long from) {
    this.digest = digest;
    this.key = key;
    this.latency = latency;
    this.from = from;
  }

  /** Ends {@code stream} in a counting sink. */
  public static <T> void attach(DataStream<T> stream, Digest<T> digest) {
    attach(stream, digest, null);
  }

  /** Ends a changelog {@code stream} in a counting sink over its final table by {@code key} (null: every record counts). */
  public static <T> void attach(DataStream<T> stream, Digest<T> digest, Key<T> key) {
    stream.process(new CountingSink<>(digest, key, measureLatency, latencyFrom)).name("Count").sinkTo(new DiscardingSink<>()).name("Discard");
  }

  @Override
  public void open(OpenContext ctx) {
    records = new LongCounter();
    checksum = new LongCounter();
    getRuntimeContext().addAccumulator(RECORDS, records);
    getRuntimeContext().addAccumulator(CHECKSUM, checksum);
    if (latency) {
      latencies = new Histogram();
      getRuntimeContext().addAccumulator(LATENCY, latencies);
    }
    if (key != null) table = new HashMap<>();
  }

  @Override
  public void processElement(T value, Context ctx, Collector<Void> out) {
    if (table != null) table.put(key.of(value), digest.of(value));
    else {
      records.add(1L);
      checksum.add(digest.of(value));
    }
    if (latencies != null && ctx.timestamp() != null && ctx.timestamp() >= from) {
      long ms = System.currentTimeMillis() - ctx.timestamp();
      if (ms >= 0) latencies.add((int) ms); // negative: a window fired by the end of input, not by time
    }
  }

  @Override
  public void close() throws Exception {
    if (table != null) {
      records.add(table.size());
      long sum = 0;
      for (long d : table.values()) sum += d;
      checksum.add(sum);
      table = null;
    }
    LAST_CLOSE_NANOS.accumulateAndGet(System.nanoTime(), Math::max);
    super.close();
  }
}
