package io.flotilla.testcluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A small blocking client of shared/API.md for tests; it reports what the server said, verbatim. */
public final class ApiClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http;
  private final Duration timeout;
  /** Sent as {@code Authorization: Bearer <token>} on every request, if not null. */
  private final String token;
  /** For {@code https://} nodes: whom the client trusts; null for the JVM's defaults. */
  private final javax.net.ssl.SSLContext tls;

  public ApiClient() {
    this(Duration.ofSeconds(20));
  }

  public ApiClient(Duration timeout) {
    this(timeout, null, null);
  }

  private ApiClient(Duration timeout, String token, javax.net.ssl.SSLContext tls) {
    this.timeout = timeout;
    this.token = token;
    this.tls = tls;
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
    if (tls != null) {
      b.sslContext(tls);
    }
    this.http = b.build();
  }

  /** A client like this one that authenticates with {@code token} (nodes with auth on). */
  public ApiClient withToken(String token) {
    return new ApiClient(timeout, token, tls);
  }

  /** A client like this one that calls {@code https://} nodes trusting what {@code tls} trusts. */
  public ApiClient withTls(javax.net.ssl.SSLContext tls) {
    return new ApiClient(timeout, token, tls);
  }

  /** A response: status, headers, raw body, and the body as JSON when it is JSON. */
  public record Resp(int status, Map<String, List<String>> headers, byte[] body) {
    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (status " + status + "): " + text(), e);
      }
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    public String header(String name) {
      return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
          .flatMap(e -> e.getValue().stream()).findFirst().orElse(null);
    }

    @Override
    public String toString() {
      return status + " " + text();
    }
  }

  /** Percent-encodes a key for a URL path, keeping '/' as it is (API.md: '/' is allowed in keys). */
  public static String pathOf(String key) {
    StringBuilder sb = new StringBuilder();
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~/".indexOf(c) >= 0) {
        sb.append((char) c);
      } else {
        sb.append('%').append(String.format("%02X", c));
      }
    }
    return sb.toString();
  }

  public static String query(String value) {
    return java.net.URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  public Resp put(String base, String key, byte[] value, String params) {
    return send("PUT", base + "/v1/kv/" + pathOf(key) + params(params), value);
  }

  public Resp put(String base, String key, String value) {
    return put(base, key, value.getBytes(StandardCharsets.UTF_8), "");
  }

  public Resp get(String base, String key, String params) {
    return send("GET", base + "/v1/kv/" + pathOf(key) + params(params), null);
  }

  public Resp get(String base, String key) {
    return get(base, key, "");
  }

  public Resp head(String base, String key) {
    return send("HEAD", base + "/v1/kv/" + pathOf(key), null);
  }

  public Resp delete(String base, String key, String params) {
    return send("DELETE", base + "/v1/kv/" + pathOf(key) + params(params), null);
  }

  public Resp incr(String base, String key, String jsonBody) {
    return send("POST", base + "/v1/kv/" + pathOf(key) + "/incr",
        jsonBody == null ? null : jsonBody.getBytes(StandardCharsets.UTF_8));
  }

  public Resp scan(String base, String params) {
    return send("GET", base + "/v1/kv" + params(params), null);
  }

  public Resp deleteSpan(String base, String params) {
    return send("DELETE", base + "/v1/kv" + params(params), null);
  }

  public Resp batch(String base, String jsonBody) {
    return send("POST", base + "/v1/batch", jsonBody.getBytes(StandardCharsets.UTF_8));
  }

  public Resp raw(String method, String url, byte[] body) {
    return send(method, url, body);
  }

  /**
   * An admin call carried through to its end: when the node answers 202 (the operation goes on
   * in the background), polls {@code GET /v1/admin/operations} on the same node until it
   * finished, and answers as the node would have: 200 with the operation's result, or the
   * failure (422 for an operation that failed). Other answers are returned as they are.
   */
  public Resp admin(String method, String url, byte[] body) {
    Resp r = send(method, url, body);
    if (r.status() != 202 || !"running".equals(r.json().path("status").asText())) {
      return r;
    }
    String id = r.json().get("operation").asText();
    String base = url.substring(0, url.indexOf("/v1/admin/"));
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (System.nanoTime() < deadline) {
      for (JsonNode op : send("GET", base + "/v1/admin/operations", null).json().path("operations")) {
        if (!id.equals(op.path("id").asText()) || "running".equals(op.path("status").asText())) {
          continue;
        }
        boolean ok = "succeeded".equals(op.path("status").asText());
        com.fasterxml.jackson.databind.node.ObjectNode out = JSON.createObjectNode();
        out.put("operation", id);
        if (ok) {
          op.path("result").fields().forEachRemaining(e -> out.set(e.getKey(), e.getValue()));
        } else {
          out.put("error", "operation_failed");
          out.put("message", op.path("message").asText());
        }
        try {
          return new Resp(ok ? 200 : 422, r.headers(), JSON.writeValueAsBytes(out));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new IllegalStateException("operation " + id + " on " + base + " did not finish within 5 minutes");
  }

  /**
   * Sends a request line exactly as given, over a plain socket: for URLs that
   * {@link java.net.URI} refuses to build (malformed percent-encoding), which servers must
   * still answer properly.
   */
  public Resp verbatim(String base, String method, String rawPath, byte[] body) {
    return verbatim(base, method, rawPath, body, Map.of());
  }

  /** {@link #verbatim(String, String, String, byte[])} with extra header lines (plain HTTP only). */
  public Resp verbatim(String base, String method, String rawPath, byte[] body, Map<String, String> extraHeaders) {
    URI uri = URI.create(base);
    try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout((int) timeout.toMillis());
      byte[] payload = body == null ? new byte[0] : body;
      StringBuilder extra = new StringBuilder();
      extraHeaders.forEach((k, v) -> extra.append(k).append(": ").append(v).append("\r\n"));
      String head = method + " " + rawPath + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
          + "\r\nConnection: close\r\nContent-Length: " + payload.length + "\r\n" + extra + "\r\n";
      socket.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().write(payload);
      socket.getOutputStream().flush();
      byte[] all = socket.getInputStream().readAllBytes();
      String text = new String(all, StandardCharsets.ISO_8859_1);
      int split = text.indexOf("\r\n\r\n");
      String[] lines = text.substring(0, split).split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      Map<String, List<String>> headers = new java.util.LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.computeIfAbsent(lines[i].substring(0, colon).trim(), k -> new java.util.ArrayList<>())
            .add(lines[i].substring(colon + 1).trim());
      }
      byte[] rest = java.util.Arrays.copyOfRange(all, split + 4, all.length);
      boolean chunked = headers.entrySet().stream().anyMatch(e -> e.getKey().equalsIgnoreCase("Transfer-Encoding")
          && e.getValue().contains("chunked"));
      return new Resp(status, headers, chunked ? dechunk(rest) : rest);
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + rawPath + " failed: " + e.getMessage(), e);
    }
  }

  private static byte[] dechunk(byte[] body) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    int i = 0;
    while (i < body.length) {
      int eol = i;
      while (eol + 1 < body.length && !(body[eol] == '\r' && body[eol + 1] == '\n')) {
        eol++;
      }
      int size = Integer.parseInt(new String(body, i, eol - i, StandardCharsets.ISO_8859_1).split(";")[0].trim(), 16);
      if (size == 0) {
        break;
      }
      out.write(body, eol + 2, size);
      i = eol + 2 + size + 2;
    }
    return out.toByteArray();
  }

  private static String params(String p) {
    return p == null || p.isEmpty() ? "" : (p.startsWith("?") ? p : "?" + p);
  }

  private Resp send(String method, String url, byte[] body) {
    return send(method, url, body, Map.of());
  }

  /** A request with extra headers (for instance {@code Accept}). */
  public Resp send(String method, String url, byte[] body, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(timeout)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (token != null && headers.keySet().stream().noneMatch(h -> h.equalsIgnoreCase("Authorization"))) {
      b.header("Authorization", "Bearer " + token);
    }
    headers.forEach(b::header);
    try {
      HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      return new Resp(r.statusCode(), r.headers().map(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + url + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
