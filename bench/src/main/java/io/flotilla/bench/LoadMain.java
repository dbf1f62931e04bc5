package io.flotilla.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A closed-loop load generator over the HTTP API: N clients, each sending one request at a
 * time to the nodes in turn, for a fixed duration after a warm-up. Prints one table row per
 * workload: throughput, latency percentiles (HdrHistogram, microsecond precision) and errors.
 *
 * <pre>java -cp ... io.flotilla.bench.LoadMain --nodes http://127.0.0.11:7001,... --workloads put,get</pre>
 */
@Command(name = "load", mixinStandardHelpOptions = true, description = "Closed-loop HTTP load against a Flotilla cluster.")
public final class LoadMain implements Callable<Integer> {
  @Option(names = "--nodes", split = ",", required = true, description = "base URLs of the nodes")
  List<String> nodes;

  @Option(names = "--workloads", split = ",", defaultValue = "put,get",
      description = "put, get (strong), get-follower, get-stale")
  List<String> workloads;

  @Option(names = "--clients", defaultValue = "16")
  int clients;

  @Option(names = "--keys", defaultValue = "10000")
  int keys;

  @Option(names = "--value-size", defaultValue = "1024")
  int valueSize;

  @Option(names = "--seconds", defaultValue = "20")
  int seconds;

  @Option(names = "--warmup-seconds", defaultValue = "5")
  int warmupSeconds;

  @Option(names = "--preload", defaultValue = "true", negatable = true, description = "write every key once first")
  boolean preload;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  public static void main(String[] args) {
    System.exit(new CommandLine(new LoadMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    byte[] value = new byte[valueSize];
    ThreadLocalRandom.current().nextBytes(value);
    if (preload) {
      run("preload", value, 0, keys, true);
    }
    System.out.printf("%-14s %7s %10s %9s %9s %9s %9s %8s%n", "workload", "clients", "ops/s", "p50 ms", "p99 ms",
        "p99.9 ms", "max ms", "errors");
    for (String w : workloads) {
      run(w, value, warmupSeconds, seconds, false);
    }
    return 0;
  }

  private void run(String workload, byte[] value, int warmup, int durationOrCount, boolean once) throws Exception {
    Recorder recorder = new Recorder(3);
    AtomicLong errors = new AtomicLong();
    AtomicLong nextKey = new AtomicLong();
    long start = System.nanoTime();
    long measureFrom = start + warmup * 1_000_000_000L;
    long end = measureFrom + durationOrCount * 1_000_000_000L;
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      Thread t = new Thread(() -> {
        int i = client;
        while (true) {
          String key;
          if (once) {
            long k = nextKey.getAndIncrement();
            if (k >= keys) {
              return;
            }
            key = keyOf(k);
          } else {
            if (System.nanoTime() > end) {
              return;
            }
            key = keyOf(ThreadLocalRandom.current().nextInt(keys));
          }
          String node = nodes.get(i++ % nodes.size());
          HttpRequest req = request(workload, node, key, value);
          long t0 = System.nanoTime();
          boolean ok;
          try {
            ok = http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
          } catch (Exception e) {
            ok = false;
          }
          long t1 = System.nanoTime();
          if (once || t0 >= measureFrom) {
            if (ok) {
              recorder.recordValue(Math.max(1, (t1 - t0) / 1000));
            } else {
              errors.incrementAndGet();
            }
          }
        }
      }, "load-" + c);
      threads.add(t);
      t.start();
    }
    recorder.getIntervalHistogram(); // discard warm-up samples
    for (Thread t : threads) {
      t.join();
    }
    Histogram h = recorder.getIntervalHistogram();
    double secs = once ? (System.nanoTime() - start) / 1e9 : durationOrCount;
    System.out.printf(Locale.ROOT, "%-14s %7d %10.0f %9.2f %9.2f %9.2f %9.2f %8d%n", workload, clients,
        h.getTotalCount() / secs, h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
        h.getValueAtPercentile(99.9) / 1000.0, h.getMaxValue() / 1000.0, errors.get());
  }

  /** Keys spread over the alphabet, so they land in every range of the default layout. */
  static String keyOf(long k) {
    return (char) ('a' + k % 26) + "/bench/" + k;
  }

  private HttpRequest request(String workload, String node, String key, byte[] value) {
    String url = node + "/v1/kv/" + key;
    HttpRequest.Builder b = HttpRequest.newBuilder().timeout(Duration.ofSeconds(15));
    return switch (workload) {
      case "put", "preload" -> b.uri(URI.create(url)).PUT(HttpRequest.BodyPublishers.ofByteArray(value)).build();
      case "get" -> b.uri(URI.create(url + "?raw")).GET().build();
      case "get-follower" -> b.uri(URI.create(url + "?raw&consistency=follower")).GET().build();
      case "get-stale" -> b.uri(URI.create(url + "?raw&consistency=stale")).GET().build();
      default -> throw new IllegalArgumentException("unknown workload " + workload);
    };
  }
}
