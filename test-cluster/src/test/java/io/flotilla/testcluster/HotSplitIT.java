package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient.Resp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A hot range splits where its writes divide, not where its data does: range [g, n) holds keys
 * from g to m, then every writer hammers keys under "m/hot/"; the placement driver splits the
 * range inside that hot span, under that write load, and no write fails or is lost.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HotSplitIT {
  private ProcessCluster cluster;
  private ApiClient api;

  @BeforeAll
  void startCluster() throws Exception {
    cluster = ProcessCluster.start("hot-split", 46, 3, Map.of("placement",
        Map.of("enabled", true, "interval", "500ms", "splitWritesPerSecond", 25)));
    api = cluster.api();
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** The range holding {@code key}, as node n1 routes it. */
  private JsonNode rangeOf(String key) {
    JsonNode ranges = api.raw("GET", cluster.url("n1") + "/v1/admin/ranges", null).json().get("ranges");
    for (JsonNode r : ranges) {
      String start = r.get("start").asText();
      String end = r.path("end").isNull() ? "" : r.get("end").asText();
      if (start.compareTo(key) <= 0 && (end.isEmpty() || key.compareTo(end) < 0)) {
        return r;
      }
    }
    throw new AssertionError("no range holds " + key + ": " + ranges);
  }

  @Test
  void aHotRangeSplitsAtItsLoadMidpointWhileEveryWriteSucceeds() throws Exception {
    for (int i = 0; i < 70; i++) { // data spread over g..m, written slowly (not hot)
      assertEquals(200, api.put(cluster.url("n" + (1 + i % 3)), (char) ('g' + i % 7) + "/cold/" + i, "c").status());
      Thread.sleep(40);
    }
    long before = rangeOf("m/hot/0999").get("id").asLong();

    AtomicBoolean stop = new AtomicBoolean();
    Map<String, String> acked = new ConcurrentHashMap<>();
    java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    List<Thread> writers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      String node = cluster.url("n" + (1 + w % 3));
      int writer = w;
      Thread t = new Thread(() -> {
        for (int n = 0; !stop.get(); n++) {
          String key = String.format("m/hot/%04d", ThreadLocalRandom.current().nextInt(1000));
          String value = writer + ":" + n;
          try {
            Resp r = api.put(node, key, value);
            if (r.status() == 200) {
              acked.put(key, value);
              writes.incrementAndGet();
            } else {
              failures.add(key + " -> " + r);
            }
          } catch (RuntimeException e) {
            failures.add(key + " -> " + e);
          }
        }
      }, "hot-writer-" + w);
      t.start();
      writers.add(t);
    }
    JsonNode hot = null;
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline) {
      JsonNode r = rangeOf("m/hot/0999");
      if (r.get("start").asText().startsWith("m/hot/")) {
        hot = r;
        break;
      }
      Thread.sleep(250);
    }
    stop.set(true);
    for (Thread t : writers) {
      t.join();
    }
    assertNotNull(hot, "range " + before + " did not split inside its hot span within 60 s");
    System.out.printf("HotSplitIT: range %d split at %s; %d writes to %d hot keys acknowledged, none failed%n",
        before, hot.get("start").asText(), writes.get(), acked.size());
    assertTrue(failures.isEmpty(), "writes failed during the split: " + failures);
    JsonNode cold = rangeOf("g/cold/0");
    assertEquals("g", cold.get("start").asText(), "the cold part keeps the range's start");
    // Each writer's last acknowledged value per key may have been overwritten by another writer,
    // but every hot key written holds some acknowledged value, and the cold keys are intact.
    for (String key : acked.keySet()) {
      Resp get = api.get(cluster.url("n2"), key, "raw");
      assertEquals(200, get.status(), () -> key + ": " + get);
    }
    for (int i = 0; i < 70; i++) {
      assertEquals("c", api.get(cluster.url("n3"), (char) ('g' + i % 7) + "/cold/" + i, "raw").text());
    }
  }
}
