package io.flotilla.bench.load;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Drives one store with one workload: {@link LoadSettings#clients()} threads, closed or open loop
 * ({@link Pacer}), a warm-up whose operations are not counted, then the measured window.
 * Each client draws from its own random source seeded from {@code seed} and its index, so two
 * stores run with the same seed get the same sequence of operations per client.
 */
public final class LoadRunner {
  /** How long an open-loop run may go on past its end to send what fell behind. */
  private static final long DRAIN_NANOS = 2_000_000_000L;

  private final StoreApi api;
  private final List<Endpoint> endpoints;
  private final KeySpace keys;
  private final byte[] value;
  private final long seed;

  public LoadRunner(StoreApi api, List<Endpoint> endpoints, KeySpace keys, byte[] value, long seed) {
    this.api = api;
    this.endpoints = List.copyOf(endpoints);
    this.keys = keys;
    this.value = value.clone();
    this.seed = seed;
  }

  public RunResult run(Workload workload, LoadSettings settings) throws InterruptedException {
    long start = System.nanoTime();
    long measureFrom = start + settings.warmup().toNanos();
    long end = measureFrom + settings.measure().toNanos();
    Pacer pacer = settings.openLoop()
        ? Pacer.openLoop(settings.openLoopRate(), start, measureFrom, end, DRAIN_NANOS)
        : Pacer.closedLoop(end);
    Tally total = drive(workload, settings.clients(), settings.requestTimeout(), pacer, measureFrom);
    if (settings.openLoop()) {
      long due = Pacer.openLoopSlots(settings.openLoopRate(), start, measureFrom, end);
      total.addFailures("not sent: the offered rate was above what the clients could send", due - total.count());
    }
    return new RunResult(api.name(), workload.name(), settings.clients(), settings.measure().toNanos() / 1e9,
        total.ok, total.missing, total.latencyMicros, total.failures);
  }

  /** Runs the clients until the pacer says done; counts what was due from {@code measureFrom} on. */
  Tally drive(Workload workload, int clients, Duration requestTimeout, Pacer pacer, long measureFrom)
      throws InterruptedException {
    Operations operations = new Operations(api, workload, keys, value);
    Tally[] tallies = new Tally[clients];
    Workers.run("load-" + workload.name(), clients, client -> {
      Tally tally = new Tally();
      tallies[client] = tally;
      SplittableRandom random = new SplittableRandom(seed * 1_000_003L + client);
      try (Connections connections = new Connections(endpoints, client, requestTimeout)) {
        long due;
        while ((due = pacer.awaitNext()) != Pacer.DONE) {
          Outcome outcome = operations.execute(workload.mix().pick(random), connections, random);
          if (due >= measureFrom) {
            tally.record(outcome, System.nanoTime() - due);
          }
        }
      }
    });
    Tally total = new Tally();
    for (Tally t : tallies) {
      total.add(t);
    }
    return total;
  }
}
