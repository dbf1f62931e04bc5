package io.flotilla.client;

import io.flotilla.common.ClusterNode;
import io.flotilla.proto.RangeDescriptor;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

/** The mapping between range ids and Ratis groups: group id = UUID("Flotilla", range id). */
public final class RangeGroups {
  private static final long TAG = 0x466c6f74696c6c61L; // "Flotilla"

  private RangeGroups() {}

  public static RaftGroupId groupId(long rangeId) {
    return RaftGroupId.valueOf(new UUID(TAG, rangeId));
  }

  /** The range id of a Flotilla group, or empty for any other group. */
  public static OptionalLong rangeId(RaftGroupId groupId) {
    UUID uuid = groupId.getUuid();
    return uuid.getMostSignificantBits() == TAG ? OptionalLong.of(uuid.getLeastSignificantBits()) : OptionalLong.empty();
  }

  public static RaftPeer peer(ClusterNode node) {
    return RaftPeer.newBuilder().setId(node.id()).setAddress(node.raftAddress()).build();
  }

  /** The group of a range, with every replica's address looked up in {@code nodes}. */
  public static RaftGroup group(RangeDescriptor range, Map<String, ClusterNode> nodes) {
    List<RaftPeer> peers = range.getReplicasList().stream().map(id -> {
      ClusterNode node = nodes.get(id);
      if (node == null) {
        throw new IllegalStateException("range " + range.getId() + " has replica " + id + " on an unknown node");
      }
      return peer(node);
    }).toList();
    return RaftGroup.valueOf(groupId(range.getId()), peers);
  }

  public static RaftPeerId peerId(String nodeId) {
    return RaftPeerId.valueOf(nodeId);
  }
}
