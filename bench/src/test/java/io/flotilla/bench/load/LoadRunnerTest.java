package io.flotilla.bench.load;

import io.flotilla.client.http.Consistency;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LoadRunnerTest {
  /** Answers without a network: reads of even keys succeed, odd ones are missing, writes fail. */
  static final class FakeStore implements StoreApi {
    final AtomicLong calls = new AtomicLong();

    @Override
    public String name() {
      return "fake";
    }

    @Override
    public Outcome read(HttpConnection connection, String key, Consistency mode) {
      calls.incrementAndGet();
      return Long.parseLong(key.substring(key.lastIndexOf('/') + 1)) % 2 == 0 ? Outcome.OK : Outcome.MISSING;
    }

    @Override
    public Outcome write(HttpConnection connection, String key, byte[] value) {
      calls.incrementAndGet();
      return Outcome.failed("HTTP 503 unavailable");
    }

    @Override
    public Outcome writeAll(HttpConnection connection, List<String> keys, byte[] value) {
      calls.incrementAndGet();
      return Outcome.OK;
    }

    @Override
    public Outcome scan(HttpConnection connection, String startKey, int limit, Consistency mode) {
      calls.incrementAndGet();
      return Outcome.OK;
    }
  }

  @Test
  void everyOperationIsCountedOnceByItsOutcome() throws InterruptedException {
    FakeStore store = new FakeStore();
    Tally tally = drive(store, "ycsb-a", 1000, Long.MIN_VALUE);
    assertEquals(1000, store.calls.get());
    assertEquals(1000, tally.count());
    assertEquals(tally.ok + tally.missing, tally.latencyMicros.getTotalCount(), "failures carry no latency");
    assertEquals(Set.of("HTTP 503 unavailable"), tally.failures.keySet());
    assertTrue(tally.ok > 0 && tally.missing > 0, "reads of even and odd keys");
  }

  @Test
  void operationsDueBeforeTheMeasuredWindowAreNotCounted() throws InterruptedException {
    FakeStore store = new FakeStore();
    Tally tally = drive(store, "get-strong", 500, Long.MAX_VALUE);
    assertEquals(500, store.calls.get());
    assertEquals(0, tally.count());
  }

  /**
   * Two clients run {@code operations} operations of the workload against the store (a pacer hands
   * them out, due now, so no clock decides the outcome) and count those due from {@code measureFrom}.
   */
  private static Tally drive(FakeStore store, String workload, int operations, long measureFrom)
      throws InterruptedException {
    LoadRunner runner = new LoadRunner(store, List.of(new Endpoint("127.0.0.1", 9)), new KeySpace(100), new byte[8], 3);
    AtomicLong left = new AtomicLong(operations);
    Pacer pacer = () -> left.getAndDecrement() > 0 ? System.nanoTime() : Pacer.DONE;
    return runner.drive(Workloads.parse(workload, KeyDistribution.UNIFORM), 2, Duration.ofSeconds(1), pacer,
        measureFrom);
  }

  @Test
  void openLoopSlotsAreCountedPerWindow() {
    long second = 1_000_000_000L;
    assertEquals(100, Pacer.openLoopSlots(100, 0, 0, second));
    assertEquals(50, Pacer.openLoopSlots(100, 0, second / 2, second));
    assertEquals(0, Pacer.openLoopSlots(100, 0, second, second));
  }
}
