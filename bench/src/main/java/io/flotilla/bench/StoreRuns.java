package io.flotilla.bench;

import io.flotilla.bench.load.Endpoint;
import io.flotilla.bench.load.HttpConnection;
import io.flotilla.bench.load.KeySpace;
import io.flotilla.bench.load.LoadRunner;
import io.flotilla.bench.load.LoadSettings;
import io.flotilla.bench.load.MarkdownTable;
import io.flotilla.bench.load.Preloader;
import io.flotilla.bench.load.RunResult;
import io.flotilla.bench.load.StoreApi;
import io.flotilla.bench.load.Workload;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * Everything one store goes through: the preload, then every workload at every client count, in
 * the order given, with a progress line after each run. Every store of a comparison goes through
 * exactly this, with the same options and seed.
 */
final class StoreRuns {
  /** Preload concurrency: enough to keep a 3-node cluster busy, the same for every store. */
  private static final int PRELOAD_CLIENTS = 16;

  private StoreRuns() {}

  /** The measured runs, and how the store was warmed up before them (empty if it was not). */
  record Runs(List<RunResult> results, String warmUp) {}

  static Runs run(StoreApi api, List<Endpoint> endpoints, LoadOptions options, boolean preload,
      PrintStream progress) throws InterruptedException {
    List<Workload> workloads = options.workloads();
    KeySpace keys = new KeySpace(options.keys());
    byte[] value = options.value();
    if (preload) {
      Duration took = Preloader.preload(api, endpoints, keys, value, PRELOAD_CLIENTS, options.timeout());
      progress.printf("%s: preloaded %d keys in %.1f s%n", api.name(), keys.initialKeys(), took.toMillis() / 1000.0);
    }
    LoadRunner runner = new LoadRunner(api, endpoints, keys, value, options.seed());
    String warmUp = warmUp(api, endpoints, runner, workloads, options, progress);
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
    return new Runs(results, warmUp);
  }

  /**
   * Every workload in turn at the largest client count, results dropped, in rounds: for at
   * least {@code --store-warmup-seconds}, then, for a store whose members report their JIT's
   * compile time, on until one whole round cost each member's compiler under
   * {@link #SETTLED_COMPILE_SHARE} of a core (at most {@code --store-warmup-max-seconds}). On
   * this small machine a fresh node's compiler takes a third of its CPU for minutes under load
   * and the write path reaches speed last: measuring before that measures the compiler.
   */
  private static String warmUp(StoreApi api, List<Endpoint> endpoints, LoadRunner runner, List<Workload> workloads,
      LoadOptions options, PrintStream progress) throws InterruptedException {
    Duration least = options.storeWarmup();
    Duration most = options.storeWarmupMax();
    if (least.isZero()) {
      return "";
    }
    int clients = java.util.Collections.max(options.clients());
    Duration slice = least.dividedBy(workloads.size());
    slice = slice.compareTo(MAX_SLICE) > 0 ? MAX_SLICE : slice.isZero() ? Duration.ofSeconds(1) : slice;
    long start = System.nanoTime();
    OptionalLong compiled = compileMillis(api, endpoints, progress);
    boolean settled = false;
    for (int round = 1; ; round++) {
      long roundStart = System.nanoTime();
      for (Workload w : workloads) {
        runner.run(w, new LoadSettings(clients, Duration.ZERO, slice, 0, options.timeout()));
      }
      long roundMillis = Math.max(1, (System.nanoTime() - roundStart) / 1_000_000);
      OptionalLong now = compileMillis(api, endpoints, progress);
      String jit = "";
      settled = true; // a store that does not report its compiler has nothing to wait for
      if (compiled.isPresent() && now.isPresent()) {
        double share = (now.getAsLong() - compiled.getAsLong()) / (double) (roundMillis * endpoints.size());
        settled = share < SETTLED_COMPILE_SHARE;
        jit = String.format(Locale.ROOT, "; JIT compiling %.1f %% of a core per member", share * 100);
      }
      compiled = now;
      Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
      progress.printf("%s: warm-up round %d (%d s in)%s%n", api.name(), round, elapsed.toSeconds(), jit);
      if ((settled && elapsed.compareTo(least) >= 0) || elapsed.compareTo(most) >= 0) {
        break;
      }
    }
    String done = String.format(Locale.ROOT, "warmed up with every workload at %d clients for %d s%s", clients,
        Duration.ofNanos(System.nanoTime() - start).toSeconds(),
        compiled.isEmpty() ? "" : settled ? ", until the JIT settled" : ", the JIT still compiling when the time ran out");
    progress.printf("%s: %s (not measured)%n", api.name(), done);
    return done;
  }

  /** A warm-up round after which each member's compiler used less than this share of a core: warm. */
  static final double SETTLED_COMPILE_SHARE = 0.05;
  /** The longest one workload runs at a time during the warm-up. */
  private static final Duration MAX_SLICE = Duration.ofSeconds(30);

  /** The members' compile time in all, or empty if any does not tell (or could not be asked). */
  private static OptionalLong compileMillis(StoreApi api, List<Endpoint> endpoints, PrintStream progress) {
    long sum = 0;
    for (Endpoint e : endpoints) {
      try (HttpConnection c = new HttpConnection(e, Duration.ofSeconds(5))) {
        OptionalLong m = api.compileMillis(c);
        if (m.isEmpty()) {
          return m;
        }
        sum += m.getAsLong();
      } catch (IOException ex) {
        progress.printf("%s: could not read the JIT compile time of %s: %s%n", api.name(), e, ex.getMessage());
        return OptionalLong.empty();
      }
    }
    return OptionalLong.of(sum);
  }
}
