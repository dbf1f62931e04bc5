package io.flotilla.client.http;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * A key as {@code GET /v1/kv/{key}} returned it.
 *
 * @param value the stored bytes (not copied: do not modify)
 * @param version the key's version, its compare-and-set token
 * @param revision the revision of the key's range at which the serving replica read it
 * @param expiresAt when the key expires, or null if it has no TTL
 */
public record KeyValue(String key, byte[] value, long version, long revision, Instant expiresAt) {
  public KeyValue {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
  }

  /** The value decoded as UTF-8. */
  public String valueUtf8() {
    return new String(value, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyValue k && key.equals(k.key) && Arrays.equals(value, k.value) && version == k.version
        && revision == k.revision && Objects.equals(expiresAt, k.expiresAt);
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, Arrays.hashCode(value), version, revision, expiresAt);
  }

  @Override
  public String toString() {
    return "KeyValue[" + key + " v" + version + " r" + revision + ", " + value.length + " bytes"
        + (expiresAt == null ? "" : ", expires " + expiresAt) + "]";
  }
}
