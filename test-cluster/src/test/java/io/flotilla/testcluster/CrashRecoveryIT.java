package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of every node at once while clients overwrite keys in every range, then a restart:
 * every acknowledged write is still there and no key's version went backwards.
 */
class CrashRecoveryIT {
  /** The newest acknowledged write of a key. */
  private record Ack(long version, String value) {}

  @Test
  void killingEveryNodeMidWriteLosesNoAcknowledgedWriteAndVersionsNeverGoBack() throws Exception {
    long seed = System.nanoTime();
    System.out.println("CrashRecoveryIT seed " + seed);
    try (ProcessCluster cluster = ProcessCluster.start("crash", 23, 3, Map.of())) {
      ApiClient api = new ApiClient(Duration.ofSeconds(10));
      List<String> keys = new ArrayList<>();
      for (String first : List.of("c", "j", "q", "x")) { // every range of the layout
        for (int i = 0; i < 15; i++) {
          keys.add(first + "/crash/" + i);
        }
      }
      Map<String, Ack> acked = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> writers = new ArrayList<>();
      for (int w = 0; w < 6; w++) {
        Random random = new Random(seed + w);
        int writer = w;
        Thread t = new Thread(() -> {
          int n = 0;
          while (!stop.get()) {
            String key = keys.get(random.nextInt(keys.size()));
            String value = "w" + writer + "-" + (n++);
            try {
              ApiClient.Resp r = api.put(cluster.url("n" + (1 + random.nextInt(3))), key, value);
              if (r.status() == 200) {
                long version = r.json().get("version").asLong();
                acked.merge(key, new Ack(version, value), (a, b) -> a.version() >= b.version() ? a : b);
              }
            } catch (RuntimeException e) {
              // the node died under us: the write's outcome is unknown, which is allowed
            }
          }
        });
        writers.add(t);
        t.start();
      }
      Thread.sleep(4000);
      for (String node : List.of("n1", "n2", "n3")) {
        cluster.kill(node);
      }
      stop.set(true);
      for (Thread t : writers) {
        t.join();
      }
      assertTrue(acked.size() > 10, "writes were acknowledged before the crash");
      Map<String, Ack> snapshot = Map.copyOf(acked);

      for (String node : List.of("n1", "n2", "n3")) {
        cluster.start(node);
      }
      cluster.awaitReady(Duration.ofSeconds(90));
      for (Map.Entry<String, Ack> e : snapshot.entrySet()) {
        ApiClient.Resp r = api.get(cluster.url("n2"), e.getKey());
        assertEquals(200, r.status(), () -> "acknowledged key lost: " + e.getKey() + " -> " + r);
        long version = r.json().get("version").asLong();
        assertTrue(version >= e.getValue().version(),
            () -> e.getKey() + " went back from version " + e.getValue().version() + " to " + version);
        if (version == e.getValue().version()) {
          assertEquals(e.getValue().value(), new String(java.util.Base64.getDecoder().decode(
              r.json().get("value").asText()), java.nio.charset.StandardCharsets.UTF_8));
        }
      }
      System.out.printf("crash recovery: %d keys with acknowledged writes all present after kill -9 of all nodes%n",
          snapshot.size());
      ApiClient.Resp write = api.put(cluster.url("n3"), "c/crash/after", "ok");
      assertEquals(200, write.status(), write::toString);
    }
  }
}
