package io.flotilla.statemachine;

import io.flotilla.common.Keys;
import io.flotilla.common.Ranges;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.MergeCommitOp;
import io.flotilla.proto.RangeChange;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import io.flotilla.proto.RangeState;
import io.flotilla.proto.Rejection;
import java.util.HashSet;
import java.util.List;

/**
 * Split and merge, applied in a range's own log: pure functions of (command, descriptor,
 * revision, prior meta state) like {@link RangeLogic}, so every replica reaches the same spans.
 *
 * <p>Invariants: a split gives the new range the parent's new revision, so versions keep
 * increasing across it; a merge gives the result the larger revision of the two plus one. Both
 * bump the span's epoch version, so commands routed before the change are refused and
 * re-routed. A right range is absorbed at most once (a marker in meta remembers it), so a
 * retried merge commit can never take over a span that moved on.
 */
final class RangeChanges {
  private RangeChanges() {}

  static boolean isRangeChange(Command command) {
    return switch (command.getKindCase()) {
      case SPLIT, MERGE_FREEZE, MERGE_COMMIT, MERGE_UNFREEZE, MERGE_CALL_OFF, CHANGE_REPLICAS -> true;
      default -> false;
    };
  }

  static RangeLogic.Applied apply(Command command, RangeDescriptor range, long revision, KvReader reader) {
    return switch (command.getKindCase()) {
      case SPLIT -> split(command, range, revision, reader);
      case MERGE_FREEZE -> freeze(command, range, revision);
      case MERGE_COMMIT -> commit(command.getMergeCommit(), range, revision, reader);
      case MERGE_UNFREEZE -> unfreeze(command, range, revision);
      case MERGE_CALL_OFF -> callOff(command.getMergeCallOff().getRight(), range, revision);
      case CHANGE_REPLICAS -> changeReplicas(command, range, revision);
      default -> throw new IllegalArgumentException("not a range change: " + command.getKindCase());
    };
  }

  private static RangeLogic.Applied split(Command command, RangeDescriptor range, long revision, KvReader reader) {
    byte[] at = command.getSplit().getSplitKey().toByteArray();
    long childId = command.getSplit().getNewRangeId();
    if (at.length == 0 || Keys.compare(at, range.getStart().toByteArray()) <= 0 || !Ranges.contains(range, at)) {
      return refused("the split key must lie strictly inside " + Ranges.describe(range), revision);
    }
    if (childId == 0 || childId == range.getId()) {
      return refused("a split needs a new range id (got " + childId + ")", revision);
    }
    long newRevision = revision + 1;
    RangeEpoch epoch = range.getEpoch().toBuilder().setVersion(range.getEpoch().getVersion() + 1).build();
    RangeDescriptor left = range.toBuilder().setEnd(command.getSplit().getSplitKey()).setEpoch(epoch).build();
    RangeDescriptor right = range.toBuilder().setId(childId).setStart(command.getSplit().getSplitKey())
        .setEpoch(epoch).build();
    Mutations m = new Mutations().put(ColumnFamily.META, MetaKeys.descriptor(left.getId()), left.toByteArray());
    // The child's own records, unless this node already holds a newer copy of the child (it
    // was seeded from the child's leader before this replica caught up to the split). That is
    // node-local bookkeeping: the parent's outcome is the same on every replica.
    if (reader.get(ColumnFamily.META, MetaKeys.descriptor(childId)) == null) {
      m.put(ColumnFamily.META, MetaKeys.descriptor(childId), right.toByteArray())
          .put(ColumnFamily.META, MetaKeys.state(childId),
              RangeState.newBuilder().setRevision(newRevision).build().toByteArray());
    }
    return changed(m, RangeChange.newBuilder().setRange(left).setCreated(right), newRevision);
  }

  private static RangeLogic.Applied freeze(Command command, RangeDescriptor range, long revision) {
    long into = command.getMergeFreeze().getIntoRangeId();
    if (into == 0 || into == range.getId()) {
      return refused("a range cannot be merged into range " + into, revision);
    }
    if (range.getStart().isEmpty()) {
      return refused(Ranges.describe(range) + " has no left neighbour to merge into", revision);
    }
    RangeDescriptor frozen = bumped(range).setFrozenInto(into).build();
    return changed(descriptorWrite(frozen), RangeChange.newBuilder().setRange(frozen), revision);
  }

  private static RangeLogic.Applied unfreeze(Command command, RangeDescriptor range, long revision) {
    if (range.getFrozenInto() == 0 || range.getFrozenInto() != command.getMergeUnfreeze().getIntoRangeId()) {
      return refused(Ranges.describe(range) + " is not frozen into range "
          + command.getMergeUnfreeze().getIntoRangeId(), revision);
    }
    RangeDescriptor thawed = bumped(range).setFrozenInto(0).build();
    return changed(descriptorWrite(thawed), RangeChange.newBuilder().setRange(thawed), revision);
  }

  private static RangeLogic.Applied changeReplicas(Command command, RangeDescriptor range, long revision) {
    List<String> replicas = command.getChangeReplicas().getReplicasList();
    if (replicas.isEmpty() || new HashSet<>(replicas).size() != replicas.size()
        || replicas.stream().anyMatch(String::isEmpty)) {
      return refused("a range needs one or more distinct replicas (got " + replicas + ")", revision);
    }
    long expected = command.getChangeReplicas().getExpectedVersion();
    if (expected != 0 && expected != range.getEpoch().getVersion()) {
      return refused("the span of " + Ranges.describe(range) + " changed since the new replica was checked (at version "
          + expected + "): check it again", revision);
    }
    if (command.getChangeReplicas().hasExpectedConf()
        && command.getChangeReplicas().getExpectedConf() != range.getEpoch().getConf()) {
      return refused("the replicas of " + Ranges.describe(range) + " changed since conf epoch "
          + command.getChangeReplicas().getExpectedConf() + " (now " + Ranges.epochString(range.getEpoch()) + ")",
          revision);
    }
    RangeDescriptor changed = range.toBuilder().clearReplicas().addAllReplicas(replicas)
        .setEpoch(range.getEpoch().toBuilder().setConf(range.getEpoch().getConf() + 1)).build();
    return changed(descriptorWrite(changed), RangeChange.newBuilder().setRange(changed), revision);
  }

  private static RangeLogic.Applied commit(MergeCommitOp op, RangeDescriptor left, long revision, KvReader reader) {
    RangeDescriptor right = op.getRight();
    if (reader.get(ColumnFamily.META, mergedMarker(left.getId(), right.getId())) != null) {
      // A retried commit (its first answer was lost): already done, change nothing.
      return changed(new Mutations(), RangeChange.newBuilder().setRange(left), revision);
    }
    String refusal = null;
    if (reader.get(ColumnFamily.META, calledOffMarker(left.getId(), right)) != null) {
      // A coordinator gave this freeze up and may have thawed the right range since: it may
      // have taken writes this range would not hold.
      return new RangeLogic.Applied(new Mutations(), CommandResult.newBuilder().setRevision(revision)
          .setRejected(Rejection.newBuilder().setReason(Rejection.Reason.MERGE_CALLED_OFF).setMessage("the merge of range "
              + right.getId() + " frozen at epoch " + Ranges.epochString(right.getEpoch()) + " was called off"))
          .build(), revision);
    } else if (right.getFrozenInto() != left.getId()) {
      refusal = "range " + right.getId() + " is not frozen into range " + left.getId();
    } else if (left.getEnd().isEmpty() || !left.getEnd().equals(right.getStart())) {
      refusal = Ranges.describe(left) + " and " + Ranges.describe(right) + " are not adjacent";
    } else if (!new HashSet<>(left.getReplicasList()).equals(new HashSet<>(right.getReplicasList()))) {
      refusal = "ranges " + left.getId() + " and " + right.getId() + " do not have the same replicas";
    }
    if (refusal != null) {
      return refused(refusal, revision);
    }
    long newRevision = Math.max(revision, op.getRightRevision()) + 1;
    RangeDescriptor merged = left.toBuilder().setEnd(right.getEnd()).setEpoch(left.getEpoch().toBuilder()
        .setVersion(Math.max(left.getEpoch().getVersion(), right.getEpoch().getVersion()) + 1)).build();
    Mutations m = descriptorWrite(merged)
        .delete(ColumnFamily.META, MetaKeys.descriptor(right.getId()))
        .delete(ColumnFamily.META, MetaKeys.state(right.getId()))
        .put(ColumnFamily.META, mergedMarker(left.getId(), right.getId()), new byte[] {1});
    return changed(m, RangeChange.newBuilder().setRange(merged).setAbsorbed(right), newRevision);
  }

  /**
   * Calls off the merge of {@code right} (as frozen) into {@code left}, unless it happened: after
   * this, no commit of that freeze applies, so the right range may be thawed.
   */
  private static RangeLogic.Applied callOff(RangeDescriptor right, RangeDescriptor left, long revision) {
    if (Ranges.contains(left, right.getStart().toByteArray())) {
      // The left range holds the right one's first key: only absorbing it made it grow there
      // (judged from the descriptor, which every replica has alike, not the node's marker).
      return changed(new Mutations(), RangeChange.newBuilder().setRange(left).setMergedAlready(true), revision);
    }
    return changed(new Mutations().put(ColumnFamily.META, calledOffMarker(left.getId(), right), new byte[] {1}),
        RangeChange.newBuilder().setRange(left), revision);
  }

  /**
   * Remembers that the merge of {@code right} frozen at its epoch into {@code leftId} was called
   * off. Range state like the descriptor: snapshots of the left range carry these markers.
   */
  static byte[] calledOffMarker(long leftId, RangeDescriptor right) {
    return MetaKeys.node("merge-called-off/" + leftId + "/" + right.getId() + "/" + right.getEpoch().getVersion() + "."
        + right.getEpoch().getConf()); // starts with calledOffPrefix(leftId)
  }

  /** The meta keys of every called-off merge into {@code leftId} start with this. */
  static byte[] calledOffPrefix(long leftId) {
    return MetaKeys.node("merge-called-off/" + leftId + "/");
  }

  /** Remembers that {@code rightId} was absorbed by {@code leftId}. */
  static byte[] mergedMarker(long leftId, long rightId) {
    return MetaKeys.node("merged/" + leftId + "/" + rightId);
  }

  private static RangeDescriptor.Builder bumped(RangeDescriptor range) {
    return range.toBuilder().setEpoch(range.getEpoch().toBuilder().setVersion(range.getEpoch().getVersion() + 1));
  }

  private static Mutations descriptorWrite(RangeDescriptor range) {
    return new Mutations().put(ColumnFamily.META, MetaKeys.descriptor(range.getId()), range.toByteArray());
  }

  private static RangeLogic.Applied changed(Mutations m, RangeChange.Builder change, long revision) {
    return new RangeLogic.Applied(m, CommandResult.newBuilder().setRevision(revision).setRangeChange(change).build(),
        revision);
  }

  private static RangeLogic.Applied refused(String message, long revision) {
    return new RangeLogic.Applied(new Mutations(), CommandResult.newBuilder().setRevision(revision)
        .setRejected(Rejection.newBuilder().setReason(Rejection.Reason.UNPROCESSABLE).setMessage(message)).build(),
        revision);
  }
}
