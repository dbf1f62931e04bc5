package io.flotilla.api.auth;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.api.resources.ErrorBodies;
import io.flotilla.common.ErrorCode;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Optional;
import java.util.Set;

/**
 * Authenticates every request by its bearer token and checks its role against what the
 * request needs ({@link #required}), before any other filter or resource sees it: 401
 * {@code unauthenticated} without a known token, 403 {@code permission_denied} when its role
 * falls short. The request carries its {@link Principal} on; a resource whose need depends on
 * the body (a batch that writes) checks it with {@link Principal#require}.
 */
public final class AuthFilter implements Filter {
  /** Open to anyone: probes of load balancers and orchestrators, and metrics scrapers. */
  private static final Set<String> OPEN = Set.of("/healthz", "/readyz", "/metrics");
  public static final String UNAUTHENTICATED_METER = "flotilla.auth.unauthenticated";
  public static final String DENIED_METER = "flotilla.auth.permission-denied";

  private final Tokens tokens;
  private final ObjectMapper json;
  private final Meter unauthenticated;
  private final Meter denied;

  public AuthFilter(Tokens tokens, ObjectMapper json, MetricRegistry metrics) {
    this.tokens = tokens;
    this.json = json;
    this.unauthenticated = metrics.meter(UNAUTHENTICATED_METER);
    this.denied = metrics.meter(DENIED_METER);
  }

  /**
   * The role a request needs, or null if it needs none: the higher of what its path needs as
   * sent and what it needs as the servlets match it ({@link RequestPaths}). The two differ when the
   * path holds dot segments, plain or percent-encoded: Jetty resolves them before it matches
   * servlets and filters, while Jersey matches the path as sent (a key may hold {@code ..}).
   * Judging by either one alone would let {@code PUT /v1/kv/x/%2e%2e/%2e%2e/%2e%2e/healthz}
   * write key {@code x/../../../healthz} unauthenticated.
   */
  static Role required(String method, String sentPath, String matchedPath) {
    Role sent = required(method, sentPath);
    Role matched = required(method, matchedPath);
    if (sent == null || matched == null) {
      return sent == null ? matched : sent;
    }
    return sent.compareTo(matched) >= 0 ? sent : matched;
  }

  /**
   * The role a path needs, or null if it needs none. Anything not named here needs admin, so a
   * path added later is closed until someone opens it.
   */
  static Role required(String method, String path) {
    if (OPEN.contains(path)) {
      return null;
    }
    if (path.equals("/v1/kv") || path.startsWith("/v1/kv/")) {
      return method.equals("GET") || method.equals("HEAD") ? Role.READ : Role.WRITE;
    }
    if (path.equals("/v1/batch")) {
      return Role.READ; // a batch with writes needs write: BatchResource checks, it has read the ops
    }
    if (path.equals("/v1/admin/ranges") && (method.equals("GET") || method.equals("HEAD"))) {
      return Role.READ; // where the ranges are: the Java client's sessions route by it
    }
    if (path.equals("/internal") || path.startsWith("/internal/")) {
      return Role.NODE;
    }
    return Role.ADMIN;
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
    HttpServletRequest request = (HttpServletRequest) req;
    HttpServletResponse response = (HttpServletResponse) res;
    Role needed = required(request.getMethod(), RequestPaths.sent(request), RequestPaths.matched(request));
    if (needed == null) {
      chain.doFilter(req, res);
      return;
    }
    String header = request.getHeader("Authorization");
    Optional<Principal> principal = bearer(header).flatMap(tokens::principal);
    boolean unreadBody = request.getContentLengthLong() > 0 || request.getHeader("Transfer-Encoding") != null;
    if (principal.isEmpty()) {
      unauthenticated.mark();
      response.setHeader("WWW-Authenticate", "Bearer realm=\"flotilla\"");
      ErrorBodies.write(response, json, ErrorCode.UNAUTHENTICATED, header == null
          ? "this node needs a token: send the header Authorization: Bearer <token>"
          : "the Authorization header holds no token this node knows (Bearer <token>)", unreadBody);
      return;
    }
    if (!principal.get().role().covers(needed)) {
      denied.mark();
      ErrorBodies.write(response, json, ErrorCode.PERMISSION_DENIED,
          principal.get().refusal(request.getMethod() + " " + RequestPaths.sent(request), needed), unreadBody);
      return;
    }
    request.setAttribute(Principal.ATTRIBUTE, principal.get());
    chain.doFilter(req, res);
  }

  /** The token of an {@code Authorization: Bearer <token>} header (the scheme in any case). */
  static Optional<String> bearer(String header) {
    if (header == null || header.length() <= 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    String token = header.substring(7).trim();
    return token.isEmpty() ? Optional.empty() : Optional.of(token);
  }
}
