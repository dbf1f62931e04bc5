package io.flotilla.client.http;

import java.net.URI;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A request failed: the server answered with shared/API.md's error body, or no node could be
 * reached. Futures of {@link FlotillaClient} and {@link Session} fail with this (wrapped in a
 * {@link java.util.concurrent.CompletionException} by {@code join}).
 *
 * <p>{@link #code()} is the API's error code ({@code version_conflict}, {@code unavailable}, ...);
 * {@link #status()} the HTTP status, or 0 when no response arrived (then the code is
 * {@code unavailable} or {@code timeout}). A failure whose outcome cannot be known is an
 * {@link OutcomeUnknownException}.
 */
public class FlotillaClientException extends RuntimeException {
  private final String code;
  private final int status;
  private final Long currentVersion;
  private final Integer failedIndex;
  private final URI node;

  public FlotillaClientException(String code, int status, String message, Long currentVersion, Integer failedIndex,
      URI node, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.status = status;
    this.currentVersion = currentVersion;
    this.failedIndex = failedIndex;
    this.node = node;
  }

  public String code() {
    return code;
  }

  public int status() {
    return status;
  }

  /** The key's version when a condition failed ({@code version_conflict}; 0 if the key is absent). */
  public OptionalLong currentVersion() {
    return currentVersion == null ? OptionalLong.empty() : OptionalLong.of(currentVersion);
  }

  /** The op of an atomic batch whose condition failed. */
  public OptionalInt failedIndex() {
    return failedIndex == null ? OptionalInt.empty() : OptionalInt.of(failedIndex);
  }

  /** The node that answered (or last failed to), if any. */
  public URI node() {
    return node;
  }

  /** True when a write may or may not have been applied: see {@link OutcomeUnknownException}. */
  public boolean isOutcomeUnknown() {
    return false;
  }

  @Override
  public String getMessage() {
    return code + (status == 0 ? "" : " (HTTP " + status + ")") + ": " + super.getMessage()
        + (node == null ? "" : " [" + node + "]");
  }
}
