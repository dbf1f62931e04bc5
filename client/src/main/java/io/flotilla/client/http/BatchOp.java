package io.flotilla.client.http;

import java.util.Objects;

/**
 * One op of {@code POST /v1/batch}: a put, a delete or a get. Build with the static factories.
 *
 * @param value the bytes to put; null for delete and get
 * @param ttlSeconds for a put: 0 for no TTL
 * @param ifVersion for a put or delete: null for unconditional, else the compare-and-set version
 */
public record BatchOp(Kind kind, String key, byte[] value, long ttlSeconds, Long ifVersion) {
  /** The op names of the wire format. */
  public enum Kind {
    PUT("put"), DELETE("delete"), GET("get");

    private final String wire;

    Kind(String wire) {
      this.wire = wire;
    }

    public String wire() {
      return wire;
    }
  }

  public BatchOp {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(key, "key");
    if ((kind == Kind.PUT) != (value != null)) {
      throw new IllegalArgumentException("a put carries a value, a " + kind.wire() + " does not");
    }
  }

  public static BatchOp put(String key, byte[] value) {
    return put(key, value, PutOptions.none());
  }

  public static BatchOp put(String key, byte[] value, PutOptions options) {
    return new BatchOp(Kind.PUT, key, Objects.requireNonNull(value, "value"), options.ttlSeconds(),
        options.ifVersion());
  }

  public static BatchOp delete(String key) {
    return new BatchOp(Kind.DELETE, key, null, 0, null);
  }

  /** Deletes only if the key's current version is {@code ifVersion}. */
  public static BatchOp delete(String key, long ifVersion) {
    return new BatchOp(Kind.DELETE, key, null, 0, ifVersion);
  }

  public static BatchOp get(String key) {
    return new BatchOp(Kind.GET, key, null, 0, null);
  }

  public boolean isWrite() {
    return kind != Kind.GET;
  }
}
