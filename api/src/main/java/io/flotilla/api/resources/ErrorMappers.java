package io.flotilla.api.resources;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.flotilla.common.FlotillaException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Exception mappers: every error leaves the node as shared/API.md's JSON body. */
public final class ErrorMappers {
  private static final Logger LOG = LoggerFactory.getLogger(ErrorMappers.class);

  private ErrorMappers() {}

  public static List<Object> all() {
    return List.of(new Flotilla(), new Web(), new Json(), new Unexpected());
  }

  /** Errors raised by our own code. */
  public static final class Flotilla implements ExceptionMapper<FlotillaException> {
    @Override
    public Response toResponse(FlotillaException e) {
      return ErrorBodies.of(e);
    }
  }

  /** Errors raised by Jersey itself: unknown path, wrong method, bad media type. */
  public static final class Web implements ExceptionMapper<WebApplicationException> {
    @Override
    public Response toResponse(WebApplicationException e) {
      int status = e.getResponse().getStatus();
      String code = switch (status) {
        case 400, 406, 415 -> "invalid_argument";
        case 401 -> "unauthenticated";
        case 403 -> "permission_denied";
        case 404 -> "not_found";
        case 405 -> "method_not_allowed";
        case 413 -> "too_large";
        case 503 -> "unavailable";
        default -> status >= 500 ? "internal" : "invalid_argument";
      };
      String message = status == 404 ? "no such endpoint; see shared/API.md" : e.getMessage();
      return ErrorBodies.of(status, code, message);
    }
  }

  /** Malformed JSON bodies bound by Jackson. */
  public static final class Json implements ExceptionMapper<JsonProcessingException> {
    @Override
    public Response toResponse(JsonProcessingException e) {
      return ErrorBodies.of(400, "invalid_argument", "the body is not valid JSON: " + e.getOriginalMessage());
    }
  }

  /** Anything else is a bug: log it with its stack, answer 500 without leaking internals. */
  public static final class Unexpected implements ExceptionMapper<Throwable> {
    @Override
    public Response toResponse(Throwable e) {
      LOG.error("unexpected error while serving a request", e);
      return ErrorBodies.of(500, "internal", "internal error (" + e.getClass().getSimpleName() + "); see the node's log");
    }
  }
}
