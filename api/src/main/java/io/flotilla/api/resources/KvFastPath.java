package io.flotilla.api.resources;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.flotilla.common.FlotillaException;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.RuntimeDelegate;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the requests of one key that carry most of the traffic, {@code GET}, {@code PUT} and
 * {@code DELETE /v1/kv/{key}}, in front of Jersey.
 *
 * <p>Jersey's per-request work (URI building, template matching, injection scopes, the async
 * response machinery, buffered entity writers) cost more CPU than a stale read itself. This
 * filter calls the same {@link KvResource} methods Jersey would, so validation, errors and
 * bodies are the resource's own, and writes the {@link Response} they return straight to the
 * servlet response. A request it does not recognise exactly (another method, a parameter the
 * method does not take, an {@code Accept} header other than none, any or JSON for a JSON answer,
 * a key path with dot segments or matrix parameters) goes on to Jersey unchanged.
 */
public final class KvFastPath implements Filter {
  private static final Logger LOG = LoggerFactory.getLogger(KvFastPath.class);
  private static final String PREFIX = "/v1/kv/";
  private static final Map<String, Set<String>> PARAMS = Map.of(
      "GET", Set.of("consistency", "min_revision", "raw"),
      "PUT", Set.of("ttl", "if_version"),
      "DELETE", Set.of("if_version"));

  /** The name of the meter of requests this filter served (Jersey served the others). */
  public static final String SERVED_METER = "flotilla.http.kv-fast-path";

  private final KvResource kv;
  private final ObjectMapper json;
  private final long drainBound;
  private final Meter served;

  /**
   * @param drainBound the most bytes of an unread request body read and dropped before the
   *     answer (as {@link BodyDrain} does for Jersey's requests)
   */
  public KvFastPath(KvResource kv, ObjectMapper json, long drainBound, MetricRegistry metrics) {
    this.kv = kv;
    this.json = json;
    this.drainBound = drainBound;
    this.served = metrics.meter(SERVED_METER);
  }

  /**
   * A request's body, opened when first read: Jetty answers {@code Expect: 100-continue} when
   * the body is opened, and a put refused before it is read never asks for it.
   */
  private static final class LazyBody extends InputStream {
    private final ServletRequest request;
    private InputStream body;

    LazyBody(ServletRequest request) {
      this.request = request;
    }

    private InputStream body() throws IOException {
      if (body == null) {
        body = request.getInputStream();
      }
      return body;
    }

    @Override
    public int read() throws IOException {
      return body().read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return body().read(b, off, len);
    }
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
    HttpServletRequest request = (HttpServletRequest) req;
    Set<String> allowed = PARAMS.get(request.getMethod());
    String rawKey = allowed == null ? null : keyOf(request);
    Map<String, String> params = rawKey == null ? null : queryParams(request.getQueryString(), allowed);
    if (params == null || !acceptable(request.getHeader(HttpHeaders.ACCEPT), params.containsKey("raw"))) {
      chain.doFilter(req, res);
      return;
    }
    served.mark();
    CompletionStage<Response> answer;
    try {
      answer = switch (request.getMethod()) {
        case "GET" -> kv.get(rawKey, params.get("consistency"), params.get("min_revision"), params.get("raw"));
        case "PUT" -> kv.put(rawKey, params.get("ttl"), params.get("if_version"),
            request.getHeader(HttpHeaders.CONTENT_LENGTH), "100-continue".equalsIgnoreCase(request.getHeader("Expect")),
            new LazyBody(request));
        default -> kv.delete(rawKey, params.get("if_version"));
      };
    } catch (KvResource.RefusedUnread e) {
      ErrorBodies.overloaded((HttpServletResponse) res, json, e.getMessage(), ErrorBodies.RETRY_AFTER_SECONDS, true);
      return; // its body never asked for: the connection closes after the answer
    } catch (FlotillaException e) {
      answer = CompletableFuture.completedFuture(ErrorBodies.of(e));
    } catch (RuntimeException e) {
      answer = CompletableFuture.completedFuture(new ErrorMappers.Unexpected().toResponse(e));
    }
    // What a refused request left of its body is read now rather than after the answer, as
    // Jersey's BodyDrain does: the answer needs nothing from it either way.
    if (request.getContentLengthLong() <= drainBound) {
      BodyDrain.drain(request.getInputStream(), drainBound);
    }
    HttpServletResponse response = (HttpServletResponse) res;
    CompletableFuture<Response> done = answer.toCompletableFuture();
    if (done.isDone()) {
      write(done, response);
      return;
    }
    AsyncContext async = request.startAsync();
    async.setTimeout(0); // the resource bounds every call by the request timeout itself
    AtomicBoolean over = new AtomicBoolean(); // the exchange ended: answered, or Jetty gave up on it
    async.addListener(new AsyncListener() {
      @Override
      public void onComplete(AsyncEvent event) {
        over.set(true);
      }

      @Override
      public void onTimeout(AsyncEvent event) {
        over.set(true);
      }

      @Override
      public void onError(AsyncEvent event) {
        over.set(true);
      }

      @Override
      public void onStartAsync(AsyncEvent event) {
        // not restarted
      }
    });
    done.whenComplete((r, e) -> {
      if (over.getAndSet(true)) {
        return; // the connection failed meanwhile: nobody to answer
      }
      try {
        write(done, response);
      } catch (IOException | RuntimeException failure) {
        LOG.debug("could not write an answer; the client went away", failure);
      } finally {
        try {
          async.complete();
        } catch (IllegalStateException alreadyOver) {
          LOG.debug("the exchange ended before its answer", alreadyOver);
        }
      }
    });
  }

  /** The raw (still percent-encoded) key of a {@code /v1/kv/{key}} path, or null to leave it to Jersey. */
  static String keyOf(HttpServletRequest request) {
    String uri = request.getRequestURI();
    String context = request.getContextPath();
    if (uri == null || !uri.startsWith(PREFIX, context.length())) {
      return null;
    }
    String key = uri.substring(context.length() + PREFIX.length());
    if (key.isEmpty() || key.indexOf(';') >= 0) {
      return null;
    }
    for (String segment : key.split("/", -1)) {
      if (segment.equals(".") || segment.equals("..")) {
        return null;
      }
    }
    return key;
  }

  /**
   * The first value of each query parameter, decoded as Jersey decodes them; null (leave it to
   * Jersey) when a parameter is not one of {@code allowed} or does not decode.
   */
  static Map<String, String> queryParams(String query, Set<String> allowed) {
    Map<String, String> out = new HashMap<>(4);
    if (query == null || query.isEmpty()) {
      return out;
    }
    try {
      for (String pair : query.split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        if (!allowed.contains(name)) {
          return null;
        }
        out.putIfAbsent(name, value);
      }
    } catch (IllegalArgumentException malformed) {
      return null;
    }
    return out;
  }

  /**
   * Whether the answer's type is surely acceptable without Jersey's negotiation: no Accept, any,
   * or JSON when the answer is JSON (every answer but a raw read's value; Flotilla's client sends
   * that).
   */
  static boolean acceptable(String accept, boolean raw) {
    if (accept == null || accept.isBlank()) {
      return true;
    }
    String a = accept.trim();
    return a.equals("*/*") || (!raw && a.equals(MediaType.APPLICATION_JSON));
  }

  private void write(CompletableFuture<Response> done, HttpServletResponse out) throws IOException {
    Response r;
    try {
      r = done.join();
    } catch (RuntimeException e) {
      r = new ErrorMappers.Unexpected().toResponse(e.getCause() != null ? e.getCause() : e);
    }
    Object entity = r.getEntity();
    ByteString body = null;
    String type = null;
    if (entity instanceof ByteString value) {
      body = value;
      type = typeOf(r);
    } else if (entity instanceof byte[] bytes) {
      body = UnsafeByteOperations.unsafeWrap(bytes);
      type = typeOf(r);
    } else if (entity != null) {
      body = UnsafeByteOperations.unsafeWrap(json.writeValueAsBytes(entity));
      type = MediaType.APPLICATION_JSON;
    }
    out.setStatus(r.getStatus());
    // The headers as set (strings and numbers here), not Jersey's string view of them, which
    // builds converted lists per header on every answer.
    for (Map.Entry<String, List<Object>> header : r.getHeaders().entrySet()) {
      if (header.getKey().equalsIgnoreCase(HttpHeaders.CONTENT_TYPE)) {
        continue;
      }
      for (Object value : header.getValue()) {
        out.addHeader(header.getKey(), headerValue(value));
      }
    }
    if (body != null) {
      out.setContentType(type);
      out.setContentLength(body.size());
      body.writeTo(out.getOutputStream());
    }
  }

  /** A header value as Jersey writes it: strings and numbers as they are, other types through their delegate. */
  @SuppressWarnings("unchecked")
  static String headerValue(Object value) {
    if (value instanceof String s) {
      return s;
    }
    if (value instanceof Number) {
      return value.toString();
    }
    RuntimeDelegate.HeaderDelegate<Object> delegate;
    try {
      delegate = RuntimeDelegate.getInstance().createHeaderDelegate((Class<Object>) value.getClass());
    } catch (IllegalArgumentException unknownType) {
      delegate = null;
    }
    return delegate != null ? delegate.toString(value) : value.toString();
  }

  /** The answer's media type as a header value; octet streams without formatting the type anew. */
  private static String typeOf(Response r) {
    MediaType type = r.getMediaType();
    return type == null || type.equals(MediaType.APPLICATION_OCTET_STREAM_TYPE) ? MediaType.APPLICATION_OCTET_STREAM
        : type.toString();
  }
}
