package io.flotilla.api.auth;

import jakarta.servlet.http.HttpServletRequest;

/**
 * A request's path in its two forms, which differ when it holds dot segments, plain or
 * percent-encoded: as sent (what Jersey matches its resources against, so a key may hold
 * {@code ..}), and as matched by Jetty (decoded, dot segments resolved: what servlet filters
 * are mapped by, and what the admin servlets serve). A check that one form passes must hold
 * for the other too.
 */
public final class RequestPaths {
  private RequestPaths() {}

  /** The path as sent, percent-encoding and dot segments as they came, context included. */
  public static String sent(HttpServletRequest request) {
    String uri = request.getRequestURI();
    return uri == null || uri.isEmpty() ? "/" : uri;
  }

  /** The path as Jetty matches servlets and filters: decoded, dot segments resolved, context included. */
  public static String matched(HttpServletRequest request) {
    String servlet = request.getServletPath() == null ? "" : request.getServletPath();
    String info = request.getPathInfo() == null ? "" : request.getPathInfo();
    String context = request.getContextPath() == null ? "" : request.getContextPath();
    String path = context + servlet + info;
    return path.isEmpty() ? "/" : path;
  }

  /** Whether either form of the request's path is under {@code /v1/}: a client's API call. */
  public static boolean api(HttpServletRequest request) {
    return sent(request).startsWith("/v1/") || matched(request).startsWith("/v1/");
  }
}
