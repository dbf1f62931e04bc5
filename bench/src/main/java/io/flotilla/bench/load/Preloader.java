package io.flotilla.bench.load;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes every initial key of a {@link KeySpace} once, so reads find data and both stores start
 * the measured runs holding the same keys. Keys go in batches of 100 through each store's batch
 * API. A batch that fails is sent again a few times (rewriting a key is harmless here); if it
 * still fails the preload fails, since runs over missing data would mislead.
 */
public final class Preloader {
  private static final int ATTEMPTS = 3;
  /** Keys per batch request: within etcd's default limit of 128 ops per transaction. */
  private static final int BATCH = 100;

  private Preloader() {}

  /** Returns how long the preload took. */
  public static Duration preload(StoreApi api, List<Endpoint> endpoints, KeySpace keys, byte[] value, int clients,
      Duration requestTimeout) throws InterruptedException {
    long start = System.nanoTime();
    AtomicLong next = new AtomicLong();
    Map<String, Long> failures = new ConcurrentHashMap<>();
    AtomicLong lost = new AtomicLong();
    Workers.run("preload", clients, client -> {
      try (Connections connections = new Connections(endpoints, client, requestTimeout)) {
        long from;
        while ((from = next.getAndAdd(BATCH)) < keys.initialKeys()) {
          List<String> batch = new ArrayList<>();
          for (long k = from; k < Math.min(keys.initialKeys(), from + BATCH); k++) {
            batch.add(KeySpace.keyOf(k));
          }
          Outcome outcome = null;
          for (int attempt = 0; attempt < ATTEMPTS && (outcome == null || !outcome.succeeded()); attempt++) {
            outcome = writeAll(api, connections.next(), batch, value);
            if (!outcome.succeeded()) {
              failures.merge(outcome.cause(), 1L, Long::sum);
            }
          }
          if (!outcome.succeeded()) {
            lost.addAndGet(batch.size());
          }
        }
      }
    });
    if (lost.get() > 0) {
      throw new IllegalStateException("preloading " + api.name() + " failed: " + lost.get() + " of "
          + keys.initialKeys() + " keys could not be written after " + ATTEMPTS + " attempts; failures: " + failures);
    }
    return Duration.ofNanos(System.nanoTime() - start);
  }

  private static Outcome writeAll(StoreApi api, HttpConnection c, List<String> batch, byte[] value) {
    try {
      return api.writeAll(c, batch, value);
    } catch (java.io.IOException e) {
      return Outcome.failed(Operations.describe(e));
    }
  }
}
