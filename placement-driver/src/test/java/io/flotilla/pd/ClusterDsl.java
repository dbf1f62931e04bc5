package io.flotilla.pd;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds cluster views for placement tests in a few lines:
 * {@code cluster().up("n1", "n2", "n3").range(7, "n1", "n2", "n3")} is range 7 led by n1 with
 * followers n2 and n3. Ranges tile the key space in id order (range ids become the span keys).
 */
final class ClusterDsl {
  private final Map<String, NodeView> nodes = new LinkedHashMap<>();
  private final TreeMap<Long, RangeView> ranges = new TreeMap<>();

  static ClusterDsl cluster() {
    return new ClusterDsl();
  }

  ClusterDsl up(String... ids) {
    return nodes(NodeState.UP, ids);
  }

  ClusterDsl down(String... ids) {
    return nodes(NodeState.DOWN, ids);
  }

  ClusterDsl decommissioning(String... ids) {
    return nodes(NodeState.DECOMMISSIONING, ids);
  }

  ClusterDsl nodes(NodeState state, String... ids) {
    for (String id : ids) {
      nodes.put(id, new NodeView(id, state));
    }
    return this;
  }

  /** Range {@code id} led by {@code replicas[0]} (null leader: write "-" first). */
  ClusterDsl range(long id, String... replicas) {
    List<String> list = new ArrayList<>(Arrays.asList(replicas));
    String leader = list.get(0);
    if (leader.equals("-")) {
      list.remove(0);
      leader = null;
    }
    ranges.put(id, new RangeView(id, new byte[0], new byte[0], list, leader, 0, 0, 0));
    return this;
  }

  ClusterDsl load(long id, long bytes, long keys, double writesPerSecond) {
    ranges.put(id, ranges.get(id).withLoad(bytes, keys, writesPerSecond));
    return this;
  }

  /** The range's leader reports {@code key} as the point that halves its recent writes. */
  ClusterDsl loadSplitKey(long id, String key) {
    RangeView r = ranges.get(id);
    ranges.put(id, new RangeView(r.id(), r.start(), r.end(), r.replicas(), r.leader(), r.approximateBytes(), r.keys(),
        r.writesPerSecond(), key.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    return this;
  }

  ClusterView view() {
    List<RangeView> tiled = new ArrayList<>();
    List<Long> ids = new ArrayList<>(ranges.keySet());
    for (int i = 0; i < ids.size(); i++) {
      RangeView r = ranges.get(ids.get(i));
      byte[] start = i == 0 ? new byte[0] : key(ids.get(i));
      byte[] end = i + 1 == ids.size() ? new byte[0] : key(ids.get(i + 1));
      tiled.add(new RangeView(r.id(), start, end, r.replicas(), r.leader(), r.approximateBytes(), r.keys(),
          r.writesPerSecond(), r.loadSplitKey()));
    }
    return ClusterView.of(nodes.values(), tiled);
  }

  private static byte[] key(long id) {
    return String.format("k%012d", id).getBytes(StandardCharsets.US_ASCII);
  }
}
