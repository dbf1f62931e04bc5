package io.flotilla.api.service;

import io.flotilla.raft.NodeHost;
import java.util.LinkedHashMap;
import java.util.Map;

/** This node's own figures for the admin cluster view. */
public final class NodeStats {
  private final NodeHost host;

  public NodeStats(NodeHost host) {
    this.host = host;
  }

  public Map<String, Object> snapshot() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", host.self().id());
    m.put("range_count", host.hostedRanges().size());
    m.put("leader_count", host.leaderCount());
    m.put("key_count", host.engine().estimatedKeys());
    m.put("disk_bytes", host.engine().totalBytes());
    return m;
  }
}
