package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Split, merge and leader transfer through the admin API on a real 3-node cluster (ranges cut
 * at g, n, t), while clients keep writing; and the bad requests that must change nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RangeOperationsIT {
  private ProcessCluster cluster;
  private ApiClient api;
  private List<String> urls;

  @BeforeAll
  void startCluster() throws Exception {
    // The failpoint only adds an endpoint that corrupts a replica; the consistency test calls it.
    cluster = ProcessCluster.start("rangeops", 42, 3, Map.of("failpoints", List.of("corrupt-local-replica-for-tests")));
    api = cluster.api();
    urls = List.of(cluster.url("n1"), cluster.url("n2"), cluster.url("n3"));
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private Resp admin(String node, String method, String path, String body) {
    return api.admin(method, node + "/v1/admin/" + path, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
  }

  private JsonNode rangeOf(String key) {
    Resp r = admin(urls.get(0), "GET", "ranges?key=" + ApiClient.query(key), null);
    assertEquals(200, r.status(), r::toString);
    return r.json();
  }

  private JsonNode ranges() {
    Resp r = admin(urls.get(0), "GET", "ranges", null);
    assertEquals(200, r.status(), r::toString);
    return r.json().get("ranges");
  }

  private static String value(Resp get) {
    return new String(Base64.getDecoder().decode(get.json().get("value").asText()), StandardCharsets.UTF_8);
  }

  /** Ranges sorted by start must tile the key space: first starts at "", each starts where the last ended. */
  private void assertRangesTileTheKeySpace() {
    List<JsonNode> list = new ArrayList<>();
    ranges().forEach(list::add);
    list.sort((a, b) -> a.get("start").asText().compareTo(b.get("start").asText()));
    assertEquals("", list.get(0).get("start").asText(), list::toString);
    for (int i = 1; i < list.size(); i++) {
      assertEquals(list.get(i - 1).get("end").asText(), list.get(i).get("start").asText(), list::toString);
    }
    assertTrue(list.get(list.size() - 1).get("end").isNull(), list::toString);
  }

  @Test
  void splitsUnderWriteLoadLoseAndFailNoWrite() throws Exception {
    Map<String, String> acked = new ConcurrentHashMap<>();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> writers = new ArrayList<>();
    for (int w = 0; w < 6; w++) {
      int id = w;
      Thread t = new Thread(() -> {
        for (int i = 0; !stop.get(); i++) {
          String key = "h/" + (char) ('a' + (i % 20)) + "/" + id + "/" + i;
          String v = "v" + i;
          Resp r = api.put(urls.get(id % 3), key, v);
          if (r.status() == 200) {
            acked.put(key, v);
          } else {
            failures.add(key + " -> " + r);
          }
        }
      });
      t.start();
      writers.add(t);
    }
    try {
      Thread.sleep(1500);
      long parent = rangeOf("h").get("id").asLong();
      Resp first = admin(urls.get(1), "POST", "ranges/" + parent + "/split", "{}");
      assertEquals(200, first.status(), first::toString);
      JsonNode halves = first.json().get("ranges");
      assertEquals(parent, halves.get(0).get("id").asLong());
      assertEquals(halves.get(0).get("end").asText(), halves.get(1).get("start").asText());
      assertTrue(halves.get(0).get("epoch").get("version").asLong() > 1);
      Thread.sleep(1000);
      long child = halves.get(1).get("id").asLong();
      Resp second = admin(urls.get(2), "POST", "ranges/" + child + "/split", "{\"at\": \"h/s\"}");
      assertEquals(200, second.status(), second::toString);
      assertEquals("h/s", second.json().get("ranges").get(1).get("start").asText());
      Thread.sleep(1500);
    } finally {
      stop.set(true);
      for (Thread t : writers) {
        t.join();
      }
    }
    assertTrue(failures.isEmpty(), () -> failures.size() + " writes failed during the splits, e.g. "
        + failures.stream().limit(5).toList());
    assertTrue(acked.size() > 100, "the writers made progress: " + acked.size());
    for (Map.Entry<String, String> e : acked.entrySet()) {
      Resp get = api.get(urls.get(Math.floorMod(e.getKey().hashCode(), 3)), e.getKey());
      assertEquals(200, get.status(), () -> e.getKey() + ": " + get);
      assertEquals(e.getValue(), value(get), e.getKey());
    }
    assertRangesTileTheKeySpace();
    long newest = rangeOf("h/t").get("id").asLong();
    Convergence.awaitReplicasConverge(cluster, "n3", newest, Duration.ofSeconds(30));
  }

  @Test
  void mergeBringsASplitRangeBackWithItsDataAndIncreasingVersions() throws Exception {
    long left = rangeOf("p").get("id").asLong();
    Resp split = admin(urls.get(0), "POST", "ranges/" + left + "/split", "{\"at\": \"q\"}");
    assertEquals(200, split.status(), split::toString);
    long right = split.json().get("ranges").get(1).get("id").asLong();
    Resp before = api.put(urls.get(1), "qq", "in-right");
    assertEquals(200, before.status(), before::toString);
    assertEquals(200, api.put(urls.get(2), "pp", "in-left").status());
    int count = ranges().size();

    Resp merge = admin(urls.get(2), "POST", "ranges/merge", "{\"left\": " + left + ", \"right\": " + right + "}");
    assertEquals(200, merge.status(), merge::toString);
    JsonNode merged = merge.json().get("range");
    assertEquals(left, merged.get("id").asLong());
    assertEquals(count - 1, ranges().size());
    assertEquals(left, rangeOf("qq").get("id").asLong());
    assertEquals(404, admin(urls.get(0), "GET", "ranges/" + right, null).status());
    assertRangesTileTheKeySpace();
    for (String node : urls) {
      assertEquals("in-right", value(api.get(node, "qq")));
      assertEquals("in-left", value(api.get(node, "pp")));
    }
    Resp after = api.put(urls.get(0), "qq", "again");
    assertEquals(200, after.status(), after::toString);
    assertTrue(after.json().get("version").asLong() > before.json().get("version").asLong());
    Convergence.awaitReplicasConverge(cluster, "n1", left, Duration.ofSeconds(30));
  }

  /**
   * A page that fills at the last key of a range peeks at the next range to learn whether a
   * next page exists; an empty range there must not end the scan while a later range holds keys.
   */
  @Test
  void aScanGoesOnPastAnEmptyRange() {
    for (String at : List.of("v~gap/b", "v~gap/c")) {
      Resp split = admin(urls.get(0), "POST", "ranges/" + rangeOf(at).get("id").asLong() + "/split",
          "{\"at\": \"" + at + "\"}");
      assertEquals(200, split.status(), split::toString);
    }
    assertEquals("v~gap/b", rangeOf("v~gap/b").get("start").asText());
    assertEquals("v~gap/c", rangeOf("v~gap/b").get("end").asText(), "the range between holds no key");
    List<String> keys = new ArrayList<>();
    for (String part : List.of("a", "c")) {
      for (int i = 0; i < 5; i++) {
        String key = "v~gap/" + part + "." + i;
        keys.add(key);
        assertEquals(200, api.put(urls.get(i % 3), key, "x").status());
      }
    }
    for (String node : urls) {
      for (String order : List.of("", "&reverse=true")) {
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
          Resp page = api.scan(node, "prefix=" + ApiClient.query("v~gap/") + "&limit=5" + order
              + (cursor == null ? "" : "&cursor=" + ApiClient.query(cursor)));
          assertEquals(200, page.status(), page::toString);
          page.json().get("items").forEach(i -> seen.add(i.get("key").asText()));
          cursor = page.json().get("cursor").isNull() ? null : page.json().get("cursor").asText();
          assertTrue(++pages <= 3, "scan did not terminate");
        } while (cursor != null);
        List<String> expected = new ArrayList<>(keys);
        if (!order.isEmpty()) {
          java.util.Collections.reverse(expected);
        }
        assertEquals(expected, seen, node + order);
      }
    }
  }

  @Test
  void transferLeaderMovesLeadershipToEachReplicaInTurn() {
    long id = rangeOf("a").get("id").asLong();
    for (String node : List.of("n2", "n3", "n1")) {
      Resp r = admin(urls.get(0), "POST", "ranges/" + id + "/transfer-leader", "{\"to\": \"" + node + "\"}");
      assertEquals(200, r.status(), r::toString);
      assertEquals(node, r.json().get("leader").asText());
      assertEquals(node, admin(urls.get(1), "GET", "ranges/" + id, null).json().get("leader").asText());
      assertEquals(200, api.put(urls.get(2), "a/after-" + node, "x").status());
    }
  }

  @Test
  void badRequestsAnswerClearErrorsAndChangeNothing() {
    String layout = layout();
    long first = rangeOf("a").get("id").asLong();
    long third = rangeOf("u").get("id").asLong();
    assertError(admin(urls.get(0), "POST", "ranges/987654/split", "{}"), 404, "not_found");
    assertError(admin(urls.get(0), "POST", "ranges/abc/split", "{}"), 400, "invalid_argument");
    assertError(admin(urls.get(0), "POST", "ranges/" + first + "/split", "{\"at\": \"zzz\"}"), 422, "unprocessable");
    assertError(admin(urls.get(0), "POST", "ranges/" + first + "/split", "{\"at\": \"\"}"), 400, "invalid_argument");
    assertError(admin(urls.get(0), "POST", "ranges/" + first + "/split", "{\"at\": 5}"), 400, "invalid_argument");
    assertError(admin(urls.get(0), "POST", "ranges/" + first + "/split", "not json"), 400, "invalid_argument");
    assertError(admin(urls.get(1), "POST", "ranges/merge", "{\"left\": " + first + ", \"right\": " + third + "}"),
        422, "unprocessable");
    assertError(admin(urls.get(1), "POST", "ranges/merge", "{\"left\": " + first + "}"), 400, "invalid_argument");
    assertError(admin(urls.get(1), "POST", "ranges/merge", "{\"left\": " + first + ", \"right\": " + first + "}"),
        400, "invalid_argument");
    assertError(admin(urls.get(1), "POST", "ranges/merge", "{\"left\": 987654, \"right\": " + first + "}"),
        404, "not_found");
    assertError(admin(urls.get(2), "POST", "ranges/" + first + "/transfer-leader", "{\"to\": \"n9\"}"),
        404, "not_found");
    assertError(admin(urls.get(2), "POST", "ranges/" + first + "/transfer-leader", "{}"), 400, "invalid_argument");
    assertEquals(layout, layout(), "refused operations changed the ranges");
  }

  /** Every range's id, span, epoch and replicas, in key order. */
  private String layout() {
    List<String> out = new ArrayList<>();
    for (JsonNode r : ranges()) {
      out.add(r.get("id") + "[" + r.get("start") + "," + r.get("end") + ")@" + r.get("epoch") + r.get("replicas"));
    }
    out.sort(null);
    return out.toString();
  }

  @Test
  void operationsListsWhatAnyNodeRanWithItsOutcomeAlsoAfterThatNodeRestarts() throws Exception {
    long id = rangeOf("a").get("id").asLong();
    assertEquals(200, admin(urls.get(1), "POST", "ranges/" + id + "/transfer-leader", "{\"to\": \"n1\"}").status());
    assertError(admin(urls.get(1), "POST", "ranges/" + id + "/split", "{\"at\": \"zzz\"}"), 422, "unprocessable");
    assertListsBoth(urls.get(1));
    assertListsBoth(urls.get(2)); // accepted by n2, asked of n3
    cluster.kill("n2");
    cluster.start("n2");
    cluster.awaitReady(Duration.ofSeconds(60));
    assertListsBoth(urls.get(0));
  }

  @Test
  void aConsistencyCheckFindsAReplicaThatDiverged() {
    for (int i = 0; i < 20; i++) {
      assertEquals(200, api.put(urls.get(i % 3), "c/consistency/" + i, "v" + i).status());
    }
    long id = rangeOf("c/consistency/0").get("id").asLong();
    JsonNode ok = checkConsistency(id);
    assertEquals("consistent", ok.get("status").asText(), ok::toString);
    assertEquals(3, ok.get("replicas").size(), ok::toString);
    java.util.Set<String> sums = new java.util.HashSet<>();
    java.util.Set<Long> indexes = new java.util.HashSet<>();
    for (JsonNode r : ok.get("replicas")) {
      sums.add(r.get("checksum").asText());
      indexes.add(r.get("index").asLong());
    }
    assertEquals(1, sums.size(), ok::toString);
    assertEquals(1, indexes.size(), "every replica's checksum is of the same log entry: " + ok);

    long inconsistentBefore = inconsistentCount();
    // One replica's storage changes past the log: the next check reports it.
    String victim = ok.get("replicas").get(2).get("node").asText();
    Resp corrupted = api.raw("PUT", cluster.url(victim) + "/internal/v1/test/corrupt/c/consistency/7",
        "tampered".getBytes(StandardCharsets.UTF_8));
    assertEquals(204, corrupted.status(), corrupted::toString);
    JsonNode bad = checkConsistency(id);
    assertEquals("inconsistent", bad.get("status").asText(), bad::toString);
    String odd = null;
    for (JsonNode r : bad.get("replicas")) {
      long agreeing = 0;
      for (JsonNode other : bad.get("replicas")) {
        agreeing += other.get("checksum").asText().equals(r.get("checksum").asText()) ? 1 : 0;
      }
      if (agreeing == 1) {
        odd = r.get("node").asText();
      }
    }
    assertEquals(victim, odd, "the replica that differs is the corrupted one: " + bad);
    assertEquals(0, inconsistentBefore);
    assertTrue(inconsistentCount() >= 1, "counted on the checking node");

    // Written again through the log, the key agrees everywhere.
    assertEquals(200, api.put(urls.get(0), "c/consistency/7", "v7").status());
    assertEquals("consistent", checkConsistency(id).get("status").asText());
  }

  private long inconsistentCount() {
    return api.raw("GET", urls.get(0) + "/admin/metrics", null).json().path("meters")
        .path("flotilla.consistency.inconsistent").path("count").asLong();
  }

  /** The check's result: from the answer, or (a 202 on a slow machine) from the operations list once it ended. */
  private JsonNode checkConsistency(long rangeId) {
    Resp r = admin(urls.get(0), "POST", "ranges/" + rangeId + "/check-consistency", null);
    if (r.status() == 200) {
      return r.json();
    }
    assertEquals(202, r.status(), r::toString);
    String id = r.json().get("operation").asText();
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      for (JsonNode op : admin(urls.get(0), "GET", "operations", null).json().get("operations")) {
        if (id.equals(op.get("id").asText()) && !"running".equals(op.get("status").asText())) {
          assertEquals("succeeded", op.get("status").asText(), op::toString);
          return op.get("result");
        }
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("consistency check " + id + " did not end within 60 s");
  }

  /** Lists the transfer and the refused split that n2 ran, with their outcomes. */
  private void assertListsBoth(String via) {
    Resp r = admin(via, "GET", "operations", null);
    assertEquals(200, r.status(), r::toString);
    assertEquals("[]", r.json().get("nodes_not_answering").toString(), r::toString);
    boolean sawTransfer = false;
    boolean sawFailedSplit = false;
    for (JsonNode op : r.json().get("operations")) {
      assertFalse(op.get("id").asText().isEmpty());
      boolean byN2 = op.get("id").asText().startsWith("n2-");
      sawTransfer |= byN2 && "transfer-leader".equals(op.get("type").asText())
          && "succeeded".equals(op.get("status").asText());
      sawFailedSplit |= byN2 && "split".equals(op.get("type").asText()) && "failed".equals(op.get("status").asText())
          && op.get("message").asText().contains("outside");
    }
    assertTrue(sawTransfer && sawFailedSplit, "via " + via + ": " + r.json());
  }

  private static void assertError(Resp r, int status, String code) {
    assertEquals(status, r.status(), r::toString);
    assertEquals(code, r.json().path("error").asText(), r::toString);
    assertFalse(r.json().path("message").asText().isBlank(), r::toString);
  }
}
