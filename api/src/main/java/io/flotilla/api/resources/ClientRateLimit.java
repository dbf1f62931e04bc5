package io.flotilla.api.resources;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.api.auth.Principal;
import io.flotilla.api.auth.RequestPaths;
import io.flotilla.api.auth.Role;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Limits each client (its token when auth is on, else its address) to a rate of API requests on
 * this node: a token bucket of {@code burst} requests refilled at {@code perSecond}. A request
 * over it is refused before anything reads it: 429 {@code overloaded}, with {@code Retry-After}
 * the seconds until the client has a request again, nothing applied. Each node limits on its own, so a client that
 * spreads its requests over n nodes gets n times the rate.
 *
 * <p>A bucket that has filled up again is forgotten (at most once a minute, on a request), so
 * the table holds only clients seen lately. Threads: any; a bucket is guarded by itself.
 */
public final class ClientRateLimit implements Filter {
  static final String REFUSED_METER = "flotilla.requests.rate-limited";
  private static final long SWEEP_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final double perSecond;
  private final double burst;
  private final LongSupplier nanoClock;
  private final ObjectMapper json;
  private final Meter refused;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final AtomicLong lastSweep;

  /**
   * @param perSecond requests a client may send per second, on average
   * @param burst requests a client may send at once after a pause (at least 1)
   */
  public ClientRateLimit(double perSecond, double burst, LongSupplier nanoClock, ObjectMapper json,
      MetricRegistry metrics) {
    if (!(perSecond > 0) || !(burst >= 1)) {
      throw new IllegalArgumentException("a rate limit needs a positive rate and a burst of at least 1, got "
          + perSecond + " per second and " + burst);
    }
    this.perSecond = perSecond;
    this.burst = burst;
    this.nanoClock = nanoClock;
    this.json = json;
    this.refused = metrics.meter(REFUSED_METER);
    this.lastSweep = new AtomicLong(nanoClock.getAsLong());
  }

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    // API calls only (mapped to every path: a path with dot segments may be matched outside /v1
    // and still reach an API resource). A client is its token when auth is on (the nodes' own
    // calls are not limited), else its address.
    HttpServletRequest http = (HttpServletRequest) request;
    Principal principal = Principal.of(http);
    if (!RequestPaths.api(http) || principal != null && principal.role() == Role.NODE) {
      chain.doFilter(request, response);
      return;
    }
    String client = principal != null ? "token '" + principal.name() + "'" : request.getRemoteAddr();
    long waitNanos = take(client);
    if (waitNanos == 0) {
      chain.doFilter(request, response);
      return;
    }
    refused.mark();
    // A small body is read and dropped so that the connection stays usable; a larger one is left
    // unread and the connection closes.
    long length = request.getContentLengthLong();
    boolean drain = length >= 0 && length <= BodyBudget.SMALL_BYTES;
    ErrorBodies.overloaded((HttpServletResponse) response, json, "client " + client + " is over its limit of "
        + perSecond + " requests per second on this node; nothing was applied",
        (waitNanos + TimeUnit.SECONDS.toNanos(1) - 1) / TimeUnit.SECONDS.toNanos(1), !drain);
    if (drain) {
      BodyDrain.drain(request.getInputStream(), BodyBudget.SMALL_BYTES);
    }
  }

  /** Takes a request from {@code client}'s bucket: 0 if it may go, else the nanoseconds until it may. */
  long take(String client) {
    long now = nanoClock.getAsLong();
    sweep(now);
    return buckets.computeIfAbsent(client, c -> new Bucket(burst, now)).take(now);
  }

  int clients() {
    return buckets.size();
  }

  private void sweep(long now) {
    long last = lastSweep.get();
    if (now - last < SWEEP_NANOS || !lastSweep.compareAndSet(last, now)) {
      return;
    }
    buckets.entrySet().removeIf(e -> e.getValue().fullAt(now));
  }

  private final class Bucket {
    private double tokens;
    private long at;

    Bucket(double tokens, long at) {
      this.tokens = tokens;
      this.at = at;
    }

    synchronized long take(long now) {
      refill(now);
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.max(1, (long) Math.ceil((1 - tokens) / perSecond * 1e9));
    }

    synchronized boolean fullAt(long now) {
      refill(now);
      return tokens >= burst;
    }

    private void refill(long now) {
      if (now > at) {
        tokens = Math.min(burst, tokens + (now - at) / 1e9 * perSecond);
        at = now;
      }
    }
  }
}
