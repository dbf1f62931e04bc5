package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A replica that was down while more writes happened than the log retains catches up through
 * the range-snapshot path (the leader has purged the entries it missed), and ends up with
 * exactly the leader's data.
 */
class SnapshotCatchUpIT {
  @Test
  void aReplicaBehindThePurgedLogCatchesUpFromARangeSnapshotAndMatchesTheLeader() throws Exception {
    Map<String, Object> smallLog = Map.of("raft", Map.of("snapshotThreshold", 50, "segmentSize", "64KB"));
    try (ProcessCluster cluster = ProcessCluster.start("catchup", 24, 3, smallLog)) {
      ApiClient api = cluster.api();
      cluster.stop("n3");
      byte[] value = new byte[1024];
      java.util.Arrays.fill(value, (byte) 'v');
      int writes = 0;
      for (String first : List.of("b", "i", "p", "w")) {
        for (int i = 0; i < 150; i++) {
          ApiClient.Resp r = api.put(cluster.url(i % 2 == 0 ? "n1" : "n2"), first + "/catchup/" + i, value, "");
          assertEquals(200, r.status(), r::toString);
          writes++;
        }
      }
      cluster.start("n3");
      cluster.awaitReady(Duration.ofSeconds(60));
      for (String first : List.of("b", "i", "p", "w")) {
        long rangeId = ClusterChecks.rangeOf(cluster, "n1", first + "/catchup/").get("id").asLong();
        JsonNode status = ClusterChecks.awaitReplicasConverge(cluster, "n1", rangeId, Duration.ofSeconds(60));
        for (JsonNode replica : status.get("replica_status")) {
          assertEquals(150, replica.get("key_count").asLong(), () -> "replica mismatch: " + status);
        }
      }
      String log = Files.readString(cluster.node("n3").data.resolve("node.log"));
      long installs = log.lines().filter(l -> l.contains("installed snapshot")).count();
      System.out.printf("catch-up: %d writes while n3 was down; n3 installed %d range snapshots%n", writes, installs);
      assertTrue(installs >= 1, "n3 caught up by log replay only; the snapshot path was not exercised");
      ApiClient.Resp stale = api.get(cluster.url("n3"), "p/catchup/7", "consistency=stale");
      assertEquals(200, stale.status(), stale::toString);
      assertEquals("n3", stale.header("X-Flotilla-Served-By"));
    }
  }
}
