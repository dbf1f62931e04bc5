package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.delete;
import static io.flotilla.statemachine.Replica.deleteIf;
import static io.flotilla.statemachine.Replica.put;
import static io.flotilla.statemachine.Replica.putExpiring;
import static io.flotilla.statemachine.Replica.putIf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.Rejection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Puts, deletes, compare-and-set and expiry in one range's apply function. */
class RangeLogicTest {
  private final Replica replica = new Replica(new InMemoryKvEngine(), Replica.range(7, "b", "m", 3, 1));

  private CommandResult apply(Command.Builder command) {
    return replica.apply(command);
  }

  // ---- versions and revisions ----

  @Test
  void theFirstPutOfAKeyGetsTheNewRangeRevisionAsItsVersion() {
    CommandResult r = apply(put("c", "1"));
    assertEquals(1, r.getRevision());
    assertEquals(1, r.getPut().getVersion());
    assertEquals(1, replica.stored("c").version());
    assertEquals("1", replica.value("c"));
  }

  @Test
  void versionsContinueFromTheRevisionTheRangeAlreadyHas() {
    replica.revision = 41; // e.g. a child range that inherited its parent's revision
    CommandResult r = apply(put("c", "1"));
    assertEquals(42, r.getRevision());
    assertEquals(42, r.getPut().getVersion());
  }

  @Test
  void everyAcceptedWriteBumpsTheRevisionByExactlyOne() {
    List<Long> revisions = new ArrayList<>();
    revisions.add(apply(put("c", "1")).getRevision());
    revisions.add(apply(put("c", "2")).getRevision());
    revisions.add(apply(Replica.incr("d", 1)).getRevision());
    revisions.add(apply(delete("c")).getRevision());
    revisions.add(apply(Replica.batch(true, Replica.entry(Replica.putOp("e", "1")),
        Replica.entry(Replica.putOp("f", "1")))).getRevision());
    revisions.add(apply(Replica.deleteSpan("e", "g")).getRevision());
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), revisions);
  }

  @Test
  void overwritingAKeyGivesItAStrictlyGreaterVersionEachTime() {
    long previous = 0;
    for (int i = 0; i < 5; i++) {
      long v = apply(put("c", "v" + i)).getPut().getVersion();
      assertTrue(v > previous, "version " + v + " after " + previous);
      previous = v;
    }
    assertEquals(previous, replica.stored("c").version());
    assertEquals("v4", replica.value("c"));
  }

  @Test
  void aKeysVersionIsTheRevisionOfItsLastWriteEvenWhenOtherKeysWereWrittenInBetween() {
    apply(put("c", "1"));
    apply(put("d", "1"));
    apply(put("d", "2"));
    CommandResult c = apply(put("c", "2"));
    assertEquals(4, c.getPut().getVersion());
    assertEquals(3, replica.stored("d").version());
  }

  @Test
  void versionNeverRepeatsAfterDeleteAndRecreate() {
    long v1 = apply(put("c", "1")).getPut().getVersion();
    assertTrue(apply(delete("c")).getDelete().getDeleted());
    long v2 = apply(put("c", "2")).getPut().getVersion();
    assertTrue(apply(delete("c")).getDelete().getDeleted());
    long v3 = apply(putIf("c", "3", 0)).getPut().getVersion();
    assertTrue(v1 < v2 && v2 < v3, v1 + " < " + v2 + " < " + v3);
  }

  @Test
  void aPutStoresItsValueVersionAndExpiryAndReportsTheExpiry() {
    long expiry = replica.now + 60_000;
    CommandResult r = apply(putExpiring("c", "payload", expiry));
    assertEquals(expiry, r.getPut().getExpiresAtMillis());
    StoredValue stored = replica.stored("c");
    assertEquals(r.getPut().getVersion(), stored.version());
    assertEquals(expiry, stored.expiresAtMillis());
    assertEquals("payload", replica.value("c"));
  }

  @Test
  void anEmptyValueIsAValueNotAnAbsence() {
    apply(put("c", ""));
    assertTrue(replica.read("c").getFound());
    assertArrayEquals(new byte[0], replica.stored("c").value());
    assertEquals(Rejection.Reason.VERSION_CONFLICT, apply(putIf("c", "x", 0)).getRejected().getReason());
  }

  @Test
  void aPutWithoutExpiryClearsAnEarlierExpiry() {
    apply(putExpiring("c", "1", replica.now + 10));
    apply(put("c", "2"));
    assertEquals(0, replica.stored("c").expiresAtMillis());
    replica.now += 1_000_000;
    assertTrue(replica.read("c").getFound());
  }

  // ---- compare-and-set ----

  @Test
  void ifVersionZeroSucceedsOnlyWhileTheKeyDoesNotExist() {
    CommandResult created = apply(putIf("c", "1", 0));
    assertTrue(created.hasPut());
    CommandResult again = apply(putIf("c", "2", 0));
    assertEquals(Rejection.Reason.VERSION_CONFLICT, again.getRejected().getReason());
    assertEquals(created.getPut().getVersion(), again.getRejected().getCurrentVersion());
    assertEquals("1", replica.value("c"));
  }

  @Test
  void ifVersionMatchingTheCurrentVersionSucceeds() {
    long v = apply(put("c", "1")).getPut().getVersion();
    CommandResult r = apply(putIf("c", "2", v));
    assertTrue(r.hasPut());
    assertTrue(r.getPut().getVersion() > v);
    assertEquals("2", replica.value("c"));
  }

  @Test
  void aStaleIfVersionIsRejectedWithTheCurrentVersionAndChangesNothing() {
    long v1 = apply(put("c", "1")).getPut().getVersion();
    long v2 = apply(put("c", "2")).getPut().getVersion();
    long revisionBefore = replica.revision;

    CommandResult stale = apply(putIf("c", "3", v1));

    Rejection rejection = stale.getRejected();
    assertEquals(Rejection.Reason.VERSION_CONFLICT, rejection.getReason());
    assertEquals(v2, rejection.getCurrentVersion());
    assertFalse(rejection.getMessage().isEmpty());
    assertEquals(revisionBefore, stale.getRevision());
    assertEquals("2", replica.value("c"));
    assertEquals(v2, replica.stored("c").version());
  }

  @Test
  void aVersionFromTheFutureIsAConflictToo() {
    long v = apply(put("c", "1")).getPut().getVersion();
    CommandResult r = apply(putIf("c", "2", v + 1));
    assertEquals(Rejection.Reason.VERSION_CONFLICT, r.getRejected().getReason());
    assertEquals(v, r.getRejected().getCurrentVersion());
  }

  @Test
  void ifVersionOnAnAbsentKeyIsAConflictWithCurrentVersionZero() {
    CommandResult r = apply(putIf("c", "1", 5));
    assertEquals(Rejection.Reason.VERSION_CONFLICT, r.getRejected().getReason());
    assertEquals(0, r.getRejected().getCurrentVersion());
    assertNull(replica.stored("c"));
    assertEquals(0, replica.revision);
  }

  @Test
  void compareAndSetTreatsAnExpiredKeyAsAbsent() {
    long expiry = replica.now + 1_000;
    long v = apply(putExpiring("c", "old", expiry)).getPut().getVersion();
    replica.now = expiry;

    CommandResult withOldVersion = apply(putIf("c", "x", v));
    assertEquals(Rejection.Reason.VERSION_CONFLICT, withOldVersion.getRejected().getReason());
    assertEquals(0, withOldVersion.getRejected().getCurrentVersion(), "an expired key has no current version");

    CommandResult create = apply(putIf("c", "new", 0));
    assertTrue(create.hasPut(), "an expired key counts as absent for if_version=0");
    assertTrue(create.getPut().getVersion() > v);
    assertEquals("new", replica.value("c"));
    assertEquals(0, replica.stored("c").expiresAtMillis());
  }

  // ---- deletes ----

  @Test
  void deletingALiveKeyReportsDeletedAndRemovesIt() {
    apply(put("c", "1"));
    CommandResult r = apply(delete("c"));
    assertTrue(r.getDelete().getDeleted());
    assertEquals(2, r.getRevision());
    assertNull(replica.stored("c"));
    assertFalse(replica.read("c").getFound());
  }

  @Test
  void deletingAnAbsentKeyReportsFalseWritesNothingAndKeepsTheRevision() {
    apply(put("d", "1"));
    CommandResult r = apply(delete("c"));
    assertFalse(r.getDelete().getDeleted());
    assertEquals(1, r.getRevision());
    assertTrue(replica.last.mutations().isEmpty());
  }

  @Test
  void deletingAnExpiredKeyReportsFalseAndKeepsTheRevision() {
    apply(putExpiring("c", "1", replica.now + 5));
    replica.now += 5;
    CommandResult r = apply(delete("c"));
    assertFalse(r.getDelete().getDeleted());
    assertEquals(1, r.getRevision());
  }

  @Test
  void aConditionalDeleteRemovesTheKeyOnlyAtTheExpectedVersion() {
    long v = apply(put("c", "1")).getPut().getVersion();

    CommandResult wrong = apply(deleteIf("c", v + 1));
    assertEquals(Rejection.Reason.VERSION_CONFLICT, wrong.getRejected().getReason());
    assertEquals(v, wrong.getRejected().getCurrentVersion());
    assertEquals("1", replica.value("c"));

    CommandResult right = apply(deleteIf("c", v));
    assertTrue(right.getDelete().getDeleted());
    assertNull(replica.stored("c"));
  }

  @Test
  void aConditionalDeleteOfAnAbsentKeyConflictsWithVersionZero() {
    CommandResult r = apply(deleteIf("c", 3));
    assertEquals(Rejection.Reason.VERSION_CONFLICT, r.getRejected().getReason());
    assertEquals(0, r.getRejected().getCurrentVersion());
  }

  @Test
  void aDeleteConditionalOnAbsenceOfAnAbsentKeySucceedsWithoutDeleting() {
    CommandResult r = apply(deleteIf("c", 0));
    assertFalse(r.hasRejected());
    assertFalse(r.getDelete().getDeleted());
    assertEquals(0, r.getRevision());
  }

  @Test
  void aDeleteConditionalOnAbsenceOfALiveKeyConflicts() {
    long v = apply(put("c", "1")).getPut().getVersion();
    CommandResult r = apply(deleteIf("c", 0));
    assertEquals(Rejection.Reason.VERSION_CONFLICT, r.getRejected().getReason());
    assertEquals(v, r.getRejected().getCurrentVersion());
    assertNotNull(replica.stored("c"));
  }

  // ---- expiry ----

  @Test
  void expiryIsJudgedByTheProposalTimeCarriedInEachCommand() {
    long expiry = replica.now + 1_000;
    apply(putExpiring("c", "x", expiry));

    replica.now = expiry - 1; // proposed one millisecond before expiry: still live
    assertEquals(Rejection.Reason.VERSION_CONFLICT, apply(putIf("c", "y", 0)).getRejected().getReason());

    replica.now = expiry; // proposed at the expiry instant: gone
    assertTrue(apply(putIf("c", "y", 0)).hasPut());
  }

  @Test
  void aCommandProposedBeforeExpiryStillSeesTheKeyWhenAppliedLater() {
    long expiry = replica.now + 1_000;
    apply(putExpiring("c", "x", expiry));
    // Applied long after expiry by wall clock, but proposed before it: the proposal time rules.
    Command late = putIf("c", "y", 0).setRangeId(7).setEpoch(replica.range.getEpoch())
        .setProposedAtMillis(expiry - 500).build();
    assertTrue(replica.applyAsRouted(late).hasRejected());
  }

  // ---- malformed ----

  @Test
  void aCommandWithoutAnOperationIsRejectedAsInvalid() {
    CommandResult r = apply(Command.newBuilder());
    assertEquals(Rejection.Reason.INVALID, r.getRejected().getReason());
    assertEquals(0, r.getRevision());
  }
}
