package io.flotilla.statemachine;

import io.flotilla.common.Keys;
import io.flotilla.proto.BatchEntry;
import io.flotilla.proto.Command;
import io.flotilla.proto.RangeDescriptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The keys of a range's most recent writes, for splitting a hot range where its load divides,
 * not where its data does (a range whose writes all go to one end splits at that end).
 *
 * <p>A ring of the last {@link #CAPACITY} written keys, each cut to {@link #KEY_PREFIX} bytes
 * (any key inside the span is a valid split point): a few kilobytes per range. Not persisted:
 * after a restart or a leader change the sample refills with new writes. Thread-safe.
 */
public final class WriteSample {
  static final int CAPACITY = 256;
  static final int KEY_PREFIX = 64;

  private final byte[][] ring = new byte[CAPACITY][];
  private int next;
  private int size;

  /** Records the keys a command writes. */
  public void record(Command command) {
    switch (command.getKindCase()) {
      case PUT -> add(command.getPut().getKey().toByteArray());
      case DELETE -> add(command.getDelete().getKey().toByteArray());
      case INCR -> add(command.getIncr().getKey().toByteArray());
      case TXN_PREPARE -> addWrites(command.getTxnPrepare().getEntriesList());
      case BATCH -> addWrites(command.getBatch().getEntriesList());
      default -> { }
    }
  }

  private void addWrites(List<BatchEntry> entries) {
    for (BatchEntry e : entries) {
      if (e.hasPut()) {
        add(e.getPut().getKey().toByteArray());
      } else if (e.hasDelete()) {
        add(e.getDelete().getKey().toByteArray());
      }
    }
  }

  synchronized void add(byte[] key) {
    ring[next] = key.length <= KEY_PREFIX ? key : Arrays.copyOf(key, KEY_PREFIX);
    next = (next + 1) % CAPACITY;
    size = Math.min(size + 1, CAPACITY);
  }

  /**
   * The key that halves the recent writes inside the range's span: the median of the sample,
   * if it lies strictly after the range's start and at least a quarter of the sampled writes
   * fall on each side of it. Empty otherwise (too few writes, or most on one key).
   */
  public Optional<byte[]> median(RangeDescriptor range) {
    List<byte[]> keys = new ArrayList<>();
    synchronized (this) {
      for (int i = 0; i < size; i++) {
        keys.add(ring[i]);
      }
    }
    byte[] start = range.getStart().toByteArray();
    byte[] end = range.getEnd().toByteArray();
    keys.removeIf(k -> Keys.compare(k, start) <= 0 || (end.length > 0 && Keys.compare(k, end) >= 0));
    if (keys.size() < 2) {
      return Optional.empty();
    }
    keys.sort(Keys::compare);
    byte[] median = keys.get(keys.size() / 2);
    // Splitting there must leave a real share of the writes on each side: with most writes on
    // one key (the median itself), no split spreads them.
    long below = keys.stream().filter(k -> Keys.compare(k, median) < 0).count();
    if (below < keys.size() / 4 || keys.size() - below < keys.size() / 4) {
      return Optional.empty();
    }
    return Optional.of(median);
  }
}
