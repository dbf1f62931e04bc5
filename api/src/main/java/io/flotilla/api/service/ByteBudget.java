package io.flotilla.api.service;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes that requests waiting or being read on a node may hold together: the node's write
 * queues ({@link BatchLanes}) share one, the request bodies being read another. One request
 * always fits an empty budget, whatever its size. Thread-safe.
 */
public final class ByteBudget {
  private final long maxBytes;
  private final AtomicLong used = new AtomicLong();

  public ByteBudget(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  public static ByteBudget unbounded() {
    return new ByteBudget(Long.MAX_VALUE);
  }

  /** Takes {@code bytes} if they fit, or if nothing is taken (one request always fits). */
  public boolean tryTake(long bytes) {
    long now;
    do {
      now = used.get();
      if (now > 0 && now + bytes > maxBytes) {
        return false;
      }
    } while (!used.compareAndSet(now, now + bytes));
    return true;
  }

  /** Whether {@code bytes} would fit now ({@link #tryTake} decides when they come). */
  public boolean fits(long bytes) {
    long now = used.get();
    return now == 0 || now + bytes <= maxBytes;
  }

  /** Takes {@code bytes} whether they fit or not (requests going back to a queue they left). */
  public void take(long bytes) {
    used.addAndGet(bytes);
  }

  public void give(long bytes) {
    used.addAndGet(-bytes);
  }

  public long used() {
    return used.get();
  }

  public long max() {
    return maxBytes;
  }
}
