package io.flotilla.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.bench.compare.FlotillaCluster;
import io.flotilla.bench.compare.FlotillaNodeOptions;
import io.flotilla.bench.load.Endpoint;
import io.flotilla.bench.load.HttpConnection;
import io.flotilla.bench.load.HttpResponse;
import io.flotilla.bench.load.MarkdownTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What ranges cost a node when nobody uses them: for each range count, a fresh 3-node cluster
 * with that many ranges (every node holds a replica of each), left alone until every range has
 * a leader or sleeps and the start-up settled, then each node's CPU over a quiet window, its
 * resident memory, live heap after a GC, direct buffers and threads.
 *
 * <p>The nodes run with their own defaults plus {@code --set}, and by default ranges sleep (node
 * setting {@code raft.hibernateAfter}): the window measures sleeping ranges if the written ones
 * fell asleep again before it (see {@code --settle-seconds}). {@code --set
 * raft.hibernateAfter=0s} keeps every range's Raft group running: the baseline, whose idle cost
 * is the groups' own (heartbeats, election timers, log workers). The notes say how many ranges
 * slept after each window.
 */
@Command(name = "idle-ranges", mixinStandardHelpOptions = true,
    description = {"Idle CPU and memory per node of 3-node clusters holding N ranges each, one fresh cluster per N.",
        "Ranges sleep when idle (the nodes' default raft.hibernateAfter); --set raft.hibernateAfter=0s keeps them "
            + "all running, for the cost of ranges that never sleep."})
public final class IdleRangesMain implements Callable<Integer> {
  @Option(names = "--ranges", split = ",", defaultValue = "10,100,1000",
      description = "range counts, one fresh cluster each (default: ${DEFAULT-VALUE})")
  List<Integer> rangeCounts;

  @Option(names = "--settle-seconds", defaultValue = "90",
      description = "quiet time after every range has a leader or sleeps, before measuring; a written range falls "
          + "asleep raft.hibernateAfter after its write, so settle longer than that to measure sleeping ranges "
          + "(default: ${DEFAULT-VALUE})")
  int settleSeconds;

  @Option(names = "--seconds", defaultValue = "60", description = "the measured idle window (default: ${DEFAULT-VALUE})")
  int seconds;

  @Option(names = "--write-first", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "write one key into every range once it is ready, before the settle time, so that every range "
          + "has run (elected a leader, applied a write); --no-write-first leaves them as created, which is asleep "
          + "unless raft.hibernateAfter=0s (default: ${DEFAULT-VALUE})")
  boolean writeFirst;

  @Mixin
  FlotillaNodeOptions nodes;

  @Option(names = "--data", description = "where the clusters keep their data and logs, kept afterwards "
      + "(default: a new temporary directory, deleted after a successful run)")
  Path dataDir;

  private final ObjectMapper json = new ObjectMapper();

  /** One node's footprint after the quiet window. */
  record Footprint(double cpuCoreShare, long rssBytes, long heapLiveBytes, long directBytes, long threads,
      int leads) {
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new IdleRangesMain()).execute(args));
  }

  /** The nodes of one cluster, averaged. */
  record Row(int ranges, List<Footprint> nodes) {
    double cpu() {
      return nodes.stream().mapToDouble(Footprint::cpuCoreShare).average().orElse(0);
    }

    double rss() {
      return nodes.stream().mapToLong(Footprint::rssBytes).average().orElse(0);
    }

    double average(java.util.function.ToLongFunction<Footprint> f) {
      return nodes.stream().mapToLong(f).average().orElse(0);
    }
  }

  @Override
  public Integer call() throws Exception {
    List<Row> rows = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    boolean failed = false;
    try (ScratchDir data = dataDir != null ? ScratchDir.at(dataDir) : ScratchDir.create("flotilla-idle-")) {
      data.keep(); // until every count was measured: a failed run leaves its logs to look at
      System.err.println("data and logs in " + data.path());
      for (int count : rangeCounts) {
        Path dir = Files.createDirectories(data.path().resolve("ranges-" + count));
        try {
          rows.add(new Row(count, measure(count, dir, notes)));
          System.err.println(table(rows));
        } catch (IllegalStateException | IOException e) {
          // A count the machine cannot hold is a result too: say so and go on with the next.
          failed = true;
          notes.add(String.format(Locale.ROOT, "- %d ranges: not measured, the cluster did not come up: %s (logs in %s)",
              count, e.getMessage(), dir));
          System.err.println(notes.get(notes.size() - 1));
        }
      }
      if (!failed && dataDir == null) {
        data.discardOnClose(); // a directory given with --data is the caller's: kept
      }
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "Idle ranges: 3 nodes, replication 3 (every node holds a replica of every range), "
        + "%d s settled, %d s measured; node JVM %s%n%n", settleSeconds, seconds, nodes.nodeJavaOpts());
    System.out.print(table(rows));
    System.out.println();
    System.out.println("The last two columns are the cost of each range added since the row above "
        + "(the first row: over no ranges at all, so it includes the node's own baseline).");
    notes.forEach(System.out::println);
    return failed ? 1 : 0;
  }

  static String table(List<Row> rows) {
    MarkdownTable table = new MarkdownTable("ranges", "leads per node", "idle CPU per node (% of a core)",
        "RSS per node MB", "live heap MB", "direct MB", "threads", "CPU per 1,000 more ranges (% of a core)",
        "RSS per more range MB");
    Row previous = null;
    for (Row r : rows) {
      int added = r.ranges() - (previous == null ? 0 : previous.ranges());
      double cpu = r.cpu() - (previous == null ? 0 : previous.cpu());
      double rss = r.rss() - (previous == null ? 0 : previous.rss());
      table.row(Integer.toString(r.ranges()),
          r.nodes().stream().mapToInt(Footprint::leads).min().orElse(0) + "-"
              + r.nodes().stream().mapToInt(Footprint::leads).max().orElse(0),
          MarkdownTable.number(100 * r.cpu(), 1), mb(r.rss()), mb(r.average(Footprint::heapLiveBytes)),
          mb(r.average(Footprint::directBytes)), MarkdownTable.number(r.average(Footprint::threads), 0),
          added > 0 ? MarkdownTable.number(100 * cpu * 1000 / added, 1) : "-",
          added > 0 ? MarkdownTable.number(rss / added / (1 << 20), 2) : "-");
      previous = r;
    }
    return table.format();
  }

  private List<Footprint> measure(int count, Path dir, List<String> notes) throws IOException, InterruptedException {
    long begun = System.nanoTime();
    try (FlotillaCluster cluster = nodes.start(dir, count, Duration.ofMinutes(5))) {
      awaitLeaders(cluster.endpoints().get(0), count, Duration.ofMinutes(10));
      double ready = (System.nanoTime() - begun) / 1e9;
      System.err.printf(Locale.ROOT, "%d ranges: every range led (or slept) %.1f s after start; settling %d s%n", count, ready,
          settleSeconds);
      notes.add(String.format(Locale.ROOT, "- %d ranges: every range had a leader (or slept) %.1f s after the nodes were started",
          count, ready));
      if (writeFirst) {
        double took = writeEach(cluster.endpoints());
        notes.add(String.format(Locale.ROOT, "- %d ranges: one key written into each in %.1f s, then left alone", count,
            took));
      }
      Thread.sleep(settleSeconds * 1000L);
      List<ProcessHandle> handles = cluster.processes().stream().map(Process::toHandle).toList();
      long[] before = handles.stream().mapToLong(IdleRangesMain::cpuNanos).toArray();
      long t0 = System.nanoTime();
      Thread.sleep(seconds * 1000L);
      long elapsed = System.nanoTime() - t0;
      long[] after = handles.stream().mapToLong(IdleRangesMain::cpuNanos).toArray();
      // who leads what at the end of the window (leaders may move while the cluster settles)
      Map<String, Integer> leads = awaitLeaders(cluster.endpoints().get(0), count, Duration.ofMinutes(1));
      // Said even when none slept: whether ranges slept is what the figures mean.
      notes.add(String.format(Locale.ROOT, "- %d ranges: %d asleep right after the window (raft.hibernateAfter)", count,
          leads.getOrDefault(ASLEEP, 0)));
      List<Footprint> out = new ArrayList<>();
      for (int i = 0; i < handles.size(); i++) {
        Endpoint node = cluster.endpoints().get(i);
        JsonNode gauges = afterGc(node);
        out.add(new Footprint((after[i] - before[i]) / (double) elapsed, rssBytes(handles.get(i).pid()),
            gauge(gauges, "jvm.memory.heap.used"), gauge(gauges, "jvm.buffers.direct.used"),
            gauge(gauges, "jvm.threads.count"), leads.getOrDefault("n" + (i + 1), 0)));
      }
      return out;
    }
  }

  private static final String ASLEEP = "asleep";

  /**
   * Writes one key into every range, 16 at a time over the nodes in turn; returns the seconds it
   * took. A range that sleeps wakes for its write (about one election timeout).
   */
  private double writeEach(List<Endpoint> endpoints) throws IOException, InterruptedException {
    long begun = System.nanoTime();
    JsonNode ranges;
    try (HttpConnection c = new HttpConnection(endpoints.get(0), Duration.ofSeconds(60))) {
      ranges = json.readTree(c.send("GET", "/v1/admin/ranges", null, null).body()).path("ranges");
    }
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(16);
    List<java.util.concurrent.Future<String>> writes = new ArrayList<>();
    int i = 0;
    for (JsonNode range : ranges) {
      // Just past the range's start ('!' sorts before every character a split key here holds).
      String key = range.path("start").asText("") + "!idle";
      Endpoint node = endpoints.get(i++ % endpoints.size());
      writes.add(pool.submit(() -> {
        try (HttpConnection c = new HttpConnection(node, Duration.ofSeconds(60))) {
          HttpResponse r = c.send("PUT", "/v1/kv/" + java.net.URLEncoder.encode(key, java.nio.charset.StandardCharsets.UTF_8),
              "idle".getBytes(java.nio.charset.StandardCharsets.UTF_8), "application/octet-stream");
          return r.status() == 200 ? null
              : "key " + key + ": HTTP " + r.status() + " " + new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
        }
      }));
    }
    pool.shutdown();
    List<String> failures = new ArrayList<>();
    for (java.util.concurrent.Future<String> w : writes) {
      try {
        String failure = w.get();
        if (failure != null) {
          failures.add(failure);
        }
      } catch (java.util.concurrent.ExecutionException e) {
        failures.add(String.valueOf(e.getCause()));
      }
    }
    if (!failures.isEmpty()) {
      throw new IllegalStateException(failures.size() + " of " + writes.size() + " writes failed, first: " + failures.get(0));
    }
    return (System.nanoTime() - begun) / 1e9;
  }

  /**
   * Polls the range list until {@code count} ranges each name a leader or sleep; returns ranges
   * led per node, and under {@link #ASLEEP} how many sleep.
   */
  private Map<String, Integer> awaitLeaders(Endpoint node, int count, Duration timeout)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    try (HttpConnection c = new HttpConnection(node, Duration.ofSeconds(30))) {
      while (System.nanoTime() < deadline) {
        try {
          HttpResponse r = c.send("GET", "/v1/admin/ranges", null, null);
          JsonNode ranges = json.readTree(r.body()).path("ranges");
          Map<String, Integer> leads = new HashMap<>();
          int led = 0;
          for (JsonNode range : ranges) {
            if (range.hasNonNull("leader")) {
              led++;
              leads.merge(range.get("leader").asText(), 1, Integer::sum);
            } else if (range.path("asleep").asBoolean()) {
              led++; // its replicas closed their Raft groups until its next use (raft.hibernateAfter)
              leads.merge(ASLEEP, 1, Integer::sum);
            }
          }
          if (ranges.size() == count && led == count) {
            return leads;
          }
          last = ranges.size() + " ranges, " + led + " led";
        } catch (IOException e) {
          last = e.getMessage();
        }
        Thread.sleep(1000);
      }
    }
    throw new IllegalStateException("not every one of " + count + " ranges had a leader in " + timeout + ": " + last);
  }

  /** The node's gauges right after a full GC (Dropwizard's gc task), so the heap figure is live data. */
  private JsonNode afterGc(Endpoint node) throws IOException {
    try (HttpConnection c = new HttpConnection(node, Duration.ofSeconds(30))) {
      HttpResponse gc = c.send("POST", "/admin/tasks/gc", new byte[0], "text/plain");
      if (gc.status() != 200) {
        throw new IOException("gc task on " + node + " answered " + gc.status());
      }
      HttpResponse metrics = c.send("GET", "/admin/metrics", null, null);
      return json.readTree(metrics.body()).path("gauges");
    }
  }

  private static long gauge(JsonNode gauges, String name) {
    JsonNode value = gauges.path(name).path("value");
    if (!value.isNumber()) {
      throw new IllegalStateException("the node reports no gauge " + name);
    }
    return value.asLong();
  }

  private static long cpuNanos(ProcessHandle p) {
    return p.info().totalCpuDuration()
        .orElseThrow(() -> new IllegalStateException("no CPU time for process " + p.pid())).toNanos();
  }

  /** Resident set size from /proc (Linux), which covers RocksDB's and Netty's native memory too. */
  private static long rssBytes(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IOException("no VmRSS in /proc/" + pid + "/status");
  }

  private static String mb(double bytes) {
    return MarkdownTable.number(bytes / (1 << 20), 0);
  }
}
