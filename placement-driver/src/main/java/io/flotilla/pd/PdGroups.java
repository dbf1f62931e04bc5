package io.flotilla.pd;

import java.util.List;
import java.util.UUID;
import org.apache.ratis.protocol.RaftGroupId;

/** The placement driver's Raft group: its id, and which nodes host it (the first three). */
public final class PdGroups {
  /** "FlotPD" in the high bits; range groups use "Flotilla" (see RangeGroups). */
  private static final UUID ID = new UUID(0x466c6f7450440000L, 1);

  private PdGroups() {}

  public static RaftGroupId groupId() {
    return RaftGroupId.valueOf(ID);
  }

  /** The PD replicas: the first three nodes of the cluster's configured order (all, if fewer). */
  public static List<String> members(List<String> nodesInOrder) {
    return List.copyOf(nodesInOrder.subList(0, Math.min(3, nodesInOrder.size())));
  }
}
