package io.flotilla.api.resources;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.api.auth.RequestPaths;
import io.flotilla.api.service.ByteBudget;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Bounds the bytes of request bodies a node reads at once, and refuses a large request it has no
 * room for before reading its body: 429 {@code overloaded} with {@code Retry-After}, nothing
 * applied, and {@code Connection: close} (the unread body stays on the connection).
 *
 * <p>Why: a request's body is on the heap, about twice over, while it is read and turned into a
 * command; a burst of large values read at once ran nodes out of heap (docs/design-notes.md,
 * "Backpressure"). Once a request's handler has read its body and returned, the command waits in
 * the node's bounded queues, so the budget is held only while the handler runs on its request
 * thread. Bodies under {@link #SMALL_BYTES} pass without counting: a thousand of them fit.
 * A body of unknown length (chunked) counts as {@code unknownLengthBytes}, the largest body the
 * node accepts.
 */
public final class BodyBudget implements Filter {
  /** Bodies smaller than this are not counted. */
  static final long SMALL_BYTES = 64 * 1024;
  static final String REFUSED_METER = "flotilla.requests.body-budget-refused";
  /** Bytes of large request bodies the node is reading now. */
  public static final String READING_GAUGE = "flotilla.requests.body-bytes-reading";

  private final ByteBudget budget;
  private final long unknownLengthBytes;
  private final ObjectMapper json;
  private final Meter refused;

  public BodyBudget(long maxBytes, long unknownLengthBytes, ObjectMapper json, MetricRegistry metrics) {
    this.budget = new ByteBudget(maxBytes);
    this.unknownLengthBytes = unknownLengthBytes;
    this.json = json;
    this.refused = metrics.meter(REFUSED_METER);
    metrics.register(READING_GAUGE, (com.codahale.metrics.Gauge<Long>) budget::used);
  }

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    HttpServletRequest http = (HttpServletRequest) request;
    long length = http.getContentLengthLong();
    long bytes = length < 0 && "chunked".equalsIgnoreCase(http.getHeader("Transfer-Encoding")) ? unknownLengthBytes : length;
    if (bytes < SMALL_BYTES || !RequestPaths.api(http)) {
      chain.doFilter(request, response);
      return;
    }
    if (!budget.tryTake(bytes)) {
      refused.mark();
      refuse((HttpServletResponse) response, bytes);
      return;
    }
    try {
      chain.doFilter(request, response);
    } finally {
      budget.give(bytes);
    }
  }

  private void refuse(HttpServletResponse response, long bytes) throws IOException {
    ErrorBodies.overloaded(response, json, "the node is reading " + budget.used() + " bytes of request bodies, and "
        + bytes + " more would pass its limit of " + budget.max() + "; nothing was applied",
        ErrorBodies.RETRY_AFTER_SECONDS, true);
  }
}
