package io.flotilla.api.auth;

import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import jakarta.servlet.http.HttpServletRequest;

/** A caller a node recognised by its token: the token's name and role. */
public record Principal(String name, Role role) {
  /** The request attribute holding the request's principal; absent when auth is off. */
  public static final String ATTRIBUTE = "io.flotilla.auth.principal";

  /** The request's principal, or null when auth is off. */
  public static Principal of(HttpServletRequest request) {
    return request == null ? null : (Principal) request.getAttribute(ATTRIBUTE);
  }

  /**
   * Refuses {@code what} with 403 {@code permission_denied} unless the request's principal may
   * do what {@code needed} may (always allowed when auth is off). For checks that need more
   * than the request line, such as whether a batch writes.
   */
  public static void require(HttpServletRequest request, Role needed, String what) {
    Principal p = of(request);
    if (p != null && !p.role().covers(needed)) {
      throw new FlotillaException(ErrorCode.PERMISSION_DENIED, p.refusal(what, needed));
    }
  }

  String refusal(String what, Role needed) {
    return "token '" + name + "' has role " + role.wireName() + "; " + what + " needs role " + needed.wireName();
  }
}
