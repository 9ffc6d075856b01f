// The end of every benchmark job: counts output records and sums a per-record digest into accumulators, then discards them.
package dev.weir.bench.flink;

import java.io.Serializable;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

/**
 * Counts records without printing them. The checksum is the wrapping sum of a digest per record,
 * so it does not depend on the order records arrive in or on the parallelism.
 */
public final class CountingSink<T> extends ProcessFunction<T, Void> {
  /** Accumulator names in the JobExecutionResult. */
  public static final String RECORDS = "outputRecords";
  public static final String CHECKSUM = "checksum";

  /** A record's contribution to the checksum. */
  @FunctionalInterface
  public interface Digest<T> extends Serializable {
    long of(T value);
  }

  private final Digest<T> digest;
  private transient LongCounter records;
  private transient LongCounter checksum;

  CountingSink(Digest<T> digest) {
    this.digest = digest;
  }

  /** Ends {@code stream} in a counting sink. */
  public static <T> void attach(DataStream<T> stream, Digest<T> digest) {
    stream.process(new CountingSink<>(digest)).name("Count").sinkTo(new DiscardingSink<>()).name("Discard");
  }

  @Override
  public void open(OpenContext ctx) {
    records = new LongCounter();
    checksum = new LongCounter();
    getRuntimeContext().addAccumulator(RECORDS, records);
    getRuntimeContext().addAccumulator(CHECKSUM, checksum);
  }

  @Override
  public void processElement(T value, Context ctx, Collector<Void> out) {
    records.add(1L);
    checksum.add(digest.of(value));
  }
}
