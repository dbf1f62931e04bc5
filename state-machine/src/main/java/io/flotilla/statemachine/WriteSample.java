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
      case BATCH -> {
        for (BatchEntry e : command.getBatch().getEntriesList()) {
          if (e.hasPut()) {
            add(e.getPut().getKey().toByteArray());
          } else if (e.hasDelete()) {
            add(e.getDelete().getKey().toByteArray());
          }
        }
      }
      default -> { }
    }
  }

  synchronized void add(byte[] key) {
    ring[next] = key.length <= KEY_PREFIX ? key : Arrays.copyOf(key, KEY_PREFIX);
    next = (next + 1) % CAPACITY;
    size = Math.min(size + 1, CAPACITY);
  }

  /**
   * The key that halves the recent writes inside the range's span: the median of the sample,
   * if it lies strictly after the range's start. Empty with fewer than two sampled writes.
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
    return Optional.of(keys.get(keys.size() / 2));
  }
}
