package io.flotilla.client.http;

import java.time.Duration;

/**
 * Conditions of a put: a TTL and a compare-and-set version.
 *
 * @param ttlSeconds seconds until the key expires; 0 for none
 * @param ifVersion null for an unconditional put, 0 for "must not exist", N for "current version is N"
 */
public record PutOptions(long ttlSeconds, Long ifVersion) {
  private static final PutOptions NONE = new PutOptions(0, null);

  public PutOptions {
    if (ttlSeconds < 0) {
      throw new IllegalArgumentException("ttl must not be negative (got " + ttlSeconds + " s)");
    }
    if (ifVersion != null && ifVersion < 0) {
      throw new IllegalArgumentException("ifVersion must be 0 (must not exist) or a version (got " + ifVersion + ")");
    }
  }

  public static PutOptions none() {
    return NONE;
  }

  /** Only if the key's current version is {@code version} (0: only if it does not exist). */
  public static PutOptions ifVersion(long version) {
    return new PutOptions(0, version);
  }

  /** Only if the key does not exist. */
  public static PutOptions mustNotExist() {
    return ifVersion(0);
  }

  /** Expires after {@code ttl}, rounded up to whole seconds (the API's unit). */
  public static PutOptions ttl(Duration ttl) {
    return NONE.withTtl(ttl);
  }

  public PutOptions withTtl(Duration ttl) {
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be positive (got " + ttl + ")");
    }
    long seconds = ttl.getSeconds() + (ttl.getNano() > 0 ? 1 : 0);
    return new PutOptions(seconds, ifVersion);
  }

  public PutOptions withIfVersion(long version) {
    return new PutOptions(ttlSeconds, version);
  }
}
