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

  /** Calls {@code call} every half second until it answers 200 (60 s at most); returns the last answer. */
  private static Resp awaitOk(java.util.function.Supplier<Resp> call, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Resp last = null;
    while (System.nanoTime() < deadline) {
      try {
        last = call.get();
        if (last.status() == 200) {
          return last;
        }
      } catch (RuntimeException e) {
        // a node restarting: not yet
      }
      Thread.sleep(500);
    }
    throw new AssertionError(what + " did not succeed within 60 s; last answer: " + last);
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
    JsonNode frozen = Convergence.await(() -> admin("n2", "GET", "ranges/" + right, null).json(),
        "range " + right + " frozen for the merge", Duration.ofSeconds(20), v -> v.has("merging_into"));
    assertEquals(left, frozen.get("merging_into").asLong(), frozen::toString);
    cluster.kill("n1");
    cluster.resume("n3");

    // The placement driver (n2 and n3 have its quorum) thaws the range; writes then succeed.
    Resp written = awaitOk(() -> api.put(cluster.url("n3"), "w/y", "after"), "a write to the frozen range");
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
    Resp merged = awaitOk(() -> admin("n2", "POST", "ranges/merge", "{\"left\": " + left + ", \"right\": " + right + "}"),
        "the merge called again");
    assertEquals(200, merged.status(), merged::toString);
    assertEquals(left, rangeOf("n3", "w/y").get("id").asLong());
    for (int i = 0; i < 20; i++) {
      Resp get = api.get(cluster.url("n1"), "w/" + (char) ('a' + i));
      assertEquals(200, get.status(), get::toString);
    }
    assertEquals(200, api.get(cluster.url("n1"), "w/y").status());
  }
}
