// The Flink side of weir's SQL oracle: runs .sql scripts on Flink's TableEnvironment (streaming mode, local MiniCluster)
// and prints, per script, the final table of its last query as JSON lines.
package dev.weir.bench.flink;

import java.math.BigDecimal;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.apache.flink.util.CloseableIterator;

/**
 * {@code SqlRunner [--parallelism N] file.sql...}: for each script, runs its statements in order on a new
 * TableEnvironment; the last statement must be a query (a SELECT, or an {@code INSERT INTO t <query>}, which runs as
 * its query: the sink table is not written). The query's changelog is folded into its final table (+I/+U add a row,
 * -U/-D remove one equal row) and printed: one header line per script, then its rows, one JSON object per line,
 * sorted by their text.
 *
 * <p>Header: {@code {"file": f, "columns": [{"name", "type"}], "rows": n, "error": null | text, "kinds": {"+I": n,
 * "-U": n, "+U": n, "-D": n} (rows of each kind in the query's changelog), "ms": wall time}}.
 * Values: numbers as JSON numbers (DECIMAL in plain notation), TIMESTAMP and TIMESTAMP_LTZ as epoch milliseconds
 * (TIMESTAMP read as UTC), DATE as "yyyy-MM-dd", TIME as "HH:mm:ss[.SSS]", ROW as an object, NaN/±Infinity as strings.
 * The session time zone is UTC.
 */
public final class SqlRunner {
  private SqlRunner() {}

  public static void main(String[] args) throws Exception {
    int parallelism = 1;
    boolean bench = false;
    List<String> files = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--parallelism")) parallelism = Integer.parseInt(args[++i]);
      else if (args[i].equals("--bench")) bench = true;
      else files.add(args[i]);
    }
    if (files.isEmpty()) {
      System.err.println("usage: SqlRunner [--parallelism N] [--bench] file.sql...");
      System.exit(2);
    }
    // One MiniCluster for every script (Flink's local executor would start one per job: seconds each), reached through
    // its REST endpoint as a remote cluster; every class is on the JVM's classpath, so no jar is shipped.
    Configuration clusterConf = new Configuration();
    clusterConf.set(RestOptions.PORT, 0);
    clusterConf.set(RestOptions.BIND_PORT, "0");
    clusterConf.set(RestOptions.ADDRESS, "127.0.0.1");
    clusterConf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
    clusterConf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(128));
    clusterConf.set(TaskManagerOptions.NETWORK_MEMORY_MIN, MemorySize.ofMebiBytes(64));
    clusterConf.set(TaskManagerOptions.NETWORK_MEMORY_MAX, MemorySize.ofMebiBytes(64));
    MiniCluster cluster =
        new MiniCluster(
            new MiniClusterConfiguration.Builder()
                .setConfiguration(clusterConf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(Math.max(parallelism, 4)) // room for a script that SETs parallelism.default up to 4
                .build());
    cluster.start();
    URI rest = cluster.getRestAddress().get();
    // "-": requests from stdin, one per line, "<parallelism> <file>", answered as they come (bench/nexmark/sql/vs-flink.ts
    // keeps one JVM and interleaves its runs with weir's); an empty line or the end of stdin ends.
    boolean fromStdin = files.size() == 1 && files.get(0).equals("-");
    java.io.BufferedReader stdin = fromStdin ? new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8)) : null;
    if (fromStdin) files.clear();
    for (int next = 0; ; next++) {
      String file;
      if (fromStdin) {
        String line = stdin.readLine();
        if (line == null || line.isBlank()) break;
        String[] parts = line.strip().split(" ", 2);
        parallelism = Integer.parseInt(parts[0]);
        file = parts[1];
      } else if (next < files.size()) file = files.get(next);
      else break;
      long start = System.nanoTime();
      StringBuilder header = new StringBuilder();
      List<String> rows = new ArrayList<>();
      String error = null;
      List<String[]> columns = new ArrayList<>();
      long[] timing = null;
      // how many rows of each kind the final query's changelog had (+I, -U, +U, -D; not in bench mode)
      long[] kinds = new long[RowKind.values().length];
      try {
        String script = Files.readString(Path.of(file), StandardCharsets.UTF_8);
        if (bench) timing = runBench(script, parallelism, rest, columns, rows);
        else run(script, parallelism, rest, columns, rows, kinds);
      } catch (Throwable t) {
        error = describe(t);
        rows.clear();
      }
      header.append("{\"file\":").append(json(file)).append(",\"columns\":[");
      for (int i = 0; i < columns.size(); i++) {
        if (i > 0) header.append(',');
        header.append("{\"name\":").append(json(columns.get(i)[0])).append(",\"type\":").append(json(columns.get(i)[1])).append('}');
      }
      header.append("],\"rows\":").append(rows.size()).append(",\"error\":").append(error == null ? "null" : json(error));
      header.append(",\"kinds\":{");
      for (RowKind k : RowKind.values()) header.append(k.ordinal() > 0 ? "," : "").append(json(k.shortString())).append(':').append(kinds[k.ordinal()]);
      header.append('}');
      header.append(",\"ms\":").append((System.nanoTime() - start) / 1_000_000);
      if (timing != null) header.append(",\"runNanos\":").append(timing[0]).append(",\"jobNanos\":").append(timing[1]);
      header.append('}');
      StringBuilder out = new StringBuilder(header).append('\n');
      for (String r : rows) out.append(r).append('\n');
      System.out.print(out);
      System.out.flush();
    }
    cluster.close();
    System.exit(0);
  }

  /** The message of an exception and its causes, one per line (Flink wraps the useful one deep down). */
  private static String describe(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null && b.length() < 4000; c = c.getCause()) {
      if (b.length() > 0) b.append("\ncaused by: ");
      b.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
      if (c.getCause() == c) break;
    }
    return b.toString();
  }

  private static final Pattern INSERT =
      Pattern.compile("(?is)^\\s*INSERT\\s+(?:INTO|OVERWRITE)\\s+(?:`[^`]+`|[\\w.$]+)(?:\\.(?:`[^`]+`|[\\w$]+))*\\s*(?:\\([^)]*\\))?\\s*(.*)$");
  private static final Pattern UPSERT_KEY = Pattern.compile("--\\s*oracle-upsert-key:\\s*([\\w$, ]+)");
  private static final Pattern FLINK_FUNCTION = Pattern.compile("--\\s*oracle-flink-function:\\s*(\\w+)\\s*=\\s*([\\w.$]+)");
  private static final Pattern CREATE_FUNCTION =
      Pattern.compile("(?is)^\\s*CREATE\\s+(?:TEMPORARY\\s+(?:SYSTEM\\s+)?)?FUNCTION\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?(\\w+)\\s+AS\\s+'[^']*'.*$");
  private static final Pattern SET = Pattern.compile("(?is)^\\s*SET\\s+'([^']*)'\\s*=\\s*'([^']*)'\\s*$");
  private static final Pattern QUERY = Pattern.compile("(?is)^\\s*(?:SELECT|WITH|VALUES|\\()\\b.*");

  static void run(String script, int parallelism, URI cluster, List<String[]> columns, List<String> rowsOut, long[] kinds) throws Exception {
    Configuration conf = new Configuration();
    conf.setString("execution.target", "remote");
    conf.set(RestOptions.ADDRESS, cluster.getHost());
    conf.set(RestOptions.PORT, cluster.getPort());
    conf.setString("parallelism.default", String.valueOf(parallelism));
    conf.setString("table.local-time-zone", "UTC");
    // A StreamTableEnvironment, so the result is read through toChangelogStream with ChangelogMode.all(), which
    // carries UPDATE_BEFORE and DELETE: TableResult.collect() delivers an updating query with a unique key (a Top-N per
    // partition) in upsert form, UPDATE_AFTER only, which a fold without the query's unique key cannot apply.
    StreamExecutionEnvironment sEnv = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    StreamTableEnvironment tEnv = StreamTableEnvironment.create(sEnv, EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf).build());
    List<String> statements = split(script);
    if (statements.isEmpty()) throw new IllegalArgumentException("the script has no statement");
    // `-- oracle-flink-function: name = java.Class`: the script's CREATE FUNCTION name (weir's TypeScript module) runs on
    // Flink as a temporary system function of that class
    Map<String, String> flinkFunctions = new java.util.HashMap<>();
    for (Matcher f = FLINK_FUNCTION.matcher(script); f.find(); ) flinkFunctions.put(f.group(1).toLowerCase(), f.group(2));
    for (int i = 0; i < statements.size() - 1; i++) {
      Matcher create = CREATE_FUNCTION.matcher(statements.get(i));
      if (create.matches() && flinkFunctions.containsKey(create.group(1).toLowerCase())) {
        tEnv.executeSql("CREATE TEMPORARY SYSTEM FUNCTION " + create.group(1) + " AS '" + flinkFunctions.get(create.group(1).toLowerCase()) + "'");
        continue;
      }
      // SET 'k' = 'v' is the SQL client's statement, not TableEnvironment's: it sets the table config here.
      Matcher set = SET.matcher(statements.get(i));
      if (set.matches()) {
        tEnv.getConfig().getConfiguration().setString(set.group(1), set.group(2));
        continue;
      }
      TableResult r = tEnv.executeSql(statements.get(i));
      if (r.getJobClient().isPresent()) r.await();
    }
    String last = statements.get(statements.size() - 1);
    String query;
    Matcher m = INSERT.matcher(last);
    if (m.matches()) query = m.group(1);
    else if (QUERY.matcher(last).matches()) query = last;
    else throw new IllegalArgumentException("the script's last statement must be a SELECT or an INSERT INTO ... SELECT, got: " + firstLine(last));
    Table resultTable = tEnv.sqlQuery(query);
    ResolvedSchema schema = resultTable.getResolvedSchema();
    // SQL_ORACLE_EXPLAIN=1 prints Flink's plan of the query to stderr
    if (System.getenv("SQL_ORACLE_EXPLAIN") != null) System.err.println(resultTable.explain(org.apache.flink.table.api.ExplainDetail.CHANGELOG_MODE));
    List<Column> cols = schema.getColumns();
    for (Column c : cols) columns.add(new String[] {c.getName(), c.getDataType().getLogicalType().asSummaryString()});
    TreeMap<String, Integer> table = new TreeMap<>();
    // Flink delivers some updating results in upsert form (UPDATE_AFTER without UPDATE_BEFORE: a Top-1 per partition,
    // Rank's AppendFastStrategy), even to toChangelogStream(…, ChangelogMode.all()). A script names the result's unique
    // key in a comment `-- oracle-upsert-key: col, …`; then a row replaces the one with the same key.
    Matcher upsert = UPSERT_KEY.matcher(script);
    List<Integer> keyColumns = new ArrayList<>();
    if (upsert.find())
      for (String name : upsert.group(1).split(",")) {
        int at = -1;
        for (int i = 0; i < cols.size(); i++) if (cols.get(i).getName().equals(name.strip())) at = i;
        if (at < 0) throw new IllegalArgumentException("oracle-upsert-key: no column '" + name.strip() + "' in the result");
        keyColumns.add(at);
      }
    Map<String, String> byKey = new java.util.HashMap<>();
    try (CloseableIterator<Row> it = tEnv.toChangelogStream(resultTable, Schema.derived(), ChangelogMode.all()).executeAndCollect()) {
      while (it.hasNext()) {
        Row row = it.next();
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < cols.size(); i++) {
          if (i > 0) b.append(',');
          b.append(json(cols.get(i).getName())).append(':');
          value(b, row.getField(i), cols.get(i).getDataType().getLogicalType());
        }
        String key = b.append('}').toString();
        RowKind kind = row.getKind();
        kinds[kind.ordinal()]++;
        if (System.getenv("SQL_ORACLE_TRACE") != null && key.contains(System.getenv("SQL_ORACLE_TRACE"))) System.err.println(kind + " " + key);
        if (!keyColumns.isEmpty()) {
          StringBuilder k = new StringBuilder();
          for (int i : keyColumns) value(k.append('|'), row.getField(i), cols.get(i).getDataType().getLogicalType());
          String old = byKey.remove(k.toString());
          if (old != null) {
            int n = table.get(old);
            if (n == 1) table.remove(old);
            else table.put(old, n - 1);
          }
          if (kind == RowKind.INSERT || kind == RowKind.UPDATE_AFTER) {
            byKey.put(k.toString(), key);
            table.merge(key, 1, Integer::sum);
          }
          continue;
        }
        if (kind == RowKind.INSERT || kind == RowKind.UPDATE_AFTER) table.merge(key, 1, Integer::sum);
        else {
          Integer n = table.get(key);
          if (n == null) throw new IllegalStateException("the changelog retracts a row the table does not hold (" + kind + "): " + key);
          if (n == 1) table.remove(key);
          else table.put(key, n - 1);
        }
      }
    }
    for (Map.Entry<String, Integer> e : table.entrySet()) for (int i = 0; i < e.getValue(); i++) rowsOut.add(e.getKey());
  }

  /**
   * Bench mode ({@code --bench}): runs the script's setup statements, then its final query as a job whose changelog
   * ends in a {@link FoldSink} (the final table folded inside the job, per sink subtask, not collected through the
   * client), and returns {runNanos, jobNanos}: runNanos from the first poll of a nexmark reader
   * ({@link NexmarkTableFactory#FIRST_POLL_NANOS}) to the last sink subtask's end of input; jobNanos from submission to
   * the job's end (deployment included, the MiniCluster's start not). The folded table goes to {@code rowsOut}.
   */
  static long[] runBench(String script, int parallelism, URI cluster, List<String[]> columns, List<String> rowsOut) throws Exception {
    Configuration conf = new Configuration();
    conf.setString("execution.target", "remote");
    conf.set(RestOptions.ADDRESS, cluster.getHost());
    conf.set(RestOptions.PORT, cluster.getPort());
    conf.setString("parallelism.default", String.valueOf(parallelism));
    conf.setString("table.local-time-zone", "UTC");
    StreamExecutionEnvironment sEnv = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    StreamTableEnvironment tEnv = StreamTableEnvironment.create(sEnv, EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf).build());
    List<String> statements = split(script);
    if (statements.isEmpty()) throw new IllegalArgumentException("the script has no statement");
    for (int i = 0; i < statements.size() - 1; i++) {
      Matcher set = SET.matcher(statements.get(i));
      if (set.matches()) {
        tEnv.getConfig().getConfiguration().setString(set.group(1), set.group(2));
        continue;
      }
      TableResult r = tEnv.executeSql(statements.get(i));
      if (r.getJobClient().isPresent()) r.await();
    }
    String last = statements.get(statements.size() - 1);
    Matcher m = INSERT.matcher(last);
    String query = m.matches() ? m.group(1) : last;
    Table resultTable = tEnv.sqlQuery(query);
    List<Column> cols = resultTable.getResolvedSchema().getColumns();
    String[] names = new String[cols.size()];
    LogicalType[] types = new LogicalType[cols.size()];
    for (int i = 0; i < cols.size(); i++) {
      names[i] = cols.get(i).getName();
      types[i] = cols.get(i).getDataType().getLogicalType();
      columns.add(new String[] {names[i], types[i].asSummaryString()});
    }
    // `-- oracle-upsert-key: col, …`: the result comes in upsert form (see run); a row replaces the one of its key
    Matcher upsert = UPSERT_KEY.matcher(script);
    List<Integer> keyList = new ArrayList<>();
    if (upsert.find())
      for (String name : upsert.group(1).split(",")) {
        int at = -1;
        for (int i = 0; i < names.length; i++) if (names[i].equals(name.strip())) at = i;
        if (at < 0) throw new IllegalArgumentException("oracle-upsert-key: no column '" + name.strip() + "' in the result");
        keyList.add(at);
      }
    int[] keyColumns = keyList.stream().mapToInt(Integer::intValue).toArray();
    FoldSink.TABLE.clear();
    FoldSink.LAST_END_NANOS.set(0);
    NexmarkTableFactory.FIRST_POLL_NANOS.set(Long.MAX_VALUE);
    tEnv.toChangelogStream(resultTable, Schema.derived(), ChangelogMode.all())
        .process(new FoldSink(names, types, keyColumns))
        .name("Fold")
        .sinkTo(new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>())
        .name("Discard");
    long submitted = System.nanoTime();
    sEnv.execute("bench " + firstLine(query));
    long ended = System.nanoTime();
    for (Map.Entry<String, Long> e : new TreeMap<>(FoldSink.TABLE).entrySet()) {
      if (e.getValue() < 0) throw new IllegalStateException("the changelog retracts a row the table does not hold: " + e.getKey());
      for (long i = 0; i < e.getValue(); i++) rowsOut.add(e.getKey());
    }
    long first = NexmarkTableFactory.FIRST_POLL_NANOS.get();
    long lastEnd = FoldSink.LAST_END_NANOS.get();
    return new long[] {first == Long.MAX_VALUE || lastEnd == 0 ? -1 : lastEnd - first, ended - submitted};
  }

  /**
   * Folds a changelog into its final table inside the job: +I/+U add one row, -U/-D remove one (a count per row text,
   * which may dip below 0 in a subtask whose retraction's row was added in another; the sum over subtasks is the
   * table). At the end of input, adds its counts into {@link #TABLE} and stamps {@link #LAST_END_NANOS}: the MiniCluster
   * runs in this JVM, so the runner reads both after the job.
   */
  static final class FoldSink extends org.apache.flink.streaming.api.functions.ProcessFunction<Row, Void> {
    static final java.util.concurrent.ConcurrentHashMap<String, Long> TABLE = new java.util.concurrent.ConcurrentHashMap<>();
    static final java.util.concurrent.atomic.AtomicLong LAST_END_NANOS = new java.util.concurrent.atomic.AtomicLong();
    private final String[] names;
    private final LogicalType[] types;
    /** The upsert key's columns (empty: the changelog retracts rows as they are). */
    private final int[] keyColumns;
    private transient java.util.HashMap<String, Long> table;
    private transient java.util.HashMap<String, String> byKey;

    FoldSink(String[] names, LogicalType[] types, int[] keyColumns) {
      this.names = names;
      this.types = types;
      this.keyColumns = keyColumns;
    }

    @Override
    public void open(org.apache.flink.api.common.functions.OpenContext ctx) {
      table = new java.util.HashMap<>();
      byKey = new java.util.HashMap<>();
    }

    @Override
    public void processElement(Row row, Context ctx, org.apache.flink.util.Collector<Void> out) {
      StringBuilder b = new StringBuilder("{");
      for (int i = 0; i < names.length; i++) {
        if (i > 0) b.append(',');
        b.append(json(names[i])).append(':');
        value(b, row.getField(i), types[i]);
      }
      String key = b.append('}').toString();
      RowKind kind = row.getKind();
      boolean add = kind == RowKind.INSERT || kind == RowKind.UPDATE_AFTER;
      if (keyColumns.length > 0) {
        // upsert form: the row replaces its key's row (a key's changes all reach this subtask: the conversion and
        // this function are chained to the operator keyed by it)
        StringBuilder k = new StringBuilder();
        for (int i : keyColumns) value(k.append('|'), row.getField(i), types[i]);
        String old = add ? byKey.put(k.toString(), key) : byKey.remove(k.toString());
        if (old != null) table.merge(old, -1L, Long::sum);
        if (add) table.merge(key, 1L, Long::sum);
        return;
      }
      table.merge(key, add ? 1L : -1L, Long::sum);
    }

    @Override
    public void close() throws Exception {
      if (table != null) {
        LAST_END_NANOS.accumulateAndGet(System.nanoTime(), Math::max);
        for (Map.Entry<String, Long> e : table.entrySet()) if (e.getValue() != 0) TABLE.merge(e.getKey(), e.getValue(), Long::sum);
        TABLE.values().removeIf(v -> v == 0);
        table = null;
      }
      super.close();
    }
  }

  private static String firstLine(String s) {
    String t = s.strip();
    int nl = t.indexOf('\n');
    return nl < 0 ? t : t.substring(0, nl) + " …";
  }

  /**
   * The script's statements, split at semicolons outside quotes ('…', "…", `…`) and comments (--, /* *\/); comments
   * are kept in the statement text, empty statements dropped.
   */
  static List<String> split(String script) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    int n = script.length();
    for (int i = 0; i < n; i++) {
      char c = script.charAt(i);
      if (c == '\'' || c == '"' || c == '`') {
        int j = i + 1;
        while (j < n) {
          if (script.charAt(j) == c) {
            if (j + 1 < n && script.charAt(j + 1) == c) j += 2; // doubled quote
            else break;
          } else j++;
        }
        cur.append(script, i, Math.min(j + 1, n));
        i = j;
      } else if (c == '-' && i + 1 < n && script.charAt(i + 1) == '-') {
        int j = script.indexOf('\n', i);
        if (j < 0) j = n;
        i = j - 1;
        cur.append(' ');
      } else if (c == '/' && i + 1 < n && script.charAt(i + 1) == '*') {
        int j = script.indexOf("*/", i + 2);
        j = j < 0 ? n : j + 2;
        i = j - 1;
        cur.append(' ');
      } else if (c == ';') {
        if (!cur.toString().isBlank()) out.add(cur.toString().strip());
        cur.setLength(0);
      } else cur.append(c);
    }
    if (!cur.toString().isBlank()) out.add(cur.toString().strip());
    return out;
  }

  private static void value(StringBuilder b, Object v, LogicalType type) {
    if (v == null) b.append("null");
    else if (v instanceof String) b.append(json((String) v));
    else if (v instanceof Boolean || v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) b.append(v);
    else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) b.append(json(Double.toString(d)));
      else if (v instanceof Float) b.append(new BigDecimal(Float.toString((Float) v)).toString());
      else b.append(d);
    } else if (v instanceof BigDecimal) b.append(((BigDecimal) v).toPlainString());
    else if (v instanceof LocalDateTime) b.append(((LocalDateTime) v).toInstant(ZoneOffset.UTC).toEpochMilli());
    else if (v instanceof Instant) b.append(((Instant) v).toEpochMilli());
    else if (v instanceof LocalDate || v instanceof LocalTime) b.append(json(v.toString()));
    else if (v instanceof Row) {
      Row r = (Row) v;
      RowType rt = (RowType) type;
      b.append('{');
      for (int i = 0; i < r.getArity(); i++) {
        if (i > 0) b.append(',');
        b.append(json(rt.getFieldNames().get(i))).append(':');
        value(b, r.getField(i), rt.getTypeAt(i));
      }
      b.append('}');
    } else if (v instanceof byte[]) b.append(json(java.util.Base64.getEncoder().encodeToString((byte[]) v)));
    else b.append(json(v.toString()));
  }

  static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': b.append("\\\""); break;
        case '\\': b.append("\\\\"); break;
        case '\n': b.append("\\n"); break;
        case '\r': b.append("\\r"); break;
        case '\t': b.append("\\t"); break;
        default:
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
      }
    }
    return b.append('"').toString();
  }
}
