package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.testcluster.ApiClient.Resp;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * A node with more writes than its queues hold refuses the rest with API.md's 429
 * {@code overloaded} and a {@code Retry-After}, and a refused write changes nothing, while every
 * write it accepted is there. The cluster's queues are set to one waiting request per range,
 * so that a burst of concurrent puts, sent through all three nodes (most of them forwarded to the
 * range's leader), overflows them.
 */
class BackpressureIT {
  private static final int SUBNET = 38;
  private static final int CONCURRENT = 96;

  @Test
  void aBurstPastTheQueuesGets429sThatChangedNothingAndEveryAcceptedWriteIsThere() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(CONCURRENT);
    try (ProcessCluster cluster = ProcessCluster.start("backpressure", SUBNET, 3,
        Map.of("limits", Map.of("maxQueuedPerRange", 1)))) {
      ApiClient api = cluster.api();
      List<String> nodes = cluster.nodeIds().stream().map(cluster::url).toList();
      Map<String, Integer> answered = new LinkedHashMap<>();
      int refused = 0;
      for (int wave = 0; wave < 5 && refused == 0; wave++) {
        int refusedBefore = refused;
        List<String> keys = new ArrayList<>();
        List<Future<Resp>> puts = new ArrayList<>();
        for (int i = 0; i < CONCURRENT; i++) {
          String key = "bp/" + wave + "/" + i;
          String node = nodes.get(i % nodes.size());
          keys.add(key);
          puts.add(pool.submit(() -> api.put(node, key, "v-" + key)));
        }
        for (int i = 0; i < keys.size(); i++) {
          Resp r = puts.get(i).get();
          answered.put(keys.get(i), r.status());
          if (r.status() == 429) {
            refused++;
            assertEquals("overloaded", r.json().path("error").asText(), r::toString);
            assertFalse(r.json().path("message").asText().isBlank(), r::toString);
            assertNotNull(r.header("Retry-After"), () -> "a 429 without Retry-After: " + r);
          } else {
            assertEquals(200, r.status(), () -> "a put answered neither 200 nor 429: " + r);
          }
        }
        System.out.printf("burst %d: %d puts, %d refused with 429%n", wave, CONCURRENT, refused - refusedBefore);
      }
      assertTrue(refused > 0, "bursts of " + CONCURRENT + " concurrent puts into queues of one never overflowed them");
      assertTrue(answered.containsValue(200), "no put of the bursts was accepted");

      // Strong reads, one at a time, through another node than most writes went to.
      for (Map.Entry<String, Integer> e : answered.entrySet()) {
        Resp get = api.get(nodes.get(1), e.getKey());
        if (e.getValue() == 200) {
          assertEquals(200, get.status(), () -> "accepted write of " + e.getKey() + " lost: " + get);
          String value = new String(Base64.getDecoder().decode(get.json().path("value").asText()));
          assertEquals("v-" + e.getKey(), value);
        } else {
          assertEquals(404, get.status(), () -> "a write refused with 429 was applied: " + e.getKey() + " " + get);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
