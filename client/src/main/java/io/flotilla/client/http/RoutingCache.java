package io.flotilla.client.http;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The client's view of which range holds which key, from {@code GET /v1/admin/ranges}.
 *
 * <p>Loaded on first use (a miss: nothing known yet) and refreshed in the background when a
 * caller finds it older than the refresh interval; callers meanwhile keep using the snapshot
 * they have. At most one listing request is in flight. A listing that does not tile the key
 * space is refused and the previous snapshot kept (see {@link RangeMap}). No thread of its own:
 * refreshes run on the HTTP client's threads.
 */
final class RoutingCache {
  private static final String PATH = "/v1/admin/ranges";

  private final Transport transport;
  private final Clock clock;
  private final Duration refreshInterval;
  private final AtomicLong generations = new AtomicLong();
  private final AtomicReference<CompletableFuture<RangeMap>> inFlight = new AtomicReference<>();
  private volatile RangeMap current;
  private volatile long loadedAtMillis;

  RoutingCache(Transport transport, Clock clock, Duration refreshInterval) {
    this.transport = transport;
    this.clock = clock;
    this.refreshInterval = refreshInterval;
  }

  /** A snapshot that tiles the key space: the one held (refreshing it in the background if old), or the first load. */
  CompletableFuture<RangeMap> map() {
    RangeMap m = current;
    if (m == null) {
      return refresh();
    }
    if (clock.millis() - loadedAtMillis >= refreshInterval.toMillis()) {
      refresh(); // the caller goes on with the snapshot it has; the next one gets the new listing
    }
    return CompletableFuture.completedFuture(m);
  }

  /** The latest snapshot, or null before the first load. */
  RangeMap latest() {
    return current;
  }

  /** Lists the ranges now; joins a listing already in flight. */
  CompletableFuture<RangeMap> refresh() {
    CompletableFuture<RangeMap> mine = new CompletableFuture<>();
    CompletableFuture<RangeMap> running = inFlight.compareAndExchange(null, mine);
    if (running != null) {
      return running;
    }
    long startedAt = clock.millis();
    transport.send(Transport.Call.read("GET", PATH)).thenApply(reply -> {
      if (reply.status() != 200) {
        throw Wire.failure(reply, false);
      }
      try {
        return RangeMap.of(Wire.ranges(reply), generations.incrementAndGet());
      } catch (IllegalArgumentException e) {
        throw new FlotillaClientException("unavailable", reply.status(), "the range listing of " + reply.node()
            + " does not cover the key space exactly (" + e.getMessage() + "); keeping the previous one", null,
            null, reply.node(), e);
      }
    }).whenComplete((map, error) -> {
      // a failed listing is retried no sooner than a successful one would be
      loadedAtMillis = startedAt;
      if (map != null) {
        current = map;
      }
      inFlight.set(null);
      if (error != null) {
        mine.completeExceptionally(error);
      } else {
        mine.complete(map);
      }
    });
    return mine;
  }
}
