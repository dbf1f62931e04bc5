package io.flotilla.bench.load;

import io.flotilla.client.http.Consistency;
import java.io.IOException;
import java.util.List;
import java.util.OptionalLong;

/**
 * How one store's HTTP API spells each generator operation. Implementations hold no per-request
 * state and are shared by every client thread; each call goes out on the caller's connection.
 * An {@link IOException} (no answer) is counted as a failure by the caller.
 */
public interface StoreApi {
  /** The name the tables print ("Flotilla", "etcd"). */
  String name();

  /** Reads one key; {@link Outcome#MISSING} when the store answers that it is absent. */
  Outcome read(HttpConnection connection, String key, Consistency mode) throws IOException;

  /** Writes one key unconditionally (an update or an insert). */
  Outcome write(HttpConnection connection, String key, byte[] value) throws IOException;

  /**
   * Writes many keys in one request, through the store's own batch API (Flotilla's non-atomic
   * {@code /v1/batch}, an etcd transaction). Only the preload uses it: it is not measured, and
   * one request per key would make preloading the slow part of a run. Succeeds only if every
   * key was written.
   */
  Outcome writeAll(HttpConnection connection, List<String> keys, byte[] value) throws IOException;

  /** Reads up to {@code limit} keys with their values, from {@code startKey} on in key order. */
  Outcome scan(HttpConnection connection, String startKey, int limit, Consistency mode) throws IOException;

  /**
   * Milliseconds the member's JIT compiler has spent since it started, or empty if the store
   * does not tell (a store compiled ahead of time has nothing to warm). The store warm-up goes
   * on until this stops growing.
   */
  default OptionalLong compileMillis(HttpConnection connection) throws IOException {
    return OptionalLong.empty();
  }
}
