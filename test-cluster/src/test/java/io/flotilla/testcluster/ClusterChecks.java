package io.flotilla.testcluster;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

/** Waits and checks shared by the whole-cluster tests. */
final class ClusterChecks {
  private ClusterChecks() {}

  /** The range owning {@code key}, as node {@code via} reports it. */
  static JsonNode rangeOf(ProcessCluster cluster, String via, String key) {
    return cluster.api().raw("GET", cluster.url(via) + "/v1/admin/ranges?key=" + ApiClient.query(key), null).json();
  }

  /**
   * Polls the range's replica status until every replica answers with the same applied index
   * and data checksum; returns the last status, or fails after {@code timeout}.
   */
  static JsonNode awaitReplicasConverge(ProcessCluster cluster, String via, long rangeId, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      ApiClient.Resp r = cluster.api().raw("GET", cluster.url(via) + "/v1/admin/ranges/" + rangeId + "?checksum=true", null);
      if (r.status() == 200) {
        last = r.json();
        Set<String> states = new HashSet<>();
        boolean allUp = true;
        for (JsonNode replica : last.get("replica_status")) {
          allUp &= "up".equals(replica.path("state").asText());
          states.add(replica.path("applied_index").asText() + "/" + replica.path("checksum").asText());
        }
        if (allUp && states.size() == 1 && last.get("replica_status").size() == 3) {
          return last;
        }
      }
      Thread.sleep(250);
    }
    throw new AssertionError("replicas of range " + rangeId + " did not converge within " + timeout + ": " + last);
  }
}
