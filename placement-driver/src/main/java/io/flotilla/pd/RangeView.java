package io.flotilla.pd;

import io.flotilla.common.Keys;
import java.util.List;

/**
 * One range in a {@link ClusterView}: its span, replicas and leader, and the load its leader
 * last reported. Keys are raw bytes; an empty end means +infinity.
 */
public record RangeView(long id, byte[] start, byte[] end, List<String> replicas, String leader,
    long approximateBytes, long keys, double writesPerSecond, byte[] loadSplitKey) {
  public RangeView {
    replicas = List.copyOf(replicas);
    loadSplitKey = loadSplitKey == null ? new byte[0] : loadSplitKey;
  }

  /** A range whose leader reported no load split key. */
  public RangeView(long id, byte[] start, byte[] end, List<String> replicas, String leader, long approximateBytes,
      long keys, double writesPerSecond) {
    this(id, start, end, replicas, leader, approximateBytes, keys, writesPerSecond, null);
  }

  public boolean hasReplicaOn(String node) {
    return replicas.contains(node);
  }

  /** True when this range ends where {@code right} starts. */
  public boolean isLeftNeighbourOf(RangeView right) {
    return end.length > 0 && Keys.compare(end, right.start) == 0;
  }

  public RangeView withReplicas(List<String> newReplicas, String newLeader) {
    return new RangeView(id, start, end, newReplicas, newLeader, approximateBytes, keys, writesPerSecond, loadSplitKey);
  }

  public RangeView withLoad(long bytes, long keyCount, double writes) {
    return new RangeView(id, start, end, replicas, leader, bytes, keyCount, writes, loadSplitKey);
  }

  @Override
  public String toString() {
    return "range " + id + " " + replicas + (leader == null ? "" : " led by " + leader);
  }
}
