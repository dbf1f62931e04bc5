package io.flotilla.api.resources;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** The one place that turns an error into shared/API.md's JSON body and status. */
public final class ErrorBodies {
  /** Seconds a client should wait before retrying a 429 or 503. */
  static final long RETRY_AFTER_SECONDS = 1;

  private ErrorBodies() {}

  public static Response of(FlotillaException e) {
    return of(e.code().status(), e.code().wireName(), e.getMessage(), e.details(), e.code());
  }

  /**
   * Writes an {@code overloaded} answer (429, {@code Retry-After}) straight to a servlet
   * response, for the filters that refuse a request before Jersey or the fast path see it.
   *
   * @param close whether the connection closes after the answer (the request's body is unread)
   */
  static void overloaded(HttpServletResponse response, ObjectMapper json, String message, long retryAfterSeconds,
      boolean close) throws IOException {
    response.setHeader("Retry-After", Long.toString(Math.max(1, retryAfterSeconds)));
    write(response, json, ErrorCode.OVERLOADED, message, close);
  }

  /**
   * Writes an error answer straight to a servlet response, for the filters that refuse a
   * request before Jersey or the fast path see it (headers already set stay).
   *
   * @param close whether the connection closes after the answer (the request's body is unread)
   */
  public static void write(HttpServletResponse response, ObjectMapper json, ErrorCode code, String message,
      boolean close) throws IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", code.wireName());
    body.put("message", message);
    byte[] bytes = json.writeValueAsBytes(body);
    response.setStatus(code.status());
    response.setContentType(MediaType.APPLICATION_JSON);
    if (close) {
      response.setHeader("Connection", "close");
    }
    response.setContentLength(bytes.length);
    response.getOutputStream().write(bytes);
    response.flushBuffer();
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
      r.header("Retry-After", Long.toString(RETRY_AFTER_SECONDS));
    }
    return r.build();
  }
}
