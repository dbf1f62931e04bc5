package io.flotilla.api.service;

import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import io.flotilla.raft.NodeHost;
import java.util.concurrent.CompletableFuture;

/**
 * Reads one chosen replica's local state, with no quorum round trip: in-process for this
 * node's replicas, otherwise over the peer's internal endpoint (pooled keep-alive HTTP).
 * Serves {@code stale} reads and the per-replica admin status.
 */
public final class ReplicaReader {
  private final NodeHost host;
  private final Peers peers;

  public ReplicaReader(NodeHost host, Peers peers) {
    this.host = host;
    this.peers = peers;
  }

  public CompletableFuture<QueryResult> query(String nodeId, Query query) {
    if (nodeId.equals(host.self().id())) {
      return host.replica(query.getRangeId())
          .map(r -> CompletableFuture.completedFuture(r.queryLocal(query)))
          .orElseGet(() -> CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE,
              "node " + nodeId + " holds no replica of range " + query.getRangeId())));
    }
    if (!host.nodes().containsKey(nodeId)) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE, "unknown node " + nodeId));
    }
    return peers.query(nodeId, query);
  }
}
