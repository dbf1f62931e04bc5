package io.flotilla.api.service;

import io.flotilla.common.ClusterNode;
import io.flotilla.proto.JoinReply;
import io.flotilla.proto.NodeAddress;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A new node's first contact with a running cluster: it asks any member to record it in the
 * placement driver's log and learns every member from the answer. Safe to repeat (a node that
 * joined already is answered the same way).
 */
public final class ClusterJoin {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterJoin.class);

  private ClusterJoin() {}

  public static NodeAddress address(ClusterNode node) {
    return NodeAddress.newBuilder().setId(node.id()).setHttp(node.httpUrl()).setRaft(node.raftAddress()).build();
  }

  public static ClusterNode node(NodeAddress a) {
    return new ClusterNode(a.getId(), a.getHttp(), a.getRaft());
  }

  /**
   * Joins through the member at {@code via} (a base URL), retrying while it does not answer or
   * has no placement driver leader, until {@code patience} is spent. A refusal (the id or an
   * address is taken) fails at once.
   */
  public static JoinReply join(HttpClient http, String via, ClusterNode self, Duration patience)
      throws IOException, InterruptedException {
    URI uri = URI.create(via.replaceAll("/+$", "") + "/internal/v1/join");
    Instant deadline = Instant.now().plus(patience);
    String last = "no answer yet";
    while (Instant.now().isBefore(deadline)) {
      HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(15))
          .header("Content-Type", "application/x-protobuf")
          .POST(HttpRequest.BodyPublishers.ofByteArray(address(self).toByteArray())).build();
      try {
        HttpResponse<byte[]> resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        if (resp.statusCode() == 200) {
          return JoinReply.parseFrom(resp.body());
        }
        last = resp.statusCode() + " " + new String(resp.body(), StandardCharsets.UTF_8);
        if (resp.statusCode() == 400 || resp.statusCode() == 422) {
          throw new IOException("the cluster at " + via + " refused node " + self.id() + ": " + last);
        }
      } catch (IOException e) {
        if (e.getMessage() != null && e.getMessage().startsWith("the cluster at ")) {
          throw e; // refused
        }
        last = e.toString(); // not answering (yet, or restarting): try again
      }
      LOG.info("node {}: joining through {} not done yet ({}); retrying", self.id(), via, last);
      Thread.sleep(1000);
    }
    throw new IOException("node " + self.id() + " could not join through " + via + " within " + patience + ": " + last);
  }
}
