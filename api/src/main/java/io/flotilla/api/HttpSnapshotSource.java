package io.flotilla.api;

import io.flotilla.common.ClusterNode;
import io.flotilla.raft.SnapshotSource;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Fetches range snapshots from a peer's internal endpoint as a stream. */
final class HttpSnapshotSource implements SnapshotSource {
  private final HttpClient http;
  private final java.util.function.Function<String, ClusterNode> nodes;

  /** {@code nodes}: looks a member up by id among those currently known. */
  HttpSnapshotSource(HttpClient http, java.util.function.Function<String, ClusterNode> nodes) {
    this.http = http;
    this.nodes = nodes;
  }

  @Override
  public InputStream open(String nodeId, long rangeId) throws IOException {
    ClusterNode node = nodes.apply(nodeId);
    if (node == null) {
      throw new IOException("unknown node " + nodeId);
    }
    HttpRequest req = HttpRequest.newBuilder(URI.create(node.httpUrl() + "/internal/v1/ranges/" + rangeId + "/snapshot"))
        .timeout(Duration.ofMinutes(10)).GET().build();
    try {
      HttpResponse<InputStream> resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      if (resp.statusCode() != 200) {
        resp.body().close();
        throw new IOException("node " + nodeId + " answered " + resp.statusCode() + " for the snapshot of range " + rangeId);
      }
      return resp.body();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while fetching a snapshot", e);
    }
  }
}
