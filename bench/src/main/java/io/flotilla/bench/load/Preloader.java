package io.flotilla.bench.load;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes every initial key of a {@link KeySpace} once, so reads find data and both stores start
 * the measured runs holding the same keys. A key whose write fails is tried again a few times;
 * if it still fails the preload fails, since runs over missing data would mislead.
 */
public final class Preloader {
  private static final int ATTEMPTS = 3;

  private Preloader() {}

  /** Returns how long the preload took. */
  public static Duration preload(StoreApi api, List<Endpoint> endpoints, KeySpace keys, byte[] value, int clients,
      Duration requestTimeout) throws InterruptedException {
    long start = System.nanoTime();
    AtomicLong next = new AtomicLong();
    Map<String, Long> lastFailures = new ConcurrentHashMap<>();
    AtomicLong lost = new AtomicLong();
    Workers.run("preload", clients, client -> {
      try (Connections connections = new Connections(endpoints, client, requestTimeout)) {
        long k;
        while ((k = next.getAndIncrement()) < keys.initialKeys()) {
          Outcome outcome = null;
          for (int attempt = 0; attempt < ATTEMPTS && (outcome == null || !outcome.succeeded()); attempt++) {
            outcome = write(api, connections.next(), KeySpace.keyOf(k), value);
            if (!outcome.succeeded()) {
              lastFailures.merge(outcome.cause(), 1L, Long::sum);
            }
          }
          if (!outcome.succeeded()) {
            lost.incrementAndGet();
          }
        }
      }
    });
    if (lost.get() > 0) {
      throw new IllegalStateException("preloading " + api.name() + " failed: " + lost.get() + " of "
          + keys.initialKeys() + " keys could not be written after " + ATTEMPTS + " attempts; failures: "
          + lastFailures);
    }
    return Duration.ofNanos(System.nanoTime() - start);
  }

  private static Outcome write(StoreApi api, HttpConnection c, String key, byte[] value) {
    try {
      return api.write(c, key, value);
    } catch (java.io.IOException e) {
      return Outcome.failed(Operations.describe(e));
    }
  }
}
