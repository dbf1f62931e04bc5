package io.flotilla.bench.load;

import java.net.URI;
import java.security.NoSuchAlgorithmException;
import javax.net.ssl.SSLContext;

/**
 * Where one node or member listens: the host and port of an {@code http://host:port} or
 * {@code https://host:port} base URL, the token requests to it carry ({@code Authorization:
 * Bearer}) or null, and for HTTPS whom the connection trusts (null: plain HTTP).
 */
public record Endpoint(String host, int port, String token, SSLContext tls) {
  public Endpoint(String host, int port) {
    this(host, port, null, null);
  }

  /** The same endpoint, its requests carrying {@code token} (null: none). */
  public Endpoint withToken(String token) {
    return new Endpoint(host, port, token, tls);
  }

  /** The same endpoint over HTTPS, trusting what {@code tls} trusts. */
  public Endpoint withTls(SSLContext tls) {
    return new Endpoint(host, port, token, tls);
  }

  /** An {@code http://} or {@code https://} base URL; HTTPS trusts the JVM's authorities until {@link #withTls}. */
  public static Endpoint parse(String baseUrl) {
    URI uri = URI.create(baseUrl);
    boolean https = "https".equals(uri.getScheme());
    if (!(https || "http".equals(uri.getScheme())) || uri.getHost() == null || uri.getPort() < 0) {
      throw new IllegalArgumentException("expected a base URL such as http://127.0.90.11:7001, got " + baseUrl);
    }
    try {
      return new Endpoint(uri.getHost(), uri.getPort(), null, https ? SSLContext.getDefault() : null);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has TLS", e);
    }
  }

  @Override
  public String toString() {
    return (tls == null ? "http://" : "https://") + host + ":" + port;
  }
}
