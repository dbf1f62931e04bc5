package io.flotilla.pd;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One planning round of the placement driver: a pure function of the cluster view and the
 * operators still running, returning the operators to start now.
 *
 * <p>Order: checkers first (repair every range that needs it: down, missing, decommissioning,
 * extra replicas), then split and merge, then the balancers (replicas, then leaders), each
 * rate-limited. A range gets at most one operator at a time; {@link PlacementConfig} caps
 * operators in flight and snapshots per receiving node, so repairs and rebalancing never
 * swamp a node with copies.
 */
public final class Planner {
  private final PlacementConfig config;

  public Planner(PlacementConfig config) {
    this.config = config;
  }

  public PlacementConfig config() {
    return config;
  }

  public List<Operator> plan(ClusterView view, Collection<Operator> running) {
    return plan(view, running, Set.of());
  }

  /**
   * As {@link #plan(ClusterView, Collection)}, with ranges whose leadership must stay where it
   * is for now ({@code leadersResting}: moved a moment ago, the new leader still settling). The
   * leader balancer picks other ranges instead.
   */
  public List<Operator> plan(ClusterView view, Collection<Operator> running, Set<Long> leadersResting) {
    Tally tally = new Tally(view, running, config);
    List<Operator> out = new ArrayList<>();
    for (RangeView range : view.ranges()) {
      if (tally.full()) {
        return out;
      }
      if (!tally.busy(range.id())) {
        add(out, tally, ReplicaChecker.check(range, view, tally, config));
      }
    }
    for (RangeView range : view.ranges()) {
      if (tally.full()) {
        return out;
      }
      if (tally.busy(range.id())) {
        continue;
      }
      Operator split = SplitChecker.check(range, config);
      if (split != null) {
        add(out, tally, split);
        continue;
      }
      Optional<RangeView> right = view.rightNeighbour(range);
      if (right.isPresent() && !tally.busy(right.get().id())) {
        add(out, tally, MergeChecker.check(range, right.get(), view, config));
      }
    }
    out.addAll(ReplicaBalancer.balance(view, tally, config, config.maxBalancePerRound()));
    out.addAll(LeaderBalancer.balance(view, tally, config.maxBalancePerRound(), leadersResting));
    return out;
  }

  /** The operator for one range right after its heartbeat: its repair, if it needs one (null otherwise). */
  public Operator checkRange(ClusterView view, RangeView range, Collection<Operator> running) {
    Tally tally = new Tally(view, running, config);
    if (tally.busy(range.id())) {
      return null;
    }
    Operator repair = ReplicaChecker.check(range, view, tally, config);
    Operator op = repair != null ? repair : SplitChecker.check(range, config);
    return op != null && tally.admit(op) ? op : null;
  }

  private static void add(List<Operator> out, Tally tally, Operator op) {
    if (op != null && tally.admit(op)) {
      out.add(op);
    }
  }
}
