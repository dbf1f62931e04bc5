package io.flotilla.bench.load;

import java.io.IOException;
import java.util.random.RandomGenerator;

/**
 * Turns an {@link OpKind} into calls of a {@link StoreApi}: which key, which value, how long a
 * scan. The same instance, and so the same key choices for the same random draws, serves every
 * store. Thread-safe; each call uses the caller's connections and random source.
 */
public final class Operations {
  private final StoreApi api;
  private final Workload workload;
  private final KeySpace keys;
  private final KeyChooser chooser;
  private final byte[] value;

  public Operations(StoreApi api, Workload workload, KeySpace keys, byte[] value) {
    this.api = api;
    this.workload = workload;
    this.keys = keys;
    this.chooser = workload.keys().over(keys);
    this.value = value;
  }

  /** Runs one operation; a request that got no answer is a failure, never an exception. */
  public Outcome execute(OpKind kind, Connections connections, RandomGenerator random) {
    HttpConnection c = connections.next();
    try {
      return switch (kind) {
        case READ -> api.read(c, existingKey(random), workload.readMode());
        case UPDATE -> api.write(c, existingKey(random), value);
        case INSERT -> api.write(c, KeySpace.keyOf(keys.claimInsert()), value);
        case SCAN -> api.scan(c, existingKey(random), scanLength(random), workload.readMode());
        case READ_MODIFY_WRITE -> readModifyWrite(c, existingKey(random));
      };
    } catch (IOException e) {
      return Outcome.failed(describe(e));
    }
  }

  private Outcome readModifyWrite(HttpConnection c, String key) throws IOException {
    Outcome read = api.read(c, key, workload.readMode());
    return read.succeeded() ? api.write(c, key, value) : read;
  }

  private String existingKey(RandomGenerator random) {
    return KeySpace.keyOf(chooser.next(random));
  }

  private int scanLength(RandomGenerator random) {
    return workload.minScan() + random.nextInt(workload.maxScan() - workload.minScan() + 1);
  }

  /** An exception in a few words for the error summary (its class and message, shortened). */
  static String describe(Exception e) {
    String message = e.getMessage() == null ? "" : ": " + e.getMessage();
    String text = e.getClass().getSimpleName() + message;
    return text.length() > 100 ? text.substring(0, 100) : text;
  }
}
