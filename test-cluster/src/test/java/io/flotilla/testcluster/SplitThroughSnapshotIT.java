package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient.Resp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md's edge case: a replica that learns of a split only through a snapshot. n3 is down
 * while range 2 splits and both halves take writes; the leaders purge their logs, so n3 catches
 * up on the parent by a range snapshot (the split entry is gone) and never creates the child's
 * group itself. The placement driver notices that the child lists n3 but n3 does not host it,
 * and n3 copies the child from its leader: in the end every replica of both halves holds the
 * same data.
 */
class SplitThroughSnapshotIT {
  private static String value(int i) {
    return ("w" + i + "-").repeat(1000).substring(0, 1000);
  }

  @Test
  void aReplicaThatMissedTheSplitInTheLogStillGetsTheNewRange() throws Exception {
    Map<String, Object> settings = Map.of(
        "raft", Map.of("snapshotThreshold", 40, "segmentSize", "64KB"),
        "placement", Map.of("enabled", true, "interval", "500ms", "nodeDownAfter", "120s"));
    try (ProcessCluster cluster = ProcessCluster.start("split-snapshot", 45, 3, settings)) {
      ApiClient api = cluster.api();
      String n1 = cluster.url("n1");
      for (int i = 0; i < 50; i++) {
        assertEquals(200, api.put(n1, "h/before/" + i, "v" + i).status());
      }
      cluster.kill("n3");
      Resp split = api.admin("POST", n1 + "/v1/admin/ranges/2/split", "{\"at\": \"k\"}".getBytes(StandardCharsets.UTF_8));
      assertEquals(200, split.status(), split::toString);
      long child = split.json().get("ranges").get(1).get("id").asLong();
      // 1 KB values: enough log for the leaders to close segments and purge past the split.
      for (int i = 0; i < 300; i++) {
        String key = (i % 2 == 0 ? "h/after/" : "l/after/") + i;
        Resp put = api.put(n1, key, value(i));
        assertEquals(200, put.status(), () -> key + ": " + put);
      }
      cluster.start("n3");
      cluster.awaitReady(Duration.ofSeconds(60));

      JsonNode parent = Convergence.awaitReplicasConverge(cluster, "n1", 2, Duration.ofSeconds(60));
      assertEquals("k", parent.get("end").asText());
      JsonNode copied = Convergence.awaitReplicasConverge(cluster, "n1", child, Duration.ofSeconds(60));
      assertEquals("k", copied.get("start").asText());
      String log = Files.readString(cluster.node("n3").data.resolve("node.log"));
      assertTrue(log.contains("range 2 node n3: installed snapshot"),
          "n3 caught up on range 2 by a snapshot, past the split entry");
      assertTrue(log.contains("holds no replica (it missed the range's creation)"),
          "n3 learned of the child from the placement driver");
      for (int i = 1; i < 300; i += 2) {
        Resp get = api.get(cluster.url("n3"), "l/after/" + i, "consistency=stale");
        assertEquals(200, get.status(), get::toString);
        assertEquals("n3", get.header("X-Flotilla-Served-By"));
        assertEquals(value(i), new String(Base64.getDecoder().decode(get.json().get("value").asText()),
            StandardCharsets.UTF_8));
      }
    }
  }
}
