package io.flotilla.client.http;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * One key of a scan page.
 *
 * @param value null when the scan asked for keys only
 * @param expiresAt null when the key has no TTL
 */
public record ScanItem(String key, byte[] value, long version, Instant expiresAt) {
  /** The value decoded as UTF-8, or null for a keys-only scan. */
  public String valueUtf8() {
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ScanItem s && key.equals(s.key) && Arrays.equals(value, s.value) && version == s.version
        && Objects.equals(expiresAt, s.expiresAt);
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, Arrays.hashCode(value), version, expiresAt);
  }

  @Override
  public String toString() {
    return "ScanItem[" + key + " v" + version + (value == null ? "" : ", " + value.length + " bytes") + "]";
  }
}
