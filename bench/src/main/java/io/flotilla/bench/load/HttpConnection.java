package io.flotilla.bench.load;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One persistent HTTP/1.1 connection, owned by one client thread: a request is written whole and
 * its answer read whole before the next one (no pipelining).
 *
 * <p>Why not {@code java.net.http.HttpClient}: each of its sends hops between the caller, a
 * selector thread and an executor, several times the CPU of this loop. On a 2-core machine the
 * generator would take the cores the stores under test need and squeeze every ratio toward 1.
 * Both stores are driven through this one class, with the same connection layout, so neither
 * gets a cheaper client than the other.
 *
 * <p>Not thread-safe. After any I/O failure, or when the server says {@code Connection: close},
 * the socket is closed and the next request reconnects; a request is never resent, so a
 * failure is always counted as one.
 */
public final class HttpConnection implements AutoCloseable {
  /** Servers drop idle keep-alive connections (Jetty after 30 s); reconnect well before that. */
  private static final long MAX_IDLE_NANOS = Duration.ofSeconds(10).toNanos();

  private final Endpoint endpoint;
  private final int timeoutMillis;
  /** The Host header, and the Authorization header if the endpoint has a token. */
  private final byte[] fixedHeaders;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private long lastUsed;

  public HttpConnection(Endpoint endpoint, Duration timeout) {
    this.endpoint = endpoint;
    this.timeoutMillis = Math.toIntExact(timeout.toMillis());
    this.fixedHeaders = ("\r\nHost: " + endpoint.host() + ":" + endpoint.port()
        + (endpoint.token() == null ? "" : "\r\nAuthorization: Bearer " + endpoint.token()))
        .getBytes(StandardCharsets.US_ASCII);
  }

  public Endpoint endpoint() {
    return endpoint;
  }

  /**
   * Sends one request and reads its answer.
   *
   * @param target the path and query, already percent-encoded
   * @param body the request body, or null for none
   * @param contentType the body's media type (ignored without a body)
   */
  public HttpResponse send(String method, String target, byte[] body, String contentType) throws IOException {
    open();
    try {
      StringBuilder head = new StringBuilder(96 + target.length()).append(method).append(' ').append(target)
          .append(" HTTP/1.1");
      out.write(head.toString().getBytes(StandardCharsets.UTF_8));
      out.write(fixedHeaders);
      String framing = body == null
          ? "\r\n\r\n"
          : "\r\nContent-Type: " + contentType + "\r\nContent-Length: " + body.length + "\r\n\r\n";
      out.write(framing.getBytes(StandardCharsets.US_ASCII));
      if (body != null) {
        out.write(body);
      }
      out.flush();
      HttpResponse response = HttpResponseReader.read(in);
      if (response.close()) {
        close();
      }
      lastUsed = System.nanoTime();
      return response;
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  private void open() throws IOException {
    if (socket != null && System.nanoTime() - lastUsed > MAX_IDLE_NANOS) {
      close();
    }
    if (socket == null) {
      Socket s = new Socket();
      try {
        s.setTcpNoDelay(true);
        s.setSoTimeout(timeoutMillis);
        s.connect(new InetSocketAddress(endpoint.host(), endpoint.port()), timeoutMillis);
        if (endpoint.tls() != null) {
          javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) endpoint.tls().getSocketFactory()
              .createSocket(s, endpoint.host(), endpoint.port(), true);
          javax.net.ssl.SSLParameters p = tls.getSSLParameters();
          p.setEndpointIdentificationAlgorithm("HTTPS");
          tls.setSSLParameters(p);
          tls.startHandshake();
          s = tls;
        }
      } catch (IOException e) {
        s.close();
        throw e;
      }
      socket = s;
      in = new BufferedInputStream(s.getInputStream(), 16 * 1024);
      out = new BufferedOutputStream(s.getOutputStream(), 8 * 1024);
    }
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing a broken socket: nothing left to release
      }
      socket = null;
      in = null;
      out = null;
    }
  }
}
