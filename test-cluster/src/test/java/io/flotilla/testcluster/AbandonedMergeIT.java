package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient.Resp;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A merge whose coordinator dies between freezing the right range and committing leaves that
 * range frozen: it refuses every read and write. The placement driver finds it and calls the
 * merge off, and the range serves again with all its data.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AbandonedMergeIT {
  private static final int SUBNET = 56;
  private ProcessCluster cluster;
  private ApiClient api;

  @BeforeAll
  void startCluster() throws Exception {
    cluster = ProcessCluster.start("abandoned-merge", SUBNET, 3, Map.of(
        "placement", Map.of("enabled", true, "interval", "500ms", "nodeDownAfter", "120s",
            "abandonedMergeAfter", "11s")));
    api = cluster.api();
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private Resp admin(String node, String method, String path, String body) {
    return api.admin(method, cluster.url(node) + "/v1/admin/" + path,
        body == null ? null : body.getBytes(StandardCharsets.UTF_8));
  }

  private JsonNode rangeOf(String via, String key) {
    Resp r = admin(via, "GET", "ranges?key=" + ApiClient.query(key), null);
    assertEquals(200, r.status(), r::toString);
    return r.json();
  }

  @Test
  void aRangeLeftFrozenByADeadCoordinatorIsThawedWithItsData() throws Exception {
    long left = rangeOf("n1", "w/a").get("id").asLong();
    Resp split = admin("n1", "POST", "ranges/" + left + "/split", "{\"at\": \"w/m\"}");
    assertEquals(200, split.status(), split::toString);
    long right = split.json().get("ranges").get(1).get("id").asLong();
    for (int i = 0; i < 20; i++) {
      assertEquals(200, api.put(cluster.url("n2"), "w/" + (char) ('a' + i), "v" + i).status());
    }

    // n3 stops answering, so the coordinator on n1 waits for n3's freeze after n1 and n2
    // applied it; n1 dies during that wait.
    cluster.pause("n3");
    Thread merging = new Thread(() -> {
      try {
        admin("n1", "POST", "ranges/merge", "{\"left\": " + left + ", \"right\": " + right + "}");
      } catch (RuntimeException expected) {
        // the coordinator is killed under the call
      }
    }, "merge-call");
    merging.setDaemon(true);
    merging.start();
    // Looked up by key: that view asks only the range's leader, not the paused n3 (whose
    // answer would take longer than the coordinator keeps the range frozen waiting for it).
    JsonNode frozen = Convergence.await(() -> rangeOf("n2", "w/m"),
        "range " + right + " frozen for the merge", Duration.ofSeconds(20), v -> v.has("merging_into"));
    assertEquals(left, frozen.get("merging_into").asLong(), frozen::toString);
    cluster.kill("n1");
    cluster.resume("n3");

    // The placement driver (n2 and n3 have its quorum) thaws the range; writes then succeed.
    Resp written = Convergence.awaitOk(() -> api.put(cluster.url("n3"), "w/y", "after"), "a write to the frozen range",
        Duration.ofSeconds(60));
    assertEquals(200, written.status(), written::toString);
    JsonNode thawed = admin("n2", "GET", "ranges/" + right, null).json();
    assertTrue(!thawed.has("merging_into"), thawed::toString);
    for (int i = 0; i < 20; i++) {
      Resp get = api.get(cluster.url("n3"), "w/" + (char) ('a' + i));
      assertEquals(200, get.status(), get::toString);
    }

    // n1 comes back and the merge, called again, completes with every key.
    cluster.start("n1");
    cluster.awaitReady(Duration.ofSeconds(90));
    Resp merged = Convergence.awaitOk(() -> admin("n2", "POST", "ranges/merge", "{\"left\": " + left + ", \"right\": "
        + right + "}"), "the merge called again", Duration.ofSeconds(60));
    assertEquals(200, merged.status(), merged::toString);
    // n3 learns of the merge when it applies it (its view may name the frozen range a moment longer).
    Convergence.await(() -> rangeOf("n3", "w/y"), "n3 routing w/y to range " + left, Duration.ofSeconds(20),
        v -> v.get("id").asLong() == left);
    for (int i = 0; i < 20; i++) {
      Resp get = api.get(cluster.url("n1"), "w/" + (char) ('a' + i));
      assertEquals(200, get.status(), get::toString);
    }
    assertEquals(200, api.get(cluster.url("n1"), "w/y").status());
  }
}
