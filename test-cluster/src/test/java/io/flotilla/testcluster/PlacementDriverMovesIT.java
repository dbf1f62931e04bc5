package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient.Resp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The placement driver's own group follows the nodes: it grows from one member to three as
 * nodes join a one-node cluster, and moves off a node being decommissioned, so that the cluster
 * keeps its placement driver when the nodes it started on are gone. A member added by a move
 * keeps its copy across a restart, and the node that left deletes its copy.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PlacementDriverMovesIT {
  private static final int SUBNET = 51;
  private ProcessCluster cluster;
  private ApiClient api;

  @BeforeAll
  void startCluster() throws Exception {
    cluster = ProcessCluster.start("pd-moves", SUBNET, 1, Map.of(
        "placement", Map.of("enabled", true, "interval", "500ms", "nodeDownAfter", "4s")));
    api = cluster.api();
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private JsonNode clusterView(String id) {
    Resp r = api.raw("GET", cluster.url(id) + "/v1/admin/cluster", null);
    assertEquals(200, r.status(), r::toString);
    return r.json();
  }


  private JsonNode await(String via, String what, Duration timeout, Predicate<JsonNode> done) throws InterruptedException {
    return Convergence.await(() -> clusterView(via), what, timeout, done);
  }

  /** {@code GET path} on node {@code via} once it answers 200 (within {@code timeout}). */
  private Resp awaitOk(String via, String path, Duration timeout) throws InterruptedException {
    return Convergence.awaitOk(() -> api.raw("GET", cluster.url(via) + path, null), via + " answering " + path,
        timeout);
  }

  @Test
  void thePlacementDriverGrowsWithTheClusterAndLeavesADecommissionedNode() throws Exception {
    for (int i = 0; i < 40; i++) {
      assertEquals(200, api.put(cluster.url("n1"), "k/" + i, "v" + i).status());
    }
    assertEquals(List.of("n1"), PdViews.members(clusterView("n1")));
    cluster.join("n1");
    cluster.join("n1");
    cluster.join("n1");
    JsonNode grown = await("n4", "the placement driver growing to three members", Duration.ofSeconds(90),
        v -> PdViews.members(v).equals(List.of("n1", "n2", "n3")));
    assertEquals("n1", grown.get("summary").get("placement_driver_leader").asText(), grown::toString);
    assertFalse(PdViews.hostsCopy(cluster, "n4"), "n4 is no member");

    Resp started = api.raw("POST", cluster.url("n2") + "/v1/admin/nodes/n1/decommission", null);
    assertEquals(202, started.status(), started::toString);
    JsonNode moved = await("n3", "n1's decommission", Duration.ofSeconds(150),
        v -> "removed".equals(PdViews.stateOf(v, "n1")) && PdViews.members(v).equals(List.of("n2", "n3", "n4")));
    System.out.println("PlacementDriverMovesIT: after the decommission: " + moved.get("summary"));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (PdViews.hostsCopy(cluster, "n1") && System.nanoTime() < deadline) {
      Thread.sleep(250);
    }
    assertFalse(PdViews.hostsCopy(cluster, "n1"), "the decommissioned node deleted its copy of the placement driver's log");
    assertTrue(PdViews.hostsCopy(cluster, "n4"), "the new member holds a copy");
    assertEquals(List.of("n2", "n3", "n4"), PdViews.members(clusterView("n1")), "the node that left knows where it went");
    JsonNode ops = api.raw("GET", cluster.url("n4") + "/v1/admin/operations", null).json().get("operations");
    int moves = 0;
    for (JsonNode op : ops) {
      if ("move-placement-driver".equals(op.get("type").asText())) {
        assertEquals("succeeded", op.get("status").asText(), op::toString);
        moves++;
      }
    }
    assertEquals(3, moves, "two to grow, one to leave n1: " + ops);

    // The first two nodes go away; before, they were two of the placement driver's three members.
    cluster.kill("n1");
    cluster.kill("n2");
    Resp operations = awaitOk("n4", "/v1/admin/operations", Duration.ofSeconds(30));
    assertEquals(200, operations.status(), "the placement driver answers without n1 and n2: " + operations);
    Resp put = api.put(cluster.url("n3"), "k/after", "v");
    assertEquals(200, put.status(), put::toString);

    // The member added by a move opens its copy again after a restart: with n2 still down, the
    // placement driver needs n4's member to answer.
    cluster.kill("n4");
    cluster.start("n4");
    assertEquals(200, awaitOk("n4", "/readyz", Duration.ofSeconds(90)).status(), "n4 restarted");
    Resp again = awaitOk("n3", "/v1/admin/operations", Duration.ofSeconds(30));
    assertEquals(200, again.status(), "the placement driver answers with n3 and the restarted n4: " + again);
    for (int i = 0; i < 40; i++) {
      Resp get = api.get(cluster.url("n4"), "k/" + i);
      assertEquals(200, get.status(), get::toString);
    }
  }
}
