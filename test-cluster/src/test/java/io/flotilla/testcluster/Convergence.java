package io.flotilla.testcluster;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

/** Waiting for a range's replicas to hold the same data, shared by the whole-cluster tests. */
final class Convergence {
  private Convergence() {}

  /**
   * Polls {@code GET /v1/admin/ranges/{id}?checksum=true} on node {@code via} until the range
   * names a leader and all three replicas are up with the same applied index, data checksum
   * and key count; returns that status, or fails after {@code timeout} with the last answer.
   */
  static JsonNode awaitReplicasConverge(ProcessCluster cluster, String via, long rangeId, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String url = cluster.url(via) + "/v1/admin/ranges/" + rangeId + "?checksum=true";
    String last = null;
    while (System.nanoTime() < deadline) {
      try {
        ApiClient.Resp r = cluster.api().raw("GET", url, null);
        last = r.toString();
        if (r.status() == 200 && r.json().hasNonNull("leader")) {
          JsonNode replicas = r.json().get("replica_status");
          Set<String> states = new HashSet<>();
          boolean allUp = true;
          for (JsonNode replica : replicas) {
            allUp &= "up".equals(replica.path("state").asText()) && replica.hasNonNull("checksum");
            states.add(replica.path("applied_index").asText() + "/" + replica.path("checksum").asText()
                + "/" + replica.path("key_count").asText());
          }
          if (allUp && replicas.size() == 3 && states.size() == 1) {
            return r.json();
          }
        }
      } catch (RuntimeException e) {
        last = e.toString();
      }
      Thread.sleep(250);
    }
    throw new AssertionError("replicas of range " + rangeId + " did not converge within " + timeout + ": " + last);
  }
}
