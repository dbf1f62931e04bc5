package io.flotilla.bench;

import io.flotilla.bench.load.Endpoint;
import io.flotilla.bench.load.KeySpace;
import io.flotilla.bench.load.LoadRunner;
import io.flotilla.bench.load.LoadSettings;
import io.flotilla.bench.load.MarkdownTable;
import io.flotilla.bench.load.Preloader;
import io.flotilla.bench.load.RunResult;
import io.flotilla.bench.load.StoreApi;
import io.flotilla.bench.load.Workload;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything one store goes through: the preload, then every workload at every client count, in
 * the order given, with a progress line after each run. Every store of a comparison goes through
 * exactly this, with the same options and seed.
 */
final class StoreRuns {
  /** Preload concurrency: enough to keep a 3-node cluster busy, the same for every store. */
  private static final int PRELOAD_CLIENTS = 16;

  private StoreRuns() {}

  static List<RunResult> run(StoreApi api, List<Endpoint> endpoints, LoadOptions options, boolean preload,
      PrintStream progress) throws InterruptedException {
    List<Workload> workloads = options.workloads();
    KeySpace keys = new KeySpace(options.keys());
    byte[] value = options.value();
    if (preload) {
      Duration took = Preloader.preload(api, endpoints, keys, value, PRELOAD_CLIENTS, options.timeout());
      progress.printf("%s: preloaded %d keys in %.1f s%n", api.name(), keys.initialKeys(), took.toMillis() / 1000.0);
    }
    LoadRunner runner = new LoadRunner(api, endpoints, keys, value, options.seed());
    warmUp(api, runner, workloads, options, progress);
    List<RunResult> results = new ArrayList<>();
    for (Workload w : workloads) {
      for (int clients : options.clients()) {
        RunResult r = runner.run(w, options.settings(clients));
        progress.printf("%s: %s x%d: %s ops/s, p50 %s ms, p99 %s ms, %d errors%n", api.name(), w.name(), clients,
            MarkdownTable.number(r.opsPerSecond(), 0), MarkdownTable.number(r.millisAt(50), 2),
            MarkdownTable.number(r.millisAt(99), 2), r.failed());
        results.add(r);
      }
    }
    return results;
  }

  /**
   * Every workload in turn at the largest client count, for the store warm-up in all; results
   * are dropped. On a small machine a JVM node takes minutes of load before its compiler has
   * finished with the request paths (a fresh node spent a third of its CPU in the JIT for the
   * first two minutes); measuring before that measures the compiler.
   */
  private static void warmUp(StoreApi api, LoadRunner runner, List<Workload> workloads, LoadOptions options,
      PrintStream progress) throws InterruptedException {
    Duration total = options.storeWarmup();
    if (total.isZero()) {
      return;
    }
    int clients = java.util.Collections.max(options.clients());
    Duration slice = total.dividedBy(workloads.size());
    if (slice.isZero()) {
      slice = Duration.ofSeconds(1);
    }
    for (Workload w : workloads) {
      runner.run(w, new LoadSettings(clients, Duration.ZERO, slice, 0, options.timeout()));
    }
    progress.printf("%s: warmed up with every workload at %d clients for %d s (not measured)%n", api.name(),
        clients, slice.multipliedBy(workloads.size()).toSeconds());
  }
}
