package io.flotilla.pd;

import java.util.HashSet;
import java.util.List;

/**
 * Merges a small, cold range with its small, cold right neighbour when the result stays well
 * below the split size, so the two do not flap between split and merge. Merging needs both
 * ranges' replicas on the same nodes: until they are, the checker moves the right range's
 * replicas one at a time. Every replica must be up: each one has to apply the freeze before the
 * left range may absorb the right one.
 */
public final class MergeChecker {
  private MergeChecker() {}

  static Operator check(RangeView left, RangeView right, ClusterView view, PlacementConfig config) {
    if (!small(left, config) || !small(right, config)) {
      return null;
    }
    if (left.approximateBytes() + right.approximateBytes() > config.splitBytes() / 2
        || left.keys() + right.keys() > config.splitKeys() / 2) {
      return null;
    }
    if (left.replicas().stream().anyMatch(n -> view.state(n) != NodeState.UP)
        || right.replicas().stream().anyMatch(n -> view.state(n) != NodeState.UP)) {
      return null; // every replica must confirm the freeze: wait for the repair
    }
    if (!new HashSet<>(left.replicas()).equals(new HashSet<>(right.replicas()))) {
      // Colocate first, one replica per operator; the merge follows once the sets match.
      String from = right.replicas().stream().filter(n -> !left.replicas().contains(n)).findFirst().orElse(null);
      String to = left.replicas().stream().filter(n -> !right.replicas().contains(n)).findFirst().orElse(null);
      if (from == null || to == null) {
        return null; // different replica counts: the replica checker evens them out first
      }
      return new Operator(right.id(), "colocate-for-merge", Operator.Priority.SPLIT_MERGE,
          ReplicaChecker.moveSteps(right, from, to), "ranges " + left.id() + " and " + right.id()
          + " are small and cold; their replicas must share nodes to merge");
    }
    return new Operator(left.id(), "merge", Operator.Priority.SPLIT_MERGE, List.of(new Step.MergeWith(right.id())),
        "ranges " + left.id() + " and " + right.id() + " are small and cold");
  }

  private static boolean small(RangeView r, PlacementConfig config) {
    return r.approximateBytes() < config.mergeBytes() && r.writesPerSecond() < config.mergeWritesPerSecond();
  }
}
