package io.flotilla.api.service;

import io.flotilla.common.ClusterNode;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeList;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Calls to other nodes' internal endpoints (see InternalResource) for range operations and routing. */
public final class Peers {
  private static final String PROTOBUF = "application/x-protobuf";

  private final java.util.function.Supplier<Map<String, ClusterNode>> nodes;
  private final HttpClient http;

  /** {@code nodes}: the cluster's members as currently known (they grow when nodes join). */
  public Peers(java.util.function.Supplier<Map<String, ClusterNode>> nodes, HttpClient http) {
    this.nodes = nodes;
    this.http = http;
  }

  /** True when the node answers its stats endpoint within a second. */
  public CompletableFuture<Boolean> isUp(String nodeId) {
    return send(nodeId, "/internal/v1/stats", null, Duration.ofSeconds(1))
        .thenApply(body -> true).exceptionally(e -> false);
  }

  /** Has {@code nodeId} copy the range from {@code source} and join its group with {@code members}. */
  public CompletableFuture<Void> seed(String nodeId, RangeDescriptor range, List<String> members, String source) {
    byte[] body = range.toBuilder().clearReplicas().addAllReplicas(members).build().toByteArray();
    return send(nodeId, "/internal/v1/ranges/" + range.getId() + "/replica?source=" + source, body,
        Duration.ofMinutes(10)).thenApply(x -> null);
  }

  /** Has {@code nodeId} drop its replica of a range that no longer lists it. */
  public CompletableFuture<Void> drop(String nodeId, RangeDescriptor current) {
    return send(nodeId, "/internal/v1/ranges/" + current.getId() + "/drop", current.toByteArray(),
        Duration.ofSeconds(30)).thenApply(x -> null);
  }

  /** A query answered by {@code nodeId}'s own replica (stale reads, per-replica status). */
  public CompletableFuture<io.flotilla.proto.QueryResult> query(String nodeId, io.flotilla.proto.Query query) {
    return send(nodeId, "/internal/v1/ranges/" + query.getRangeId() + "/query", query.toByteArray(),
        Duration.ofSeconds(5)).thenApply(body -> {
          try {
            return io.flotilla.proto.QueryResult.parseFrom(body);
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new FlotillaException(ErrorCode.INTERNAL, "replica on " + nodeId + " sent a malformed result", e);
          }
        });
  }

  /** Sends a heartbeat to a placement driver member. */
  public CompletableFuture<io.flotilla.proto.HeartbeatReply> heartbeat(String nodeId, io.flotilla.proto.NodeHeartbeat beat) {
    return send(nodeId, "/internal/v1/pd/heartbeat", beat.toByteArray(), Duration.ofSeconds(2)).thenApply(body -> {
      try {
        return io.flotilla.proto.HeartbeatReply.parseFrom(body);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new FlotillaException(ErrorCode.INTERNAL, "node " + nodeId + " sent a malformed heartbeat reply", e);
      }
    });
  }

  /** Every range descriptor {@code nodeId} knows. */
  public CompletableFuture<List<RangeDescriptor>> ranges(String nodeId) {
    return send(nodeId, "/internal/v1/ranges", null, Duration.ofSeconds(2)).thenApply(body -> {
      try {
        return RangeList.parseFrom(body).getRangesList();
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new FlotillaException(ErrorCode.INTERNAL, "node " + nodeId + " sent a malformed range list", e);
      }
    });
  }

  private CompletableFuture<byte[]> send(String nodeId, String path, byte[] body, Duration timeout) {
    ClusterNode node = nodes.get().get(nodeId);
    if (node == null) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.NOT_FOUND, "there is no node " + nodeId));
    }
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(node.httpUrl() + path)).timeout(timeout);
    if (body == null) {
      req.GET();
    } else {
      req.header("Content-Type", PROTOBUF).POST(HttpRequest.BodyPublishers.ofByteArray(body));
    }
    return http.sendAsync(req.build(), HttpResponse.BodyHandlers.ofByteArray()).handle((resp, error) -> {
      if (error != null) {
        throw new FlotillaException(ErrorCode.UNAVAILABLE, "node " + nodeId + " did not answer " + path + " ("
            + error.getClass().getSimpleName() + ")");
      }
      if (resp.statusCode() != 200) {
        throw new FlotillaException(ErrorCode.UNAVAILABLE, "node " + nodeId + " answered " + resp.statusCode()
            + " to " + path + ": " + new String(resp.body(), java.nio.charset.StandardCharsets.UTF_8));
      }
      return resp.body();
    });
  }
}
