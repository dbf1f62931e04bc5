package io.flotilla.bench.load;

import java.time.Duration;

/**
 * How hard and how long to drive a store.
 *
 * @param clients client threads, each with one connection per node and one request in flight
 * @param openLoopRate operations per second offered in total (open loop), or 0 for a closed loop
 * @param requestTimeout how long a client waits for one answer before counting a failure
 */
public record LoadSettings(int clients, Duration warmup, Duration measure, double openLoopRate,
    Duration requestTimeout) {
  public LoadSettings {
    if (clients < 1) {
      throw new IllegalArgumentException("--clients must be at least 1");
    }
    if (warmup.isNegative() || measure.isZero() || measure.isNegative()) {
      throw new IllegalArgumentException("--seconds must be positive and --warmup-seconds not negative");
    }
    if (openLoopRate < 0) {
      throw new IllegalArgumentException("--open-loop-rate must be positive (or left out for a closed loop)");
    }
  }

  public boolean openLoop() {
    return openLoopRate > 0;
  }

  public LoadSettings withClients(int newClients) {
    return new LoadSettings(newClients, warmup, measure, openLoopRate, requestTimeout);
  }
}
