package io.flotilla.client.http;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One snapshot of the cluster's ranges, as {@code GET /v1/admin/ranges} listed them.
 *
 * <p>Invariant: the spans are sorted, disjoint and cover the whole key space (the first starts
 * at the empty key, each starts where the previous ends, the last is unbounded), so every key
 * has exactly one range. A listing that breaks this (a node caught between a split and learning
 * the child) is refused by {@link #of} rather than patched. {@code generation} orders snapshots:
 * a later one has a larger number.
 */
final class RangeMap {
  private final List<RangeSpan> ranges;
  private final long generation;

  private RangeMap(List<RangeSpan> ranges, long generation) {
    this.ranges = ranges;
    this.generation = generation;
  }

  /** @throws IllegalArgumentException if the spans do not tile the key space exactly */
  static RangeMap of(List<RangeSpan> spans, long generation) {
    List<RangeSpan> sorted = new ArrayList<>(spans);
    sorted.sort(Comparator.comparing(RangeSpan::start, KeyOrder::compare));
    if (sorted.isEmpty()) {
      throw new IllegalArgumentException("the listing has no ranges");
    }
    if (sorted.get(0).start().length != 0) {
      throw new IllegalArgumentException("no range covers the keys before " + sorted.get(0));
    }
    for (int i = 1; i < sorted.size(); i++) {
      RangeSpan prev = sorted.get(i - 1);
      if (prev.end().length == 0 || KeyOrder.compare(prev.end(), sorted.get(i).start()) != 0) {
        throw new IllegalArgumentException(prev + " and " + sorted.get(i) + " do not meet exactly");
      }
    }
    if (sorted.get(sorted.size() - 1).end().length != 0) {
      throw new IllegalArgumentException("no range covers the keys after " + sorted.get(sorted.size() - 1));
    }
    return new RangeMap(List.copyOf(sorted), generation);
  }

  long generation() {
    return generation;
  }

  List<RangeSpan> all() {
    return ranges;
  }

  /** The range holding {@code key}. */
  RangeSpan lookup(byte[] key) {
    return ranges.get(indexOf(key));
  }

  /** The range holding the keys just below {@code position} (empty: the end of the key space). */
  RangeSpan below(byte[] position) {
    if (position.length == 0) {
      return ranges.get(ranges.size() - 1);
    }
    // the last range starting strictly before position; the first range starts at "" so one exists
    int lo = 0;
    int hi = ranges.size() - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (KeyOrder.compare(ranges.get(mid).start(), position) < 0) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return ranges.get(lo);
  }

  /** The ranges sharing a key with [start, end) (empty end: unbounded), in key order. */
  List<RangeSpan> overlapping(byte[] start, byte[] end) {
    List<RangeSpan> out = new ArrayList<>();
    for (int i = indexOf(start); i < ranges.size(); i++) {
      RangeSpan r = ranges.get(i);
      if (end.length != 0 && KeyOrder.compare(r.start(), end) >= 0) {
        break;
      }
      out.add(r);
    }
    return out;
  }

  /** The index of the last range whose start is at or before {@code key}. */
  private int indexOf(byte[] key) {
    int lo = 0;
    int hi = ranges.size() - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (KeyOrder.compare(ranges.get(mid).start(), key) <= 0) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  @Override
  public String toString() {
    return "RangeMap#" + generation + ranges;
  }
}
