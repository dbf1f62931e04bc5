package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient.Resp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A node without a replica of a range serves follower and stale reads of it through another
 * node's replica; when the replica it would ask first is down, it asks the next one instead of
 * failing until the placement driver repairs the range (off here, so nothing is repaired).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReadFallbackIT {
  private static final int SUBNET = 50;
  private ProcessCluster cluster;
  private ApiClient api;

  @BeforeAll
  void startCluster() throws Exception {
    cluster = ProcessCluster.start("read-fallback", SUBNET, 4, Map.of("placement", Map.of("enabled", false)));
    api = cluster.api();
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void readsThroughANodeWithoutAReplicaSkipReplicasThatAreDown() throws Exception {
    // A range and a node that holds no replica of it (4 nodes, 3 replicas per range).
    String n1 = cluster.url("n1");
    JsonNode range = null;
    String visitor = null;
    for (JsonNode r : api.raw("GET", n1 + "/v1/admin/ranges", null).json().get("ranges")) {
      List<String> holders = new ArrayList<>();
      r.get("replicas").forEach(id -> holders.add(id.asText()));
      for (String id : cluster.nodeIds()) {
        if (!holders.contains(id) && range == null) {
          range = r;
          visitor = id;
        }
      }
    }
    assertNotNull(range, "no range without a replica on some node");
    String key = range.get("start").asText() + "fallback/k";
    String via = cluster.url(visitor);
    Resp put = api.put(via, key, "v");
    assertEquals(200, put.status(), put::toString);
    long revision = put.json().get("revision").asLong();
    List<String> replicas = new ArrayList<>();
    range.get("replicas").forEach(id -> replicas.add(id.asText()));
    for (String id : replicas) { // every replica applied the write: any of them may serve it below
      Resp local = api.get(cluster.url(id), key, "raw&consistency=stale&min_revision=" + revision);
      assertEquals("v", local.text(), () -> id + ": " + local);
    }
    JsonNode now = api.raw("GET", n1 + "/v1/admin/ranges?key=" + ApiClient.query(key), null).json();
    String leader = now.get("leader").asText();
    String firstFollower = replicas.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    String survivor = replicas.stream().filter(id -> !id.equals(leader) && !id.equals(firstFollower)).findFirst()
        .orElseThrow();

    cluster.kill(firstFollower);
    Resp follower = api.get(via, key, "raw&consistency=follower");
    assertEquals("v", follower.text(), () -> "a follower read with the first follower down: " + follower);
    assertNotEquals(firstFollower, follower.header("X-Flotilla-Served-By"));

    cluster.kill(leader);
    // Two of three replicas down: no quorum, but a stale read needs none.
    Resp stale = api.get(via, key, "raw&consistency=stale");
    assertEquals("v", stale.text(), () -> "a stale read with the leader and a follower down: " + stale);
    assertEquals(survivor, stale.header("X-Flotilla-Served-By"));
  }
}
