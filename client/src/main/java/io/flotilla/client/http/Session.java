package io.flotilla.client.http;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * Key operations with session guarantees, on any node and in any read mode:
 * <ul>
 *   <li>read-your-writes: a read sees every write this session completed before it;
 *   <li>monotonic reads: a read never shows an older state of a range than an earlier read did.
 * </ul>
 *
 * <p>How: the session keeps, per range, the highest revision it has seen (its floor, see {@link
 * SessionFloors}). Every write's {@code revision}, every read's {@code revision} body field or
 * {@code X-Flotilla-Applied-Revision} header, every version seen and every {@code current_version}
 * of a conflict raises the floor of the key's range. A {@code follower} or {@code stale} read
 * sends {@code min_revision=<floor of the key's range>}, so the serving replica first catches up
 * to it (API.md); {@code strong} reads need no floor. Keys map to ranges through the client's
 * routing cache ({@code GET /v1/admin/ranges}), loaded before the session's first call.
 *
 * <p>Not covered: a write that fails with {@link OutcomeUnknownException} (its revision is
 * unknown), and {@link #deleteRange}/{@link #deletePrefix}, whose response carries no revision.
 * Results complete only after the floors are raised, so anything chained on a result is ordered
 * after it. Thread-safe; a session may be shared by threads that want one common history.
 */
public final class Session implements KeyOperations {
  private final HttpKv kv;
  private final RoutingCache routing;
  private final SessionFloors floors;
  private final SessionScan scans;

  Session(HttpKv kv, RoutingCache routing, SessionFloors floors) {
    this.kv = kv;
    this.routing = routing;
    this.floors = floors;
    this.scans = new SessionScan(kv, routing, floors);
  }

  /**
   * The same session (same floors: what one view sees, every view sees) sending its requests to
   * one node only. For example, write on one node and read with {@code stale} on another.
   */
  public Session onNode(String baseUrl) {
    return new Session(new HttpKv(kv.transport().pinned(FlotillaClient.normalize(baseUrl))), routing, floors);
  }

  /** The floor of the range holding {@code key}: the {@code min_revision} its next non-strong read sends. */
  public CompletableFuture<Long> floorOf(String key) {
    return routing.map().thenApply(m -> floors.of(m, KeyOrder.utf8(key)).revision());
  }

  /** The floors by range id (ranges never seen are absent). */
  public CompletableFuture<Map<Long, Long>> floors() {
    return routing.map().thenApply(floors::snapshot);
  }

  @Override
  public CompletableFuture<PutResult> put(String key, byte[] value, PutOptions options) {
    return write(key, () -> kv.put(key, value, options), PutResult::revision);
  }

  @Override
  public CompletableFuture<Optional<KeyValue>> get(String key, Consistency consistency) {
    return routing.map().thenCompose(m -> kv.get(key, consistency, minRevision(m, key, consistency)))
        .thenApply(read -> {
          observe(key, read.revision());
          return read.value();
        });
  }

  @Override
  public CompletableFuture<OptionalLong> version(String key, Consistency consistency) {
    return routing.map().thenCompose(m -> kv.version(key, consistency, minRevision(m, key, consistency)))
        .thenApply(read -> {
          observe(key, read.revision());
          return read.value();
        });
  }

  @Override
  public CompletableFuture<DeleteResult> delete(String key) {
    return write(key, () -> kv.delete(key, null), DeleteResult::revision);
  }

  @Override
  public CompletableFuture<DeleteResult> delete(String key, long ifVersion) {
    return write(key, () -> kv.delete(key, ifVersion), DeleteResult::revision);
  }

  @Override
  public CompletableFuture<IncrResult> incr(String key, long delta) {
    return write(key, () -> kv.incr(key, delta), IncrResult::revision);
  }

  /** A page read piece by piece, each range with its own floor: see {@link SessionScan}. Cursors are the session's own. */
  @Override
  public CompletableFuture<ScanPage> scan(ScanRequest request) {
    return scans.page(request);
  }

  /** Not covered by read-your-writes: the response carries no revision to raise floors with. */
  @Override
  public CompletableFuture<Long> deleteRange(String start, String end) {
    return kv.deleteRange(start, end);
  }

  /** Not covered by read-your-writes: the response carries no revision to raise floors with. */
  @Override
  public CompletableFuture<Long> deletePrefix(String prefix) {
    return kv.deletePrefix(prefix);
  }

  /**
   * Batches need no floor to read (the server reads them {@code strong}); their results raise
   * the floors: writes by their revision, found keys by their version, a failed condition by its
   * {@code current_version}.
   */
  @Override
  public CompletableFuture<BatchResult> batch(boolean atomic, List<BatchOp> ops) {
    List<BatchOp> copy = List.copyOf(ops);
    return routing.map().thenCompose(m -> kv.batch(atomic, copy)).whenComplete((result, error) -> {
      if (error != null) {
        FlotillaClientException e = clientError(error);
        if (e != null && e.failedIndex().isPresent() && e.failedIndex().getAsInt() < copy.size()) {
          observeConflict(copy.get(e.failedIndex().getAsInt()).key(), e);
        }
        return;
      }
      for (BatchOpResult r : result.results()) {
        if (r.error() != null) {
          observeConflict(r.key(), r.error());
        } else if (r.kind() == BatchOp.Kind.GET) {
          observe(r.key(), r.version());
        } else {
          observe(r.key(), r.revision());
        }
      }
    });
  }

  private long minRevision(RangeMap m, String key, Consistency consistency) {
    return consistency == Consistency.STRONG ? 0 : floors.of(m, KeyOrder.utf8(key)).revision();
  }

  /** Runs a write once the routing is known; its revision (or a conflict's current version) raises the floor. */
  private <T> CompletableFuture<T> write(String key, Supplier<CompletableFuture<T>> call, ToLongFunction<T> revision) {
    return routing.map().thenCompose(m -> call.get()).whenComplete((result, error) -> {
      if (error == null) {
        observe(key, revision.applyAsLong(result));
      } else {
        observeConflict(key, clientError(error));
      }
    });
  }

  private void observe(String key, long revision) {
    floors.observe(routing.latest(), KeyOrder.utf8(key), revision);
  }

  /** A version conflict shows the key's current version: the session has now seen at least that revision. */
  private void observeConflict(String key, FlotillaClientException e) {
    if (e != null && "version_conflict".equals(e.code()) && e.currentVersion().isPresent()) {
      observe(key, e.currentVersion().getAsLong());
    }
  }

  private static FlotillaClientException clientError(Throwable t) {
    Throwable c = t;
    while (c instanceof CompletionException && c.getCause() != null) {
      c = c.getCause();
    }
    return c instanceof FlotillaClientException fe ? fe : null;
  }
}
