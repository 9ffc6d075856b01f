// Command-line entry of the Flink Nexmark benchmark: runs one query on a local MiniCluster with exactly-once checkpoints and prints one JSON line.
package dev.weir.bench.flink;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code --query q5 --events 10000000 --parallelism 2 --checkpoint-interval 10000
 * --state-backend hashmap|rocksdb --object-reuse true|false [--rate 10000] [--managed-memory 256m]
 * [--network-memory 64m] [--base-time ms --real-time true --latency-from ms]}. A real-time run
 * emits each event when the wall clock reaches its event time and reports the sink latency
 * histogram of records stamped from {@code latency-from} on. The setup is documented in bench/flink/README.md.
 */
public final class NexmarkBench {
  private NexmarkBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
      a.put(args[i].substring(2), args[i + 1]);
    }
    String query = a.getOrDefault("query", "q0");
    long events = Long.parseLong(a.getOrDefault("events", "1000000"));
    int parallelism = Integer.parseInt(a.getOrDefault("parallelism", "1"));
    long checkpointInterval = Long.parseLong(a.getOrDefault("checkpoint-interval", "10000"));
    String backend = a.getOrDefault("state-backend", "hashmap");
    boolean objectReuse = Boolean.parseBoolean(a.getOrDefault("object-reuse", "false"));
    double rate = Double.parseDouble(a.getOrDefault("rate", "10000"));
    if (!Queries.NAMES.contains(query)) throw new IllegalArgumentException("unknown query " + query + "; one of " + Queries.NAMES);
    if (!backend.equals("hashmap") && !backend.equals("rocksdb")) throw new IllegalArgumentException("state backend: hashmap or rocksdb");

    Path checkpoints = Files.createTempDirectory("weir-flink-checkpoints-");
    Configuration conf = new Configuration();
    conf.set(TaskManagerOptions.NUM_TASK_SLOTS, parallelism);
    conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse(a.getOrDefault("managed-memory", "256m")));
    MemorySize network = MemorySize.parse(a.getOrDefault("network-memory", "64m"));
    conf.set(TaskManagerOptions.NETWORK_MEMORY_MIN, network);
    conf.set(TaskManagerOptions.NETWORK_MEMORY_MAX, network);
    conf.set(StateBackendOptions.STATE_BACKEND, backend);
    conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
    conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
    conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.STREAMING);

    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
    if (checkpointInterval > 0) env.enableCheckpointing(checkpointInterval, CheckpointingMode.EXACTLY_ONCE);
    if (objectReuse) env.getConfig().enableObjectReuse();
    else env.getConfig().disableObjectReuse();

    NexmarkGenerator.Config config = new NexmarkGenerator.Config();
    config.events = events;
    config.eventsPerSecond = rate;
    if (a.containsKey("base-time")) config.baseTime = Long.parseLong(a.get("base-time"));
    config.realTime = Boolean.parseBoolean(a.getOrDefault("real-time", "false"));
    CountingSink.measureLatency = config.realTime;
    CountingSink.latencyFrom = Long.parseLong(a.getOrDefault("latency-from", "0"));
    Queries.build(query, env, config);

    long t0 = System.nanoTime();
    JobExecutionResult result = env.execute("Nexmark " + query);
    double wall = (System.nanoTime() - t0) / 1e9;
    double seconds = result.getNetRuntime() / 1000.0;
    // Steady state: the first event a source emitted to the last sink's close (start-up and job deployment excluded).
    double steadySeconds = (CountingSink.LAST_CLOSE_NANOS.get() - NexmarkSource.FIRST_EVENT_NANOS.get()) / 1e9;
    Long records = result.getAccumulatorResult(CountingSink.RECORDS);
    Long checksum = result.getAccumulatorResult(CountingSink.CHECKSUM);
    java.util.TreeMap<Integer, Integer> latency = result.getAccumulatorResult(CountingSink.LATENCY);
    StringBuilder pairs = new StringBuilder("[");
    if (latency != null) {
      for (var e : latency.entrySet()) pairs.append(pairs.length() > 1 ? "," : "").append('[').append(e.getKey()).append(',').append(e.getValue()).append(']');
    }
    pairs.append(']');
    deleteQuietly(checkpoints);
    System.out.println(String.format(Locale.ROOT,
        "{\"engine\":\"flink\",\"flinkVersion\":\"%s\",\"query\":\"%s\",\"events\":%d,\"parallelism\":%d,\"stateBackend\":\"%s\","
            + "\"objectReuse\":%b,\"checkpointIntervalMs\":%d,\"seconds\":%.3f,\"wallSeconds\":%.3f,\"eventsPerSecond\":%.0f,\"steadySeconds\":%.3f,\"steadyEventsPerSecond\":%.0f,"
            + "\"outputRecords\":%d,\"checksum\":%d,\"peakRssMb\":%d,\"latency\":%s}",
        org.apache.flink.runtime.util.EnvironmentInformation.getVersion(), query, events, parallelism, backend, objectReuse,
        checkpointInterval, seconds, wall, events / seconds, steadySeconds, events / steadySeconds, records == null ? 0 : records, checksum == null ? 0 : checksum, peakRssMb(), pairs));
  }

  /** VmHWM of this process (the JVM hosting the whole MiniCluster), MiB; -1 where /proc is missing. */
  static long peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | java.io.UncheckedIOException e) {
      // a temp dir left behind is harmless; Flink may still be removing subsumed checkpoints as we walk
    }
  }
}
