package io.flotilla.bench.load;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * When each client sends its next operation, and from when its latency counts. Shared by all
 * clients of one run.
 */
public interface Pacer {
  /** Returned by {@link #awaitNext} once the run is over. */
  long DONE = Long.MIN_VALUE;

  /**
   * Waits until the caller's next operation is due, then returns the {@link System#nanoTime}
   * its latency is measured from, or {@link #DONE}.
   */
  long awaitNext();

  /**
   * Closed loop: each client sends its next request as soon as the previous one is answered, until
   * {@code end}. Latency runs from the actual send, so a slow answer delays the samples after it
   * (coordinated omission): closed-loop percentiles describe the clients' experience, not the
   * store's at a given load.
   */
  static Pacer closedLoop(long endNanos) {
    return () -> {
      long now = System.nanoTime();
      return now < endNanos ? now : DONE;
    };
  }

  /**
   * Open loop: operations are due at a fixed rate from {@code startNanos} to {@code endNanos},
   * slot k at {@code start + k / rate}, whether or not earlier ones were answered. Latency runs
   * from the slot's due time, so time spent waiting for a free client counts (no coordinated
   * omission). Warm-up slots still unsent when the measured window opens at {@code measureNanos}
   * are dropped, so an overloaded warm-up does not eat the window; slots still unsent
   * {@code drainNanos} after the end are given up. The caller counts what was not sent.
   */
  static Pacer openLoop(double perSecond, long startNanos, long measureNanos, long endNanos, long drainNanos) {
    if (!(perSecond > 0)) {
      throw new IllegalArgumentException("--open-loop-rate must be positive");
    }
    double period = 1e9 / perSecond;
    long firstMeasured = (long) Math.ceil((measureNanos - startNanos) / period);
    AtomicLong slots = new AtomicLong();
    return () -> {
      while (true) {
        long slot = slots.getAndIncrement();
        long due = startNanos + (long) (slot * period);
        long now = System.nanoTime();
        if (due >= endNanos || now > endNanos + drainNanos) {
          return DONE;
        }
        if (slot < firstMeasured && now >= measureNanos) {
          slots.accumulateAndGet(firstMeasured, Math::max);
          continue;
        }
        while (now < due) {
          LockSupport.parkNanos(due - now);
          now = System.nanoTime();
        }
        return due;
      }
    };
  }

  /** How many open-loop slots fall in {@code [fromNanos, toNanos)} of a run started at {@code startNanos}. */
  static long openLoopSlots(double perSecond, long startNanos, long fromNanos, long toNanos) {
    double period = 1e9 / perSecond;
    long first = (long) Math.ceil((fromNanos - startNanos) / period);
    long end = (long) Math.ceil((toNanos - startNanos) / period);
    return Math.max(0, end - first);
  }
}
