package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.batch;
import static io.flotilla.statemachine.Replica.deleteOp;
import static io.flotilla.statemachine.Replica.entry;
import static io.flotilla.statemachine.Replica.entryGet;
import static io.flotilla.statemachine.Replica.put;
import static io.flotilla.statemachine.Replica.putExpiring;
import static io.flotilla.statemachine.Replica.putOp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.proto.BatchEntry;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.EntryResult;
import io.flotilla.proto.Rejection;
import org.junit.jupiter.api.Test;

/** Batches: atomic ones apply all or nothing, non-atomic ones apply each op on its own. */
class RangeLogicBatchTest {
  private final Replica replica = new Replica(new InMemoryKvEngine(), Replica.range(7, "b", "m", 3, 1));

  // ---- atomic ----

  @Test
  void anAtomicBatchAppliesEveryWriteAtOneNewRevision() {
    replica.apply(put("e", "old"));
    CommandResult r = replica.apply(batch(true, entry(putOp("c", "1")), entry(putOp("d", "2")), entry(deleteOp("e"))));
    assertEquals(2, r.getRevision());
    assertEquals(3, r.getBatch().getResultsCount());
    assertEquals(2, r.getBatch().getResults(0).getPut().getVersion());
    assertEquals(2, r.getBatch().getResults(1).getPut().getVersion());
    assertTrue(r.getBatch().getResults(2).getDelete().getDeleted());
    assertEquals("1", replica.value("c"));
    assertEquals("2", replica.value("d"));
    assertNull(replica.stored("e"));
  }

  @Test
  void aFailedConditionRejectsTheWholeAtomicBatchAndNamesTheOp() {
    long v = replica.apply(put("c", "old")).getPut().getVersion();
    CommandResult r = replica.apply(batch(true,
        entry(putOp("d", "new")),
        entry(deleteOp("c")),
        entry(putOp("e", "new").setIfVersion(0)),
        entry(putOp("c", "x").setIfVersion(v + 7)),
        entry(putOp("f", "new"))));

    Rejection rejected = r.getRejected();
    assertEquals(Rejection.Reason.VERSION_CONFLICT, rejected.getReason());
    assertEquals(3, rejected.getFailedIndex());
    assertEquals(0, rejected.getCurrentVersion(), "c was deleted by op 1 of the same batch");
    assertEquals(1, r.getRevision());
    assertNull(replica.stored("d"), "nothing of the batch is applied");
    assertEquals("old", replica.value("c"));
    assertEquals(v, replica.stored("c").version());
    assertNull(replica.stored("e"));
  }

  @Test
  void theFailedIndexIsTheFirstFailingOpAndCarriesItsCurrentVersion() {
    long vc = replica.apply(put("c", "1")).getPut().getVersion();
    replica.apply(put("d", "1"));
    CommandResult r = replica.apply(batch(true,
        entry(putOp("e", "1")),
        entry(putOp("c", "2").setIfVersion(0)),
        entry(putOp("d", "2").setIfVersion(0))));
    assertEquals(1, r.getRejected().getFailedIndex());
    assertEquals(vc, r.getRejected().getCurrentVersion());
  }

  @Test
  void readsInABatchSeeTheBatchsEarlierWrites() {
    replica.apply(put("c", "before"));
    CommandResult r = replica.apply(batch(true,
        entryGet("c"),
        entry(putOp("c", "during")),
        entryGet("c"),
        entry(deleteOp("c")),
        entryGet("c"),
        entry(putOp("d", "new")),
        entryGet("d")));
    EntryResult first = r.getBatch().getResults(0);
    assertEquals("before", first.getGet().getKv().getValue().toStringUtf8());
    assertEquals(1, first.getGet().getKv().getVersion());
    assertEquals("during", r.getBatch().getResults(2).getGet().getKv().getValue().toStringUtf8());
    assertEquals(r.getRevision(), r.getBatch().getResults(2).getGet().getKv().getVersion());
    assertFalse(r.getBatch().getResults(4).getGet().getFound());
    assertEquals("new", r.getBatch().getResults(6).getGet().getKv().getValue().toStringUtf8());
    assertNull(replica.stored("c"));
  }

  @Test
  void conditionsInABatchAreCheckedAgainstTheBatchsEarlierWrites() {
    long next = replica.revision + 1;
    CommandResult ok = replica.apply(batch(true,
        entry(putOp("c", "1").setIfVersion(0)),
        entry(putOp("c", "2").setIfVersion(next))));
    assertEquals("2", replica.value("c"), "op 1 matches the version op 0 just wrote");
    assertEquals(next, ok.getRevision());

    CommandResult conflict = replica.apply(batch(true,
        entry(putOp("d", "1")),
        entry(putOp("d", "2").setIfVersion(0))));
    assertEquals(1, conflict.getRejected().getFailedIndex());
    assertEquals(next + 1, conflict.getRejected().getCurrentVersion());
    assertNull(replica.stored("d"));
  }

  @Test
  void anAtomicBatchOfReadsOnlyKeepsTheRevision() {
    replica.apply(put("c", "1"));
    CommandResult r = replica.apply(batch(true, entryGet("c"), entryGet("d")));
    assertTrue(r.getBatch().getResults(0).getGet().getFound());
    assertFalse(r.getBatch().getResults(1).getGet().getFound());
    assertEquals(1, r.getRevision());
    assertTrue(replica.last.mutations().isEmpty());
  }

  @Test
  void aReadInABatchDoesNotSeeAnExpiredKey() {
    replica.apply(putExpiring("c", "1", replica.now + 10));
    replica.now += 10;
    CommandResult r = replica.apply(batch(true, entryGet("c")));
    assertFalse(r.getBatch().getResults(0).getGet().getFound());
  }

  @Test
  void anAtomicBatchEntryWithoutAnOpRejectsTheBatchAsInvalid() {
    CommandResult r = replica.apply(batch(true, entry(putOp("c", "1")), BatchEntry.newBuilder()));
    assertEquals(Rejection.Reason.INVALID, r.getRejected().getReason());
    assertEquals(1, r.getRejected().getFailedIndex());
    assertNull(replica.stored("c"));
  }

  // ---- non-atomic ----

  @Test
  void aNonAtomicBatchAppliesEveryOpOnItsOwnAndReportsEachOutcomeInOrder() {
    long vc = replica.apply(put("c", "old")).getPut().getVersion();
    CommandResult r = replica.apply(batch(false,
        entry(putOp("c", "x").setIfVersion(0)),
        entry(putOp("d", "y")),
        entry(deleteOp("c").setIfVersion(vc + 1)),
        entry(deleteOp("e")),
        entryGet("d")));

    assertEquals(5, r.getBatch().getResultsCount());
    EntryResult refused = r.getBatch().getResults(0);
    assertEquals(Rejection.Reason.VERSION_CONFLICT, refused.getError().getReason());
    assertEquals(vc, refused.getError().getCurrentVersion());
    assertEquals(r.getRevision(), r.getBatch().getResults(1).getPut().getVersion());
    assertEquals(Rejection.Reason.VERSION_CONFLICT, r.getBatch().getResults(2).getError().getReason());
    assertFalse(r.getBatch().getResults(3).getDelete().getDeleted());
    assertEquals("y", r.getBatch().getResults(4).getGet().getKv().getValue().toStringUtf8());

    assertEquals(2, r.getRevision(), "one revision for the whole command");
    assertEquals("old", replica.value("c"));
    assertEquals(vc, replica.stored("c").version());
    assertEquals("y", replica.value("d"));
  }

  @Test
  void aNonAtomicBatchWhoseEveryWriteFailsKeepsTheRevision() {
    replica.apply(put("c", "old"));
    CommandResult r = replica.apply(batch(false,
        entry(putOp("c", "x").setIfVersion(0)),
        entry(deleteOp("d"))));
    assertFalse(r.hasRejected());
    assertTrue(r.getBatch().getResults(0).hasError());
    assertFalse(r.getBatch().getResults(1).getDelete().getDeleted());
    assertEquals(1, r.getRevision());
    assertTrue(replica.last.mutations().isEmpty());
  }

  @Test
  void aNonAtomicBatchEntryWithoutAnOpFailsAloneAsInvalid() {
    CommandResult r = replica.apply(batch(false, BatchEntry.newBuilder(), entry(putOp("c", "1"))));
    assertEquals(Rejection.Reason.INVALID, r.getBatch().getResults(0).getError().getReason());
    assertTrue(r.getBatch().getResults(1).hasPut());
    assertEquals("1", replica.value("c"));
  }

  @Test
  void laterOpsOfANonAtomicBatchSeeEarlierSucceededOps() {
    CommandResult r = replica.apply(batch(false,
        entry(putOp("c", "1")),
        entry(putOp("c", "2").setIfVersion(0)),
        entryGet("c")));
    assertEquals(Rejection.Reason.VERSION_CONFLICT, r.getBatch().getResults(1).getError().getReason());
    assertEquals("1", r.getBatch().getResults(2).getGet().getKv().getValue().toStringUtf8());
    assertEquals("1", replica.value("c"));
  }
}
