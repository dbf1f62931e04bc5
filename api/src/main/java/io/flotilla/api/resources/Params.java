package io.flotilla.api.resources;

import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;

/** Strict parsing of query parameters: anything malformed is a 400 naming the parameter. */
final class Params {
  /** Ten years: longer TTLs are almost certainly a unit mistake. */
  static final long MAX_TTL_SECONDS = 10L * 365 * 24 * 3600;

  private Params() {}

  static long ttl(String value) {
    if (value == null) {
      return 0;
    }
    long ttl = parseLong("ttl", value);
    if (ttl <= 0 || ttl > MAX_TTL_SECONDS) {
      throw invalid("ttl must be a whole number of seconds between 1 and " + MAX_TTL_SECONDS + " (got '" + value + "')");
    }
    return ttl;
  }

  static Long ifVersion(String value) {
    if (value == null) {
      return null;
    }
    long v = parseLong("if_version", value);
    if (v < 0) {
      throw invalid("if_version must be 0 (must not exist) or a positive version (got '" + value + "')");
    }
    return v;
  }

  static long minRevision(String value) {
    if (value == null) {
      return 0;
    }
    long v = parseLong("min_revision", value);
    if (v < 0) {
      throw invalid("min_revision must be >= 0 (got '" + value + "')");
    }
    return v;
  }

  static int limit(String value, int defaultLimit, int max) {
    if (value == null) {
      return defaultLimit;
    }
    long v = parseLong("limit", value);
    if (v < 1 || v > max) {
      throw invalid("limit must be between 1 and " + max + " (got '" + value + "')");
    }
    return (int) v;
  }

  /** A flag: absent = false; present with no value, "true" or "1" = true; "false" or "0" = false. */
  static boolean flag(String name, String value) {
    if (value == null) {
      return false;
    }
    return switch (value) {
      case "", "true", "1" -> true;
      case "false", "0" -> false;
      default -> throw invalid(name + " must be true or false (got '" + value + "')");
    };
  }

  static long parseLong(String name, String value) {
    try {
      return Long.parseLong(value.trim().isEmpty() ? "x" : value);
    } catch (NumberFormatException e) {
      throw invalid(name + " must be an integer (got '" + value + "')");
    }
  }

  static FlotillaException invalid(String message) {
    return new FlotillaException(ErrorCode.INVALID_ARGUMENT, message);
  }
}
