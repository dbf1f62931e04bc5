package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.proto.ChecksumOp;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import io.flotilla.proto.Rejection;
import org.junit.jupiter.api.Test;

/** A consistency check's entry changes nothing and is routed like any command. */
class RangeLogicChecksumTest {
  private static final RangeDescriptor RANGE = Replica.range(7, "b", "m", 3, 1);
  private final InMemoryKvEngine engine = new InMemoryKvEngine();
  private final Replica replica = new Replica(engine, RANGE);

  private static Command.Builder check(long id) {
    return Command.newBuilder().setChecksum(ChecksumOp.newBuilder().setId(id));
  }

  @Test
  void aChecksumEntryWritesNothingAndKeepsTheRevision() {
    replica.apply(put("c", "1"));
    long before = replica.revision;
    long sum = RangeSnapshots.checksum(engine, RANGE);
    CommandResult r = replica.apply(check(42));
    assertFalse(r.hasRejected(), r::toString);
    assertEquals(before, r.getRevision());
    assertEquals(before, replica.revision);
    assertEquals(sum, RangeSnapshots.checksum(engine, RANGE), "the data is unchanged");
  }

  @Test
  void aChecksumEntryRoutedWithAnOldEpochIsRefused() {
    CommandResult r = replica.applyAsRouted(check(42).setRangeId(7)
        .setEpoch(RangeEpoch.newBuilder().setVersion(2).setConf(1)).setProposedAtMillis(replica.now).build());
    assertEquals(Rejection.Reason.EPOCH_MISMATCH, r.getRejected().getReason());
  }

  @Test
  void aFrozenRangeRefusesAChecksumEntry() {
    Replica frozen = new Replica(new InMemoryKvEngine(), RANGE.toBuilder().setFrozenInto(3).build());
    assertEquals(Rejection.Reason.RANGE_FROZEN, frozen.apply(check(42)).getRejected().getReason());
  }

  @Test
  void theChecksumSeesBytesMovedBetweenAKeyAndItsValue() {
    InMemoryKvEngine a = new InMemoryKvEngine();
    InMemoryKvEngine b = new InMemoryKvEngine();
    a.write(new Mutations().put(ColumnFamily.DATA, "ca".getBytes(), "b".getBytes()));
    b.write(new Mutations().put(ColumnFamily.DATA, "c".getBytes(), "ab".getBytes()));
    assertNotEquals(RangeSnapshots.checksum(a, RANGE), RangeSnapshots.checksum(b, RANGE));
    assertTrue(RangeSnapshots.checksum(a, RANGE) != 0);
  }
}
