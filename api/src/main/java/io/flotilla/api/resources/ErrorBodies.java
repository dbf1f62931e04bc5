package io.flotilla.api.resources;

import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;

/** The one place that turns an error into shared/API.md's JSON body and status. */
public final class ErrorBodies {
  /** Seconds a client should wait before retrying a 429 or 503. */
  static final String RETRY_AFTER_SECONDS = "1";

  private ErrorBodies() {}

  public static Response of(FlotillaException e) {
    return of(e.code().status(), e.code().wireName(), e.getMessage(), e.details(), e.code());
  }

  public static Response of(int status, String code, String message) {
    return of(status, code, message, Map.of(), null);
  }

  private static Response of(int status, String code, String message, Map<String, Object> details, ErrorCode known) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", code);
    body.put("message", message);
    body.putAll(details);
    Response.ResponseBuilder r = Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(body);
    if (known == ErrorCode.OVERLOADED || known == ErrorCode.UNAVAILABLE) {
      r.header("Retry-After", RETRY_AFTER_SECONDS);
    }
    return r.build();
  }
}
