package io.flotilla.client;

import io.flotilla.common.FlotillaException;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.Keys;
import io.flotilla.common.Ranges;
import io.flotilla.proto.RangeDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The routing cache: ranges by start key. Updated from replicas' descriptors (and, later, the
 * placement driver); a newer epoch always replaces an older one, never the other way round.
 *
 * <p>Thread-safe; readers see each range descriptor atomically.
 */
public final class RoutingTable {
  private final ConcurrentSkipListMap<byte[], RangeDescriptor> byStart = new ConcurrentSkipListMap<>(Keys.ORDER);
  private final Map<Long, RangeDescriptor> byId = new ConcurrentHashMap<>();

  /** Installs a descriptor unless a newer epoch of the same range is already known. */
  public synchronized void update(RangeDescriptor range) {
    RangeDescriptor known = byId.get(range.getId());
    if (known != null && isOlder(range, known)) {
      return;
    }
    if (known != null) {
      byStart.remove(known.getStart().toByteArray(), known);
    }
    // Drop ranges the new span now covers (they were split or merged away).
    byte[] start = range.getStart().toByteArray();
    byte[] end = range.getEnd().toByteArray();
    for (RangeDescriptor other : new ArrayList<>(byStart.values())) {
      if (other.getId() != range.getId() && Ranges.overlaps(other, start, end) && isOlder(other, range)) {
        byStart.remove(other.getStart().toByteArray(), other);
        byId.remove(other.getId(), other);
      }
    }
    byStart.put(start, range);
    byId.put(range.getId(), range);
  }

  private static boolean isOlder(RangeDescriptor a, RangeDescriptor b) {
    int v = Long.compareUnsigned(a.getEpoch().getVersion(), b.getEpoch().getVersion());
    return v < 0 || (v == 0 && Long.compareUnsigned(a.getEpoch().getConf(), b.getEpoch().getConf()) < 0);
  }

  /** The range owning {@code key}; unavailable when no known range covers it. */
  public RangeDescriptor lookup(byte[] key) {
    Map.Entry<byte[], RangeDescriptor> e = byStart.floorEntry(key);
    if (e == null || !Ranges.contains(e.getValue(), key)) {
      throw new FlotillaException(ErrorCode.UNAVAILABLE, "no known range owns this key yet; retry shortly");
    }
    return e.getValue();
  }

  public Optional<RangeDescriptor> byId(long id) {
    return Optional.ofNullable(byId.get(id));
  }

  /** Ranges overlapping [start, end) in key order (reverse order when {@code reverse}). */
  public List<RangeDescriptor> overlapping(byte[] start, byte[] end, boolean reverse) {
    List<RangeDescriptor> out = new ArrayList<>();
    byte[] from = Optional.ofNullable(byStart.floorKey(start)).orElse(start);
    Collection<RangeDescriptor> tail = byStart.tailMap(from, true).values();
    for (RangeDescriptor r : tail) {
      if (Ranges.overlaps(r, start, end)) {
        out.add(r);
      } else if (end.length != 0 && Keys.compare(r.getStart().toByteArray(), end) >= 0) {
        break;
      }
    }
    if (reverse) {
      java.util.Collections.reverse(out);
    }
    return out;
  }

  public List<RangeDescriptor> all() {
    return new ArrayList<>(byStart.values());
  }

  /**
   * Whether the known ranges cover the whole key space with no gap. A gap is transient: a split
   * whose shrunk parent arrived before its new right half, for instance.
   */
  public boolean isComplete() {
    byte[] expected = new byte[0];
    boolean first = true;
    for (RangeDescriptor r : byStart.values()) {
      if (!first && expected.length == 0) {
        return false; // a range after one that reached the end of the key space
      }
      if (Keys.compare(r.getStart().toByteArray(), expected) != 0) {
        return false;
      }
      expected = r.getEnd().toByteArray();
      first = false;
    }
    return !first && expected.length == 0;
  }
}
