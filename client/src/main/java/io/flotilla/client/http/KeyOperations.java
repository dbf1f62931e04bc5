package io.flotilla.client.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * Every key operation of shared/API.md ("Keys" and "Batches"), asynchronous. Implemented by
 * {@link FlotillaClient} (each call on its own) and {@link Session} (calls that also keep
 * read-your-writes and monotonic reads). Futures fail with {@link FlotillaClientException}.
 */
public interface KeyOperations {
  /** {@code PUT /v1/kv/{key}}. */
  CompletableFuture<PutResult> put(String key, byte[] value, PutOptions options);

  default CompletableFuture<PutResult> put(String key, byte[] value) {
    return put(key, value, PutOptions.none());
  }

  /** {@code GET /v1/kv/{key}}: empty when the key does not exist (404). */
  CompletableFuture<Optional<KeyValue>> get(String key, Consistency consistency);

  default CompletableFuture<Optional<KeyValue>> get(String key) {
    return get(key, Consistency.STRONG);
  }

  /** {@code HEAD /v1/kv/{key}}: the key's version without its value; empty when absent. */
  CompletableFuture<OptionalLong> version(String key, Consistency consistency);

  /** {@code DELETE /v1/kv/{key}}. */
  CompletableFuture<DeleteResult> delete(String key);

  /** {@code DELETE /v1/kv/{key}?if_version=N}: fails with {@code version_conflict} unless the version is N. */
  CompletableFuture<DeleteResult> delete(String key, long ifVersion);

  /** {@code POST /v1/kv/{key}/incr}: adds {@code delta} to a decimal counter (absent counts as 0). */
  CompletableFuture<IncrResult> incr(String key, long delta);

  default CompletableFuture<IncrResult> incr(String key) {
    return incr(key, 1);
  }

  /** One page of {@code GET /v1/kv}; pass the page's cursor back for the next. */
  CompletableFuture<ScanPage> scan(ScanRequest request);

  /**
   * Every key of the request's span, paging with its limit (the server's default when unset)
   * until the last page. The pages are separate reads: a key written meanwhile may or may not
   * show up, and keys are never listed twice or out of order.
   */
  default CompletableFuture<List<ScanItem>> scanAll(ScanRequest request) {
    return scanFrom(request.withCursor(null), new ArrayList<>());
  }

  private CompletableFuture<List<ScanItem>> scanFrom(ScanRequest request, List<ScanItem> sofar) {
    return scan(request).thenCompose(page -> {
      sofar.addAll(page.items());
      if (page.cursor() == null) {
        return CompletableFuture.completedFuture(List.copyOf(sofar));
      }
      return scanFrom(request.withCursor(page.cursor()), sofar);
    });
  }

  /** {@code DELETE /v1/kv?start&end}: deletes every key in [start, end); how many went. */
  CompletableFuture<Long> deleteRange(String start, String end);

  /** {@code DELETE /v1/kv?prefix}: deletes every key starting with a non-empty prefix; how many went. */
  CompletableFuture<Long> deletePrefix(String prefix);

  /**
   * {@code POST /v1/batch}. Atomic: all ops apply or none, and a failed condition fails the
   * future with {@code version_conflict} carrying {@code failed_index} and {@code current_version}.
   * Not atomic: one result per op, each a success or an error.
   */
  CompletableFuture<BatchResult> batch(boolean atomic, List<BatchOp> ops);
}
