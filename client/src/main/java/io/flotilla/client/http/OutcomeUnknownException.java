package io.flotilla.client.http;

import java.net.URI;

/**
 * A write may or may not have been applied: the server answered {@code 504 timeout}, or the
 * request had been sent when the answer timed out or the connection broke. The client never
 * retries such a write by itself (a retry could apply it twice); read the key to learn what
 * happened, or retry with a condition ({@link PutOptions#ifVersion}) that makes it idempotent.
 *
 * <p>Inside a {@link Session} the write's revision is unknown, so read-your-writes does not
 * cover it.
 */
public class OutcomeUnknownException extends FlotillaClientException {
  public OutcomeUnknownException(String code, int status, String message, URI node, Throwable cause) {
    super(code, status, message, null, null, node, cause);
  }

  @Override
  public boolean isOutcomeUnknown() {
    return true;
  }
}
