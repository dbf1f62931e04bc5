package io.flotilla.common;

/** The error codes of shared/API.md with their HTTP statuses. */
public enum ErrorCode {
  INVALID_ARGUMENT(400),
  UNAUTHENTICATED(401),
  PERMISSION_DENIED(403),
  NOT_FOUND(404),
  VERSION_CONFLICT(409),
  TOO_LARGE(413),
  UNPROCESSABLE(422),
  OVERLOADED(429),
  INTERNAL(500),
  UNAVAILABLE(503),
  TIMEOUT(504);

  private final int status;

  ErrorCode(int status) {
    this.status = status;
  }

  public int status() {
    return status;
  }

  /** The code as it appears in JSON bodies, e.g. {@code version_conflict}. */
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
