package io.flotilla.pd;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Where the placement driver's own group runs: on three nodes that stay (one or two while the
 * cluster has no more). A member on a node that is decommissioning, removed or down is replaced
 * by a node that is up, and a group smaller than three grows when nodes join. Pure, like the
 * {@link Planner}: a function of the members and the nodes' states.
 *
 * <p>One member changes at a time, the new one added before the old one leaves, so that every
 * step keeps a majority of the members that are up. A member is never removed without a
 * replacement: a group of three with one dead member survives as much as a group of two, and
 * more once the member returns.
 */
public final class PdPlacement {
  /** Operators on the placement driver's group carry this range id (ranges start at 1). */
  public static final long RANGE_ID = 0;
  public static final String KIND = "move-placement-driver";
  public static final int SIZE = 3;

  private PdPlacement() {}

  /** Whether {@code op} changes the placement driver's group rather than a range. */
  public static boolean isPlacementDriver(Operator op) {
    return op.rangeId() == RANGE_ID && KIND.equals(op.kind());
  }

  /** Whether the recorded operator changes the placement driver's group rather than a range. */
  public static boolean isPlacementDriver(io.flotilla.proto.PdOperator op) {
    return op.getRangeId() == RANGE_ID && KIND.equals(op.getKind());
  }

  /**
   * The next change to the group's members, or empty when they are where they should be.
   *
   * @param members the group's current voting members
   * @param nodes every cluster member in the cluster's order (the founders first)
   * @param leader the group's leader (removed last: it hands its leadership over first)
   * @param withoutCopy members whose nodes run but hold no copy of the group's log (lost with
   *     their disk): they count as leaving
   */
  public static Optional<Operator> next(List<String> members, List<NodeView> nodes, String leader,
      java.util.Set<String> withoutCopy) {
    Map<String, NodeState> states = nodes.stream().collect(Collectors.toMap(NodeView::id, NodeView::state));
    Function<String, NodeState> state = id -> states.getOrDefault(id, NodeState.REMOVED);
    List<String> leaving = new ArrayList<>();
    for (String m : members) {
      NodeState s = state.apply(m);
      if ((s != NodeState.UP && s != NodeState.SUSPECT) || (withoutCopy.contains(m) && !m.equals(leader))) {
        leaving.add(m); // a suspect member may only be slow: it stays until it is down
      }
    }
    leaving.sort(java.util.Comparator.comparing(m -> m.equals(leader)));
    List<String> candidates = nodes.stream().filter(n -> n.state() == NodeState.UP && !members.contains(n.id()))
        .map(NodeView::id).toList();
    int staying = members.size() - leaving.size();
    if (staying < SIZE && !candidates.isEmpty()) {
      String add = candidates.get(0);
      if (leaving.isEmpty()) {
        return Optional.of(new Operator(RANGE_ID, KIND, Operator.Priority.REPAIR, List.of(new Step.AddReplica(add)),
            "the placement driver has " + members.size() + " member(s) and node " + add + " can host another"));
      }
      String gone = leaving.get(0);
      return Optional.of(new Operator(RANGE_ID, KIND, Operator.Priority.REPAIR,
          List.of(new Step.AddReplica(add), new Step.RemoveReplica(gone)), why(gone, state)));
    }
    if (members.size() > SIZE) {
      // An earlier move added the new member and stopped before removing the old one.
      if (!leaving.isEmpty()) {
        return Optional.of(remove(leaving.get(0), why(leaving.get(0), state)));
      }
      List<String> inOrder = nodes.stream().map(NodeView::id).filter(members::contains).toList();
      for (int i = inOrder.size() - 1; i >= 0; i--) {
        if (!inOrder.get(i).equals(leader)) {
          return Optional.of(remove(inOrder.get(i), "the placement driver has " + members.size() + " members"));
        }
      }
    }
    return Optional.empty();
  }

  private static Operator remove(String node, String why) {
    return new Operator(RANGE_ID, KIND, Operator.Priority.REPAIR, List.of(new Step.RemoveReplica(node)), why);
  }

  private static String why(String gone, Function<String, NodeState> state) {
    NodeState s = state.apply(gone);
    return "placement driver member " + gone + (s == NodeState.UP || s == NodeState.SUSPECT
        ? " holds no copy of its log" : " is " + s.name().toLowerCase(java.util.Locale.ROOT));
  }
}
