package io.flotilla.api;

import io.flotilla.common.ClusterNode;
import io.flotilla.pd.PdSnapshotSource;
import io.flotilla.proto.PdSnapshot;
import io.flotilla.raft.SnapshotSource;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Fetches range snapshots from a peer's internal endpoint as a stream, and the placement
 * driver's state from the node hosting its leader.
 */
final class HttpSnapshotSource implements SnapshotSource, PdSnapshotSource {
  private final HttpClient http;
  private final java.util.function.Function<String, ClusterNode> nodes;

  /** {@code nodes}: looks a member up by id among those currently known. */
  HttpSnapshotSource(HttpClient http, java.util.function.Function<String, ClusterNode> nodes) {
    this.http = http;
    this.nodes = nodes;
  }

  @Override
  public InputStream open(String nodeId, long rangeId) throws IOException {
    return get(nodeId, "/internal/v1/ranges/" + rangeId + "/snapshot", "the snapshot of range " + rangeId);
  }

  @Override
  public PdSnapshot fetch(String nodeId) throws IOException {
    try (InputStream in = get(nodeId, "/internal/v1/placement-driver/snapshot", "the placement driver's state")) {
      return PdSnapshot.parseFrom(in);
    }
  }

  private InputStream get(String nodeId, String path, String what) throws IOException {
    ClusterNode node = nodes.apply(nodeId);
    if (node == null) {
      throw new IOException("unknown node " + nodeId);
    }
    HttpRequest req = HttpRequest.newBuilder(URI.create(node.httpUrl() + path))
        .timeout(Duration.ofMinutes(10)).GET().build();
    try {
      HttpResponse<InputStream> resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      if (resp.statusCode() != 200) {
        resp.body().close();
        throw new IOException("node " + nodeId + " answered " + resp.statusCode() + " for " + what);
      }
      return resp.body();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while fetching " + what, e);
    }
  }
}
