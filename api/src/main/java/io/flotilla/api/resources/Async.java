package io.flotilla.api.resources;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import io.flotilla.api.service.KeyService;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Completes asynchronous resource calls: bounds them by the request timeout, turns every
 * failure into API.md's JSON error, and records latency and errors per operation.
 */
public final class Async {
  private final Duration timeout;
  private final MetricRegistry metrics;

  public Async(Duration timeout, MetricRegistry metrics) {
    this.timeout = timeout;
    this.metrics = metrics;
  }

  /**
   * @param write whether the operation writes: a write that times out has an unknown outcome
   */
  public <T> CompletionStage<Response> respond(String op, boolean write, CompletableFuture<T> call,
      Function<T, Response> ok) {
    Timer.Context timing = metrics.timer(MetricRegistry.name("flotilla", "requests", op)).time();
    return call.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).handle((value, error) -> {
      timing.stop();
      if (error == null) {
        try {
          return ok.apply(value);
        } catch (FlotillaException e) {
          return failure(op, e);
        }
      }
      return failure(op, translate(error, write, op));
    });
  }

  private Response failure(String op, FlotillaException e) {
    metrics.meter(MetricRegistry.name("flotilla", "errors", op, e.code().wireName())).mark();
    return ErrorBodies.of(e);
  }

  private FlotillaException translate(Throwable error, boolean write, String op) {
    Throwable t = error;
    while (t.getCause() != null && !(t instanceof FlotillaException) && !(t instanceof TimeoutException)) {
      t = t.getCause();
    }
    if (t instanceof TimeoutException) {
      return write ? FlotillaException.outcomeUnknown("the " + op, t)
          : new FlotillaException(ErrorCode.TIMEOUT, "the " + op + " did not complete within " + timeout.toMillis() + " ms");
    }
    return KeyService.unwrap(error);
  }
}
