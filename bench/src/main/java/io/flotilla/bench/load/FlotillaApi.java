package io.flotilla.bench.load;

import io.flotilla.client.http.Consistency;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.OptionalLong;

/**
 * The generator's operations over Flotilla's HTTP API (shared/API.md): {@code PUT /v1/kv/{key}}
 * with the raw value as body, {@code GET /v1/kv/{key}?raw} (the raw bytes, no base64 or JSON, the
 * cheapest read the API offers) and the range scan {@code GET /v1/kv?start=..&limit=..}.
 */
public final class FlotillaApi implements StoreApi {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String name() {
    return "Flotilla";
  }

  @Override
  public Outcome read(HttpConnection connection, String key, Consistency mode) throws IOException {
    HttpResponse r = connection.send("GET", "/v1/kv/" + pathOf(key) + "?raw&consistency=" + mode.wire(), null, null);
    return r.status() == 200 ? Outcome.OK : r.status() == 404 ? Outcome.MISSING : Outcome.failed(r.failureCause());
  }

  @Override
  public Outcome write(HttpConnection connection, String key, byte[] value) throws IOException {
    return Outcome.of(connection.send("PUT", "/v1/kv/" + pathOf(key), value, "application/octet-stream"));
  }

  @Override
  public Outcome writeAll(HttpConnection connection, List<String> keys, byte[] value) throws IOException {
    String b64 = Base64.getEncoder().encodeToString(value);
    StringBuilder body = new StringBuilder("{\"atomic\":false,\"ops\":[");
    for (int i = 0; i < keys.size(); i++) {
      body.append(i == 0 ? "" : ",").append("{\"op\":\"put\",\"key\":")
          .append(JSON.writeValueAsString(keys.get(i))).append(",\"value\":\"").append(b64).append("\"}");
    }
    HttpResponse r = connection.send("POST", "/v1/batch", body.append("]}").toString().getBytes(StandardCharsets.UTF_8),
        "application/json");
    if (r.status() != 200) {
      return Outcome.failed(r.failureCause());
    }
    long failed = JSON.readTree(r.body()).path("failed").asLong(-1);
    return failed == 0 ? Outcome.OK : Outcome.failed("batch: " + failed + " of " + keys.size() + " puts failed");
  }

  @Override
  public Outcome scan(HttpConnection connection, String startKey, int limit, Consistency mode) throws IOException {
    String target = "/v1/kv?start=" + URLEncoder.encode(startKey, StandardCharsets.UTF_8) + "&limit=" + limit
        + "&consistency=" + mode.wire();
    return Outcome.of(connection.send("GET", target, null, null));
  }

  /** The node's {@code jvm.compilation.time_ms} gauge from its Prometheus metrics. */
  @Override
  public OptionalLong compileMillis(HttpConnection connection) throws IOException {
    HttpResponse r = connection.send("GET", "/metrics", null, null);
    if (r.status() != 200) {
      throw new IOException("GET /metrics answered " + r.status() + ": " + r.failureCause());
    }
    for (String line : new String(r.body(), StandardCharsets.UTF_8).split("\n")) {
      if (line.startsWith(COMPILE_TIME + " ")) {
        return OptionalLong.of((long) Double.parseDouble(line.substring(COMPILE_TIME.length() + 1).trim()));
      }
    }
    return OptionalLong.empty();
  }

  private static final String COMPILE_TIME = "jvm_compilation_time_ms";

  /**
   * The key as a URL path: '/' stays (keys may contain it, shared/API.md), every byte outside
   * the unreserved set is percent-encoded.
   */
  static String pathOf(String key) {
    StringBuilder path = null;
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i++) {
      int b = bytes[i] & 0xff;
      boolean plain = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
          || b == '-' || b == '.' || b == '_' || b == '~' || b == '/';
      if (path == null && !plain) {
        path = new StringBuilder(new String(bytes, 0, i, StandardCharsets.US_ASCII));
      }
      if (path != null) {
        if (plain) {
          path.append((char) b);
        } else {
          path.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
              .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
        }
      }
    }
    return path == null ? key : path.toString();
  }
}
