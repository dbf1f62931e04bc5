package io.flotilla.bench.load;

import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What one run of one workload measured: answered operations (successes and reads of absent
 * keys) with their latencies in microseconds, and failures grouped by cause. Only operations
 * due inside the measured window count.
 *
 * @param failures cause -> count; the sum is {@link #failed()}
 */
public record RunResult(String store, String workload, int clients, double seconds, long ok, long missing,
    Histogram latencyMicros, Map<String, Long> failures) {

  public RunResult {
    failures = Map.copyOf(failures);
  }

  public long answered() {
    return ok + missing;
  }

  public long failed() {
    return failures.values().stream().mapToLong(Long::longValue).sum();
  }

  public double opsPerSecond() {
    return seconds <= 0 ? 0 : answered() / seconds;
  }

  /** The latency at {@code percentile} (0-100) in milliseconds; 0 when nothing was answered. */
  public double millisAt(double percentile) {
    return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getValueAtPercentile(percentile) / 1000.0;
  }

  public double maxMillis() {
    return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getMaxValue() / 1000.0;
  }
}
