package io.flotilla.api.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.proto.KeyVersion;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.statemachine.ColumnFamily;
import io.flotilla.statemachine.InMemoryKvEngine;
import io.flotilla.statemachine.Mutations;
import io.flotilla.statemachine.StoredValue;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TtlScansTest {
  private static final RangeDescriptor RANGE = RangeDescriptor.newBuilder().setId(3)
      .setStart(ByteString.copyFromUtf8("a")).setEnd(ByteString.copyFromUtf8("m")).build();
  private static final long NOW = 1_000_000;

  private final InMemoryKvEngine engine = new InMemoryKvEngine();

  @Test
  void aRangeWithoutTtlKeysIsReadOnceAndThenSkippedUntilItsGenerationChanges() {
    for (int i = 0; i < 10; i++) {
      put("c" + i, 0);
    }
    TtlScans scans = new TtlScans(1 << 20);
    assertEquals(new TtlScans.Step(List.of(), 10), scans.step(engine, RANGE, 5, NOW, 100));
    assertEquals(0, scans.step(engine, RANGE, 5, NOW, 100).read(), "clean at generation 5: not read");

    put("d", NOW - 1); // an expired key arrives, and with it a new generation
    TtlScans.Step again = scans.step(engine, RANGE, 6, NOW, 100);
    assertEquals(11, again.read());
    assertEquals(List.of("d"), keys(again.expired()));
    assertEquals(11, scans.step(engine, RANGE, 6, NOW, 100).read(),
        "a scan that met a TTL key leaves the range to be read again");
  }

  @Test
  void aKeyWithAFutureExpiryKeepsItsRangeScannedWithoutBeingRemoved() {
    put("b", NOW + 60_000);
    TtlScans scans = new TtlScans(1 << 20);
    for (int round = 0; round < 3; round++) {
      TtlScans.Step step = scans.step(engine, RANGE, 1, NOW, 100);
      assertEquals(1, step.read());
      assertTrue(step.expired().isEmpty());
    }
  }

  @Test
  void aPassOverSeveralStepsIsCleanOnlyIfTheGenerationHeldFromItsFirstStep() {
    for (int i = 0; i < 6; i++) {
      put("c" + i, 0);
    }
    TtlScans scans = new TtlScans(1 << 20);
    assertEquals(4, scans.step(engine, RANGE, 7, NOW, 4).read()); // c0..c3, budget spent
    // Meanwhile a key with a TTL arrived behind the cursor (generation 7 -> 8).
    put("b", NOW + 60_000);
    assertEquals(2, scans.step(engine, RANGE, 8, NOW, 4).read()); // c4, c5: the pass ends
    assertEquals(4, scans.step(engine, RANGE, 8, NOW, 4).read(),
        "the pass began at generation 7, so it cannot vouch for 8: the range is read again");
  }

  @Test
  void oneStepReturnsAtMostTheByteLimitOfKeysAndTheNextGoesOnFromThere() {
    for (int i = 0; i < 5; i++) {
      put("e" + "x".repeat(90) + i, NOW - 1); // 92-byte keys, 108 bytes each with framing
    }
    TtlScans scans = new TtlScans(250);
    List<String> removed = new java.util.ArrayList<>();
    for (int round = 0; round < 3; round++) {
      TtlScans.Step step = scans.step(engine, RANGE, 2, NOW, 100);
      assertTrue(step.expired().size() <= 2, () -> "at most 250 key bytes per step: " + step.expired().size());
      removed.addAll(keys(step.expired()));
    }
    assertEquals(5, removed.size());
    assertEquals(5, Set.copyOf(removed).size());
  }

  @Test
  void aKeyLargerThanTheByteLimitStillGoesOutOnItsOwn() {
    put("f" + "y".repeat(500), NOW - 1);
    TtlScans scans = new TtlScans(100);
    assertEquals(1, scans.step(engine, RANGE, 1, NOW, 100).expired().size());
  }

  @Test
  void keysOutsideTheRangeAreNeverRead() {
    put("z", NOW - 1);
    put("c", 0);
    TtlScans scans = new TtlScans(1 << 20);
    assertEquals(new TtlScans.Step(List.of(), 1), scans.step(engine, RANGE, 1, NOW, 100));
  }

  @Test
  void rangesNoLongerLedAreForgotten() {
    put("c", 0);
    TtlScans scans = new TtlScans(1 << 20);
    scans.step(engine, RANGE, 1, NOW, 100);
    scans.retain(Set.of());
    assertEquals(1, scans.step(engine, RANGE, 1, NOW, 100).read(), "led again: read again");
  }

  private void put(String key, long expiresAt) {
    engine.write(new Mutations().put(ColumnFamily.DATA, key.getBytes(StandardCharsets.UTF_8),
        new StoredValue(1, expiresAt, new byte[] {1}).encode()));
  }

  private static List<String> keys(List<KeyVersion> expired) {
    return expired.stream().map(k -> k.getKey().toStringUtf8()).toList();
  }
}
