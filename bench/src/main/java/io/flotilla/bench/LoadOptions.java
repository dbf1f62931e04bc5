package io.flotilla.bench;

import io.flotilla.bench.load.KeyDistribution;
import io.flotilla.bench.load.LoadSettings;
import io.flotilla.bench.load.Workload;
import io.flotilla.bench.load.Workloads;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import picocli.CommandLine.Option;

/** The generator's options, shared by {@code bench load} and {@code bench compare} (a picocli mixin). */
public final class LoadOptions {
  @Option(names = "--workloads", split = ",", defaultValue = "put,get-strong,get-follower,get-stale",
      description = "comma-separated, run in this order: put, get-strong, get-follower, get-stale, scan (10-100 keys), "
          + "ycsb-a ... ycsb-f (default: ${DEFAULT-VALUE})")
  List<String> workloads;

  @Option(names = "--clients", split = ",", defaultValue = "16,64",
      description = "client threads, one request in flight each; a list runs every workload at each (default: ${DEFAULT-VALUE})")
  List<Integer> clients;

  @Option(names = "--seconds", defaultValue = "30", description = "measured seconds per run (default: ${DEFAULT-VALUE})")
  int seconds;

  @Option(names = "--warmup-seconds", defaultValue = "5",
      description = "seconds per run before measuring, not counted (default: ${DEFAULT-VALUE})")
  int warmupSeconds;

  @Option(names = "--store-warmup-seconds", defaultValue = "120",
      description = "before the measured runs, drive the store with every workload in turn at the largest client "
          + "count, unmeasured, at least this long; a store whose members report their JIT compile time (Flotilla) "
          + "is driven on until a round of the workloads cost each member's compiler under 5 %% of a core: a JVM "
          + "compiles its hot paths during its first minutes under load, and a store is measured as it runs in "
          + "service, warm (default: ${DEFAULT-VALUE}; 0 for none)")
  int storeWarmupSeconds;

  @Option(names = "--store-warmup-max-seconds", defaultValue = "1200",
      description = "the longest the store warm-up goes on waiting for the JIT (default: ${DEFAULT-VALUE})")
  int storeWarmupMaxSeconds;

  @Option(names = "--keys", defaultValue = "10000", description = "keys preloaded and read (default: ${DEFAULT-VALUE})")
  int keys;

  @Option(names = "--value-size", defaultValue = "1024", description = "bytes per value (default: ${DEFAULT-VALUE})")
  int valueSize;

  @Option(names = "--distribution", defaultValue = "uniform",
      description = "how put, get-* and scan pick keys: uniform or zipfian; YCSB workloads keep their own "
          + "(default: ${DEFAULT-VALUE})")
  String distribution;

  @Option(names = "--open-loop-rate", paramLabel = "OPS_PER_SECOND",
      description = "offer this many operations per second in total (open loop, latency from the intended send "
          + "time) instead of a closed loop; --clients then caps the requests in flight")
  Double openLoopRate;

  @Option(names = "--timeout-seconds", defaultValue = "10",
      description = "a request unanswered this long counts as an error (default: ${DEFAULT-VALUE})")
  int timeoutSeconds;

  @Option(names = "--seed", defaultValue = "42", description = "seeds keys, values and operation mixes (default: ${DEFAULT-VALUE})")
  long seed;

  /** Every workload, parsed before anything starts, so a typo fails at once. */
  public List<Workload> workloads() {
    return Workloads.parseAll(workloads, KeyDistribution.parse(distribution));
  }

  public List<Integer> clients() {
    return List.copyOf(clients);
  }

  public int keys() {
    return keys;
  }

  public long seed() {
    return seed;
  }

  public LoadSettings settings(int clientCount) {
    return new LoadSettings(clientCount, Duration.ofSeconds(warmupSeconds), Duration.ofSeconds(seconds),
        openLoopRate == null ? 0 : openLoopRate, timeout());
  }

  /** The unmeasured load before the first measured run; zero for none. */
  public Duration storeWarmup() {
    if (storeWarmupSeconds < 0) {
      throw new IllegalArgumentException("--store-warmup-seconds must not be negative");
    }
    return Duration.ofSeconds(storeWarmupSeconds);
  }

  /** The longest the store warm-up waits for the members' compilers to settle. */
  public Duration storeWarmupMax() {
    return Duration.ofSeconds(Math.max(storeWarmupSeconds, storeWarmupMaxSeconds));
  }

  public Duration timeout() {
    return Duration.ofSeconds(timeoutSeconds);
  }

  /** The value every write sends: random bytes (so no store gains from compression), the same for every store. */
  public byte[] value() {
    if (valueSize < 0) {
      throw new IllegalArgumentException("--value-size must not be negative");
    }
    byte[] value = new byte[valueSize];
    new SplittableRandom(seed).nextBytes(value);
    return value;
  }

  /** The run's settings in one line, for the table's caption. */
  public String describe() {
    return keys + " keys, " + valueSize + " B values, " + distribution + " keys for put/get/scan, "
        + (openLoopRate == null ? "closed loop" : "open loop at " + openLoopRate.longValue() + " ops/s") + ", "
        + (storeWarmupSeconds > 0 ? "every workload first, unmeasured, for at least " + storeWarmupSeconds
            + " s and until the JIT settles (at most " + storeWarmupMax().toSeconds() + " s); " : "")
        + warmupSeconds + " s warm-up + " + seconds + " s measured per run";
  }
}
