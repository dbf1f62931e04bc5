package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.batch;
import static io.flotilla.statemachine.Replica.delete;
import static io.flotilla.statemachine.Replica.deleteOp;
import static io.flotilla.statemachine.Replica.entry;
import static io.flotilla.statemachine.Replica.entryGet;
import static io.flotilla.statemachine.Replica.incr;
import static io.flotilla.statemachine.Replica.put;
import static io.flotilla.statemachine.Replica.putOp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import io.flotilla.proto.Rejection;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Commands routed with a stale view of the range are refused with the range as it is now. */
class RangeLogicRoutingTest {
  private static final RangeDescriptor RANGE = Replica.range(7, "b", "m", 3, 1);
  private final Replica replica = new Replica(new InMemoryKvEngine(), RANGE);

  private CommandResult routed(long rangeId, long epochVersion, long epochConf, Command.Builder command) {
    return replica.applyAsRouted(command.setRangeId(rangeId)
        .setEpoch(RangeEpoch.newBuilder().setVersion(epochVersion).setConf(epochConf))
        .setProposedAtMillis(replica.now).build());
  }

  private static void assertRefused(Rejection.Reason reason, CommandResult r) {
    assertEquals(reason, r.getRejected().getReason());
    assertEquals(RANGE, r.getRejected().getCurrent(), "the rejection tells the router the current range");
    assertFalse(r.getRejected().getMessage().isEmpty());
  }

  @Test
  void anOlderEpochVersionIsAnEpochMismatch() {
    replica.apply(put("c", "1"));
    CommandResult r = routed(7, 2, 1, put("c", "2"));
    assertRefused(Rejection.Reason.EPOCH_MISMATCH, r);
    assertEquals(1, r.getRevision());
    assertEquals("1", replica.value("c"));
  }

  @Test
  void aNewerEpochVersionIsAnEpochMismatchToo() {
    assertRefused(Rejection.Reason.EPOCH_MISMATCH, routed(7, 4, 1, put("c", "1")));
    assertNull(replica.stored("c"));
  }

  @Test
  void anotherRangesIdIsAnEpochMismatch() {
    assertRefused(Rejection.Reason.EPOCH_MISMATCH, routed(8, 3, 1, put("c", "1")));
    assertNull(replica.stored("c"));
  }

  @Test
  void aMembershipChangeAloneDoesNotInvalidateRouting() {
    // Only the span-changing part of the epoch matters to data commands (as in TiKV):
    // a command routed before a replica move still lands in the same span.
    CommandResult r = routed(7, 3, 0, put("c", "1"));
    assertTrue(r.hasPut());
  }

  @Test
  void everyKindOfCommandIsCheckedForItsEpoch() {
    List<Command.Builder> commands = List.of(put("c", "1"), delete("c"), incr("c", 1),
        batch(true, entryGet("c")), batch(false, entry(putOp("c", "1"))), Replica.deleteSpan("", ""));
    for (Command.Builder c : commands) {
      assertRefused(Rejection.Reason.EPOCH_MISMATCH, routed(7, 2, 1, c));
    }
    assertEquals(0, replica.revision);
  }

  @Test
  void theRangeStartIsInsideAndItsEndIsOutside() {
    assertTrue(replica.apply(put("b", "1")).hasPut());
    assertTrue(replica.apply(put("lzzz", "1")).hasPut());
    CommandResult atEnd = replica.apply(put("m", "1"));
    assertRefused(Rejection.Reason.KEY_OUT_OF_RANGE, atEnd);
    assertRefused(Rejection.Reason.KEY_OUT_OF_RANGE, replica.apply(put("a", "1")));
    assertNull(replica.stored("m"));
    assertNull(replica.stored("a"));
    assertEquals(2, replica.revision);
  }

  @Test
  void everySingleKeyCommandIsCheckedForItsKey() {
    assertRefused(Rejection.Reason.KEY_OUT_OF_RANGE, replica.apply(delete("z")));
    assertRefused(Rejection.Reason.KEY_OUT_OF_RANGE, replica.apply(incr("z", 1)));
    assertRefused(Rejection.Reason.KEY_OUT_OF_RANGE, replica.apply(Replica.putIf("z", "1", 0)));
    assertNull(replica.stored("z"));
  }

  @Test
  void aBatchWithAnyKeyOutsideTheRangeIsRefusedWholeEvenWhenNotAtomic() {
    CommandResult putOutside = replica.apply(batch(false, entry(putOp("c", "1")), entry(putOp("z", "1"))));
    assertRefused(Rejection.Reason.KEY_OUT_OF_RANGE, putOutside);
    CommandResult deleteOutside = replica.apply(batch(true, entry(putOp("c", "1")), entry(deleteOp("a"))));
    assertRefused(Rejection.Reason.KEY_OUT_OF_RANGE, deleteOutside);
    CommandResult getOutside = replica.apply(batch(true, entry(putOp("c", "1")), entryGet("m")));
    assertRefused(Rejection.Reason.KEY_OUT_OF_RANGE, getOutside);
    assertNull(replica.stored("c"));
  }

  @Test
  void theLastRangeAcceptsEveryKeyFromItsStart() {
    Replica last = new Replica(new InMemoryKvEngine(), Replica.range(9, "m", "", 1, 1));
    assertTrue(last.apply(put("\u00ff\u00ff", "1")).hasPut());
    assertTrue(last.apply(put("m", "1")).hasPut());
    assertEquals(Rejection.Reason.KEY_OUT_OF_RANGE, last.apply(put("l", "1")).getRejected().getReason());
  }
}
