package io.flotilla.testcluster.chaos;

import io.flotilla.testcluster.ApiClient;
import java.io.UncheckedIOException;
import java.util.function.Supplier;

/**
 * Maps an HTTP exchange to a history outcome. A write is {@code ok} on 2xx, {@code fail} when it
 * certainly did not apply (4xx, 503 "nothing applied", a connection that was never made), and
 * {@code info} when it may have (504, a timeout, a connection lost after sending).
 */
final class Outcomes {
  private Outcomes() {}

  record Outcome(Op.Type type, ApiClient.Resp resp, String error) {}

  static Outcome write(Supplier<ApiClient.Resp> call) {
    try {
      ApiClient.Resp r = call.get();
      if (r.status() >= 200 && r.status() < 300) {
        return new Outcome(Op.Type.OK, r, null);
      }
      if (r.status() == 504 || r.status() >= 500 && r.status() != 503) {
        return new Outcome(Op.Type.INFO, r, r.status() + " " + r.json().path("error").asText());
      }
      return new Outcome(Op.Type.FAIL, r, r.status() + " " + r.json().path("error").asText());
    } catch (UncheckedIOException e) {
      boolean neverSent = e.getCause() instanceof java.net.ConnectException;
      return new Outcome(neverSent ? Op.Type.FAIL : Op.Type.INFO, null, e.getCause().getClass().getSimpleName());
    }
  }

  /**
   * Reads change nothing: anything but a 2xx answer, or a 404 saying the key does not exist,
   * is a failed read (other 404s, such as an unknown node, say nothing about the key).
   */
  static Outcome read(Supplier<ApiClient.Resp> call) {
    try {
      ApiClient.Resp r = call.get();
      boolean absent = r.status() == 404 && new String(r.body(), java.nio.charset.StandardCharsets.UTF_8)
          .contains("does not exist");
      return new Outcome(r.status() == 200 || absent ? Op.Type.OK : Op.Type.FAIL, r,
          r.status() == 200 || absent ? null : String.valueOf(r.status()));
    } catch (UncheckedIOException e) {
      return new Outcome(Op.Type.FAIL, null, e.getCause().getClass().getSimpleName());
    }
  }
}
