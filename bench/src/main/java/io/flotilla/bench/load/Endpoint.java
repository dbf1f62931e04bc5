package io.flotilla.bench.load;

import java.net.URI;

/**
 * Where one node or member listens: the host and port of an {@code http://host:port} base URL,
 * and the token requests to it carry ({@code Authorization: Bearer}), or null.
 */
public record Endpoint(String host, int port, String token) {
  public Endpoint(String host, int port) {
    this(host, port, null);
  }

  /** The same endpoint, its requests carrying {@code token} (null: none). */
  public Endpoint withToken(String token) {
    return new Endpoint(host, port, token);
  }

  public static Endpoint parse(String baseUrl) {
    URI uri = URI.create(baseUrl);
    if (!"http".equals(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 0) {
      throw new IllegalArgumentException("expected a base URL such as http://127.0.90.11:7001, got " + baseUrl);
    }
    return new Endpoint(uri.getHost(), uri.getPort());
  }

  @Override
  public String toString() {
    return "http://" + host + ":" + port;
  }
}
