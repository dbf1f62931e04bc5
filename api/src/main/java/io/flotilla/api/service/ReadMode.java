package io.flotilla.api.service;

import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;

/** The {@code consistency} of a read, as shared/API.md defines it. */
public enum ReadMode {
  /** Linearizable, served by the range leader (lease or read index). */
  STRONG,
  /** Linearizable, served by a follower after it applied the leader's read index. */
  FOLLOWER,
  /** Served from a replica's local state without a quorum round trip; may be stale. */
  STALE;

  public static ReadMode parse(String value) {
    if (value == null || value.isEmpty()) {
      return STRONG;
    }
    return switch (value) {
      case "strong" -> STRONG;
      case "follower" -> FOLLOWER;
      case "stale" -> STALE;
      default -> throw new FlotillaException(ErrorCode.INVALID_ARGUMENT,
          "consistency must be one of strong, follower, stale (got '" + value + "')");
    };
  }
}
