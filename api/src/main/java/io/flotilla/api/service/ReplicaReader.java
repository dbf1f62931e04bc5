package io.flotilla.api.service;

import io.flotilla.common.ClusterNode;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import io.flotilla.raft.NodeHost;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Reads one chosen replica's local state, with no quorum round trip: in-process for this
 * node's replicas, otherwise over the peer's internal endpoint (pooled keep-alive HTTP).
 * Serves {@code stale} reads and the per-replica admin status.
 */
public final class ReplicaReader {
  private final NodeHost host;
  private final HttpClient http;

  public ReplicaReader(NodeHost host, HttpClient http) {
    this.host = host;
    this.http = http;
  }

  public CompletableFuture<QueryResult> query(String nodeId, Query query) {
    if (nodeId.equals(host.self().id())) {
      return host.replica(query.getRangeId())
          .map(r -> CompletableFuture.completedFuture(r.queryLocal(query)))
          .orElseGet(() -> CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE,
              "node " + nodeId + " holds no replica of range " + query.getRangeId())));
    }
    ClusterNode node = host.nodes().get(nodeId);
    if (node == null) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE, "unknown node " + nodeId));
    }
    HttpRequest req = HttpRequest.newBuilder(URI.create(node.httpUrl() + "/internal/v1/ranges/" + query.getRangeId() + "/query"))
        .timeout(Duration.ofSeconds(5))
        .header("Content-Type", "application/x-protobuf")
        .POST(HttpRequest.BodyPublishers.ofByteArray(query.toByteArray())).build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray()).handle((resp, error) -> {
      if (error != null || resp.statusCode() != 200) {
        throw new FlotillaException(ErrorCode.UNAVAILABLE, "replica of range " + query.getRangeId() + " on " + nodeId
            + " did not answer (" + (error != null ? error : "HTTP " + resp.statusCode()) + "); retry shortly");
      }
      try {
        return QueryResult.parseFrom(resp.body());
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new FlotillaException(ErrorCode.INTERNAL, "replica on " + nodeId + " sent a malformed result", e);
      }
    });
  }
}
