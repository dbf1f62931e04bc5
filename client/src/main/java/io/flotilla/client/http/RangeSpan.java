package io.flotilla.client.http;

/**
 * A range as the routing cache knows it: id and span [start, end), an empty end meaning "to the
 * end of the key space". The arrays are never modified.
 */
record RangeSpan(long id, byte[] start, byte[] end) {
  boolean contains(byte[] key) {
    return KeyOrder.compare(key, start) >= 0 && !KeyOrder.atOrAfterEnd(key, end);
  }

  /** Whether the span shares a key with [otherStart, otherEnd) (empty otherEnd: unbounded). */
  boolean overlaps(byte[] otherStart, byte[] otherEnd) {
    boolean startsBeforeOtherEnds = otherEnd.length == 0 || KeyOrder.compare(start, otherEnd) < 0;
    boolean endsAfterOtherStarts = end.length == 0 || KeyOrder.compare(end, otherStart) > 0;
    return startsBeforeOtherEnds && endsAfterOtherStarts;
  }

  @Override
  public String toString() {
    return "range " + id + " [" + KeyOrder.string(start) + ", " + (end.length == 0 ? "+inf" : KeyOrder.string(end))
        + ")";
  }
}
