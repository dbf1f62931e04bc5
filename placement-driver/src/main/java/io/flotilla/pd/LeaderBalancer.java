package io.flotilla.pd;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Evens out leader counts: moves leadership of one range from the up node leading the most
 * ranges to the follower of that range leading the fewest, while that narrows the gap by at
 * least two (a move by one would only swap who is ahead).
 */
public final class LeaderBalancer {
  /** The kind of the operators this balancer plans. */
  public static final String KIND = "balance-leaders";

  private LeaderBalancer() {}

  /** @param resting ranges whose leadership stays where it is for now */
  static List<Operator> balance(ClusterView view, Tally tally, int limit, Set<Long> resting) {
    List<Operator> out = new ArrayList<>();
    while (out.size() < limit && !tally.full()) {
      String most = null;
      String fewest = null;
      for (NodeView n : view.nodes()) {
        if (n.state() != NodeState.UP) {
          continue;
        }
        if (most == null || tally.leaders(n.id()) > tally.leaders(most)) {
          most = n.id();
        }
        if (fewest == null || tally.leaders(n.id()) < tally.leaders(fewest)) {
          fewest = n.id();
        }
      }
      if (most == null) {
        return out;
      }
      // From the busiest leader to its least loaded follower; else to the idlest node from its
      // busiest leader (the busiest node may follow nothing the idlest one leads, and back).
      Operator op = fromSource(view, tally, most, resting);
      if (op == null) {
        op = toTarget(view, tally, fewest, resting);
      }
      if (op == null || !tally.admit(op)) {
        return out;
      }
      out.add(op);
    }
    return out;
  }

  private static Operator fromSource(ClusterView view, Tally tally, String source, Set<Long> resting) {
    Operator best = null;
    int bestGap = 1;
    for (RangeView r : view.rangesOn(source)) {
      if (!source.equals(r.leader()) || tally.busy(r.id()) || resting.contains(r.id())) {
        continue;
      }
      for (String follower : r.replicas()) {
        int gap = tally.leaders(source) - tally.leaders(follower);
        if (!follower.equals(source) && view.state(follower) == NodeState.UP && gap > bestGap) {
          bestGap = gap;
          best = transfer(r, source, follower);
        }
      }
    }
    return best;
  }

  private static Operator toTarget(ClusterView view, Tally tally, String target, Set<Long> resting) {
    Operator best = null;
    int bestGap = 1;
    for (RangeView r : view.rangesOn(target)) {
      if (r.leader() == null || r.leader().equals(target) || tally.busy(r.id()) || resting.contains(r.id())
          || view.state(r.leader()) != NodeState.UP) {
        continue;
      }
      int gap = tally.leaders(r.leader()) - tally.leaders(target);
      if (gap > bestGap) {
        bestGap = gap;
        best = transfer(r, r.leader(), target);
      }
    }
    return best;
  }

  private static Operator transfer(RangeView r, String from, String to) {
    return new Operator(r.id(), KIND, Operator.Priority.BALANCE, List.of(new Step.TransferLeader(to)),
        "node " + from + " leads more ranges than node " + to);
  }
}
