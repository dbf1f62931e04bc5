package io.flotilla.api.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BatchLanesTest {
  private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);
  private static final long DELAY_NANOS = TimeUnit.SECONDS.toNanos(1);

  private long nanos;
  private final ByteBudget budget = new ByteBudget(100);

  private record Item(String name, long bytes, long queuedAtNanos, CompletableFuture<String> result)
      implements BatchLanes.Queued {
    @Override
    public void fail(Throwable error) {
      result.completeExceptionally(error);
    }
  }

  /** Sends everything waiting as one batch; the test answers each batch. */
  private final class Lanes extends BatchLanes<String, Item> {
    final List<List<Item>> sent = new ArrayList<>();
    final List<CompletableFuture<Void>> answers = new ArrayList<>();

    Lanes(int maxWaiting) {
      this(maxWaiting, DELAY_NANOS);
    }

    Lanes(int maxWaiting, long queueDelayNanos) {
      this(maxWaiting, queueDelayNanos, budget);
    }

    Lanes(int maxWaiting, long queueDelayNanos, ByteBudget budget) {
      super(1, new Limits(queueDelayNanos, maxWaiting, WAIT_NANOS, budget, () -> nanos));
    }

    @Override
    protected List<Item> take(String key, ArrayDeque<Item> waiting) {
      List<Item> batch = new ArrayList<>(waiting);
      waiting.clear();
      return batch;
    }

    @Override
    protected CompletableFuture<Answered<Item>> send(String key, List<Item> batch) {
      sent.add(batch);
      CompletableFuture<Void> answer = new CompletableFuture<>();
      answers.add(answer);
      return answer.thenApply(x -> Answered.all(() -> batch.forEach(i -> i.result().complete(key + ":" + i.name()))));
    }

    @Override
    protected FlotillaException full(String key, String why) {
      return new FlotillaException(ErrorCode.OVERLOADED, key + " is full: " + why);
    }

    @Override
    protected FlotillaException expired(String key, long waitedMillis) {
      return new FlotillaException(ErrorCode.OVERLOADED, key + " waited " + waitedMillis + " ms");
    }

    Item submit(String key, String name, long bytes) {
      Item item = new Item(name, bytes, nanos, new CompletableFuture<>());
      submit(key, item);
      return item;
    }
  }

  private static FlotillaException failure(Item item) {
    assertTrue(item.result().isCompletedExceptionally(), item.name() + " should have failed");
    try {
      item.result().get();
      throw new AssertionError("unreachable");
    } catch (ExecutionException e) {
      return (FlotillaException) e.getCause();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aLaneHoldsAtMostItsLimitWaitingAndRefusesTheRestWithoutSendingThem() throws Exception {
    Lanes lanes = new Lanes(2);
    Item first = lanes.submit("r1", "a", 1);
    Item b = lanes.submit("r1", "b", 1);
    Item c = lanes.submit("r1", "c", 1);
    Item d = lanes.submit("r1", "d", 1);
    assertEquals(1, lanes.sent.size(), "a goes out; b and c wait");
    FlotillaException refused = failure(d);
    assertEquals(ErrorCode.OVERLOADED, refused.code());
    assertTrue(refused.getMessage().contains("2 requests are waiting"), refused.getMessage());
    assertEquals(1, lanes.refusedCount());

    Item other = lanes.submit("r2", "x", 1);
    assertFalse(other.result().isDone(), "another key's lane has its own room");
    assertEquals(2, lanes.sent.size());

    lanes.answers.get(0).complete(null);
    assertEquals("r1:a", first.result().get());
    assertEquals(List.of(b, c), lanes.sent.get(2), "the waiting ones leave together, the refused one never");
    Item e = lanes.submit("r1", "e", 1);
    assertFalse(e.result().isDone(), "room again once the waiting ones left");
  }

  @Test
  void aRefusalAskedForAheadIsTheOneTheLaneWouldGiveAndIsCountedOnce() {
    Lanes lanes = new Lanes(1);
    assertNull(lanes.refusal("r1", 1), "no lane yet: room");
    lanes.submit("r1", "under-way", 1);
    assertNull(lanes.refusal("r1", 1), "nothing waiting behind the one under way");
    lanes.submit("r1", "waiting", 1);

    FlotillaException ahead = lanes.refusal("r1", 1);
    assertTrue(ahead != null && ahead.getMessage().contains("1 requests are waiting"), String.valueOf(ahead));
    assertEquals(ErrorCode.OVERLOADED, ahead.code());
    assertEquals(1, lanes.refusedCount());
    assertEquals(1, lanes.sent.size(), "asking sends nothing");
    assertNull(lanes.refusal("r2", 1), "another key's lane has its own room");

    // The byte budget (100, one waiting request of 1 holds it): another lane's large request would not fit.
    FlotillaException tooBig = lanes.refusal("r2", 100);
    assertTrue(tooBig != null && tooBig.getMessage().contains("of at most 100 bytes"), String.valueOf(tooBig));
    assertEquals(2, lanes.refusedCount());
    assertEquals(1, budget.used(), "asking takes nothing from the budget");

    Item still = lanes.submit("r1", "still", 1);
    assertEquals(ahead.getMessage(), failure(still).getMessage(), "the lane refuses as it said it would");
  }

  @Test
  void waitingRequestsOfAllLanesShareTheByteBudgetAndOneAlwaysFitsAnEmptyOne() throws Exception {
    Lanes lanes = new Lanes(100);
    lanes.submit("r1", "under-way", 90); // sent at once: no longer waiting, so it holds no budget
    lanes.submit("r2", "under-way", 1);
    assertEquals(0, budget.used());
    Item big = lanes.submit("r1", "big", 500);
    assertFalse(big.result().isDone(), "one request fits an empty budget, whatever its size");
    assertEquals(500, budget.used());
    Item small = lanes.submit("r2", "small", 1);
    assertEquals(ErrorCode.OVERLOADED, failure(small).code(), "the budget is the node's, over every lane");

    lanes.answers.get(0).complete(null);
    assertEquals(0, budget.used(), "bytes go back as requests leave the queue");
    Item fits = lanes.submit("r2", "fits", 60);
    Item over = lanes.submit("r2", "over", 41);
    assertFalse(fits.result().isDone());
    assertEquals(ErrorCode.OVERLOADED, failure(over).code());
    assertEquals(60, budget.used());
  }

  @Test
  void aRequestThatWaitedTooLongIsDroppedUnsentWhenItsLaneNextTakesABatch() throws Exception {
    Lanes lanes = new Lanes(100, Long.MAX_VALUE);
    Item first = lanes.submit("r1", "a", 1);
    Item old = lanes.submit("r1", "old", 7);
    nanos += WAIT_NANOS / 2;
    Item young = lanes.submit("r1", "young", 3);
    nanos += WAIT_NANOS / 2 + 1_000_000;

    lanes.answers.get(0).complete(null);
    assertEquals("r1:a", first.result().get());
    FlotillaException dropped = failure(old);
    assertEquals(ErrorCode.OVERLOADED, dropped.code());
    assertTrue(dropped.getMessage().contains("waited 5001 ms"), dropped.getMessage());
    assertEquals(List.of(young), lanes.sent.get(1), "only the one still within its wait is sent");
    assertEquals(1, lanes.expiredCount());
    assertEquals(0, budget.used());
  }

  @Test
  void aBatchWhoseSendFailsFailsEveryMemberAndTheLaneGoesOn() throws Exception {
    Lanes lanes = new Lanes(100);
    Item a = lanes.submit("r1", "a", 1);
    Item b = lanes.submit("r1", "b", 1);
    lanes.answers.get(0).completeExceptionally(new FlotillaException(ErrorCode.UNAVAILABLE, "no leader"));
    assertEquals(ErrorCode.UNAVAILABLE, failure(a).code());
    assertEquals(List.of(b), lanes.sent.get(1));
    lanes.answers.get(1).complete(null);
    assertEquals("r1:b", b.result().get());
  }

  @Test
  void aLaneWhoseOldestWaitingRequestWaitedPastTheQueueDelayTakesNoMoreUntilItMoves() throws Exception {
    Lanes lanes = new Lanes(100);
    Item first = lanes.submit("r1", "a", 1);
    List<Item> waiting = new ArrayList<>();
    for (int i = 0; i < BatchLanes.DELAY_APPLIES_FROM - 1; i++) {
      waiting.add(lanes.submit("r1", "w" + i, 1));
    }
    nanos += DELAY_NANOS + 1_000_000;
    Item stalled = lanes.submit("r1", "s", 1);
    assertFalse(stalled.result().isDone(), "fewer waiting than the threshold: a stall, not an overload");
    waiting.add(stalled);
    Item late = lanes.submit("r1", "late", 1);
    FlotillaException refused = failure(late);
    assertEquals(ErrorCode.OVERLOADED, refused.code());
    assertTrue(refused.getMessage().contains("has waited 1001 ms"), refused.getMessage());
    assertFalse(lanes.submit("r2", "x", 1).result().isDone(), "another range's lane is not held up");

    lanes.answers.get(0).complete(null);
    assertEquals("r1:a", first.result().get());
    assertEquals(waiting, lanes.sent.get(2));
    assertFalse(lanes.submit("r1", "e", 1).result().isDone(), "the lane moved: it takes requests again");
  }

  @Test
  void atTheQueueDelayALaneStillTakesRequests() {
    Lanes lanes = new Lanes(100);
    lanes.submit("r1", "a", 1);
    for (int i = 0; i < BatchLanes.DELAY_APPLIES_FROM; i++) {
      lanes.submit("r1", "w" + i, 1);
    }
    nanos += DELAY_NANOS;
    assertFalse(lanes.submit("r1", "at-the-limit", 1).result().isDone());
    nanos += 1;
    assertTrue(lanes.submit("r1", "past-it", 1).result().isCompletedExceptionally());
  }

  @Test
  void largeRequestsCountTowardTheQueueDelayByTheirBytes() {
    ByteBudget roomy = new ByteBudget(1L << 40);
    Lanes lanes = new Lanes(100, DELAY_NANOS, roomy);
    lanes.submit("r1", "a", 1);
    long each = BatchLanes.DELAY_APPLIES_FROM_BYTES / 4;
    for (int i = 0; i < 3; i++) {
      lanes.submit("r1", "big" + i, each);
    }
    nanos += DELAY_NANOS + 1;
    assertFalse(lanes.submit("r1", "fourth", each).result().isDone(), "under the bytes threshold: a stall");
    assertTrue(lanes.submit("r1", "fifth", 1).result().isCompletedExceptionally(),
        "four large requests past the queue delay: no more");
    assertEquals(4 * each, roomy.used());
  }
}
