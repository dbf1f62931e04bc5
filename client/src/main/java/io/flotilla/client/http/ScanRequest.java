package io.flotilla.client.http;

import java.util.Objects;

/**
 * What to scan ({@code GET /v1/kv}): a span given as [start, end) or as a prefix, and how.
 * Immutable; the {@code with*} methods return changed copies.
 *
 * @param start inclusive first key, null for the beginning of the key space (ignored with a prefix)
 * @param end exclusive last key, null for the end of the key space (ignored with a prefix)
 * @param prefix every key starting with it; null to use start and end
 * @param limit keys per page, null for the server's default (100)
 * @param cursor where the page starts, from a previous page of the same scan; null for the first
 */
public record ScanRequest(String start, String end, String prefix, Integer limit, boolean reverse, boolean keysOnly,
    String cursor, Consistency consistency) {
  public ScanRequest {
    if (prefix != null && (start != null || end != null)) {
      throw new IllegalArgumentException("give either a prefix or start/end, not both");
    }
    if (limit != null && limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1 (got " + limit + ")");
    }
    Objects.requireNonNull(consistency, "consistency");
  }

  /** Every key. */
  public static ScanRequest all() {
    return new ScanRequest(null, null, null, null, false, false, null, Consistency.STRONG);
  }

  /** Keys in [start, end); either may be null for "unbounded". */
  public static ScanRequest range(String start, String end) {
    return new ScanRequest(start, end, null, null, false, false, null, Consistency.STRONG);
  }

  /** Keys that start with {@code prefix}. */
  public static ScanRequest prefix(String prefix) {
    return new ScanRequest(null, null, Objects.requireNonNull(prefix, "prefix"), null, false, false, null,
        Consistency.STRONG);
  }

  public ScanRequest withLimit(int newLimit) {
    return new ScanRequest(start, end, prefix, newLimit, reverse, keysOnly, cursor, consistency);
  }

  public ScanRequest withReverse(boolean newReverse) {
    return new ScanRequest(start, end, prefix, limit, newReverse, keysOnly, cursor, consistency);
  }

  public ScanRequest withKeysOnly(boolean newKeysOnly) {
    return new ScanRequest(start, end, prefix, limit, reverse, newKeysOnly, cursor, consistency);
  }

  public ScanRequest withCursor(String newCursor) {
    return new ScanRequest(start, end, prefix, limit, reverse, keysOnly, newCursor, consistency);
  }

  public ScanRequest withConsistency(Consistency newConsistency) {
    return new ScanRequest(start, end, prefix, limit, reverse, keysOnly, cursor, newConsistency);
  }

  /** The span's inclusive start as UTF-8 (empty: the beginning of the key space). */
  byte[] spanStart() {
    if (prefix != null) {
      return KeyOrder.utf8(prefix);
    }
    return start == null ? KeyOrder.NONE : KeyOrder.utf8(start);
  }

  /** The span's exclusive end as UTF-8 (empty: the end of the key space). */
  byte[] spanEnd() {
    if (prefix != null) {
      String e = KeyOrder.prefixEnd(prefix);
      return e == null ? KeyOrder.NONE : KeyOrder.utf8(e);
    }
    return end == null ? KeyOrder.NONE : KeyOrder.utf8(end);
  }
}
