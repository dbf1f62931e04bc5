package io.flotilla.bench.load;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmark's keys: key number i is {@link #keyOf(long) keyOf(i)}. Numbers
 * {@code [0, initialKeys)} are preloaded; inserts (YCSB D and E) take the next numbers in order.
 * One key space per store, driven through the same workloads in the same order, so both stores
 * end up holding the same keys.
 */
public final class KeySpace {
  private final long initialKeys;
  private final AtomicLong nextInsert;

  public KeySpace(long initialKeys) {
    if (initialKeys < 1) {
      throw new IllegalArgumentException("--keys must be at least 1");
    }
    this.initialKeys = initialKeys;
    this.nextInsert = new AtomicLong(initialKeys);
  }

  /**
   * The key of number i. The first character cycles through a..z so that consecutive numbers,
   * and so the hot keys of a skewed distribution, land in every range of the default layout
   * (cut at g, n, t) instead of piling into one.
   */
  public static String keyOf(long i) {
    return (char) ('a' + i % 26) + "/bench/" + i;
  }

  public long initialKeys() {
    return initialKeys;
  }

  /** Claims the number of a new key to insert. */
  public long claimInsert() {
    return nextInsert.getAndIncrement();
  }

  /** How many key numbers exist or are being inserted: every number below this was claimed. */
  public long claimed() {
    return nextInsert.get();
  }
}
