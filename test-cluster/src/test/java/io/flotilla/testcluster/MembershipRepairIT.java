package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient.Resp;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A replica change is two steps: the Raft group's members, then the range descriptor's record.
 * Here every change that adds or removes n4's replica stops after the first step, as if its
 * coordinator died there. The range's leader finds the difference once it has lasted
 * {@code membershipRepairAfter} and repairs it: an addition never recorded leaves the group, a
 * removal never recorded leaves the descriptor, and n4 drops its copy. No data is lost, and the
 * range takes writes throughout.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MembershipRepairIT {
  private static final int SUBNET = 57;
  private ProcessCluster cluster;
  private ApiClient api;

  @BeforeAll
  void startCluster() throws Exception {
    cluster = ProcessCluster.start("membership-repair", SUBNET, 4, Map.of("requestTimeout", "3s",
        "membershipRepairAfter", "10s", "failpoints", List.of("stop-replica-changes-after-raft-step-for-tests=n4")));
    api = cluster.api();
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private Resp admin(String method, String path, String body) {
    return api.admin(method, cluster.url("n1") + "/v1/admin/" + path,
        body == null ? null : body.getBytes(StandardCharsets.UTF_8));
  }

  private JsonNode range(long id) {
    Resp r = admin("GET", "ranges/" + id, null);
    assertEquals(200, r.status(), r::toString);
    return r.json();
  }

  private static List<String> sorted(JsonNode list) {
    List<String> out = new ArrayList<>();
    if (list != null && list.isArray()) {
      list.forEach(n -> out.add(n.asText()));
    }
    return out.stream().sorted().toList();
  }

  /** A range of the first layout (cut at g, n and t) that has, or has no, replica on n4. */
  private JsonNode rangeWith(boolean onN4) {
    for (JsonNode r : admin("GET", "ranges", null).json().get("ranges")) {
      if (sorted(r.get("replicas")).contains("n4") == onN4) {
        return r;
      }
    }
    throw new AssertionError("no range " + (onN4 ? "with" : "without") + " a replica on n4");
  }

  /** Writes ten keys into the range (its start, or "a" for the first) and returns them. */
  private List<String> writeKeys(JsonNode range, String tag) {
    String start = range.get("start").asText();
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      String key = (start.isEmpty() ? "a" : start) + "/" + tag + "/" + i;
      assertEquals(200, api.put(cluster.url("n2"), key, "v" + i).status());
      keys.add(key);
    }
    return keys;
  }

  private void assertKeysRead(List<String> keys) {
    for (String key : keys) {
      Resp get = api.get(cluster.url("n3"), key);
      assertEquals(200, get.status(), () -> key + ": " + get);
    }
  }

  /** Waits until n4 answers 404 for a copy of the range: it holds no replica of it. */
  private void awaitDroppedOnN4(long rangeId) throws InterruptedException {
    String url = cluster.url("n4") + "/internal/v1/ranges/" + rangeId + "/snapshot";
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    int status = api.raw("GET", url, null).status();
    while (status != 404 && System.nanoTime() < deadline) {
      Thread.sleep(250);
      status = api.raw("GET", url, null).status();
    }
    assertEquals(404, status, "n4 dropped its copy of range " + rangeId);
  }

  /**
   * Waits until the range's Raft members and replicas agree again, and returns the range. The
   * range takes a write every quarter second meanwhile, and every one succeeds.
   */
  private JsonNode awaitRepaired(long id, String what) throws InterruptedException {
    JsonNode range = range(id);
    String key = (range.get("start").asText().isEmpty() ? "a" : range.get("start").asText()) + "/during";
    List<Resp> failed = new java.util.concurrent.CopyOnWriteArrayList<>();
    JsonNode repaired = Convergence.await(() -> {
      Resp put = api.put(cluster.url("n2"), key, "v");
      if (put.status() != 200) {
        failed.add(put);
      }
      return range(id);
    }, what, Duration.ofSeconds(90), r -> sorted(r.get("raft_members")).equals(sorted(r.get("replicas"))));
    assertEquals(List.of(), failed, "writes to range " + id + " that failed meanwhile");
    return repaired;
  }

  /** The operation with this id, as {@code GET /v1/admin/operations} lists it. */
  private JsonNode operation(java.util.function.Predicate<JsonNode> which, String what) {
    for (JsonNode op : admin("GET", "operations", null).json().get("operations")) {
      if (which.test(op)) {
        return op;
      }
    }
    throw new AssertionError("no operation " + what + " listed");
  }

  /**
   * Asks for the move, which the failpoint stops after its Raft step; returns the move's error
   * message (waiting for the move to end when it answered 202, still running).
   */
  private String moveStopped(long id, String from, String to) throws InterruptedException {
    Resp move = admin("POST", "ranges/" + id + "/move", "{\"from\": \"" + from + "\", \"to\": \"" + to + "\"}");
    if (move.status() != 202) {
      assertNotEquals(200, move.status(), move::toString);
      return move.text();
    }
    String opId = move.json().get("operation").asText();
    JsonNode ended = Convergence.await(() -> operation(op -> opId.equals(op.path("id").asText()), opId),
        "move " + opId + " ending", Duration.ofSeconds(60), op -> !"running".equals(op.path("status").asText()));
    assertEquals("failed", ended.path("status").asText(), ended::toString);
    return ended.path("message").asText();
  }

  /**
   * The repair is listed among the operations, n4 dropped its copy, the keys written before read
   * back, and the replicas converge.
   */
  private void assertRepairedWhole(long id, List<String> keys) throws InterruptedException {
    awaitDroppedOnN4(id);
    Convergence.await(() -> operation(op -> "repair-membership".equals(op.path("type").asText())
        && op.path("range").asLong() == id, "repairing range " + id), "the repair of range " + id + " succeeding",
        Duration.ofSeconds(30), op -> "succeeded".equals(op.path("status").asText()));
    assertKeysRead(keys);
    Convergence.awaitReplicasConverge(cluster, "n1", id, Duration.ofSeconds(30));
  }

  @Test
  @Order(1)
  void anAdditionNeverRecordedLeavesTheGroupAgain() throws Exception {
    JsonNode target = rangeWith(false);
    long id = target.get("id").asLong();
    List<String> replicas = sorted(target.get("replicas"));
    List<String> keys = writeKeys(target, "add");

    String stoppedAt = moveStopped(id, replicas.get(0), "n4");
    assertTrue(stoppedAt.contains("the addition of n4 to range " + id + " stopped after the Raft change"), stoppedAt);
    JsonNode stopped = range(id);
    assertEquals(replicas, sorted(stopped.get("replicas")), "the descriptor never recorded n4");
    List<String> withN4 = new ArrayList<>(replicas);
    withN4.add("n4");
    assertEquals(withN4.stream().sorted().toList(), sorted(stopped.get("raft_members")), stopped::toString);
    // Called again, the move finds its Raft step done (the group is already what it asks for)
    // and goes on to the record, where the failpoint stops it again.
    String again = moveStopped(id, replicas.get(0), "n4");
    assertTrue(again.contains("the addition of n4 to range " + id + " stopped after the Raft change"), again);

    JsonNode repaired = awaitRepaired(id, "the repair of range " + id);
    assertEquals(replicas, sorted(repaired.get("replicas")), repaired::toString);
    assertEquals(replicas, sorted(repaired.get("raft_members")), repaired::toString);
    assertRepairedWhole(id, keys);
  }

  @Test
  @Order(2)
  void aRemovalNeverRecordedLeavesTheDescriptor() throws Exception {
    JsonNode target = rangeWith(true);
    long id = target.get("id").asLong();
    List<String> replicas = sorted(target.get("replicas"));
    String to = List.of("n1", "n2", "n3").stream().filter(n -> !replicas.contains(n)).findFirst().orElseThrow();
    List<String> keys = writeKeys(target, "remove");

    String stoppedAt = moveStopped(id, "n4", to);
    assertTrue(stoppedAt.contains("the removal of n4 from range " + id + " stopped after the Raft change"), stoppedAt);
    List<String> expected = new ArrayList<>(replicas);
    expected.remove("n4");
    expected.add(to);
    List<String> members = expected.stream().sorted().toList();
    JsonNode stopped = range(id);
    assertTrue(sorted(stopped.get("replicas")).containsAll(List.of("n4", to)), () -> "the addition of " + to
        + " was recorded, n4's removal was not: " + stopped);
    assertEquals(members, sorted(stopped.get("raft_members")), () -> "n4 left the Raft group: " + stopped);

    JsonNode repaired = awaitRepaired(id, "the repair of range " + id);
    assertEquals(members, sorted(repaired.get("replicas")), repaired::toString);
    assertRepairedWhole(id, keys);
  }
}
