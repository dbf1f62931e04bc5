package io.flotilla.pd;

import java.util.HashSet;
import java.util.List;

/**
 * Merges a small, cold range with its small, cold right neighbour when both have their
 * replicas on the same nodes (merge needs colocated replicas) and the result stays well below
 * the split size, so the two do not flap between split and merge. Every replica must be up: each
 * one has to apply the freeze before the left range may absorb the right one.
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
    if (!new HashSet<>(left.replicas()).equals(new HashSet<>(right.replicas()))) {
      return null;
    }
    if (left.replicas().stream().anyMatch(n -> view.state(n) != NodeState.UP)) {
      return null; // every replica must confirm the freeze: wait for the repair
    }
    return new Operator(left.id(), "merge", Operator.Priority.SPLIT_MERGE, List.of(new Step.MergeWith(right.id())),
        "ranges " + left.id() + " and " + right.id() + " are small and cold");
  }

  private static boolean small(RangeView r, PlacementConfig config) {
    return r.approximateBytes() < config.mergeBytes() && r.writesPerSecond() < config.mergeWritesPerSecond();
  }
}
