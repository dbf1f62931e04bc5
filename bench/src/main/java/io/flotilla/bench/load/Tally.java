package io.flotilla.bench.load;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/** One client's counts and latencies; owned by its thread until the run ends, then merged. */
final class Tally {
  /** Latencies above this (10 minutes) are recorded as this. */
  private static final long MAX_MICROS = TimeUnit.MINUTES.toMicros(10);

  final Histogram latencyMicros = new Histogram(MAX_MICROS, 3);
  final Map<String, Long> failures = new HashMap<>();
  long ok;
  long missing;

  void record(Outcome outcome, long latencyNanos) {
    switch (outcome.kind()) {
      case OK -> ok++;
      case MISSING -> missing++;
      case FAILED -> {
        failures.merge(outcome.cause(), 1L, Long::sum);
        return;
      }
    }
    latencyMicros.recordValue(Math.min(MAX_MICROS, Math.max(1, latencyNanos / 1000)));
  }

  /** Every operation recorded: answered or failed. */
  long count() {
    return ok + missing + failures.values().stream().mapToLong(Long::longValue).sum();
  }

  void addFailures(String cause, long count) {
    if (count > 0) {
      failures.merge(cause, count, Long::sum);
    }
  }

  void add(Tally other) {
    latencyMicros.add(other.latencyMicros);
    other.failures.forEach((cause, n) -> failures.merge(cause, n, Long::sum));
    ok += other.ok;
    missing += other.missing;
  }
}
