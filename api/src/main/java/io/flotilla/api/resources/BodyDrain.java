package io.flotilla.api.resources;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads what is left of a request body before the answer goes out. A request refused before its
 * body was read (a bad key, a bad parameter, a value over the limit) otherwise leaves bytes on the
 * connection: the server then closes a connection the client believes reusable, and the client's
 * next request on it fails with no answer at all. A body much larger than any accepted one is
 * left unread; that connection closes, as it should.
 */
public final class BodyDrain implements ContainerResponseFilter {
  private final long bound;

  public BodyDrain(long bound) {
    this.bound = bound;
  }

  @Override
  public void filter(ContainerRequestContext request, ContainerResponseContext response) {
    if (request.getLength() > bound) {
      return;
    }
    try {
      drain(request.getEntityStream(), bound);
    } catch (IllegalStateException ignored) {
      // the body was already read and closed: nothing left to drain
    }
  }

  /** Reads and drops up to {@code bound} bytes of what is left of {@code body}. */
  static void drain(InputStream body, long bound) {
    try {
      if (body == null || body.read() < 0) {
        return; // nothing left (every GET, every body already read): no buffer for it
      }
      long skipped = 1;
      byte[] buffer = new byte[8 * 1024];
      for (int n; skipped < bound && (n = body.read(buffer)) > 0; ) {
        skipped += n;
      }
    } catch (IOException | IllegalStateException ignored) {
      // the client went away, or the body was already read and closed: nothing left to drain
    }
  }
}
