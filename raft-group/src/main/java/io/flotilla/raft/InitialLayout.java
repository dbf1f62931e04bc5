package io.flotilla.raft;

import com.google.protobuf.ByteString;
import io.flotilla.common.Keys;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import java.util.ArrayList;
import java.util.List;

/**
 * The ranges of a brand-new cluster: the key space cut at the split keys, range ids 1..n in key
 * order, and replicas placed round-robin so every node leads and follows some ranges.
 * A pure function of its inputs, so every node computes the same layout.
 */
public final class InitialLayout {
  private InitialLayout() {}

  public static List<RangeDescriptor> of(List<String> nodeIds, List<String> splitKeys, int replication) {
    List<byte[]> cuts = splitKeys.stream().map(Keys::utf8).sorted(Keys.ORDER).distinct().toList();
    for (int i = 1; i < cuts.size(); i++) {
      if (Keys.compare(cuts.get(i - 1), cuts.get(i)) == 0) {
        throw new IllegalArgumentException("split keys must be distinct");
      }
    }
    if (cuts.stream().anyMatch(c -> c.length == 0)) {
      throw new IllegalArgumentException("split keys must not be empty");
    }
    int copies = Math.min(replication, nodeIds.size());
    List<RangeDescriptor> ranges = new ArrayList<>();
    for (int i = 0; i <= cuts.size(); i++) {
      byte[] start = i == 0 ? new byte[0] : cuts.get(i - 1);
      byte[] end = i == cuts.size() ? new byte[0] : cuts.get(i);
      RangeDescriptor.Builder r = RangeDescriptor.newBuilder().setId(i + 1)
          .setStart(ByteString.copyFrom(start)).setEnd(ByteString.copyFrom(end))
          .setEpoch(RangeEpoch.newBuilder().setVersion(1).setConf(1));
      for (int j = 0; j < copies; j++) {
        r.addReplicas(nodeIds.get((i + j) % nodeIds.size()));
      }
      ranges.add(r.build());
    }
    return ranges;
  }
}
