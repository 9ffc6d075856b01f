// A bounded FLIP-27 Flink source of Nexmark events: one split per subtask, strided event numbers (subtask i reads i, i+p, ...), checkpointed by next event number.
package dev.weir.bench.flink;

import dev.weir.bench.flink.NexmarkGenerator.Event;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Nexmark events 0..events-1 split as in weir's {@code nexmarkSplit}: split i of p holds the
 * numbers i, i+p, i+2p, ... so every subtask walks the whole event-time range at the same pace.
 * Each record carries its event time as the record timestamp.
 */
public final class NexmarkSource
    implements Source<Event, NexmarkSource.Split, Collection<NexmarkSource.Split>>, ResultTypeQueryable<Event> {
  /**
   * System.nanoTime() of the first event any reader of this JVM emitted (the MiniCluster runs in the
   * benchmark's JVM): the start of the steady-state interval NexmarkBench reports.
   */
  static final AtomicLong FIRST_EVENT_NANOS = new AtomicLong(Long.MAX_VALUE);

  private static final long serialVersionUID = 1L;

  private final NexmarkGenerator.Config config;

  public NexmarkSource(NexmarkGenerator.Config config) {
    this.config = config;
  }

  @Override
  public Boundedness getBoundedness() {
    return Boundedness.BOUNDED;
  }

  @Override
  public SplitEnumerator<Split, Collection<Split>> createEnumerator(SplitEnumeratorContext<Split> ctx) {
    int p = ctx.currentParallelism();
    List<Split> splits = new ArrayList<>(p);
    for (int i = 0; i < p; i++) splits.add(new Split(i, p, i));
    return new Enumerator(ctx, splits);
  }

  @Override
  public SplitEnumerator<Split, Collection<Split>> restoreEnumerator(SplitEnumeratorContext<Split> ctx, Collection<Split> state) {
    return new Enumerator(ctx, state);
  }

  @Override
  public SimpleVersionedSerializer<Split> getSplitSerializer() {
    return new SplitSerializer();
  }

  @Override
  public SimpleVersionedSerializer<Collection<Split>> getEnumeratorCheckpointSerializer() {
    return new SplitsSerializer();
  }

  @Override
  public SourceReader<Event, Split> createReader(SourceReaderContext ctx) {
    return new Reader(config, ctx);
  }

  @Override
  public TypeInformation<Event> getProducedType() {
    return TypeInformation.of(Event.class);
  }

  /** Split {@code index} of {@code step}; {@code next} is the next event number to emit. */
  public static final class Split implements SourceSplit {
    final int index;
    final int step;
    long next;

    Split(int index, int step, long next) {
      this.index = index;
      this.step = step;
      this.next = next;
    }

    @Override
    public String splitId() {
      return index + "/" + step;
    }
  }

  /** Hands split i to subtask i when it asks (any pending split otherwise), then signals the end. */
  static final class Enumerator implements SplitEnumerator<Split, Collection<Split>> {
    private final SplitEnumeratorContext<Split> ctx;
    private final List<Split> pending;

    Enumerator(SplitEnumeratorContext<Split> ctx, Collection<Split> splits) {
      this.ctx = ctx;
      this.pending = new ArrayList<>(splits);
    }

    @Override
    public void start() {}

    @Override
    public void handleSplitRequest(int subtask, String hostname) {
      Split chosen = null;
      for (Iterator<Split> it = pending.iterator(); it.hasNext(); ) {
        Split s = it.next();
        if (s.index == subtask) {
          chosen = s;
          it.remove();
          break;
        }
      }
      if (chosen == null && !pending.isEmpty()) chosen = pending.remove(0);
      if (chosen != null) ctx.assignSplit(chosen, subtask);
      else ctx.signalNoMoreSplits(subtask);
    }

    @Override
    public void addSplitsBack(List<Split> splits, int subtask) {
      pending.addAll(splits);
    }

    @Override
    public void addReader(int subtask) {}

    @Override
    public Collection<Split> snapshotState(long checkpointId) {
      List<Split> copy = new ArrayList<>();
      for (Split s : pending) copy.add(new Split(s.index, s.step, s.next));
      return copy;
    }

    @Override
    public void close() {}
  }

  /** Emits one event per poll from its current split; asks for the next split when one ends. */
  static final class Reader implements SourceReader<Event, Split> {
    private final NexmarkGenerator.Config config;
    private final NexmarkGenerator generator;
    private final ArrayDeque<Split> splits = new ArrayDeque<>();
    private boolean noMoreSplits;
    private CompletableFuture<Void> available = new CompletableFuture<>();
    /** In a real-time run, completes when the wall clock reaches the next event's time. */
    private CompletableFuture<Void> pacing;
    private final SourceReaderContext ctx;
    private boolean emitted;

    Reader(NexmarkGenerator.Config config, SourceReaderContext ctx) {
      this.config = config;
      this.ctx = ctx;
      this.generator = new NexmarkGenerator(config);
    }

    @Override
    public void start() {
      if (splits.isEmpty()) ctx.sendSplitRequest();
    }

    @Override
    public InputStatus pollNext(ReaderOutput<Event> output) {
      Split split = splits.peek();
      if (split == null) return noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
      if (config.realTime) {
        long wait = generator.timestamp(split.next) - System.currentTimeMillis();
        if (wait > 0) {
          pacing = new CompletableFuture<>();
          CompletableFuture<Void> f = pacing;
          CompletableFuture.delayedExecutor(wait, TimeUnit.MILLISECONDS).execute(() -> f.complete(null));
          return InputStatus.NOTHING_AVAILABLE;
        }
      }
      if (!emitted) {
        emitted = true;
        FIRST_EVENT_NANOS.accumulateAndGet(System.nanoTime(), Math::min);
      }
      Event e = generator.event(split.next);
      output.collect(e, e.dateTime());
      split.next += split.step;
      if (split.next >= config.events) {
        splits.poll();
        if (splits.isEmpty()) {
          ctx.sendSplitRequest();
          return noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
        }
      }
      return InputStatus.MORE_AVAILABLE;
    }

    @Override
    public List<Split> snapshotState(long checkpointId) {
      List<Split> copy = new ArrayList<>();
      for (Split s : splits) copy.add(new Split(s.index, s.step, s.next));
      return copy;
    }

    /**
     * Complete whenever a poll would emit or end. The task also asks while data is flowing (after
     * output backpressure clears), so an incomplete future here with a split in hand stalls the job.
     */
    @Override
    public CompletableFuture<Void> isAvailable() {
      if (pacing != null && !pacing.isDone() && !splits.isEmpty()) return pacing;
      return splits.isEmpty() && !noMoreSplits ? available : CompletableFuture.completedFuture(null);
    }

    private void signal() {
      CompletableFuture<Void> f = available;
      available = new CompletableFuture<>();
      f.complete(null);
    }

    @Override
    public void addSplits(List<Split> added) {
      for (Split s : added) if (s.next < config.events) splits.add(s);
      if (splits.isEmpty()) ctx.sendSplitRequest();
      signal();
    }

    @Override
    public void notifyNoMoreSplits() {
      noMoreSplits = true;
      signal();
    }

    @Override
    public void close() {}
  }

  static final class SplitSerializer implements SimpleVersionedSerializer<Split> {
    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(Split s) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(16);
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeInt(s.index);
      out.writeInt(s.step);
      out.writeLong(s.next);
      out.flush();
      return bytes.toByteArray();
    }

    @Override
    public Split deserialize(int version, byte[] data) throws IOException {
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
      return new Split(in.readInt(), in.readInt(), in.readLong());
    }
  }

  static final class SplitsSerializer implements SimpleVersionedSerializer<Collection<Split>> {
    private final SplitSerializer one = new SplitSerializer();

    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(Collection<Split> splits) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeInt(splits.size());
      for (Split s : splits) out.write(one.serialize(s));
      out.flush();
      return bytes.toByteArray();
    }

    @Override
    public Collection<Split> deserialize(int version, byte[] data) throws IOException {
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
      int n = in.readInt();
      List<Split> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) out.add(new Split(in.readInt(), in.readInt(), in.readLong()));
      return out;
    }
  }
}
