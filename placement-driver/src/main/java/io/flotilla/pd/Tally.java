package io.flotilla.pd;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The counts one planning round works with: the view's replica and leader counts as they will
 * be once the running and newly chosen operators finish, the snapshots each node is already
 * receiving, and the ranges that are busy. Checkers and schedulers consult it so the operators
 * of one round do not all pile onto the same emptiest node. Not thread-safe (one per round).
 */
final class Tally {
  private final ClusterView view;
  private final PlacementConfig config;
  private final Map<String, Integer> replicas = new HashMap<>();
  private final Map<String, Integer> leaders = new HashMap<>();
  private final Map<String, Integer> snapshots = new HashMap<>();
  private final Set<Long> busy = new HashSet<>();
  private int operators;

  Tally(ClusterView view, Collection<Operator> running, PlacementConfig config) {
    this.view = view;
    this.config = config;
    for (NodeView n : view.nodes()) {
      replicas.put(n.id(), view.replicaCount(n.id()));
      leaders.put(n.id(), view.leaderCount(n.id()));
    }
    running.forEach(this::count);
  }

  int replicas(String node) {
    return replicas.getOrDefault(node, 0);
  }

  int leaders(String node) {
    return leaders.getOrDefault(node, 0);
  }

  boolean busy(long rangeId) {
    return busy.contains(rangeId);
  }

  boolean full() {
    return operators >= config.maxOperators();
  }

  /** Whether {@code node} may receive one more replica copy in this round. */
  boolean canReceive(String node) {
    return view.state(node).acceptsReplicas() && snapshots.getOrDefault(node, 0) < config.maxSnapshotsPerNode();
  }

  /**
   * The up node without a replica of {@code range} that holds the fewest replicas (then the
   * fewest leaders, then the smallest id) and may receive a copy now; null when none may.
   */
  String bestTarget(RangeView range) {
    String best = null;
    for (NodeView n : view.nodes()) {
      String id = n.id();
      if (range.hasReplicaOn(id) || !canReceive(id)) {
        continue;
      }
      if (best == null || compareLoad(id, best) < 0) {
        best = id;
      }
    }
    return best;
  }

  /** Orders nodes by replicas, then leaders, then id: the least loaded first. */
  int compareLoad(String a, String b) {
    int c = Integer.compare(replicas(a), replicas(b));
    if (c == 0) {
      c = Integer.compare(leaders(a), leaders(b));
    }
    return c != 0 ? c : a.compareTo(b);
  }

  /** Takes the operator into the round when the limits allow it; false (and no change) otherwise. */
  boolean admit(Operator op) {
    if (full() || busy(op.rangeId())) {
      return false;
    }
    for (String target : op.targets()) {
      if (!canReceive(target)) {
        return false;
      }
    }
    count(op);
    return true;
  }

  private void count(Operator op) {
    operators++;
    busy.add(op.rangeId());
    String leader = view.range(op.rangeId()).map(RangeView::leader).orElse(null);
    for (Step step : op.steps()) {
      if (step instanceof Step.AddReplica add) {
        replicas.merge(add.node(), 1, Integer::sum);
        snapshots.merge(add.node(), 1, Integer::sum);
      } else if (step instanceof Step.RemoveReplica remove) {
        replicas.merge(remove.node(), -1, Integer::sum);
      } else if (step instanceof Step.TransferLeader transfer) {
        if (leader != null) {
          leaders.merge(leader, -1, Integer::sum);
        }
        leaders.merge(transfer.node(), 1, Integer::sum);
        leader = transfer.node();
      } else if (step instanceof Step.MergeWith merge) {
        busy.add(merge.rightId());
      }
    }
  }
}
