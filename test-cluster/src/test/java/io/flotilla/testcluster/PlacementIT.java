package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient.Resp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The placement driver at work on 4 nodes (3 replicas per range): a killed node's replicas are
 * re-created elsewhere; when it returns it drops its stale copies and the balancer gives it
 * replicas again; a decommission empties a node, and finishes even though the PD
 * leader is killed while it runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PlacementIT {
  private ProcessCluster cluster;
  private ApiClient api;

  @BeforeAll
  void startCluster() throws Exception {
    cluster = ProcessCluster.start("placement", 44, 4, Map.of(
        "placement", Map.of("enabled", true, "interval", "500ms", "nodeDownAfter", "4s"),
        // Ranges never sleep here: the join test counts leaders, and a sleeping range has none.
        "raft", Map.of("hibernateAfter", "0s")));
    api = cluster.api();
    for (int i = 0; i < 200; i++) {
      assertEquals(200, api.put(cluster.url("n" + (1 + i % 4)), (char) ('a' + i % 26) + "/pl/" + i, "v" + i).status());
    }
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private String anyUp(String... except) {
    List<String> skip = List.of(except);
    for (String id : List.of("n1", "n2", "n3", "n4")) {
      if (!skip.contains(id)) {
        return cluster.url(id);
      }
    }
    throw new AssertionError();
  }

  private JsonNode ranges(String via) {
    Resp r = api.raw("GET", via + "/v1/admin/ranges", null);
    assertEquals(200, r.status(), r::toString);
    return r.json().get("ranges");
  }

  /** Replicas per node over all ranges. */
  private Map<String, Integer> replicaCounts(JsonNode ranges) {
    Map<String, Integer> counts = new HashMap<>();
    for (JsonNode r : ranges) {
      r.get("replicas").forEach(n -> counts.merge(n.asText(), 1, Integer::sum));
    }
    return counts;
  }

  private JsonNode await(String via, String what, Duration timeout, Predicate<JsonNode> done) throws InterruptedException {
    return Convergence.await(() -> ranges(via), what, timeout, done);
  }

  private void assertAllKeysReadable(String via) {
    for (int i = 0; i < 200; i++) {
      String key = (char) ('a' + i % 26) + "/pl/" + i;
      Resp get = api.get(via, key);
      assertEquals(200, get.status(), () -> key + ": " + get);
    }
  }

  @Test
  @Order(1)
  void aDeadNodesReplicasAreRecreatedAndItGetsReplicasBackWhenItReturns() throws Exception {
    long killedAt = System.nanoTime();
    cluster.kill("n4");
    String via = anyUp("n4");
    JsonNode repaired = await(via, "repair of n4's replicas", Duration.ofSeconds(90), ranges -> {
      for (JsonNode r : ranges) {
        List<String> replicas = new ArrayList<>();
        r.get("replicas").forEach(n -> replicas.add(n.asText()));
        if (replicas.contains("n4") || replicas.size() != 3) {
          return false;
        }
      }
      return true;
    });
    System.out.printf("PlacementIT: n4's replicas re-created on other nodes %.1f s after the kill (down after 4 s)%n",
        (System.nanoTime() - killedAt) / 1e9);
    for (JsonNode r : repaired) {
      Convergence.awaitReplicasConverge(cluster, "n1", r.get("id").asLong(), Duration.ofSeconds(30));
    }
    assertAllKeysReadable(via);

    cluster.start("n4");
    cluster.awaitReady(Duration.ofSeconds(60));
    // 12 replicas on 4 nodes: n4 comes back empty (its stale copies dropped) and the balancer
    // moves replicas to it until the fullest node holds at most 2 more.
    JsonNode rebalanced = await(via, "n4 receiving replicas again", Duration.ofSeconds(90), ranges -> {
      Map<String, Integer> counts = replicaCounts(ranges);
      int max = counts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
      return counts.getOrDefault("n4", 0) >= 2 && max - counts.getOrDefault("n4", 0) <= 2;
    });
    assertEquals(4, replicaCounts(rebalanced).size(), rebalanced::toString);
    assertAllKeysReadable(cluster.url("n4"));
  }

  @Test
  @Order(2)
  void decommissionEmptiesANodeEvenWhenThePlacementDriverLeaderIsKilledMidWay() throws Exception {
    String via = cluster.url("n2");
    Resp cluster0 = api.raw("GET", via + "/v1/admin/cluster", null);
    String pdLeader = cluster0.json().get("summary").get("placement_driver_leader").asText();
    assertFalse(pdLeader.isEmpty(), cluster0::toString);
    String victim = "n4".equals(pdLeader) ? "n3" : "n4";

    Resp started = api.raw("POST", via + "/v1/admin/nodes/" + victim + "/decommission", null);
    assertEquals(202, started.status(), started::toString);
    assertEquals("decommission-" + victim, started.json().get("operation").asText());
    Resp again = api.raw("POST", via + "/v1/admin/nodes/" + victim + "/decommission", null);
    assertEquals(202, again.status(), "decommissioning is idempotent: " + again);
    Resp tooMany = api.raw("POST", via + "/v1/admin/nodes/" + pdLeader + "/decommission", null);
    assertEquals(422, tooMany.status(), "3 replicas need 3 nodes that stay: " + tooMany);
    assertEquals(404, api.raw("POST", via + "/v1/admin/nodes/n9/decommission", null).status());

    Thread.sleep(1500); // let the first operators start
    cluster.kill(pdLeader);
    String survivor = anyUp(pdLeader, victim);
    Thread.sleep(2000);
    cluster.start(pdLeader);
    cluster.awaitReady(Duration.ofSeconds(60));

    await(survivor, "decommission of " + victim, Duration.ofSeconds(120),
        ranges -> !replicaCounts(ranges).containsKey(victim));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    String state = null;
    while (System.nanoTime() < deadline) {
      for (JsonNode n : api.raw("GET", survivor + "/v1/admin/cluster", null).json().get("nodes")) {
        if (victim.equals(n.get("id").asText())) {
          state = n.get("state").asText();
        }
      }
      if ("removed".equals(state)) {
        break;
      }
      Thread.sleep(250);
    }
    assertEquals("removed", state);
    JsonNode ops = api.raw("GET", survivor + "/v1/admin/operations", null).json().get("operations");
    boolean sawDecommission = false;
    boolean sawMoveOff = false;
    for (JsonNode op : ops) {
      sawDecommission |= ("decommission-" + victim).equals(op.get("id").asText())
          && "succeeded".equals(op.get("status").asText());
      sawMoveOff |= "move-off-decommissioning".equals(op.get("type").asText())
          && "succeeded".equals(op.get("status").asText());
    }
    assertTrue(sawDecommission && sawMoveOff, ops::toString);
    assertAllKeysReadable(survivor);
    Resp after = api.put(survivor, "z/after-decommission", "ok");
    assertEquals(200, after.status(), after::toString);
  }

  @Test
  @Order(3)
  void aNodeThatJoinsReceivesReplicasAndLeadersWithNoManualStep() throws Exception {
    String via = cluster.url("n2");
    // A range created by a split before the new node exists.
    long parent = api.raw("GET", via + "/v1/admin/ranges?key=c", null).json().get("id").asLong();
    Resp split = api.admin("POST", via + "/v1/admin/ranges/" + parent + "/split",
        "{\"at\": \"c/pl/5\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertEquals(200, split.status(), split::toString);
    long child = split.json().get("ranges").get(1).get("id").asLong();

    long joinedAt = System.nanoTime();
    String joiner = cluster.join("n1").id;
    Resp members = api.raw("GET", via + "/v1/admin/cluster", null);
    assertTrue(members.json().get("nodes").toString().contains("\"" + joiner + "\""),
        "every member learns of the new node: " + members);
    // 12 replicas over the 4 nodes that stay (the decommissioned one holds none): the new node
    // gets replicas until the fullest holds at most one more than it, and a range to lead.
    JsonNode balanced = await(via, joiner + " receiving replicas", Duration.ofSeconds(120), ranges -> {
      Map<String, Integer> counts = replicaCounts(ranges);
      int max = counts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
      return counts.getOrDefault(joiner, 0) >= 2 && max - counts.getOrDefault(joiner, 0) <= 1;
    });
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    int leads = 0;
    while (leads == 0 && System.nanoTime() < deadline) {
      for (JsonNode n : api.raw("GET", via + "/v1/admin/cluster", null).json().get("nodes")) {
        if (joiner.equals(n.get("id").asText())) {
          leads = n.path("leader_count").asInt();
        }
      }
      Thread.sleep(250);
    }
    assertTrue(leads >= 1, joiner + " leads no range");
    System.out.printf("PlacementIT: %s joined and held %d replicas and led %d range(s) %.1f s later%n", joiner,
        replicaCounts(balanced).get(joiner), leads, (System.nanoTime() - joinedAt) / 1e9);
    for (JsonNode r : balanced) {
      Convergence.awaitReplicasConverge(cluster, "n1", r.get("id").asLong(), Duration.ofSeconds(30));
    }
    assertAllKeysReadable(cluster.url(joiner));

    // The range split off before the join moves to the new node like any other.
    JsonNode childNow = api.raw("GET", via + "/v1/admin/ranges/" + child, null).json();
    List<String> childReplicas = new ArrayList<>();
    childNow.get("replicas").forEach(n -> childReplicas.add(n.asText()));
    if (!childReplicas.contains(joiner)) {
      Resp move = api.admin("POST", via + "/v1/admin/ranges/" + child + "/move", ("{\"from\": \""
          + childReplicas.get(0) + "\", \"to\": \"" + joiner + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
      assertEquals(200, move.status(), move::toString);
    }
    JsonNode converged = Convergence.awaitReplicasConverge(cluster, joiner, child, Duration.ofSeconds(60));
    assertTrue(converged.get("replicas").toString().contains("\"" + joiner + "\""), converged::toString);
    Resp local = api.get(cluster.url(joiner), "c/pl/80", "consistency=stale");
    assertEquals(200, local.status(), local::toString);
    assertEquals(joiner, local.header("X-Flotilla-Served-By"), "served by the new node's own copy");

    Resp write = api.put(cluster.url(joiner), "z/through-the-new-node", "ok");
    assertEquals(200, write.status(), write::toString);
    assertEquals("ok", api.get(via, "z/through-the-new-node", "raw").text());

    // Restarted, the new node remembers the cluster it joined (its file lists only itself).
    cluster.kill(joiner);
    cluster.start(joiner);
    cluster.awaitReady(Duration.ofSeconds(60));
    assertAllKeysReadable(cluster.url(joiner));
  }
}
