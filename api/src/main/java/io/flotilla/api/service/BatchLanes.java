package io.flotilla.api.service;

import io.flotilla.client.Completions;
import io.flotilla.common.FlotillaException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * A node's queues of requests bound for one place each (a range's log, a range's leader's
 * node, a range's read path), sent in batches and bounded, so that a node under more load than
 * it can serve refuses what it cannot take instead of queueing without end.
 *
 * <p>Per key, one lane: a request goes out at once while fewer than {@code inFlightMax} batches
 * of its lane are under way; otherwise it waits, and leaves with the requests that queued
 * meanwhile when one comes back. What a batch may hold and how it is sent and answered is the
 * subclass's ({@link #take}, {@link #send}).
 *
 * <p>Bounds ({@link Limits}), each answered with the subclass's refusal ({@link #full},
 * {@link #expired}); a refused or expired request was never sent, so it changed nothing:
 * <ul>
 *   <li>a lane holding at least {@link #DELAY_APPLIES_FROM} waiting requests, or
 *       {@link #DELAY_APPLIES_FROM_BYTES} of them, takes no more
 *       while its oldest one has waited longer than {@code maxQueueDelayNanos}: the queue then
 *       holds about what the lane sends in that time, whatever its requests' size and cost, so
 *       what it accepts waits about that long. Fewer waiting requests are no overload, only a
 *       stall (an election, a split): they wait it out;
 *   <li>a lane holds at most {@code maxWaiting} waiting requests;
 *   <li>the waiting requests of every lane sharing a {@link ByteBudget} hold at most its bytes (one
 *       request always fits an empty budget, whatever its size);
 *   <li>a request that waited longer than {@code maxWaitNanos} is dropped when its lane next
 *       takes a batch.
 * </ul>
 *
 * <p>A lane with nothing waiting and nothing under way leaves the map; a request that finds it
 * leaving goes to the next lane of its key, so a key never has two lanes at once. Threads: any;
 * a lane's state is guarded by the lane, and sending and answering happen outside that lock.
 */
abstract class BatchLanes<K, P extends BatchLanes.Queued> {
  /** A waiting request. */
  interface Queued {
    /** When it joined its lane, on the lanes' nano clock. */
    long queuedAtNanos();

    /** The bytes it holds while it waits, counted against the budget. */
    long bytes();

    /** Answers its caller with a failure. */
    void fail(Throwable error);
  }

  /**
   * @param maxQueueDelayNanos how long a lane's oldest waiting request may have waited for the
   *     lane to take another
   * @param maxWaiting the most requests one lane holds waiting
   * @param maxWaitNanos the longest a request waits before it is dropped
   * @param budget the bytes the waiting requests of every lane sharing it may hold
   */
  record Limits(long maxQueueDelayNanos, int maxWaiting, long maxWaitNanos, ByteBudget budget, LongSupplier nanoClock) {
    Limits {
      if (maxWaiting < 1 || maxWaitNanos < 1 || maxQueueDelayNanos < 1) {
        throw new IllegalArgumentException("a lane must hold a request for some time, got " + maxWaiting
            + " requests, " + maxWaitNanos + " ns and a queue delay of " + maxQueueDelayNanos + " ns");
      }
    }

    /** No bounds but the wait (tests, and lanes nothing can flood). */
    static Limits unbounded(long maxWaitMillis, LongSupplier nanoClock) {
      return new Limits(Long.MAX_VALUE, Integer.MAX_VALUE, TimeUnit.MILLISECONDS.toNanos(maxWaitMillis),
          ByteBudget.unbounded(), nanoClock);
    }
  }

  /**
   * A sent batch, answered: the members that go again at the head of their lane (in order),
   * and the answering of the others, run after the lane's next batch went out.
   */
  record Answered<P>(List<P> again, Runnable answers) {
    static <P> Answered<P> all(Runnable answers) {
      return new Answered<>(List.of(), answers);
    }
  }

  /** The fewest waiting requests, or bytes of them, at which a lane refuses for their wait (see the class comment). */
  static final int DELAY_APPLIES_FROM = 32;
  static final long DELAY_APPLIES_FROM_BYTES = 8L << 20;

  private final int inFlightMax;
  private final Limits limits;
  private final Map<K, Lane> lanes = new ConcurrentHashMap<>();
  private final LongAdder refused = new LongAdder();
  private final LongAdder expired = new LongAdder();

  BatchLanes(int inFlightMax, Limits limits) {
    if (inFlightMax < 1) {
      throw new IllegalArgumentException("at least one batch must be allowed under way, got " + inFlightMax);
    }
    this.inFlightMax = inFlightMax;
    this.limits = limits;
  }

  /**
   * The next batch from the head of {@code waiting} (not empty; its head has not waited too
   * long): polls at least one request. Called under the lane's lock: no I/O.
   */
  protected abstract List<P> take(K key, ArrayDeque<P> waiting);

  /**
   * Sends a batch. The future completes once it is answered and should not fail; if it does,
   * every member gets its failure.
   */
  protected abstract CompletableFuture<Answered<P>> send(K key, List<P> batch);

  /** The failure of a request its lane or the budget had no room for. */
  protected abstract FlotillaException full(K key, String why);

  /** The failure of a request dropped after waiting {@code waitedMillis}. */
  protected abstract FlotillaException expired(K key, long waitedMillis);

  /** Queues {@code p} in its key's lane, or answers it with {@link #full}. */
  final void submit(K key, P p) {
    while (!lanes.computeIfAbsent(key, Lane::new).offer(p)) {
      // that lane went idle and left the map meanwhile: the next lookup finds or makes a live one
    }
  }

  /**
   * The refusal a request of {@code bytes} would get from {@code key}'s lane now, or null if
   * the lane would take it: so that a caller can refuse a request before reading its body. The
   * lane decides again when the request comes. A refusal returned is counted as one.
   */
  final FlotillaException refusal(K key, long bytes) {
    Lane lane = lanes.get(key);
    String why;
    if (lane == null) {
      why = limits.budget().fits(bytes) ? null : budgetFull();
    } else {
      synchronized (lane) {
        why = lane.crowded();
        if (why == null && !limits.budget().fits(bytes)) {
          why = budgetFull();
        }
      }
    }
    if (why == null) {
      return null;
    }
    refused.increment();
    return full(key, why);
  }

  private String budgetFull() {
    return "the node's queues hold " + limits.budget().used() + " of at most " + limits.budget().max() + " bytes";
  }

  /** Now on the lanes' nano clock: when a request joins its lane ({@link Queued#queuedAtNanos}). */
  final long now() {
    return limits.nanoClock().getAsLong();
  }

  /** Requests refused for want of room, and dropped after waiting too long, since start. */
  final long refusedCount() {
    return refused.sum();
  }

  final long expiredCount() {
    return expired.sum();
  }

  private final class Lane {
    private final K key;
    private final ArrayDeque<P> waiting = new ArrayDeque<>();
    /** Bytes of the requests in {@link #waiting}. */
    private long waitingBytes;
    private int inFlight;
    private boolean retired;

    Lane(K key) {
      this.key = key;
    }

    /** False if this lane left the map; otherwise {@code p} is queued, sent or refused. */
    boolean offer(P p) {
      List<P> next;
      List<P> late = new ArrayList<>();
      String full = null;
      synchronized (this) {
        if (retired) {
          return false;
        }
        full = crowded();
        if (full == null && !limits.budget().tryTake(p.bytes())) {
          full = budgetFull();
        }
        if (full == null) {
          waiting.add(p);
          waitingBytes += p.bytes();
        }
        next = inFlight < inFlightMax ? next(late) : null; // a refusal into an idle lane retires it
      }
      if (full != null) {
        refused.increment();
        p.fail(BatchLanes.this.full(key, full));
        return true;
      }
      drop(late);
      dispatch(next);
      return true;
    }

    /** Why this lane takes no more requests now, whatever their size, or null; the caller holds the lock. */
    private String crowded() {
      long oldest = waiting.size() < DELAY_APPLIES_FROM && waitingBytes < DELAY_APPLIES_FROM_BYTES ? 0
          : limits.nanoClock().getAsLong() - waiting.peek().queuedAtNanos();
      if (oldest > limits.maxQueueDelayNanos()) {
        return "the oldest waiting request has waited " + TimeUnit.NANOSECONDS.toMillis(oldest) + " ms";
      }
      return waiting.size() >= limits.maxWaiting() ? waiting.size() + " requests are waiting already" : null;
    }

    /**
     * The next batch, after moving requests that waited too long from the head to {@code late};
     * the caller holds the lock. An idle lane retires and leaves the map.
     */
    private List<P> next(List<P> late) {
      long now = limits.nanoClock().getAsLong();
      while (!waiting.isEmpty() && now - waiting.peek().queuedAtNanos() > limits.maxWaitNanos()) {
        P p = waiting.poll();
        waitingBytes -= p.bytes();
        limits.budget().give(p.bytes());
        late.add(p);
      }
      if (waiting.isEmpty()) {
        if (inFlight == 0) {
          retired = true;
          lanes.remove(key, this);
        }
        return null;
      }
      List<P> batch = take(key, waiting);
      for (P p : batch) {
        waitingBytes -= p.bytes();
        limits.budget().give(p.bytes());
      }
      inFlight++;
      return batch;
    }

    private void drop(List<P> late) {
      long now = limits.nanoClock().getAsLong();
      for (P p : late) {
        expired.increment();
        p.fail(expired(key, TimeUnit.NANOSECONDS.toMillis(now - p.queuedAtNanos())));
      }
    }

    private void dispatch(List<P> batch) {
      if (batch == null) {
        return;
      }
      CompletableFuture<Answered<P>> sent;
      try {
        sent = send(key, batch);
      } catch (RuntimeException e) {
        sent = CompletableFuture.failedFuture(e);
      }
      // A batch answered at once continues on another thread: chaining the next batch here
      // would recurse once per queued batch.
      if (sent.isDone()) {
        sent.whenCompleteAsync((answered, error) -> answered(batch, answered, error), Completions.EXECUTOR);
      } else {
        sent.whenComplete((answered, error) -> answered(batch, answered, error));
      }
    }

    private void answered(List<P> batch, Answered<P> answered, Throwable error) {
      List<P> again = error == null ? answered.again() : List.of();
      List<P> next;
      List<P> late = new ArrayList<>();
      synchronized (this) {
        inFlight--;
        for (int i = again.size() - 1; i >= 0; i--) {
          limits.budget().take(again.get(i).bytes());
          waitingBytes += again.get(i).bytes();
          waiting.addFirst(again.get(i));
        }
        next = next(late);
      }
      drop(late);
      dispatch(next);
      if (error != null) {
        batch.forEach(p -> p.fail(error));
      } else {
        answered.answers().run();
      }
    }
  }
}
