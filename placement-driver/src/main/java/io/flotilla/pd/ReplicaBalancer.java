package io.flotilla.pd;

import java.util.ArrayList;
import java.util.List;

/**
 * Evens out replica counts: while the fullest up node holds more than {@code replicaTolerance}
 * replicas more than the emptiest one that can receive a copy, moves one replica from the
 * first to the second (preferring ranges the source does not lead, which need no handover).
 */
public final class ReplicaBalancer {
  private ReplicaBalancer() {}

  static List<Operator> balance(ClusterView view, Tally tally, PlacementConfig config, int limit) {
    List<Operator> out = new ArrayList<>();
    while (out.size() < limit && !tally.full()) {
      String source = null;
      String target = null;
      for (NodeView n : view.nodes()) {
        if (n.state() != NodeState.UP) {
          continue;
        }
        if (source == null || tally.replicas(n.id()) > tally.replicas(source)) {
          source = n.id();
        }
        if (tally.canReceive(n.id()) && (target == null || tally.compareLoad(n.id(), target) < 0)) {
          target = n.id();
        }
      }
      if (source == null || target == null || tally.replicas(source) - tally.replicas(target) <= config.replicaTolerance()) {
        return out;
      }
      Operator op = pick(view, tally, source, target);
      if (op == null || !tally.admit(op)) {
        return out;
      }
      out.add(op);
    }
    return out;
  }

  private static Operator pick(ClusterView view, Tally tally, String source, String target) {
    RangeView led = null;
    for (RangeView r : view.rangesOn(source)) {
      if (tally.busy(r.id()) || r.hasReplicaOn(target)) {
        continue;
      }
      if (!source.equals(r.leader())) {
        return op(r, source, target);
      }
      if (led == null) {
        led = r;
      }
    }
    return led == null ? null : op(led, source, target);
  }

  private static Operator op(RangeView r, String source, String target) {
    return new Operator(r.id(), "balance-replicas", Operator.Priority.BALANCE, ReplicaChecker.moveSteps(r, source, target),
        "node " + source + " holds more replicas than node " + target);
  }
}
