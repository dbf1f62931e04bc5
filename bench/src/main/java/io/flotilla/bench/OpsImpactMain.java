package io.flotilla.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What range operations cost the clients: loads one range with data, keeps a closed-loop
 * put/get load running on the cluster, and measures the client p99 before and while a move of
 * one of that range's replicas runs (it needs a node without a replica: 4+ nodes), then a
 * split of it. Start the cluster with {@code --set placement.splitSize=1GiB} so the placement
 * driver does not split the loaded range first.
 */
@Command(name = "ops-impact", mixinStandardHelpOptions = true,
    description = "Duration of a split and a replica move of a loaded range, and client p99 before and during each.")
public final class OpsImpactMain implements Callable<Integer> {
  @Option(names = "--nodes", split = ",", required = true, description = "base URLs of the nodes")
  List<String> nodes;

  @Option(names = "--range-mb", defaultValue = "100", description = "data loaded into the range first")
  int rangeMb;

  @Option(names = "--prefix", defaultValue = "h/ops/", description = "key prefix of the loaded range's keys")
  String prefix;

  @Option(names = "--clients", defaultValue = "8")
  int clients;

  @Option(names = "--baseline-seconds", defaultValue = "10")
  int baselineSeconds;

  @Option(names = "--kill-from", paramLabel = "CLUSTER_JSON",
      description = "last, kill -9 a follower replica of the loaded range (its pid from this cluster.json of "
          + "bin/flotilla cluster) and time the repair; start the cluster with a short "
          + "--set placement.nodeDownAfter=5s")
  java.nio.file.Path killFrom;

  /** Nodes the load goes to; a node about to be killed is taken out first. */
  private volatile List<String> targets;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final ObjectMapper json = new ObjectMapper();
  private final byte[] value = new byte[1024];

  public static void main(String[] args) {
    System.exit(new CommandLine(new OpsImpactMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    ThreadLocalRandom.current().nextBytes(value);
    long loadStart = System.nanoTime();
    int keys = load();
    System.out.printf(Locale.ROOT, "loaded %d keys (%d MB) in %.1f s%n", keys, rangeMb, (System.nanoTime() - loadStart) / 1e9);
    JsonNode range = get("/v1/admin/ranges?key=" + prefix + "0");
    long id = range.get("id").asLong();
    System.out.printf(Locale.ROOT, "range %d: approximate size %s, %s keys%n", id, range.get("approximate_size"),
        range.get("key_count"));

    Recorder recorder = new Recorder(3);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong errors = new AtomicLong();
    List<Thread> load = startLoad(keys, recorder, stop, errors);
    try {
      Thread.sleep(2000);
      recorder.getIntervalHistogram();
      Thread.sleep(baselineSeconds * 1000L);
      Histogram before = recorder.getIntervalHistogram();
      System.out.printf("%-34s %10s %12s %12s %8s%n", "phase", "took s", "client p99", "client max", "errors");
      row("baseline", baselineSeconds, before, errors.getAndSet(0));

      // Move one replica of the whole loaded range to a node without one, then split it.
      List<String> replicas = new ArrayList<>();
      get("/v1/admin/ranges/" + id).get("replicas").forEach(n -> replicas.add(n.asText()));
      String to = null;
      for (JsonNode n : get("/v1/admin/cluster").get("nodes")) {
        if (!replicas.contains(n.get("id").asText()) && "up".equals(n.get("state").asText())) {
          to = n.get("id").asText();
        }
      }
      if (to == null) {
        System.out.println("move: skipped (every node holds a replica; start 4 or more nodes)");
      } else {
        String from = replicas.get(replicas.size() - 1);
        long t0 = System.nanoTime();
        post("/v1/admin/ranges/" + id + "/move", "{\"from\": \"" + from + "\", \"to\": \"" + to + "\"}");
        double moveSecs = (System.nanoTime() - t0) / 1e9;
        row(String.format("move %s -> %s (%s B)", from, to, range.get("approximate_size")), moveSecs,
            recorder.getIntervalHistogram(), errors.getAndSet(0));
        Thread.sleep(3000);
        recorder.getIntervalHistogram();
        errors.set(0);
      }

      long t0 = System.nanoTime();
      post("/v1/admin/ranges/" + id + "/split", "{}");
      double splitSecs = (System.nanoTime() - t0) / 1e9;
      row("split (at the middle key)", splitSecs, recorder.getIntervalHistogram(), errors.getAndSet(0));
      if (killFrom != null) {
        repair(id, recorder, errors);
      }
    } finally {
      stop.set(true);
      for (Thread t : load) {
        t.join();
      }
    }
    return 0;
  }

  /**
   * Kills a follower of the loaded range (not the node admin calls go to) and waits until the
   * placement driver re-created every replica it held elsewhere.
   */
  private void repair(long rangeId, Recorder recorder, AtomicLong errors) throws Exception {
    JsonNode range = rangeWithLeader(rangeId);
    JsonNode cluster = json.readTree(killFrom.toFile());
    String victim = null;
    long pid = 0;
    String victimUrl = null;
    for (JsonNode n : cluster.get("nodes")) {
      String nodeId = n.get("id").asText();
      boolean replica = false;
      for (JsonNode r : range.get("replicas")) {
        replica |= r.asText().equals(nodeId);
      }
      if (replica && !nodeId.equals(range.path("leader").asText()) && !n.get("http").asText().equals(nodes.get(0))) {
        victim = nodeId;
        pid = n.get("pid").asLong();
        victimUrl = n.get("http").asText();
      }
    }
    if (victim == null) {
      System.out.println("repair: skipped (no follower of range " + rangeId + " to kill)");
      return;
    }
    String gone = victimUrl;
    targets = nodes.stream().filter(u -> !u.equals(gone)).toList();
    Thread.sleep(3000);
    recorder.getIntervalHistogram();
    errors.set(0);
    long t0 = System.nanoTime();
    ProcessHandle.of(pid).ifPresent(p -> {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    });
    while (true) {
      Thread.sleep(500);
      boolean whole = true;
      for (JsonNode r : get("/v1/admin/ranges").get("ranges")) {
        List<String> replicas = new ArrayList<>();
        r.get("replicas").forEach(n -> replicas.add(n.asText()));
        whole &= replicas.size() >= 3 && !replicas.contains(victim);
      }
      if (whole) {
        break;
      }
    }
    row("repair after kill -9 of " + victim, (System.nanoTime() - t0) / 1e9, recorder.getIntervalHistogram(),
        errors.getAndSet(0));
  }

  /**
   * The range as the first node lists it, once it names a leader. The running load keeps it
   * awake, but a listing can still catch it with none (asleep, or between leaders), and then the
   * leader itself would pass for a follower.
   */
  private JsonNode rangeWithLeader(long rangeId) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    JsonNode range = get("/v1/admin/ranges/" + rangeId);
    while (!range.hasNonNull("leader")) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("range " + rangeId + " named no leader within 30 s: " + range);
      }
      Thread.sleep(200);
      range = get("/v1/admin/ranges/" + rangeId);
    }
    return range;
  }

  private static void row(String phase, double secs, Histogram h, long errors) {
    System.out.printf(Locale.ROOT, "%-34s %10.2f %9.2f ms %9.2f ms %8d%n", phase, secs,
        h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0, errors);
  }

  /** Writes rangeMb of 1 KB values under the prefix with atomic single-range batches of 100. */
  private int load() throws Exception {
    int keys = rangeMb * 1024;
    int batch = 100;
    List<Thread> writers = new ArrayList<>();
    AtomicLong next = new AtomicLong();
    String b64 = Base64.getEncoder().encodeToString(value);
    for (int w = 0; w < 4; w++) {
      int writer = w;
      Thread t = new Thread(() -> {
        long from;
        while ((from = next.getAndAdd(batch)) < keys) {
          StringBuilder body = new StringBuilder("{\"atomic\": false, \"ops\": [");
          for (long k = from; k < Math.min(keys, from + batch); k++) {
            body.append(k == from ? "" : ",").append("{\"op\":\"put\",\"key\":\"").append(prefix).append(k)
                .append("\",\"value\":\"").append(b64).append("\"}");
          }
          body.append("]}");
          try {
            send("POST", nodes.get(writer % nodes.size()) + "/v1/batch", body.toString());
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }
      });
      t.start();
      writers.add(t);
    }
    for (Thread t : writers) {
      t.join();
    }
    return keys;
  }

  private List<Thread> startLoad(int keys, Recorder recorder, AtomicBoolean stop, AtomicLong errors) {
    targets = List.copyOf(nodes);
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      Thread t = new Thread(() -> {
        int i = client;
        while (!stop.get()) {
          String key = prefix + ThreadLocalRandom.current().nextInt(keys);
          List<String> live = targets;
          String node = live.get(i++ % live.size());
          boolean write = (i & 1) == 0;
          HttpRequest.Builder b = HttpRequest.newBuilder().timeout(Duration.ofSeconds(15));
          HttpRequest req = write
              ? b.uri(URI.create(node + "/v1/kv/" + key)).PUT(HttpRequest.BodyPublishers.ofByteArray(value)).build()
              : b.uri(URI.create(node + "/v1/kv/" + key + "?raw")).GET().build();
          long t0 = System.nanoTime();
          boolean ok;
          try {
            ok = http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
          } catch (Exception e) {
            ok = false;
          }
          if (ok) {
            recorder.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
          } else {
            errors.incrementAndGet();
          }
        }
      }, "ops-load-" + c);
      t.start();
      threads.add(t);
    }
    return threads;
  }

  private JsonNode get(String path) throws Exception {
    return json.readTree(send("GET", nodes.get(0) + path, null));
  }

  /** Posts an admin call and, when it answers 202, waits for the operation to finish. */
  private JsonNode post(String path, String body) throws Exception {
    JsonNode answer = json.readTree(send("POST", nodes.get(0) + path, body));
    if (!"running".equals(answer.path("status").asText())) {
      return answer;
    }
    String id = answer.get("operation").asText();
    while (true) {
      Thread.sleep(200);
      for (JsonNode op : get("/v1/admin/operations").get("operations")) {
        if (id.equals(op.get("id").asText()) && !"running".equals(op.get("status").asText())) {
          if (!"succeeded".equals(op.get("status").asText())) {
            throw new IllegalStateException("operation " + id + " failed: " + op);
          }
          return op;
        }
      }
    }
  }

  private String send(String method, String url, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(10));
    b = body == null ? b.GET() : b.method(method, HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> resp = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    if (resp.statusCode() / 100 != 2) {
      throw new IllegalStateException(method + " " + url + " answered " + resp.statusCode() + ": " + resp.body());
    }
    return resp.body();
  }
}
