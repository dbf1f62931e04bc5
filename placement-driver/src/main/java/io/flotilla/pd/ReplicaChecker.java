package io.flotilla.pd;

import java.util.ArrayList;
import java.util.List;

/**
 * Repairs one range's replica set, most urgent first: a replica on a down or removed node is
 * replaced; a missing replica is added; a replica on a decommissioning node moves off it; an
 * extra replica is removed. A range that lost its quorum is left alone: its group cannot commit
 * a membership change, and only an operator can decide to give up the lost writes.
 */
public final class ReplicaChecker {
  private ReplicaChecker() {}

  static Operator check(RangeView range, ClusterView view, Tally tally, PlacementConfig config) {
    List<String> lost = new ArrayList<>();
    List<String> leaving = new ArrayList<>();
    for (String node : range.replicas()) {
      switch (view.state(node)) {
        case DOWN, REMOVED -> lost.add(node);
        case DECOMMISSIONING -> leaving.add(node);
        case UP, SUSPECT -> { }
      }
    }
    int alive = range.replicas().size() - lost.size();
    if (alive < range.replicas().size() / 2 + 1) {
      return null;
    }
    if (!lost.isEmpty()) {
      if (range.replicas().size() > config.replication()) {
        return new Operator(range.id(), "remove-down-replica", Operator.Priority.REPAIR,
            List.of(new Step.RemoveReplica(lost.get(0))), "replica on " + view.state(lost.get(0)) + " node " + lost.get(0));
      }
      return replace(range, lost.get(0), tally, "replace-down-replica",
          "replica on " + view.state(lost.get(0)) + " node " + lost.get(0));
    }
    if (range.replicas().size() < config.replication()) {
      String target = tally.bestTarget(range);
      return target == null ? null : new Operator(range.id(), "add-replica", Operator.Priority.REPAIR,
          List.of(new Step.AddReplica(target)), range.replicas().size() + " of " + config.replication() + " replicas");
    }
    if (!leaving.isEmpty()) {
      String from = leaving.get(0);
      if (range.replicas().size() > config.replication()) {
        // Its replacement is in already (a move that stopped half-way): only the removal is left.
        return new Operator(range.id(), "move-off-decommissioning", Operator.Priority.REPAIR, removal(range, from),
            "node " + from + " is decommissioning");
      }
      return replace(range, from, tally, "move-off-decommissioning", "node " + from + " is decommissioning");
    }
    if (range.replicas().size() > config.replication()) {
      // The fullest node's replica goes; among equals a follower's (no handover needed).
      String victim = null;
      for (String node : range.replicas()) {
        if (victim == null || victimOrder(range, tally, node, victim) > 0) {
          victim = node;
        }
      }
      return new Operator(range.id(), "remove-extra-replica", Operator.Priority.REPAIR, removal(range, victim),
          range.replicas().size() + " replicas, " + config.replication() + " wanted");
    }
    return null;
  }

  /** Removes the replica on {@code node}, handing leadership to another replica first if it leads. */
  private static List<Step> removal(RangeView range, String node) {
    List<Step> steps = new ArrayList<>();
    if (node.equals(range.leader())) {
      String heir = range.replicas().stream().filter(n -> !n.equals(node)).findFirst().orElseThrow();
      steps.add(new Step.TransferLeader(heir));
    }
    steps.add(new Step.RemoveReplica(node));
    return steps;
  }

  private static int victimOrder(RangeView range, Tally tally, String a, String b) {
    int c = Integer.compare(tally.replicas(a), tally.replicas(b));
    if (c == 0) {
      c = Boolean.compare(!a.equals(range.leader()), !b.equals(range.leader()));
    }
    return c != 0 ? c : tally.compareLoad(a, b);
  }

  /** Moves the replica on {@code from} to the best target: add, hand over leadership if needed, remove. */
  static Operator replace(RangeView range, String from, Tally tally, String kind, String reason) {
    String target = tally.bestTarget(range);
    if (target == null) {
      return null;
    }
    return new Operator(range.id(), kind, kind.startsWith("balance") ? Operator.Priority.BALANCE : Operator.Priority.REPAIR,
        moveSteps(range, from, target), reason);
  }

  static List<Step> moveSteps(RangeView range, String from, String to) {
    List<Step> steps = new ArrayList<>();
    steps.add(new Step.AddReplica(to));
    if (from.equals(range.leader())) {
      steps.add(new Step.TransferLeader(to));
    }
    steps.add(new Step.RemoveReplica(from));
    return steps;
  }
}
