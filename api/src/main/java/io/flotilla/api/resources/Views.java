package io.flotilla.api.resources;

import io.flotilla.proto.KeyValue;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/** JSON shapes of shared/API.md built from protobuf results. */
final class Views {
  private Views() {}

  static String key(byte[] key) {
    return new String(key, StandardCharsets.UTF_8);
  }

  static String expiresAt(long millis) {
    return Instant.ofEpochMilli(millis).toString();
  }

  /** A stored item: key, value (base64, unless keys only), version, expires_at when set. */
  static Map<String, Object> item(KeyValue kv, boolean withValue) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("key", key(kv.getKey().toByteArray()));
    if (withValue) {
      m.put("value", Base64.getEncoder().encodeToString(kv.getValue().toByteArray()));
    }
    m.put("version", kv.getVersion());
    if (kv.getExpiresAtMillis() != 0) {
      m.put("expires_at", expiresAt(kv.getExpiresAtMillis()));
    }
    return m;
  }

  /** Whole seconds left before expiry, rounded up, never below 1 for a live key. */
  static long ttlRemaining(long expiresAtMillis, long nowMillis) {
    return Math.max(1, (expiresAtMillis - nowMillis + 999) / 1000);
  }
}
