package io.flotilla.pd;

import io.flotilla.common.Keys;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An immutable snapshot of the cluster for one planning round: nodes with their states, ranges
 * in key order, and per-node replica and leader counts. Checkers and schedulers read only this.
 */
public final class ClusterView {
  private final Map<String, NodeView> nodes;
  private final List<RangeView> ranges;
  private final Map<Long, Integer> positions = new HashMap<>();
  private final Map<String, List<RangeView>> rangesOn = new HashMap<>();
  private final Map<String, Integer> leaders = new HashMap<>();

  private ClusterView(Map<String, NodeView> nodes, List<RangeView> ranges) {
    this.nodes = nodes;
    this.ranges = ranges;
    for (int i = 0; i < ranges.size(); i++) {
      RangeView r = ranges.get(i);
      positions.put(r.id(), i);
      for (String node : r.replicas()) {
        rangesOn.computeIfAbsent(node, n -> new ArrayList<>()).add(r);
      }
      if (r.leader() != null) {
        leaders.merge(r.leader(), 1, Integer::sum);
      }
    }
  }

  public static ClusterView of(Collection<NodeView> nodes, Collection<RangeView> ranges) {
    Map<String, NodeView> byId = new LinkedHashMap<>();
    nodes.forEach(n -> byId.put(n.id(), n));
    List<RangeView> sorted = new ArrayList<>(ranges);
    sorted.sort((a, b) -> Keys.compare(a.start(), b.start()));
    return new ClusterView(Collections.unmodifiableMap(byId), Collections.unmodifiableList(sorted));
  }

  public Collection<NodeView> nodes() {
    return nodes.values();
  }

  /** The node's state; a node the view does not know counts as removed. */
  public NodeState state(String node) {
    NodeView n = nodes.get(node);
    return n == null ? NodeState.REMOVED : n.state();
  }

  public List<RangeView> ranges() {
    return ranges;
  }

  public Optional<RangeView> range(long id) {
    Integer i = positions.get(id);
    return i == null ? Optional.empty() : Optional.of(ranges.get(i));
  }

  /** The range that starts where {@code range} ends, if any. */
  public Optional<RangeView> rightNeighbour(RangeView range) {
    Integer i = positions.get(range.id());
    if (i == null || i + 1 >= ranges.size()) {
      return Optional.empty();
    }
    RangeView next = ranges.get(i + 1);
    return range.isLeftNeighbourOf(next) ? Optional.of(next) : Optional.empty();
  }

  /** The ranges with a replica on {@code node}, in key order. */
  public List<RangeView> rangesOn(String node) {
    return rangesOn.getOrDefault(node, List.of());
  }

  public int replicaCount(String node) {
    return rangesOn(node).size();
  }

  public int leaderCount(String node) {
    return leaders.getOrDefault(node, 0);
  }
}
