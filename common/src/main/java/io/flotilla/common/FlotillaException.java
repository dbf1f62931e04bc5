package io.flotilla.common;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A failure with an API error code; the API turns it into {@code {"error","message",...}}.
 * Detail fields (for example {@code current_version}) travel in {@link #details()}.
 */
public class FlotillaException extends RuntimeException {
  private final ErrorCode code;
  private final Map<String, Object> details;

  public FlotillaException(ErrorCode code, String message) {
    this(code, message, Map.of(), null);
  }

  public FlotillaException(ErrorCode code, String message, Throwable cause) {
    this(code, message, Map.of(), cause);
  }

  public FlotillaException(ErrorCode code, String message, Map<String, Object> details, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
  }

  public ErrorCode code() {
    return code;
  }

  public Map<String, Object> details() {
    return details;
  }

  public static FlotillaException versionConflict(String message, long currentVersion) {
    return new FlotillaException(
        ErrorCode.VERSION_CONFLICT, message, Map.of("current_version", currentVersion), null);
  }

  /** The write may or may not have been applied; the caller must not assume either. */
  public static FlotillaException outcomeUnknown(String what, Throwable cause) {
    return new FlotillaException(ErrorCode.TIMEOUT,
        what + " did not complete in time; the outcome is unknown (it may or may not have been applied)",
        Map.of(), cause);
  }
}
