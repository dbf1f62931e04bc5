package io.flotilla.bench.load;

import io.flotilla.client.http.Consistency;

/**
 * What the clients do: the mix of operations, how they pick keys, the read mode of their reads
 * and the lengths of their scans (drawn uniformly from {@code [minScan, maxScan]}).
 */
public record Workload(String name, OpMix mix, KeyDistribution keys, Consistency readMode, int minScan, int maxScan) {
  public Workload {
    if (minScan < 1 || maxScan < minScan) {
      throw new IllegalArgumentException("scan lengths need 1 <= min <= max, got " + minScan + ".." + maxScan);
    }
  }
}
