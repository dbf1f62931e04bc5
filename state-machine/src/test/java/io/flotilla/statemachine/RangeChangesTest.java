package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.bs;
import static io.flotilla.statemachine.Replica.put;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.MergeCallOffOp;
import io.flotilla.proto.MergeCommitOp;
import io.flotilla.proto.MergeFreezeOp;
import io.flotilla.proto.MergeUnfreezeOp;
import io.flotilla.proto.RangeChange;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeState;
import io.flotilla.proto.Rejection;
import io.flotilla.proto.SplitOp;
import org.junit.jupiter.api.Test;

/**
 * Split and merge as log commands: spans, epochs and revisions after each, and the refusals
 * that keep two ranges from ever owning the same key.
 */
class RangeChangesTest {
  private final KvEngine node = new InMemoryKvEngine();
  private final Replica parent = new Replica(node, Replica.range(3, "b", "t", 2, 1, "n1", "n2", "n3"));

  private static Command.Builder split(String at, long newId) {
    return Command.newBuilder().setSplit(SplitOp.newBuilder().setSplitKey(bs(at)).setNewRangeId(newId));
  }

  private static Command.Builder freeze(long into) {
    return Command.newBuilder().setMergeFreeze(MergeFreezeOp.newBuilder().setIntoRangeId(into));
  }

  private static Command.Builder commit(RangeDescriptor right, long rightRevision) {
    return Command.newBuilder().setMergeCommit(MergeCommitOp.newBuilder().setRight(right)
        .setRightRevision(rightRevision));
  }

  /** Splits the parent at "k" into a child with id 99 that shares the node's engine. */
  private Replica splitAtK() {
    CommandResult r = parent.apply(split("k", 99));
    assertFalse(r.hasRejected(), r::toString);
    Replica child = new Replica(node, r.getRangeChange().getCreated());
    try {
      child.revision = RangeState.parseFrom(node.get(ColumnFamily.META, MetaKeys.state(99))).getRevision();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
    return child;
  }

  @Test
  void splitCutsTheSpanBumpsBothEpochsAndGivesTheChildTheParentsRevision() throws Exception {
    parent.apply(put("c", "1"));
    parent.apply(put("m", "2"));
    long before = parent.revision;
    CommandResult r = parent.apply(split("k", 99));
    RangeChange change = r.getRangeChange();
    assertEquals(before + 1, r.getRevision());
    assertEquals("b", change.getRange().getStart().toStringUtf8());
    assertEquals("k", change.getRange().getEnd().toStringUtf8());
    assertEquals("k", change.getCreated().getStart().toStringUtf8());
    assertEquals("t", change.getCreated().getEnd().toStringUtf8());
    assertEquals(3, change.getRange().getEpoch().getVersion());
    assertEquals(3, change.getCreated().getEpoch().getVersion());
    assertEquals(99, change.getCreated().getId());
    assertEquals(change.getRange().getReplicasList(), change.getCreated().getReplicasList());
    assertArrayEquals(change.getRange().toByteArray(), node.get(ColumnFamily.META, MetaKeys.descriptor(3)));
    assertArrayEquals(change.getCreated().toByteArray(), node.get(ColumnFamily.META, MetaKeys.descriptor(99)));
    assertEquals(before + 1, RangeState.parseFrom(node.get(ColumnFamily.META, MetaKeys.state(99))).getRevision(),
        "the child starts at the parent's revision, so versions keep increasing in it");
  }

  @Test
  void afterASplitEachSideServesOnlyItsOwnKeysAndVersionsKeepIncreasing() {
    CommandResult first = parent.apply(put("m", "1"));
    Replica child = splitAtK();
    assertEquals(Rejection.Reason.KEY_OUT_OF_RANGE, parent.apply(put("m", "2")).getRejected().getReason());
    CommandResult second = child.apply(put("m", "2"));
    assertFalse(second.hasRejected());
    assertTrue(second.getPut().getVersion() > first.getPut().getVersion());
    assertEquals("2", child.read("m").getKv().getValue().toStringUtf8());
  }

  @Test
  void aCommandRoutedWithThePreSplitEpochIsRefusedWithTheNewDescriptor() {
    RangeDescriptor before = parent.range;
    splitAtK();
    CommandResult r = parent.applyAsRouted(put("c", "x").setRangeId(3).setEpoch(before.getEpoch()).build());
    assertEquals(Rejection.Reason.EPOCH_MISMATCH, r.getRejected().getReason());
    assertEquals("k", r.getRejected().getCurrent().getEnd().toStringUtf8());
  }

  @Test
  void splitKeysOnTheStartOutsideOrEmptyAreRefusedAndChangeNothing() {
    for (String at : new String[] {"b", "a", "t", "z", ""}) {
      CommandResult r = parent.apply(split(at, 99));
      assertEquals(Rejection.Reason.UNPROCESSABLE, r.getRejected().getReason(), at);
    }
    assertEquals("t", parent.range.getEnd().toStringUtf8());
    assertNull(node.get(ColumnFamily.META, MetaKeys.descriptor(99)));
  }

  @Test
  void theSplitsOutcomeDoesNotDependOnWhatElseTheNodeHolds() throws Exception {
    // A node that was seeded with the child before its parent replica caught up to the split:
    // the parent still splits exactly as on every other replica, and the newer child copy stays.
    RangeDescriptor seeded = Replica.range(99, "k", "t", 3, 1, "n1", "n2", "n3");
    RangeState seededState = RangeState.newBuilder().setAppliedTerm(2).setAppliedIndex(40).setRevision(77).build();
    node.write(new Mutations().put(ColumnFamily.META, MetaKeys.descriptor(99), seeded.toByteArray())
        .put(ColumnFamily.META, MetaKeys.state(99), seededState.toByteArray()));
    CommandResult r = parent.apply(split("k", 99));
    assertFalse(r.hasRejected(), r::toString);
    assertEquals("k", parent.range.getEnd().toStringUtf8());
    assertEquals(seededState, RangeState.parseFrom(node.get(ColumnFamily.META, MetaKeys.state(99))));
    assertEquals(Rejection.Reason.UNPROCESSABLE, parent.apply(split("d", 3)).getRejected().getReason(),
        "a range cannot split into itself");
  }

  @Test
  void mergeFreezesTheRightRangeThenTheLeftAbsorbsItWithTheLargerRevision() {
    Replica right = splitAtK();
    for (int i = 0; i < 5; i++) {
      right.apply(put("p" + i, "v"));
    }
    parent.apply(put("c", "left"));
    CommandResult frozen = right.apply(freeze(3));
    RangeDescriptor frozenRight = frozen.getRangeChange().getRange();
    assertEquals(3, frozenRight.getFrozenInto());

    assertEquals(Rejection.Reason.RANGE_FROZEN, right.apply(put("p9", "late")).getRejected().getReason(),
        "a frozen range takes no more writes: its data is final");

    long expected = Math.max(parent.revision, right.revision) + 1;
    CommandResult merged = parent.apply(commit(frozenRight, right.revision));
    assertFalse(merged.hasRejected(), merged::toString);
    assertEquals(expected, merged.getRevision());
    RangeDescriptor m = merged.getRangeChange().getRange();
    assertEquals("b", m.getStart().toStringUtf8());
    assertEquals("t", m.getEnd().toStringUtf8());
    assertTrue(m.getEpoch().getVersion() > frozenRight.getEpoch().getVersion());
    assertEquals(99, merged.getRangeChange().getAbsorbed().getId());
    assertNull(node.get(ColumnFamily.META, MetaKeys.descriptor(99)));
    assertNull(node.get(ColumnFamily.META, MetaKeys.state(99)));
    assertEquals("v", parent.read("p3").getKv().getValue().toStringUtf8(), "the right range's data is the left's now");
    long versionBefore = parent.read("p3").getKv().getVersion();
    CommandResult write = parent.apply(put("p3", "w"));
    assertTrue(write.getPut().getVersion() > versionBefore,
        "versions in the absorbed span keep increasing");
  }

  @Test
  void commitIsRefusedUnlessTheRightRangeIsFrozenIntoThisAdjacentColocatedRange() {
    Replica right = splitAtK();
    RangeDescriptor notFrozen = right.range;
    assertEquals(Rejection.Reason.UNPROCESSABLE, parent.apply(commit(notFrozen, 0)).getRejected().getReason());

    RangeDescriptor frozenElsewhere = notFrozen.toBuilder().setFrozenInto(42).build();
    assertEquals(Rejection.Reason.UNPROCESSABLE, parent.apply(commit(frozenElsewhere, 0)).getRejected().getReason());

    RangeDescriptor gap = notFrozen.toBuilder().setFrozenInto(3).setStart(bs("l")).build();
    assertEquals(Rejection.Reason.UNPROCESSABLE, parent.apply(commit(gap, 0)).getRejected().getReason());

    RangeDescriptor elsewhere = notFrozen.toBuilder().setFrozenInto(3).clearReplicas()
        .addReplicas("n1").addReplicas("n2").addReplicas("n4").build();
    assertEquals(Rejection.Reason.UNPROCESSABLE, parent.apply(commit(elsewhere, 0)).getRejected().getReason());
    assertEquals("k", parent.range.getEnd().toStringUtf8());
    assertNotNull(node.get(ColumnFamily.META, MetaKeys.descriptor(99)));
  }

  @Test
  void unfreezeReopensARangeWhoseMergeWasRefused() {
    Replica right = splitAtK();
    right.apply(freeze(3));
    assertEquals(Rejection.Reason.UNPROCESSABLE, right.apply(Command.newBuilder()
        .setMergeUnfreeze(MergeUnfreezeOp.newBuilder().setIntoRangeId(7))).getRejected().getReason());
    CommandResult thawed = right.apply(Command.newBuilder()
        .setMergeUnfreeze(MergeUnfreezeOp.newBuilder().setIntoRangeId(3)));
    assertEquals(0, thawed.getRangeChange().getRange().getFrozenInto());
    assertFalse(right.apply(put("p", "again")).hasRejected());
  }

  private static Command.Builder callOff(RangeDescriptor frozenRight) {
    return Command.newBuilder().setMergeCallOff(MergeCallOffOp.newBuilder().setRight(frozenRight));
  }

  /**
   * A coordinator that gives a merge up calls it off in the left range before it thaws the right
   * one: a second coordinator's commit of the same freeze, arriving later, must not apply (the
   * thawed range may have taken writes), while a fresh freeze merges as usual.
   */
  @Test
  void aCalledOffFreezeNeverCommitsButAFreshOneDoes() throws Exception {
    Replica right = splitAtK();
    RangeDescriptor first = right.apply(freeze(3)).getRangeChange().getRange();
    CommandResult off = parent.apply(callOff(first));
    assertFalse(off.hasRejected(), off::toString);
    assertFalse(off.getRangeChange().getMergedAlready());
    right.apply(Command.newBuilder().setMergeUnfreeze(MergeUnfreezeOp.newBuilder().setIntoRangeId(3)));
    right.apply(put("p", "taken after the thaw"));

    CommandResult late = parent.apply(commit(first, right.revision));
    assertEquals(Rejection.Reason.MERGE_CALLED_OFF, late.getRejected().getReason(), late::toString);
    assertEquals("k", parent.range.getEnd().toStringUtf8(), "nothing absorbed");

    // A new replica of the left range, seeded from a snapshot, refuses that commit too.
    java.io.ByteArrayOutputStream stream = new java.io.ByteArrayOutputStream();
    RangeSnapshots.write(node, 3, stream);
    KvEngine otherNode = new InMemoryKvEngine();
    RangeSnapshots.install(otherNode, 3, new java.io.ByteArrayInputStream(stream.toByteArray()));
    Replica seeded = new Replica(otherNode, parent.range);
    seeded.revision = parent.revision;
    assertEquals(Rejection.Reason.MERGE_CALLED_OFF,
        seeded.apply(commit(first, right.revision)).getRejected().getReason());

    RangeDescriptor second = right.apply(freeze(3)).getRangeChange().getRange();
    CommandResult merged = parent.apply(commit(second, right.revision));
    assertFalse(merged.hasRejected(), merged::toString);
    assertEquals("taken after the thaw", parent.read("p").getKv().getValue().toStringUtf8());
  }

  @Test
  void callingOffAMergeThatWasCommittedSaysSoAndChangesNothing() {
    Replica right = splitAtK();
    RangeDescriptor frozen = right.apply(freeze(3)).getRangeChange().getRange();
    assertFalse(parent.apply(commit(frozen, right.revision)).hasRejected());
    RangeDescriptor merged = parent.range;
    CommandResult off = parent.apply(callOff(frozen));
    assertTrue(off.getRangeChange().getMergedAlready(), off::toString);
    assertEquals(merged, parent.range);
    // A replica of the merged range seeded later (no marker of the merge on its node) says so too.
    java.io.ByteArrayOutputStream stream = new java.io.ByteArrayOutputStream();
    try {
      RangeSnapshots.write(node, 3, stream);
      KvEngine otherNode = new InMemoryKvEngine();
      RangeSnapshots.install(otherNode, 3, new java.io.ByteArrayInputStream(stream.toByteArray()));
      Replica seeded = new Replica(otherNode, parent.range);
      assertTrue(seeded.apply(callOff(frozen)).getRangeChange().getMergedAlready());
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void theFirstRangeCannotBeFrozenForAMergeItHasNoLeftNeighbour() {
    Replica first = new Replica(node, Replica.range(1, "", "b", 1, 1, "n1"));
    assertEquals(Rejection.Reason.UNPROCESSABLE, first.apply(freeze(3)).getRejected().getReason());
    assertEquals(Rejection.Reason.UNPROCESSABLE, first.apply(freeze(1)).getRejected().getReason());
  }

  @Test
  void aReplicaAdditionCheckedAtAnOlderSpanIsRefusedAndChangesNothing() {
    Command.Builder add = Command.newBuilder().setChangeReplicas(io.flotilla.proto.ChangeReplicasOp.newBuilder()
        .addAllReplicas(java.util.List.of("n1", "n2", "n3", "n4")).setExpectedVersion(2));
    Replica child = splitAtK(); // the parent's span version 2 -> 3
    assertNotNull(child);
    RangeDescriptor before = parent.range;
    CommandResult refused = parent.apply(add.clone());
    assertEquals(Rejection.Reason.UNPROCESSABLE, refused.getRejected().getReason(), refused::toString);
    assertEquals(before, parent.range, "nothing changed");

    CommandResult added = parent.apply(add.clone().setChangeReplicas(add.getChangeReplicas().toBuilder()
        .setExpectedVersion(3)));
    assertFalse(added.hasRejected(), added::toString);
    assertEquals(java.util.List.of("n1", "n2", "n3", "n4"), added.getRangeChange().getRange().getReplicasList());
    assertEquals(before.getEpoch().getConf() + 1, added.getRangeChange().getRange().getEpoch().getConf());
  }

  @Test
  void aReplicaChangeNamingAnOlderConfEpochIsRefusedAndChangesNothing() {
    RangeDescriptor before = parent.range;
    long conf = before.getEpoch().getConf();
    // A membership repair's fence: the same replicas, recorded at the conf epoch it read.
    CommandResult fence = parent.apply(Command.newBuilder().setChangeReplicas(io.flotilla.proto.ChangeReplicasOp
        .newBuilder().addAllReplicas(before.getReplicasList()).setExpectedConf(conf)));
    assertFalse(fence.hasRejected(), fence::toString);
    assertEquals(conf + 1, parent.range.getEpoch().getConf());
    RangeDescriptor fenced = parent.range;

    // A coordinator that read the replicas before the fence records its addition too late.
    CommandResult late = parent.apply(Command.newBuilder().setChangeReplicas(io.flotilla.proto.ChangeReplicasOp
        .newBuilder().addAllReplicas(java.util.List.of("n1", "n2", "n3", "n4")).setExpectedConf(conf)));
    assertEquals(Rejection.Reason.UNPROCESSABLE, late.getRejected().getReason(), late::toString);
    assertEquals(fenced, parent.range, "nothing changed");
  }
}
