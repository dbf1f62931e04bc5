package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient.Resp;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Replica moves on a 4-node cluster (3 replicas per range, so every node lacks some ranges):
 * a move of the leader's replica under write load, routing through a node that hosts none of a
 * range's replicas after the range split, moving back, and the refusals.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MoveIT {
  private ProcessCluster cluster;
  private ApiClient api;
  private final Map<String, String> urls = new java.util.LinkedHashMap<>();

  @BeforeAll
  void startCluster() throws Exception {
    cluster = ProcessCluster.start("move", 43, 4, Map.of());
    api = cluster.api();
    for (String id : List.of("n1", "n2", "n3", "n4")) {
      urls.put(id, cluster.url(id));
    }
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private Resp admin(String node, String method, String path, String body) {
    return api.admin(method, urls.get(node) + "/v1/admin/" + path,
        body == null ? null : body.getBytes(StandardCharsets.UTF_8));
  }

  private JsonNode range(long id) {
    Resp r = admin("n1", "GET", "ranges/" + id, null);
    assertEquals(200, r.status(), r::toString);
    return r.json();
  }

  /** The range's leader as n1 reports it, once it names one (the range must be in use: awake). */
  private String leaderOf(long id) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode now = range(id);
      if (now.hasNonNull("leader")) {
        return now.get("leader").asText();
      }
      Thread.sleep(100);
    }
    throw new AssertionError("range " + id + " named no leader within 30 s: " + range(id));
  }

  /**
   * The last range (in key order) that has no replica on {@code node}. In this class's order that
   * is a range of the first layout, whose descriptor the node stores but which it never hosted
   * (the first test may move range 1 off the node; it sorts first).
   */
  private JsonNode rangeWithout(String node) {
    JsonNode last = null;
    for (JsonNode r : admin("n1", "GET", "ranges", null).json().get("ranges")) {
      if (!replicas(r).contains(node)) {
        last = r;
      }
    }
    assertNotNull(last, "some range has no replica on " + node);
    return last;
  }

  /** Some range and a node that holds no replica of it (with 4 nodes and 3 replicas there is one). */
  private Map.Entry<JsonNode, String> rangeAndAbsentNode() {
    for (JsonNode r : admin("n1", "GET", "ranges", null).json().get("ranges")) {
      for (String node : urls.keySet()) {
        if (!replicas(r).contains(node)) {
          return Map.entry(r, node);
        }
      }
    }
    throw new AssertionError("every range has a replica on every node");
  }

  private static List<String> replicas(JsonNode range) {
    List<String> out = new ArrayList<>();
    range.get("replicas").forEach(n -> out.add(n.asText()));
    return out;
  }

  private static String value(Resp get) {
    return new String(Base64.getDecoder().decode(get.json().get("value").asText()), StandardCharsets.UTF_8);
  }

  /** A key prefix inside the range (ranges are cut at single letters: "", g, n, t, ...). */
  private static String prefixOf(JsonNode range) {
    String start = range.get("start").asText();
    return (start.isEmpty() ? "a" : start) + "/mv/";
  }

  @Test
  @Order(1)
  void movingTheLeadersReplicaUnderWriteLoadLosesAndFailsNoWrite() throws Exception {
    JsonNode target = rangeWithout("n4");
    long id = target.get("id").asLong();
    String prefix = prefixOf(target);
    Map<String, String> acked = new ConcurrentHashMap<>();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    AtomicBoolean stop = new AtomicBoolean();
    List<String> nodes = List.copyOf(urls.keySet());
    List<Thread> writers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      String via = urls.get(nodes.get(w));
      int writer = w;
      Thread t = new Thread(() -> {
        for (int i = 0; !stop.get(); i++) {
          String key = prefix + writer + "/" + i;
          Resp r = api.put(via, key, "v" + i);
          if (r.status() == 200) {
            acked.put(key, "v" + i);
          } else {
            failures.add(key + " -> " + r);
          }
        }
      });
      t.start();
      writers.add(t);
    }
    Resp move;
    String from;
    try {
      Thread.sleep(1500);
      // Asked only now: the range sleeps, with no leader, until the writers' first use wakes it.
      from = leaderOf(id);
      move = admin("n2", "POST", "ranges/" + id + "/move", "{\"from\": \"" + from + "\", \"to\": \"n4\"}");
      Thread.sleep(1500);
    } finally {
      stop.set(true);
      for (Thread t : writers) {
        t.join();
      }
    }
    assertEquals(200, move.status(), move::toString);
    List<String> after = replicas(move.json().get("range"));
    assertTrue(after.contains("n4") && !after.contains(from), after::toString);
    assertEquals(3, after.size());
    assertTrue(failures.isEmpty(), () -> failures.size() + " writes failed during the move, e.g. "
        + failures.stream().limit(5).toList());
    assertTrue(acked.size() > 50, "the writers made progress: " + acked.size());
    for (Map.Entry<String, String> e : acked.entrySet()) {
      Resp get = api.get(urls.get(nodes.get(Math.floorMod(e.getKey().hashCode(), 4))), e.getKey());
      assertEquals(200, get.status(), () -> e.getKey() + ": " + get);
      assertEquals(e.getValue(), value(get), e.getKey());
    }
    JsonNode converged = Convergence.awaitReplicasConverge(cluster, "n3", id, Duration.ofSeconds(30));
    assertEquals(after, replicas(converged));
    // The old replica's node no longer serves the range from a local copy.
    Resp stale = api.get(urls.get(from), acked.keySet().iterator().next(), "consistency=stale");
    assertEquals(200, stale.status(), stale::toString);
    assertNotEquals(from, stale.header("X-Flotilla-Served-By"));
  }

  @Test
  @Order(2)
  void aNodeWithoutReplicasOfARangeRoutesToItsNewHalvesAfterASplit() {
    JsonNode target = rangeWithout("n1");
    long id = target.get("id").asLong();
    String prefix = prefixOf(target);
    for (int i = 0; i < 20; i++) {
      assertEquals(200, api.put(urls.get("n1"), prefix + "s/" + (char) ('a' + i), "before").status());
    }
    Resp split = admin("n2", "POST", "ranges/" + id + "/split", "{\"at\": \"" + prefix + "s/k\"}");
    assertEquals(200, split.status(), split::toString);
    for (int i = 0; i < 20; i++) {
      String key = prefix + "s/" + (char) ('a' + i);
      Resp put = api.put(urls.get("n1"), key, "after");
      assertEquals(200, put.status(), () -> key + ": " + put);
      assertEquals("after", value(api.get(urls.get("n1"), key)));
    }
    long child = split.json().get("ranges").get(1).get("id").asLong();
    Resp known = admin("n1", "GET", "ranges?key=" + ApiClient.query(prefix + "s/t"), null);
    assertEquals(child, known.json().get("id").asLong(), known::toString);

    // A node that never held the parent receives the range the split created.
    List<String> childReplicas = replicas(known.json());
    String absent = urls.keySet().stream().filter(n -> !childReplicas.contains(n)).findFirst().orElseThrow();
    Resp moved = admin("n3", "POST", "ranges/" + child + "/move", "{\"from\": \"" + childReplicas.get(0)
        + "\", \"to\": \"" + absent + "\"}");
    assertEquals(200, moved.status(), moved::toString);
    try {
      Convergence.awaitReplicasConverge(cluster, absent, child, Duration.ofSeconds(30));
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    for (int i = 10; i < 20; i++) {
      Resp stale = api.get(urls.get(absent), prefix + "s/" + (char) ('a' + i), "consistency=stale");
      assertEquals(200, stale.status(), stale::toString);
      assertEquals(absent, stale.header("X-Flotilla-Served-By"));
      assertEquals("after", value(stale));
    }

    // Then the parent follows its child there. That node still stores the parent's first layout,
    // whose span covers the child: copying the parent in must not clear the child's data.
    List<String> parentReplicas = replicas(range(id));
    assertFalse(parentReplicas.contains(absent), "the parent is not on " + absent + " yet: " + parentReplicas);
    Resp parentMoved = admin("n3", "POST", "ranges/" + id + "/move", "{\"from\": \"" + parentReplicas.get(0)
        + "\", \"to\": \"" + absent + "\"}");
    assertEquals(200, parentMoved.status(), parentMoved::toString);
    for (long r : List.of(id, child)) {
      try {
        Convergence.awaitReplicasConverge(cluster, absent, r, Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  @Test
  @Order(3)
  void aReplicaMovesBackToANodeThatDroppedItEarlier() throws Exception {
    Map.Entry<JsonNode, String> pick = rangeAndAbsentNode();
    JsonNode target = pick.getKey();
    String away = pick.getValue();
    long id = target.get("id").asLong();
    String from = replicas(target).get(0);
    Resp there = admin("n1", "POST", "ranges/" + id + "/move", "{\"from\": \"" + from + "\", \"to\": \"" + away + "\"}");
    assertEquals(200, there.status(), there::toString);
    assertEquals(200, api.put(urls.get("n2"), prefixOf(target) + "back", "1").status());
    Resp back = admin("n3", "POST", "ranges/" + id + "/move", "{\"from\": \"" + away + "\", \"to\": \"" + from + "\"}");
    assertEquals(200, back.status(), back::toString);
    assertTrue(replicas(back.json().get("range")).contains(from));
    assertFalse(replicas(back.json().get("range")).contains(away));
    JsonNode converged = Convergence.awaitReplicasConverge(cluster, away, id, Duration.ofSeconds(30));
    assertTrue(replicas(converged).contains(from));
    Resp get = api.get(urls.get(from), prefixOf(target) + "back", "consistency=stale");
    assertEquals(200, get.status(), get::toString);
    assertEquals(from, get.header("X-Flotilla-Served-By"));
  }

  @Test
  @Order(4)
  void mergingNeighboursOnDifferentNodesColocatesThemFirst() throws Exception {
    JsonNode left = null;
    JsonNode right = null;
    JsonNode all = admin("n1", "GET", "ranges", null).json().get("ranges");
    for (int i = 0; i + 1 < all.size() && left == null; i++) {
      JsonNode a = all.get(i);
      JsonNode b = all.get(i + 1);
      if (a.get("end").asText().equals(b.get("start").asText())
          && !new java.util.HashSet<>(replicas(a)).equals(new java.util.HashSet<>(replicas(b)))) {
        left = a;
        right = b;
      }
    }
    assertNotNull(left, "with 4 nodes some neighbours live on different nodes: " + all);
    String leftKey = prefixOf(left) + "colocated";
    String rightKey = prefixOf(right) + "colocated";
    assertEquals(200, api.put(urls.get("n1"), leftKey, "L").status());
    assertEquals(200, api.put(urls.get("n2"), rightKey, "R").status());
    long leftId = left.get("id").asLong();

    Resp merge = admin("n3", "POST", "ranges/merge", "{\"left\": " + leftId + ", \"right\": "
        + right.get("id").asLong() + "}");
    assertEquals(200, merge.status(), merge::toString);
    JsonNode merged = merge.json().get("range");
    assertEquals(leftId, merged.get("id").asLong());
    assertEquals(new java.util.HashSet<>(replicas(left)), new java.util.HashSet<>(replicas(merged)),
        "the merged range keeps the left range's nodes");
    assertEquals(404, admin("n1", "GET", "ranges/" + right.get("id").asLong(), null).status());
    Convergence.awaitReplicasConverge(cluster, "n1", leftId, Duration.ofSeconds(30));
    for (String node : urls.keySet()) {
      assertEquals("L", value(api.get(urls.get(node), leftKey)));
      assertEquals("R", value(api.get(urls.get(node), rightKey)));
    }
  }

  /**
   * A split and a membership change of the same range at the same time: each is decided in the
   * range's log, so one goes first and the other either follows on the new epoch or is refused
   * cleanly (then retried here). Afterwards both halves have three converged replicas and every
   * key is where it belongs.
   */
  @Test
  @Order(5)
  void aSplitConcurrentWithAMoveLeavesBothHalvesWhole() throws Exception {
    Map.Entry<JsonNode, String> pick = rangeAndAbsentNode();
    JsonNode target = pick.getKey();
    String to = pick.getValue();
    long id = target.get("id").asLong();
    String from = replicas(target).get(replicas(target).size() - 1);
    String prefix = prefixOf(target) + "race/";
    for (int i = 0; i < 30; i++) {
      assertEquals(200, api.put(urls.get("n1"), prefix + String.format("%02d", i), "v" + i).status());
    }
    String moveBody = "{\"from\": \"" + from + "\", \"to\": \"" + to + "\"}";
    String splitBody = "{\"at\": \"" + prefix + "15\"}";
    java.util.concurrent.CompletableFuture<Resp> move = java.util.concurrent.CompletableFuture.supplyAsync(() ->
        admin("n2", "POST", "ranges/" + id + "/move", moveBody));
    java.util.concurrent.CompletableFuture<Resp> split = java.util.concurrent.CompletableFuture.supplyAsync(() ->
        admin("n3", "POST", "ranges/" + id + "/split", splitBody));
    Resp moved = move.get();
    Resp halves = split.get();
    System.out.printf("MoveIT: concurrent move %d and split %d%n", moved.status(), halves.status());
    for (Resp r : List.of(moved, halves)) {
      assertTrue(r.status() == 200 || r.status() == 422 || r.status() == 503, r::toString);
    }
    if (moved.status() != 200) {
      moved = admin("n2", "POST", "ranges/" + id + "/move", moveBody);
      assertEquals(200, moved.status(), moved::toString);
    }
    if (halves.status() != 200) {
      halves = admin("n3", "POST", "ranges/" + id + "/split", splitBody);
      assertEquals(200, halves.status(), halves::toString);
    }
    long child = halves.json().get("ranges").get(1).get("id").asLong();
    for (long r : List.of(id, child)) {
      JsonNode converged = Convergence.awaitReplicasConverge(cluster, "n1", r, Duration.ofSeconds(60));
      assertEquals(3, replicas(converged).size(), converged::toString);
    }
    assertTrue(replicas(range(id)).contains(to), "the moved half is on " + to + ": " + range(id));
    for (String node : urls.keySet()) {
      for (int i = 0; i < 30; i++) {
        Resp get = api.get(urls.get(node), prefix + String.format("%02d", i));
        assertEquals(200, get.status(), get::toString);
        assertEquals("v" + i, value(get));
      }
    }
    assertEquals(child, api.raw("GET", urls.get("n4") + "/v1/admin/ranges?key=" + prefix + "20", null).json()
        .get("id").asLong(), "keys past the split key belong to the new range");
  }

  @Test
  @Order(6)
  void badMovesAreRefusedAndChangeNothing() throws Exception {
    Map.Entry<JsonNode, String> pick = rangeAndAbsentNode();
    JsonNode target = pick.getKey();
    String away = pick.getValue();
    String via = urls.keySet().stream().filter(n -> !n.equals(away)).findFirst().orElseThrow();
    long id = target.get("id").asLong();
    String replica = replicas(target).get(0);
    String epoch = target.get("epoch").get("version") + "." + target.get("epoch").get("conf");
    assertError(admin(via, "POST", "ranges/" + id + "/move", "{\"from\": \"n9\", \"to\": \"" + away + "\"}"),
        404, "not_found");
    String other = replicas(target).get(1);
    assertError(admin(via, "POST", "ranges/" + id + "/move", "{\"from\": \"" + replica + "\", \"to\": \"" + other
        + "\"}"), 422, "unprocessable");
    assertError(admin(via, "POST", "ranges/" + id + "/move", "{\"from\": \"" + replica + "\", \"to\": \""
        + replica + "\"}"), 400, "invalid_argument");
    assertError(admin(via, "POST", "ranges/" + id + "/move", "{\"to\": \"" + away + "\"}"), 400, "invalid_argument");
    assertError(admin(via, "POST", "ranges/987654/move", "{\"from\": \"n1\", \"to\": \"n4\"}"), 404, "not_found");
    cluster.kill(away);
    assertError(admin(via, "POST", "ranges/" + id + "/move", "{\"from\": \"" + replica + "\", \"to\": \"" + away
        + "\"}"), 422, "unprocessable");
    Resp status = admin(via, "GET", "ranges/" + id, null);
    assertEquals(200, status.status(), status::toString);
    JsonNode now = status.json();
    assertEquals(replicas(target), replicas(now));
    assertEquals(epoch, now.get("epoch").get("version") + "." + now.get("epoch").get("conf"));
  }

  private static void assertError(Resp r, int status, String code) {
    assertEquals(status, r.status(), r::toString);
    assertEquals(code, r.json().path("error").asText(), r::toString);
    assertFalse(r.json().path("message").asText().isBlank(), r::toString);
  }
}
